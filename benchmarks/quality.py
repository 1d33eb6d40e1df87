"""Quality benchmark: accuracy against sparsity for every registered pruning method.

For each dataset (row-MNIST and row-Fashion-MNIST: 28 steps of 28 pixels) and each model kind
(LSTM, GRU, RNN, IRNN with 128 hidden units), the dense model is

- the shipped checkpoint ``<dataset>-<kind>`` (:func:`lattice_lab.checkpoints.list_shipped`)
  when there is one, else
- a model trained here with :func:`lattice_lab.train.fit` (``--train-epochs``, Adam 1e-3,
  batch 128, seed 0) and kept under ``<cache>/bench_models/`` so later runs reuse it.

Every method in the registry that supports the model's kind is run through
:func:`lattice_lab.compare.sweep` (so a newly registered method appears here by itself), with
the registry's default options, except that methods with a ``finetune_samples`` option (the
iterative and expander methods, which fine-tune while pruning) get ``--method-samples``
training sequences. Labelled variants (:data:`VARIANTS`) run a registered method with other
options as rows of their own, e.g. ``spectral-no-reconstruction`` (spectral's choice of units,
sliced without the re-weighting through Â_J: the ablation of METHODS.md §2). Weight-level
methods remove the fractions ``--amounts`` (0.5, 0.75, 0.9, 0.95) of each W_hh (scope
``recurrent``); unit-level methods keep ``--units`` hidden units (96, 64, 48, 32 of 128, i.e.
amount = 1 - units/128). Each row is measured with no fine-tuning
and after ``--finetune-epochs`` epoch(s) of it (lr 1e-4) on the training data (all of it, or a
seeded ``--train-subset``; the same data feeds the methods that need data), for each seed;
the summary gives mean ± std over seeds. Rows carry the measured sparsity, hidden units,
FLOPs and the dense accuracy (:data:`lattice_lab.compare.COLUMNS`).

A headline table puts what each paper reports (or, where the abstract gives no number, what it
claims, and our own reference measurements from METHODS.md) next to our number on the same
kind of model: the row-MNIST LSTM-128.

Fast mode (``LATTICE_LAB_FAST=1``): digits (8 rows of 8 pixels), the shipped digits LSTM (or a
32-unit one trained for two epochs), one amount, one unit count, one seed, one fine-tuning epoch
on 256 sequences — seconds, a smoke test of the whole path.

Usage::

    python -m benchmarks.quality [--datasets mnist fashion-mnist] [--models lstm gru rnn irnn]
        [--methods ...] [--skip-methods ...] [--amounts ...] [--units ...] [--seeds 0 1 2]
        [--finetune-epochs 1] [--finetune-amounts ...] [--finetune-units ...] [--train-subset N]
        [--out DIR]

Writes ``quality.json`` and ``quality_<dataset>-<kind>.png`` (``*_fast*`` in fast mode).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch

from lattice_lab import checkpoints, compare, data, models, train
from lattice_lab.pruning import REGISTRY
from lattice_lab.settings import fast

from .common import (RESULTS, command_line, machine_info, report_path, save_figure, set_threads,
                     write_report)

AMOUNTS = (0.5, 0.75, 0.9, 0.95)
VARIANTS = {"spectral-no-reconstruction": ("spectral", {"reconstruct": False})}
"""Row label -> (registered method, options): a method run with other options, reported on its own."""
UNIT_FRACTIONS = (0.75, 0.5, 0.375, 0.25)  # 96, 64, 48, 32 of 128
HIDDEN = 128
HEADLINES = (
    {"method": "lattice", "amount": 0.5, "reference": 0.98,
     "claim": "~50% sparsity at >98% (LSTM, MNIST, binary adjacency; Sengupta 2025, as summarized)"},
    {"method": "spectral", "units_fraction": 0.75, "reference": 0.981,
     "claim": "96 units: 98.1% (our LSTM prototype, METHODS.md; the paper reports IRNN only)"},
    {"method": "spectral", "units_fraction": 0.5, "reference": 0.960,
     "claim": "64 units: 96.0% (our LSTM prototype, METHODS.md)"},
    {"method": "spectral", "units_fraction": 0.375, "reference": 0.916,
     "claim": "48 units: 91.6% (our LSTM prototype, METHODS.md)"},
    {"method": "ramanujan-imp", "amount": 0.9, "reference": None,
     "claim": "layers kept Ramanujan while pruning preserve accuracy (Kalra et al. 2024; no number in the abstract)"},
    {"method": "expander", "amount": 0.9, "reference": None,
     "claim": "expander (Ramanujan) sparsity preserves accuracy (Kalra et al. 2024; no number in the abstract); "
              "here the masks go onto the trained model, then fine-tuning: trained from scratch, see the expander "
              "benchmark"},
    {"method": "magnitude", "amount": 0.5, "reference": 0.985, "claim": "98.5% (reference LSTM-128, METHODS.md)"},
    {"method": "magnitude", "amount": 0.75, "reference": 0.934, "claim": "93.4% (reference LSTM-128, METHODS.md)"},
    {"method": "magnitude", "amount": 0.9, "reference": 0.502, "claim": "50.2% (reference LSTM-128, METHODS.md)"},
    {"method": "random", "amount": 0.5, "reference": 0.745, "claim": "74.5% (reference LSTM-128, METHODS.md)"},
    {"method": "magnitude-units", "units_fraction": 0.75, "reference": 0.922,
     "claim": "96 units: 92.2% (reference LSTM-128, METHODS.md)"},
    {"method": "magnitude-units", "units_fraction": 0.5, "reference": 0.618,
     "claim": "64 units: 61.8% (reference LSTM-128, METHODS.md)"},
)
"""What the papers (or our reference measurements in METHODS.md, on a 98.85% row-MNIST LSTM-128,
no fine-tuning) report, at the setting where ours is looked up."""


# --------------------------------------------------------------------------- dense models

def trained_path(dataset: str, kind: str, hidden: int, epochs: int) -> Path:
    """Where a model trained by this benchmark is cached."""
    return data.cache_dir() / "bench_models" / f"{dataset}-{kind}{hidden}-e{epochs}-s0.pt"


def dense_model(dataset: str, kind: str, train_set: data.SequenceDataset, test_set: data.SequenceDataset, *,
                hidden: int, epochs: int, device: str, cache: bool = True) -> tuple[models.SequenceClassifier, str]:
    """The dense model for ``(dataset, kind)``: shipped, cached from an earlier run, or trained now."""
    name = f"{dataset}-{kind}"
    if name in checkpoints.list_shipped():
        return checkpoints.load(name, expect_kind=kind)[0], f"shipped {name}"
    path = trained_path(dataset, kind, hidden, epochs)
    if cache and path.is_file():
        return checkpoints.load(path, expect_kind=kind)[0], f"trained here ({epochs} epochs), cached"
    torch.manual_seed(0)
    model = models.build({"kind": kind, "input_size": train_set.input_size, "hidden_size": hidden,
                          "num_classes": train_set.num_classes})
    history = train.fit(model, train_set, epochs=epochs, lr=train.FIT_LR, batch_size=128, device=device, seed=0)
    model = model.cpu().eval()
    if cache:
        accuracy = train.evaluate(model, test_set, device=device)["accuracy"]
        card = checkpoints.make_card(model, dataset=dataset, layout="rows", n_train=len(train_set),
                                     n_test=len(test_set), epochs=epochs, seed=0, device=device,
                                     test_accuracy=accuracy, history=history,
                                     command=f"python -m benchmarks.quality (train {name}, {epochs} epochs)")
        checkpoints.save(path, model, card)
    return model, f"trained here ({epochs} epochs)"


# --------------------------------------------------------------------------- sweeps

def base_method(label: str) -> str:
    """The registered method behind a row label: itself, or the method a :data:`VARIANTS` label runs.

    >>> base_method("magnitude"), base_method("spectral-no-reconstruction")
    ('magnitude', 'spectral')
    """
    return VARIANTS[label][0] if label in VARIANTS else label


def method_options(labels: list[str], method_samples: int | None) -> dict[str, dict[str, Any]]:
    """Options per row label: a variant's own, plus ``finetune_samples = method_samples`` where the method has it.

    >>> method_options(["magnitude", "ramanujan-imp", "spectral-no-reconstruction"], 5000)
    {'ramanujan-imp': {'finetune_samples': 5000}, 'spectral-no-reconstruction': {'reconstruct': False}}
    """
    out = {}
    for label in labels:
        options = dict(VARIANTS[label][1]) if label in VARIANTS else {}
        if method_samples is not None and "finetune_samples" in REGISTRY[base_method(label)].options:
            options["finetune_samples"] = method_samples
        if options:
            out[label] = options
    return out


def unit_counts(hidden: int, units: list[int] | None) -> list[int]:
    """Units kept per layer: ``units`` if given (each in (0, hidden)), else 3/4, 1/2, 3/8, 1/4 of ``hidden``.

    >>> unit_counts(128, None), unit_counts(64, [32])
    ([96, 64, 48, 32], [32])
    """
    counts = list(units) if units else [max(1, int(round(f * hidden))) for f in UNIT_FRACTIONS]
    bad = [u for u in counts if not 0 < u < hidden]
    if bad:
        raise ValueError(f"units must lie strictly between 0 and the hidden size {hidden}, got {bad}")
    return counts


def run_model(model, test_set, train_set, *, methods: list[str], amounts: list[float], units: list[int],
              seeds: list[int], finetune_epochs: int, finetune_amounts: list[float] | None,
              finetune_units: list[int] | None, options: dict, device: str, cache_dir: Path | None) -> list[dict]:
    """Every row for one dense model: weight-level methods at ``amounts``, unit-level ones at ``units``.

    Fine-tuning (``finetune_epochs``) is done at every amount / unit count, or only at those in
    ``finetune_amounts`` / ``finetune_units`` when given; the other rows have no fine-tuned accuracy.
    ``methods`` are row labels (registered methods or :data:`VARIANTS`); each label is its own
    sweep, so an interrupted run keeps (in ``cache_dir``) every label it finished.
    """
    hidden = models.hidden_sizes(model)[0]
    rows = []
    for label in methods:
        method = base_method(label)
        if REGISTRY[method].level == "weight":
            targets, tuned = amounts, finetune_amounts
        else:
            targets = [1.0 - u / hidden for u in units]
            tuned = None if finetune_units is None else [1.0 - u / hidden for u in finetune_units]
        with_ft = [a for a in targets if finetune_epochs and (tuned is None or any(abs(a - t) < 1e-9 for t in tuned))]
        without = [a for a in targets if a not in with_ft]
        for chosen, epochs in ((with_ft, finetune_epochs), (without, 0)):
            if chosen:
                found = compare.sweep(model, test_set, methods=[method], amounts=chosen, seeds=seeds,
                                      finetune_epochs=epochs, train_data=train_set,
                                      options={method: options.get(label, {})}, device=device, cache_dir=cache_dir)
                rows += [{**row, "method": label} for row in found]
    return rows


def summarize(rows: list[dict], hidden: int) -> list[dict]:
    """Mean ± std over seeds per (method, amount), with the level and the units kept."""
    out = []
    for entry in compare.aggregate(rows):
        level = REGISTRY[base_method(entry["method"])].level
        units = int(round(entry["hidden_units"])) if level == "unit" else hidden
        out.append({**entry, "level": level, "units": units})
    return sorted(out, key=lambda e: (e["level"], e["method"], e["amount"]))


def _setting(headline: dict, hidden: int) -> str:
    if "amount" in headline:
        return f"{100 * headline['amount']:.0f}% of W_hh removed"
    return f"{int(round(headline['units_fraction'] * hidden))} of {hidden} units kept"


def _at_setting(entry: dict, headline: dict, hidden: int) -> bool:
    """Whether a summary entry is the headline's setting (same amount, or same units kept)."""
    if "amount" in headline:
        return entry["level"] == "weight" and abs(entry["amount"] - headline["amount"]) < 1e-9
    return entry["level"] == "unit" and entry["units"] == int(round(headline["units_fraction"] * hidden))


