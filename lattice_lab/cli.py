"""The ``lattice-lab`` command line: demo, train, evaluate, prune, compare, analyze, fetch, notebooks, grade.

Human tables by default, machine-readable JSON with ``--json`` (progress goes to stderr, so
stdout stays parseable; strict JSON: a NaN is ``null``). ``--checkpoint`` takes a path or the
name of a shipped checkpoint. ``evaluate``, ``prune`` and ``analyze`` take a model of your own
instead: ``--model module.py:factory --weights state.pt --data pair.pt`` (read onto the CPU, so a
file saved on a GPU loads anywhere; :mod:`lattice_lab.recurrent.loading`), or a TorchScript file
for ``evaluate``; ``prune --out`` then writes the pruned model as TorchScript. ``fetch`` downloads datasets into the cache, every file checked
against its sha256 (mirrors in ``$LATTICE_LAB_MIRROR`` first).

Failures are one line on stderr, ``lattice-lab <command>: error: <what, naming the file or the
argument>``, never a traceback, and the exit code says which kind:

- 2: the command cannot run with what it was given: an invalid argument or option, a size that
  could not fit in memory, a missing, unreadable, damaged or foreign file (a truncated
  checkpoint, a text file, a bit-flipped ``.gz``), a dataset whose feature size is not the
  model's, an ``--out`` that cannot be written (checked before any work starts), a missing extra.
- 1: it ran and failed: a download that no source could give with the right checksum, a disk
  that filled up, a training that diverged (NaN loss), an evaluation whose outputs were not finite
  (the model's activations overflow: no accuracy is reported), an error inside PyTorch.
- 130: interrupted (Ctrl-C): it prints ``interrupted``. Every file the package writes is written
  atomically, so each one is then the old file or the complete new one.

What argparse refuses (an unknown flag or choice, a number that is none) is one line in the same
format, ``... (see lattice-lab <command> --help)``, with exit 2. Numbers are read bounded: a number
of over :data:`NUMBER_LENGTH` characters or an ``--option`` value of over :data:`OPTION_LENGTH` is
refused unread, and a number above its range (:data:`lattice_lab.validation.RANGES`) before any
work starts; a message quotes at most about 80 characters of a value.

``--out`` is checked first: for ``train`` and ``prune`` a ``.pt`` file name whose folder can be
made and written; for ``compare`` and ``demo`` a folder. ``compare`` refuses a folder that holds an
earlier run's results unless ``--overwrite`` is given; ``demo`` replaces them (it is the demo).

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
import errno
import json
import os
import re
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from . import checkpoints, compare, course, data, metrics, models, strict_json, train
from .atomic import atomic_write
from .grading import command as grading_command
from .grading.command import cmd_grade
from .pruning import REGISTRY, prune
from .settings import fast
from .validation import QUOTE_LENGTH, RANGES, InvalidParameterError, check_range, quote

RESULT_FILES = ("results.json", "results.csv", "accuracy.png")
EXIT_CODES = ("exit codes: 0 done; 2 it cannot run with what it was given (an argument, a file, --out); "
              "1 it ran and failed (a download, a full disk, a diverging training, non-finite outputs); "
              "130 interrupted")
EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130
OPTION_LENGTH = 500  # characters of an --option value
NUMBER_LENGTH = 100  # characters of a number on the command line
_RUNTIME_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}  # the disk, not the arguments


def _emit(args, payload: dict | list, human: str) -> None:
    print(strict_json.dumps(payload, indent=2) if args.json else human)


def _parse_option(text: str) -> tuple[str, object]:
    """``key=value`` with the value read as JSON when it is (``rounds=3``, ``per_layer=true``), else as text.

    Bounded before it is parsed: every method option is a number, a word or a short list, and a value
    of at most :data:`OPTION_LENGTH` characters nests at most that deep, inside the recursion limit of
    ``json`` (1000), so ``rounds=[[[[...`` is a usage error, never a ``RecursionError``: one bound, the
    length, serves both the parse and the echo of the value, and no depth counter is needed.
    """
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--option takes key=value, got {quote(text)}")
    key, value = text.split("=", 1)
    if len(key) > QUOTE_LENGTH or len(value) > OPTION_LENGTH:
        raise argparse.ArgumentTypeError(f"--option {quote(key)}: a key has at most {QUOTE_LENGTH} characters and "
                                         f"a value at most {OPTION_LENGTH}; got {len(key):,} and {len(value):,}")
    try:
        return key, json.loads(value)
    except ValueError:  # not JSON (a JSONDecodeError): the text itself
        return key, value


def _number(kind: str | None, flag: str, command: str, integer: bool = False):
    """An argparse type: the text as an int or a float, refused when above ``validation.RANGES[kind]``.

    The text is bounded first (no number of any range here is written with more than
    :data:`NUMBER_LENGTH` characters), so that neither the parse nor the message grows with it. A
    number above its range is refused here, before any work (a ``--finetune-epochs`` of ``2**64``
    must not wait for the pruning before it); one below it, or of the wrong kind, reaches the
    function it is for, whose message names that function's parameter (``-1`` epochs of ``fit``).
    """
    def parse(text: str):
        if len(text) > NUMBER_LENGTH:
            raise argparse.ArgumentTypeError(f"invalid {parse.__name__} value: {quote(text)}")
        value = int(text) if integer else float(text)  # a ValueError: argparse's "invalid int value: 'x'"
        if kind is not None and value > RANGES[kind].high:
            try:
                check_range(value, flag, f"lattice-lab {command}", kind)
            except InvalidParameterError as error:
                raise argparse.ArgumentTypeError(str(error)) from None
        return value

    parse.__name__ = "int" if integer else "float"
    return parse


class _Parser(argparse.ArgumentParser):
    """argparse's parser whose usage errors are one line in the house format, a long value shortened."""

    def error(self, message: str):
        short = re.sub(r"\S{%d,}" % (QUOTE_LENGTH + 1), lambda found: quote(found.group(0)), message)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {short} (see {self.prog} --help)\n")


def _dataset_for(card: dict, args, split: str, model: models.SequenceClassifier | None = None):
    name = getattr(args, "dataset", None) or card.get("dataset")
    if name is None:
        raise ValueError(f"the card of --checkpoint {args.checkpoint} names no dataset; pass --dataset")
    layout = getattr(args, "layout", None) or card.get("layout", "rows")
    dataset = data.load(name, split, layout=layout, subset=getattr(args, "subset", None))
    if model is not None:
        _check_input_size(dataset, model, card, args)
    return dataset


def _check_input_size(dataset, model: models.SequenceClassifier, card: dict, args) -> None:
    """A ValueError naming both when the dataset's feature size is not the model's."""
    expected = model.config["input_size"]
    if dataset.input_size != expected:
        raise ValueError(f"--dataset {dataset.name} (layout {dataset.layout}) has {dataset.input_size} features per step, but the "
                         f"model of --checkpoint {args.checkpoint} takes {expected} (it was trained on "
                         f"{card.get('dataset', 'another dataset')})")


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
    if getattr(args, "model", None) is not None:
        return cmd_evaluate_own(args)
    model, card = checkpoints.load(args.checkpoint)
    test_set = _dataset_for(card, args, args.split, model)
    result = train.evaluate(model, test_set, device=args.device)
    payload = {"checkpoint": args.checkpoint, "dataset": test_set.name, "split": args.split, **result}
    _emit(args, payload, f"{args.checkpoint} on {test_set.name} ({args.split}, {result['n_samples']} samples): "
                         f"accuracy {100 * result['accuracy']:.2f}%")
    return 0


def cmd_prune(args) -> int:
    if getattr(args, "model", None) is not None:
        return cmd_prune_own(args)
    model, card = checkpoints.load(args.checkpoint)
    options = dict(args.option or [])
    test_set = _dataset_for(card, args, "test", model)
    train_set = _dataset_for(card, args, "train", model) if (REGISTRY.get(args.method) and REGISTRY[args.method].needs_data) \
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
    from .compare.executors import executor_for
    from .compare.specs import load_checkpoint

    checkpoint = compare.checkpoint_spec(args.checkpoint)  # specs: what workers load, once each
    model, card = load_checkpoint(checkpoint)
    name, layout = args.dataset or card.get("dataset"), card.get("layout", "rows")
    if name is None:
        raise ValueError(f"the card of --checkpoint {args.checkpoint} names no dataset; pass --dataset")
    test_set, train_set = (compare.data_spec(name, split, layout=layout) for split in ("test", "train"))
    _check_input_size(compare.load_data(test_set), model, card, args)
    with executor_for(args.jobs, args.scheduler) as executor:
        rows = compare.sweep(checkpoint, test_set, methods=args.methods, amounts=args.amounts, seeds=args.seeds,
                             finetune_epochs=args.finetune_epochs, train_data=train_set, scope=args.scope,
                             device=args.device, finetune_lr=args.finetune_lr, distill=args.distill,
                             executor=executor)
    if args.out:
        _write_results(rows, Path(args.out), finetuned=bool(args.finetune_epochs))
    _emit(args, rows, compare.format_table(rows))
    return 0


def _write_results(rows: list[dict], out: Path, finetuned: bool = False) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    compare.save_rows(rows, out / "results.json")  # each file atomic: old or complete, never half
    compare.save_rows(rows, out / "results.csv")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    compare.plot_accuracy(rows, "sparsity", ax=axes[0], finetuned=finetuned)
    compare.plot_accuracy(rows, "flops", ax=axes[1], finetuned=finetuned)
    fig.tight_layout()
    try:
        atomic_write(out / "accuracy.png", lambda handle: fig.savefig(handle, format="png", dpi=120))
    finally:
        plt.close(fig)


def cmd_analyze(args) -> int:
    if getattr(args, "model", None) is not None:
        return cmd_analyze_own(args)
    from . import analysis

    model, card = checkpoints.load(args.checkpoint)
    needs_data = args.spectral
    train_set = _dataset_for(card, args, "train", model) if needs_data else None
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


def cmd_fetch(args) -> int:
    mirrors = None if args.mirror is None else [url for text in args.mirror for url in data.download.mirror_urls(text)]
    rows = []
    for name in dict.fromkeys(args.datasets):
        folder = data.fetch(name, mirrors=mirrors)
        remote = data.download.REMOTES.get(name)
        rows.append({"dataset": name, "folder": str(folder),
                     "files": [file.name for file in remote.files] if remote else None})
    human = "\n".join(f"{row['dataset']}: " + (f"{len(row['files'])} files verified (sha256) in " if row["files"]
                                               else "downloaded into ") + row["folder"] for row in rows)
    _emit(args, rows, human)
    return 0


def cmd_notebooks(args) -> int:
    """Copy the course's notebooks (from a checkout, or shipped in the wheel) into ``args.dir``.

    A notebook already there with other content (a learner's work) is never overwritten without ``--force``;
    one that is already identical is left as it is.
    """
    folder = Path(args.dir)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder} is a file; give a folder to copy the notebooks into")
    sources = course.notebook_paths()
    changed = [folder / s.name for s in sources
               if (folder / s.name).is_file() and (folder / s.name).read_bytes() != s.read_bytes()]
    if changed and not args.force:
        raise ValueError(f"{len(changed)} notebook(s) in {folder} differ from the course's and would be overwritten "
                         f"({', '.join(p.name for p in changed)}); keep your work elsewhere, or pass --force")
    folder.mkdir(parents=True, exist_ok=True)
    written, unchanged = [], []
    for source in sources:
        target = folder / source.name
        content = source.read_bytes()
        if target.is_file() and target.read_bytes() == content:
            unchanged.append(str(target))
            continue
        atomic_write(target, content)
        written.append(str(target))
    payload = {"folder": str(folder), "written": written, "unchanged": unchanged, "source": str(sources[0].parent)}
    _emit(args, payload, f"{len(written)} notebook(s) written to {folder}"
                         + (f", {len(unchanged)} already there unchanged" if unchanged else "")
                         + f" (from {sources[0].parent}); open them with: jupyter lab {folder}")
    return 0


def _checkpoint_arg(parser: argparse.ArgumentParser, own: bool = False) -> None:
    """``--checkpoint``; with ``own`` also ``--model`` (one of the two), ``--weights`` and ``--data``."""
    target = parser.add_mutually_exclusive_group(required=True) if own else parser
    target.add_argument("--checkpoint", required=not own,
                        help="a checkpoint path or the name of a shipped checkpoint "
                             "(lattice_lab.checkpoints.list_shipped())")
    if own:
        target.add_argument("--model", help="a model of your own: module.py:factory (with --weights), or a "
                                            "TorchScript file (evaluate only)")
        parser.add_argument("--weights", help="with --model module.py:factory: its state dict (torch.save; a file "
                                              "saved on a GPU loads on the CPU)")
        parser.add_argument("--data", help="with --model: (inputs, targets) saved with torch.save")


def _own_model_and_data(args, prunable: bool):
    from .recurrent.loading import load_data, load_model

    if args.data is None:
        raise ValueError("--model needs --data: an (inputs, targets) pair saved with torch.save")
    return load_model(args.model, args.weights, prunable=prunable), load_data(args.data)


def cmd_evaluate_own(args) -> int:
    from .recurrent.data import accuracy

    model, pair = _own_model_and_data(args, prunable=False)
    result = {"accuracy": accuracy(model, pair), "n_samples": int(len(pair[0]))}
    _emit(args, {"model": args.model, **result}, f"{args.model} on {args.data} ({result['n_samples']} samples): "
                                                 f"accuracy {100 * result['accuracy']:.2f}%")
    return 0


def cmd_prune_own(args) -> int:
    from .recurrent.export import to_torchscript

    model, pair = _own_model_and_data(args, prunable=True)
    options = dict(args.option or [])
    result = prune(model, args.method, args.amount, pair, scope=args.scope, seed=args.seed, **options)
    payload = {"model": args.model, "method": args.method, "amount": args.amount, "scope": args.scope,
               "seed": args.seed, "sparsity": result.sparsity, "accuracy": result.info["score"],
               "hidden_sizes": [int(k.numel()) for k in result.kept_units] if result.kept_units else None}
    if args.out:
        to_torchscript(result.model, pair[0][:2], args.out)
        payload["out"] = str(args.out)
    human = compare.format_table([payload], ["method", "amount", "sparsity", "accuracy"])
    _emit(args, payload, human + (f"\nsaved {args.out} (TorchScript)" if args.out else ""))
    return 0


def cmd_analyze_own(args) -> int:
    from . import analysis

    model, pair = _own_model_and_data(args, prunable=True)
    report = analysis.analyze(model, thresholds=args.thresholds, data=pair)
    _emit(args, report, analysis.format_report(report))
    return 0


def _finetune_args(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument("--finetune-lr", type=_number("lr", "--finetune-lr", command), default=train.FINETUNE_LR,
                        help=f"fine-tuning learning rate (default {train.FINETUNE_LR:g})")
    parser.add_argument("--distill", action="store_true",
                        help="fine-tune by distilling from the dense checkpoint (weight "
                             f"{train.DISTILL_WEIGHT:g}, temperature {train.DISTILL_TEMPERATURE:g}); "
                             "with --finetune-lr 1e-3 it is the distilled recipe of benchmarks.spectral_lstm")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``lattice-lab`` (every subcommand has ``--help``)."""
    parser = _Parser(prog="lattice-lab", description=__doc__.split("\n")[0], epilog=EXIT_CODES)
    sub = parser.add_subparsers(dest="command", required=True)
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print machine-readable JSON instead of a table")
    common.add_argument("--device", default="cpu", help="auto, cpu, cuda or mps (default: cpu)")

    p = sub.add_parser("demo", parents=[common], help="train (or load) a digits LSTM, prune it every way, "
                                                       "write a table, JSON and a plot")
    p.add_argument("--out", default="lattice_lab_results",
                   help="output folder (default: ./lattice_lab_results); earlier results there are replaced")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("train", parents=[common], help="train a model and save a checkpoint with its card")
    p.add_argument("--dataset", required=True, choices=data.DATASETS)
    p.add_argument("--layout", default="rows", choices=("rows", "pixels"), help="mnist/fashion-mnist layout")
    p.add_argument("--model", required=True, choices=models.KINDS)
    p.add_argument("--hidden", type=_number("units", "--hidden", "train", integer=True), required=True,
                   help="hidden units per layer")
    p.add_argument("--layers", type=_number("layers", "--layers", "train", integer=True), default=None,
                   help="number of layers (feedback: at least 2)")
    p.add_argument("--bidirectional", action="store_true")
    p.add_argument("--epochs", type=_number("epochs", "--epochs", "train", integer=True), required=True)
    p.add_argument("--lr", type=_number("lr", "--lr", "train"), default=1e-3)
    p.add_argument("--batch-size", type=_number("batch_size", "--batch-size", "train", integer=True), default=128)
    p.add_argument("--seed", type=_number("seed", "--seed", "train", integer=True), default=0)
    p.add_argument("--subset", type=_number("samples", "--subset", "train", integer=True), default=None,
                   help="train on a seeded subset of this size")
    p.add_argument("--amp", action="store_true", help="mixed precision (CUDA only)")
    p.add_argument("--out", required=True, help="checkpoint file to write (.pt); a .json card is written beside it")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", parents=[common], help="test accuracy of a checkpoint")
    _checkpoint_arg(p, own=True)
    p.add_argument("--dataset", choices=data.DATASETS, help="default: the checkpoint's own dataset")
    p.add_argument("--split", default="test", choices=("train", "test"))
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("prune", parents=[common], help="prune a checkpoint with one method and evaluate it")
    _checkpoint_arg(p, own=True)
    p.add_argument("--method", required=True, help=f"one of {sorted(REGISTRY)}")
    p.add_argument("--amount", type=_number(None, "--amount", "prune"), required=True,
                   help="fraction removed: of weights in scope (weight-level) or of hidden units (unit-level)")
    p.add_argument("--scope", default="recurrent", choices=models.SCOPES,
                   help="matrices a weight-level method prunes and sparsity is measured over (default: recurrent)")
    p.add_argument("--seed", type=_number("seed", "--seed", "prune", integer=True), default=0)
    p.add_argument("--finetune-epochs", type=_number("epochs", "--finetune-epochs", "prune", integer=True), default=0)
    _finetune_args(p, "prune")
    p.add_argument("--option", action="append", type=_parse_option, metavar="KEY=VALUE",
                   help="a method option, e.g. --option adjacency=binary (repeatable)")
    p.add_argument("--dataset", choices=data.DATASETS, help="default: the checkpoint's own dataset")
    p.add_argument("--out", help="save the pruned checkpoint here (with --model: the pruned model as TorchScript)")
    p.set_defaults(func=cmd_prune)

    p = sub.add_parser("compare", parents=[common], help="every method x amount x seed side by side")
    _checkpoint_arg(p)
    p.add_argument("--methods", nargs="+", default=None, help="default: every registered method")
    p.add_argument("--amounts", nargs="+", type=_number(None, "--amounts", "compare"), default=[0.5, 0.75, 0.9])
    p.add_argument("--seeds", nargs="+", type=_number("seed", "--seeds", "compare", integer=True), default=[0])
    p.add_argument("--scope", default="recurrent", choices=models.SCOPES)
    p.add_argument("--finetune-epochs", type=_number("epochs", "--finetune-epochs", "compare", integer=True),
                   default=0)
    _finetune_args(p, "compare")
    p.add_argument("--dataset", choices=data.DATASETS, help="default: the checkpoint's own dataset")
    p.add_argument("--out", help="folder for results.json, results.csv and accuracy.png")
    p.add_argument("--jobs", type=_number("workers", "--jobs", "compare", integer=True), default=1,
                   help="worker processes on this machine, one torch thread each (default 1: all in this process); "
                        "the rows are the same, but latency_ms and prune_seconds are not measured")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="compute the cells on the workers of this Dask scheduler (tcp://host:8786; needs "
                        "pip install 'lattice_lab[cluster]', and lattice_lab on every worker)")
    p.add_argument("--overwrite", action="store_true", help="replace the results of an earlier run in --out")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("analyze", parents=[common], help="structure of a checkpoint: posets, lattices, spectra")
    _checkpoint_arg(p, own=True)
    p.add_argument("--thresholds", nargs="+", type=_number(None, "--thresholds", "analyze"),
                   default=[0.5, 0.75, 0.9, 0.95],
                   help="quantiles of |w| used as binary-adjacency thresholds")
    p.add_argument("--spectral", action="store_true", help="also the hidden-state covariance diagnostics")
    p.add_argument("--dataset", choices=data.DATASETS, help="default: the checkpoint's own dataset")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("fetch", help="download datasets into the cache, every file checked against its sha256")
    p.add_argument("datasets", nargs="+", choices=data.download.FETCHABLE, metavar="DATASET",
                   help=f"one or more of {', '.join(data.download.FETCHABLE)}")
    p.add_argument("--mirror", action="append", metavar="URL",
                   help="a mirror tried before the official sources, laid out like a data folder "
                        f"(URL/MNIST/raw/...); repeatable; default: ${data.download.MIRROR_ENV}")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=cmd_fetch)
    p = sub.add_parser("notebooks", parents=[common], help="copy the course's notebooks into a folder")
    p.add_argument("dir", help="the folder to copy them into (created when missing)")
    p.add_argument("--force", action="store_true", help="overwrite notebooks there that differ from the course's")
    p.set_defaults(func=cmd_notebooks)
    grading_command.add_parser(sub).set_defaults(func=cmd_grade)  # lattice-lab grade: lattice_lab/grading/command.py
    return parser


class OutError(ValueError):
    """An ``--out`` that cannot be written, found before any work starts."""


def _writable_folder(path: Path, out: Path) -> None:
    """Refuse ``out`` unless the nearest existing folder of ``path`` (itself or a parent) is a writable folder."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutError(f"--out {out}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutError(f"--out {out}: cannot write into {existing} (permission denied or a read-only location)")


def _check_out_file(out: Path) -> None:
    if out.suffix != checkpoints.SUFFIX:
        raise OutError(f"--out {out}: a checkpoint file name must end in {checkpoints.SUFFIX}")
    for target in (out, out.with_suffix(".json")):
        if target.is_dir():
            raise OutError(f"--out {out}: {target} is a folder; give a checkpoint file name")
    _writable_folder(out.parent, out)


def _check_out_folder(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise OutError(f"--out {out} is a file; give a folder for the results")
    _writable_folder(out, out)
    if out.is_dir():
        folders = [name for name in RESULT_FILES if (out / name).is_dir()]
        if folders:
            raise OutError(f"--out {out}: {', '.join(folders)} in it is a folder, where a result file goes")
        earlier = [name for name in RESULT_FILES if (out / name).exists()]
        if earlier and not overwrite:
            raise OutError(f"--out {out} holds the results of an earlier run ({', '.join(earlier)}); pass --overwrite "
                           "to replace them, or give another folder")


def _check_out(args) -> None:
    """Check ``--out`` before any work starts (see the module docstring)."""
    out = getattr(args, "out", None)
    if out is None:
        return
    if args.command in ("train", "prune"):
        _check_out_file(Path(out))
    elif args.command in ("compare", "demo"):
        _check_out_folder(Path(out), overwrite=getattr(args, "overwrite", True))


def exit_code(error: BaseException) -> int | None:
    """The exit code for an expected failure (see the module docstring); None for a bug (the traceback shows).

    >>> exit_code(ValueError("bad")), exit_code(OSError(errno.ENOSPC, "full")), exit_code(KeyboardInterrupt())
    (2, 1, 130)
    """
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(error, (data.DownloadError, train.NonFiniteLossError, train.NonFiniteOutputError)):
        return EXIT_FAILED
    if isinstance(error, (ValueError, TypeError, ImportError)):  # InvalidParameterError, MemoryLimitError...
        return EXIT_USAGE
    if isinstance(error, OSError):
        return EXIT_FAILED if error.errno in _RUNTIME_ERRNOS else EXIT_USAGE
    if isinstance(error, (MemoryError, RuntimeError)):
        return EXIT_FAILED
    return None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lattice-lab`` console script; returns the exit code (see the module docstring)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    if getattr(args, "distill", False) and not args.finetune_epochs:
        parser.error("--distill needs --finetune-epochs (distillation happens while fine-tuning)")
    try:
        _check_out(args)
        return args.func(args)
    except (Exception, KeyboardInterrupt) as error:
        code = exit_code(error)
        if code is None:
            raise
        if code == EXIT_INTERRUPTED:
            print(f"lattice-lab {args.command}: interrupted", file=sys.stderr)
        else:
            text = " ".join(str(error).split()) or type(error).__name__
            print(f"lattice-lab {args.command}: error: {text}", file=sys.stderr)
        return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
