"""The ``lattice-lab`` command line: demo, train, evaluate, prune, compare, analyze.

Human tables by default, machine-readable JSON with ``--json`` (progress goes to stderr, so
stdout stays parseable). ``--checkpoint`` takes a path or the name of a shipped checkpoint.

Sits on top: nothing in the package imports it.

Must not import: widgets.

Examples
--------
>>> main(["prune", "--help"])  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
SystemExit: 0
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from . import checkpoints, compare, data, metrics, models, train
from .pruning import REGISTRY, prune
from .settings import fast


def _emit(args, payload: dict | list, human: str) -> None:
    print(json.dumps(payload, indent=2, default=float) if args.json else human)


def _parse_option(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--option takes key=value, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _dataset_for(card: dict, args, split: str):
    name = getattr(args, "dataset", None) or card["dataset"]
    layout = getattr(args, "layout", None) or card.get("layout", "rows")
    return data.load(name, split, layout=layout, subset=getattr(args, "subset", None))


def cmd_train(args) -> int:
    train_set = data.load(args.dataset, "train", layout=args.layout, subset=args.subset, seed=args.seed)
    test_set = data.load(args.dataset, "test", layout=args.layout)
    config = {"kind": args.model, "input_size": train_set.input_size, "hidden_size": args.hidden,
              "num_classes": train_set.num_classes, "bidirectional": args.bidirectional}
    if args.layers is not None:
        config["num_layers"] = args.layers
    torch.manual_seed(args.seed)
    model = models.build(config)
    device = train.select_device(args.device)
    history = train.fit(model, train_set, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                        device=args.device, seed=args.seed, amp=args.amp)
    result = train.evaluate(model, test_set, device=args.device)
    card = checkpoints.make_card(
        model, dataset=args.dataset, layout=args.layout, n_train=len(train_set), n_test=len(test_set),
        epochs=args.epochs, seed=args.seed, device=train.describe_device(device),
        test_accuracy=result["accuracy"], command="lattice-lab " + shlex.join(sys.argv[1:] if args.argv is None
                                                                            else args.argv),
        history=history)
    checkpoints.save(args.out, model.cpu(), card)
    seconds = [h["seconds"] for h in history]
    payload = {"out": str(args.out), "accuracy": result["accuracy"], "n_samples": result["n_samples"],
               "epochs": args.epochs, "seconds_per_epoch": sum(seconds) / max(len(seconds), 1),
               "device": card["device"], "config": model.config}
    _emit(args, payload, f"saved {args.out}: test accuracy {100 * result['accuracy']:.2f}% "
                         f"after {args.epochs} epochs ({payload['seconds_per_epoch']:.1f} s/epoch on {card['device']})")
    return 0


def cmd_evaluate(args) -> int:
    model, card = checkpoints.load(args.checkpoint)
    test_set = _dataset_for(card, args, args.split)
    result = train.evaluate(model, test_set, device=args.device)
    payload = {"checkpoint": args.checkpoint, "dataset": test_set.name, "split": args.split, **result}
    _emit(args, payload, f"{args.checkpoint} on {test_set.name} ({args.split}, {result['n_samples']} samples): "
                         f"accuracy {100 * result['accuracy']:.2f}%")
    return 0


def cmd_prune(args) -> int:
    model, card = checkpoints.load(args.checkpoint)
    options = dict(args.option or [])
    test_set = _dataset_for(card, args, "test")
    train_set = _dataset_for(card, args, "train") if (REGISTRY.get(args.method) and REGISTRY[args.method].needs_data) \
        or args.finetune_epochs else None
    start = time.perf_counter()
    result = prune(model, args.method, args.amount, train_set, scope=args.scope, seed=args.seed, **options)
    result.info.setdefault("seconds", time.perf_counter() - start)
    row = compare.evaluate_result(result, model, test_set, train_data=train_set,
                                  finetune_epochs=args.finetune_epochs, seed=args.seed, device=args.device,
                                  finetune_lr=args.finetune_lr, distill=args.distill)
    payload = {"checkpoint": args.checkpoint, "method": args.method, "amount": args.amount, "scope": args.scope,
               "sparsity": row["sparsity"], "sparsity_recurrent": row["sparsity_recurrent"],
               "sparsity_input": row["sparsity_input"], "hidden_units": row["hidden_units"],
               "params_nonzero": row["params_nonzero"], "flops": row["flops"], "accuracy": row["accuracy"],
               "seed": args.seed, "diagnostics": row["diagnostics"]}
    if args.finetune_epochs:
        payload["accuracy_finetuned"] = row["accuracy_finetuned"]
        payload.update(finetune_epochs=args.finetune_epochs, finetune_lr=args.finetune_lr, distill=args.distill)
    if args.out:
        pruned_card = checkpoints.pruned_card(
            card, result.model, method=args.method, amount=args.amount, scope=args.scope, seed=args.seed,
            options=options, sparsity=row["sparsity"], sparsity_recurrent=row["sparsity_recurrent"],
            sparsity_input=row["sparsity_input"], hidden_units=row["hidden_units"],
            params_nonzero=row["params_nonzero"], flops=row["flops"], accuracy=row["accuracy"],
            dense_accuracy=row["dense_accuracy"], accuracy_finetuned=row["accuracy_finetuned"],
            finetune_epochs=args.finetune_epochs, finetune_lr=args.finetune_lr if args.finetune_epochs else None,
            distill=args.distill, source=str(args.checkpoint), n_test=len(test_set), device=args.device,
            command="lattice-lab " + shlex.join(sys.argv[1:] if args.argv is None else args.argv))
        checkpoints.save(args.out, result.model.cpu(), pruned_card)
        payload["out"] = str(args.out)
    human = compare.format_table([row], ["method", "amount", "sparsity", "hidden_units", "params_nonzero",
                                         "accuracy", "accuracy_finetuned"])
    _emit(args, payload, human + (f"\nsaved {args.out}" if args.out else ""))
    return 0


def cmd_compare(args) -> int:
    model, card = checkpoints.load(args.checkpoint)
    test_set = _dataset_for(card, args, "test")
    train_set = _dataset_for(card, args, "train")
    rows = compare.sweep(model, test_set, methods=args.methods, amounts=args.amounts, seeds=args.seeds,
                         finetune_epochs=args.finetune_epochs, train_data=train_set, scope=args.scope,
                         device=args.device, finetune_lr=args.finetune_lr, distill=args.distill)
    if args.out:
        _write_results(rows, Path(args.out), finetuned=bool(args.finetune_epochs))
    _emit(args, rows, compare.format_table(rows))
    return 0


def _write_results(rows: list[dict], out: Path, finetuned: bool = False) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    compare.save_rows(rows, out / "results.json")
    compare.save_rows(rows, out / "results.csv")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    compare.plot_accuracy(rows, "sparsity", ax=axes[0], finetuned=finetuned)
    compare.plot_accuracy(rows, "flops", ax=axes[1], finetuned=finetuned)
    fig.tight_layout()
    fig.savefig(out / "accuracy.png", dpi=120)
    plt.close(fig)


def cmd_analyze(args) -> int:
    from . import analysis

    model, card = checkpoints.load(args.checkpoint)
    needs_data = args.spectral
    train_set = _dataset_for(card, args, "train") if needs_data else None
    report = analysis.analyze(model, thresholds=args.thresholds, data=train_set)
    _emit(args, report, analysis.format_report(report))
    return 0


def cmd_demo(args) -> int:
    start = time.perf_counter()
    train_set, test_set = data.load("digits", "train"), data.load("digits", "test")
    model, card = checkpoints.load("digits-lstm")  # shipped with the package (tests/test_shipped.py)
    print(f"loaded the shipped digits-lstm checkpoint (test accuracy {100 * card['test_accuracy']:.2f}%)",
          file=sys.stderr)
    amounts = [0.5, 0.9] if fast() else [0.5, 0.75, 0.9]
    rows = compare.sweep(model, test_set, methods=sorted(REGISTRY), amounts=amounts, train_data=train_set,
                         device="cpu")
    out = Path(args.out)
    _write_results(rows, out)
    human = compare.format_table(rows) + (f"\n\ndense accuracy {100 * rows[0]['dense_accuracy']:.2f}%; "
                                          f"wrote {out / 'results.json'}, {out / 'results.csv'}, "
                                          f"{out / 'accuracy.png'} in {time.perf_counter() - start:.0f} s")
    _emit(args, rows, human)
    return 0


def _checkpoint_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True,
                        help="a checkpoint path or the name of a shipped checkpoint "
                             "(lattice_lab.checkpoints.list_shipped())")


def _finetune_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--finetune-lr", type=float, default=train.FINETUNE_LR,
                        help=f"fine-tuning learning rate (default {train.FINETUNE_LR:g})")
    parser.add_argument("--distill", action="store_true",
                        help="fine-tune by distilling from the dense checkpoint (weight "
                             f"{train.DISTILL_WEIGHT:g}, temperature {train.DISTILL_TEMPERATURE:g}); "
                             "with --finetune-lr 1e-3 it is the distilled recipe of benchmarks.spectral_lstm")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``lattice-lab`` (every subcommand has ``--help``)."""
    parser = argparse.ArgumentParser(prog="lattice-lab", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print machine-readable JSON instead of a table")
    common.add_argument("--device", default="cpu", help="auto, cpu, cuda or mps (default: cpu)")

    p = sub.add_parser("demo", parents=[common], help="train (or load) a digits LSTM, prune it every way, "
                                                       "write a table, JSON and a plot")
    p.add_argument("--out", default="lattice_lab_results", help="output folder (default: ./lattice_lab_results)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("train", parents=[common], help="train a model and save a checkpoint with its card")
    p.add_argument("--dataset", required=True, choices=data.DATASETS)
    p.add_argument("--layout", default="rows", choices=("rows", "pixels"), help="mnist/fashion-mnist layout")
    p.add_argument("--model", required=True, choices=models.KINDS)
    p.add_argument("--hidden", type=int, required=True, help="hidden units per layer")
    p.add_argument("--layers", type=int, default=None, help="number of layers (feedback: at least 2)")
    p.add_argument("--bidirectional", action="store_true")
    p.add_argument("--epochs", type=int, required=True)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--subset", type=int, default=None, help="train on a seeded subset of this size")
    p.add_argument("--amp", action="store_true", help="mixed precision (CUDA only)")
    p.add_argument("--out", required=True, help="checkpoint file to write (.pt); a .json card is written beside it")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", parents=[common], help="test accuracy of a checkpoint")
    _checkpoint_arg(p)
    p.add_argument("--dataset", choices=data.DATASETS, help="default: the checkpoint's own dataset")
    p.add_argument("--split", default="test", choices=("train", "test"))
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("prune", parents=[common], help="prune a checkpoint with one method and evaluate it")
    _checkpoint_arg(p)
    p.add_argument("--method", required=True, help=f"one of {sorted(REGISTRY)}")
    p.add_argument("--amount", type=float, required=True,
                   help="fraction removed: of weights in scope (weight-level) or of hidden units (unit-level)")
    p.add_argument("--scope", default="recurrent", choices=models.SCOPES,
                   help="matrices a weight-level method prunes and sparsity is measured over (default: recurrent)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--finetune-epochs", type=int, default=0)
    _finetune_args(p)
    p.add_argument("--option", action="append", type=_parse_option, metavar="KEY=VALUE",
                   help="a method option, e.g. --option adjacency=binary (repeatable)")
    p.add_argument("--dataset", choices=data.DATASETS, help="default: the checkpoint's own dataset")
    p.add_argument("--out", help="save the pruned checkpoint here")
    p.set_defaults(func=cmd_prune)

    p = sub.add_parser("compare", parents=[common], help="every method x amount x seed side by side")
    _checkpoint_arg(p)
    p.add_argument("--methods", nargs="+", default=None, help="default: every registered method")
    p.add_argument("--amounts", nargs="+", type=float, default=[0.5, 0.75, 0.9])
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--scope", default="recurrent", choices=models.SCOPES)
    p.add_argument("--finetune-epochs", type=int, default=0)
    _finetune_args(p)
    p.add_argument("--dataset", choices=data.DATASETS, help="default: the checkpoint's own dataset")
    p.add_argument("--out", help="folder for results.json, results.csv and accuracy.png")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("analyze", parents=[common], help="structure of a checkpoint: posets, lattices, spectra")
    _checkpoint_arg(p)
    p.add_argument("--thresholds", nargs="+", type=float, default=[0.5, 0.75, 0.9, 0.95],
                   help="quantiles of |w| used as binary-adjacency thresholds")
    p.add_argument("--spectral", action="store_true", help="also the hidden-state covariance diagnostics")
    p.add_argument("--dataset", choices=data.DATASETS, help="default: the checkpoint's own dataset")
    p.set_defaults(func=cmd_analyze)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lattice-lab`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    if getattr(args, "distill", False) and not args.finetune_epochs:
        parser.error("--distill needs --finetune-epochs (distillation happens while fine-tuning)")
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, TypeError) as error:
        print(f"lattice-lab {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