def headlines(summary: list[dict], model_info: dict | None) -> list[dict]:
    """:data:`HEADLINES` with our mean accuracy (no fine-tuning and fine-tuned) at the same setting."""
    hidden = model_info["hidden"] if model_info else HIDDEN
    out = []
    for h in HEADLINES:
        found = [e for e in summary if model_info and e["model"] == model_info["name"]
                 and e["method"] == h["method"] and _at_setting(e, h, hidden)]
        e = found[0] if found else {}
        out.append({"method": h["method"], "setting": _setting(h, hidden), "amount": h.get("amount"),
                    "claim": h["claim"], "reference": h["reference"], "ours": e.get("accuracy"),
                    "ours_std": e.get("accuracy_std"), "ours_finetuned": e.get("accuracy_finetuned"),
                    "ours_sparsity": e.get("sparsity"),
                    "our_model": (f"{model_info['name']} (dense {100 * model_info['dense_accuracy']:.2f}%)"
                                  if model_info else "not in this run")})
    return out


def plot(rows: list[dict], title: str, path: Path) -> Path:
    """Accuracy against measured sparsity of W_hh: no fine-tuning (left) and fine-tuned (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tuned = any(r.get("accuracy_finetuned") is not None for r in rows)
    fig, axes = plt.subplots(1, 2 if tuned else 1, figsize=(12 if tuned else 6.5, 4.5), squeeze=False)
    compare.plot_accuracy(rows, x="sparsity", ax=axes[0][0])
    axes[0][0].set_title(f"{title}: no fine-tuning")
    if tuned:
        compare.plot_accuracy([r for r in rows if r.get("accuracy_finetuned") is not None], x="sparsity",
                              ax=axes[0][1], finetuned=True)
        axes[0][1].set_title(f"{title}: after {max(r['finetune_epochs'] for r in rows)} epoch(s) of fine-tuning")
    dense = max((r["dense_accuracy"] for r in rows if r.get("dense_accuracy") is not None), default=None)
    for ax in axes[0]:
        if dense is not None:  # keep the dashed dense line in view
            ax.set_ylim(top=max(ax.get_ylim()[1], 100 * dense + 1))
    return save_figure(fig, path)


# --------------------------------------------------------------------------- entry point

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=None, help="default mnist fashion-mnist (fast: digits)")
    parser.add_argument("--models", nargs="+", default=None, choices=["lstm", "gru", "rnn", "irnn", "feedback"],
                        help="model kinds (default lstm gru rnn irnn; fast: lstm)")
    parser.add_argument("--methods", nargs="+", default=None,
                        help="registered methods or VARIANTS labels (default: every one that supports the "
                             "model's kind)")
    parser.add_argument("--skip-methods", nargs="+", default=[], help="leave these methods out")
    parser.add_argument("--amounts", type=float, nargs="+", default=None,
                        help=f"weight-level amounts (default {list(AMOUNTS)}; fast 0.75)")
    parser.add_argument("--units", type=int, nargs="+", default=None,
                        help="hidden units kept by unit-level methods (default 96 64 48 32 for 128 units; fast: half)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="default 0 1 2 (fast: 0)")
    parser.add_argument("--finetune-epochs", type=int, default=1, help="fine-tuning epochs per row (0: none)")
    parser.add_argument("--finetune-amounts", type=float, nargs="+", default=None,
                        help="fine-tune only at these weight-level amounts (default: all)")
    parser.add_argument("--finetune-units", type=int, nargs="+", default=None,
                        help="fine-tune only at these unit counts (default: all)")
    parser.add_argument("--train-subset", type=int, default=None,
                        help="training sequences for fine-tuning and data-hungry methods (default all; fast 256)")
    parser.add_argument("--method-samples", type=int, default=None,
                        help="finetune_samples of the methods that fine-tune while pruning (default 10000; fast: "
                             "their own)")
    parser.add_argument("--hidden", type=int, default=None, help="hidden size of models trained here (default 128)")
    parser.add_argument("--train-epochs", type=int, default=None, help="epochs for models trained here (default 10)")
    parser.add_argument("--device", default="cpu", help="device for evaluation and fine-tuning (default cpu)")
    parser.add_argument("--no-cache", action="store_true", help="recompute sweeps and retrain missing models")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's own; fast mode 1)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON and PNGs")
    return parser


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the quality sweeps; write the JSON report and one plot per model; return the report."""
    args = _parser().parse_args(argv)
    quick = fast()
    datasets = args.datasets or (["digits"] if quick else ["mnist", "fashion-mnist"])
    kinds = args.models or (["lstm"] if quick else ["lstm", "gru", "rnn", "irnn"])
    amounts = args.amounts or ([0.75] if quick else list(AMOUNTS))
    seeds = args.seeds or ([0] if quick else [0, 1, 2])
    train_subset = args.train_subset if args.train_subset is not None else (256 if quick else None)
    method_samples = args.method_samples if args.method_samples is not None else (None if quick else 10000)
    hidden_default = args.hidden or (32 if quick else HIDDEN)
    train_epochs = args.train_epochs or (2 if quick else 10)
    cache = not args.no_cache and not quick
    sweep_cache = data.cache_dir() / "bench_sweeps" if cache else None
    set_threads(args.threads)
    machine = machine_info(command_line("quality", argv))
    rows, summary, model_infos, plots = [], [], [], []
    for dataset in datasets:
        train_full, test_set = data.load(dataset, "train"), data.load(dataset, "test")
        train_set = train_full if train_subset is None else train_full.subset(min(train_subset, len(train_full)))
        for kind in kinds:
            model, source = dense_model(dataset, kind, train_full, test_set, hidden=hidden_default,
                                        epochs=train_epochs, device=args.device, cache=cache)
            hidden = models.hidden_sizes(model)[0]
            units = [max(1, hidden // 2)] if quick and not args.units else unit_counts(hidden, args.units)
            supported = compare.supported_methods(model)
            supported += [label for label, (method, _) in VARIANTS.items() if method in supported]
            methods = [m for m in (args.methods or supported) if m not in args.skip_methods]
            unknown = [m for m in methods if m not in supported]
            if unknown:
                raise SystemExit(f"methods {unknown} are not registered for {kind!r}; registered methods and "
                                 f"variants: {supported}")
            name = f"{dataset}-{kind}"
            print(f"{name}: {source}, {hidden} units; methods {methods}", flush=True)
            model_rows = run_model(model, test_set, train_set, methods=methods, amounts=amounts, units=units,
                                   seeds=seeds, finetune_epochs=args.finetune_epochs,
                                   finetune_amounts=args.finetune_amounts, finetune_units=args.finetune_units,
                                   options=method_options(methods, method_samples), device=args.device,
                                   cache_dir=sweep_cache)
            model_rows = sorted(({"dataset": dataset, "model": name, **r} for r in model_rows),
                                key=lambda r: (r["level"], r["method"], r["amount"], r["seed"]))
            info = {"name": name, "dataset": dataset, "kind": kind, "hidden": hidden, "source": source,
                    "dense_accuracy": model_rows[0]["dense_accuracy"], "methods": methods, "units": units,
                    "n_test": len(test_set), "n_train_used": len(train_set)}
            model_infos.append(info)
            rows += model_rows
            summary += [{"dataset": dataset, "model": name, **e} for e in summarize(model_rows, hidden)]
            png = plot(model_rows, name, report_path(args.out, f"quality_{name}", ".png"))
            plots.append(png.name)
            print(compare.format_table(model_rows), flush=True)
    lead = next((m for m in model_infos if m["dataset"] == "mnist" and m["kind"] == "lstm"),
                next((m for m in model_infos if m["kind"] == "lstm"), None))
    settings = {"datasets": datasets, "models": kinds, "amounts": amounts, "units": "per model (models[].units)",
                "seeds": seeds, "finetune_epochs": args.finetune_epochs, "finetune_amounts": args.finetune_amounts,
                "finetune_units": args.finetune_units, "finetune_lr": train.FINETUNE_LR,
                "train_subset": train_subset, "method_samples": method_samples, "scope": "recurrent",
                "skip_methods": args.skip_methods, "device": args.device, "train_epochs_if_trained": train_epochs}
    report = {"benchmark": "quality", "machine": machine, "settings": settings, "models": model_infos,
              "summary": summary, "headlines": headlines(summary, lead), "rows": rows, "plots": plots}
    path = write_report(report, args.out, "quality")
    print(f"wrote {path} and {', '.join(plots)}")
    return json.loads(path.read_text())


if __name__ == "__main__":
    main()
