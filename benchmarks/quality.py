"""Quality benchmark: accuracy against sparsity for every registered pruning method.

For each dataset (row-MNIST and row-Fashion-MNIST: 28 steps of 28 pixels) and each model of the
grid (:data:`GRID`: LSTM, GRU, RNN, IRNN with 128 hidden units on both datasets; on MNIST also the
papers' multi-layer settings, the 2-layer top-down feedback RNN and a 2-layer LSTM, :data:`MODELS`),
the dense model is

- the shipped checkpoint ``<dataset>-<model>`` (:func:`lattice_lab.checkpoints.list_shipped`)
  when there is one (``mnist-feedback`` is), else
- a model trained here with :func:`lattice_lab.train.fit` (``--train-epochs``, Adam 1e-3,
  batch 128, seed 0) and kept under ``<cache>/bench_models/`` so later runs reuse it.

Every method in the registry that supports the model's kind is run through
:func:`lattice_lab.compare.sweep` (so a newly registered method appears here by itself), with
the registry's default options, except that methods with a ``finetune_samples`` option (the
iterative and expander methods, which fine-tune while pruning) get ``--method-samples``
training sequences. Labelled variants (:data:`VARIANTS`) run a registered method with other
options as rows of their own, e.g. ``spectral-no-reconstruction`` (spectral's choice of units,
sliced without the re-weighting through Â_J: the ablation of METHODS.md §2) and the lattice
settings notebook 04 discusses (``lattice-q0.98``, ``lattice-degree-p0.25``, and the paper's
continuous adjacency, ``lattice-continuous``). Weight-level
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

    python -m benchmarks.quality [--datasets mnist fashion-mnist] [--models lstm gru rnn irnn feedback lstm-2layer]
        [--methods ...] [--skip-methods ...] [--amounts ...] [--units ...] [--seeds 0 1 2]
        [--finetune-epochs 1] [--finetune-amounts ...] [--finetune-units ...] [--train-subset N]
        [--jobs N | --scheduler ADDRESS] [--out DIR]

The dense models are made first (shipped, cached, or trained and saved), then every cell of every
model is planned and all of them are computed together: in this process, on ``--jobs`` local
worker processes, or on the workers of a Dask ``--scheduler`` (one torch thread per worker; the
rows are the serial run's). Each finished cell is kept in the sweep cache, so an interrupted run
resumes cell by cell.

Writes ``quality.json`` and ``quality_<dataset>-<kind>.png`` (``*_fast*`` in fast mode).
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import torch

from lattice_lab import checkpoints, compare, data, models, train
from lattice_lab.compare.executors import executor_for
from lattice_lab.compare.specs import load_checkpoint, load_data
from lattice_lab.pruning import REGISTRY
from lattice_lab.settings import fast

from .common import (RESULTS, command_line, finish_machine, machine_info, read_report, report_path, save_figure,
                     set_threads, write_report)

AMOUNTS = (0.5, 0.75, 0.9, 0.95)
VARIANTS = {
    "spectral-no-reconstruction": ("spectral", {"reconstruct": False}),
    # the lattice settings of notebook 04 (§6-7): more structure (q = 0.98: more critical units); no critical
    # units and the relation's degree as a gentle weight, c^0.25; and the paper's continuous adjacency
    "lattice-q0.98": ("lattice", {"threshold": 0.98}),
    "lattice-degree-p0.25": ("lattice", {"centrality": "degree", "centrality_power": 0.25, "critical_size": 0}),
    "lattice-continuous": ("lattice", {"adjacency": "continuous"}),
}
"""Row label -> (registered method, options): a method run with other options, reported on its own."""
MODELS = {
    "lstm": {"kind": "lstm"}, "gru": {"kind": "gru"}, "rnn": {"kind": "rnn"}, "irnn": {"kind": "irnn"},
    "feedback": {"kind": "feedback", "num_layers": 2},  # shipped on MNIST: mnist-feedback
    "lstm-2layer": {"kind": "lstm", "num_layers": 2},   # trained here (--train-epochs) on first use
}
"""Grid model -> the config it is built from (with the dataset's input size, ``--hidden`` units per
layer and its classes) when no shipped ``<dataset>-<model>`` checkpoint exists."""
GRID = {"mnist": ("lstm", "gru", "rnn", "irnn", "feedback", "lstm-2layer"),
        "fashion-mnist": ("lstm", "gru", "rnn", "irnn")}
"""The models of the full grid per dataset: the four single-layer kinds everywhere, and on MNIST the
papers' multi-layer settings (Sengupta 2025 prunes a multi-layer network with top-down feedback)."""
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
    """Where a model trained by this benchmark is cached (``kind``: a grid model of :data:`MODELS`)."""
    return data.cache_dir() / "bench_models" / f"{dataset}-{kind}{hidden}-e{epochs}-s0.pt"


def grid_models(dataset: str, chosen: list[str] | None, quick: bool) -> list[str]:
    """The grid models run on ``dataset``: ``chosen`` (``--models``), else :data:`GRID` (fast mode: the LSTM).

    >>> grid_models("mnist", None, False)[-2:], grid_models("fashion-mnist", None, False)[-1]
    (['feedback', 'lstm-2layer'], 'irnn')
    >>> grid_models("mnist", ["gru"], False), grid_models("digits", None, True)
    (['gru'], ['lstm'])
    """
    if chosen:
        return list(chosen)
    return ["lstm"] if quick else list(GRID.get(dataset, GRID["fashion-mnist"]))


def dense_checkpoint(dataset: str, kind: str, train_set: compare.DataSpec, test_set: compare.DataSpec, *,
                     hidden: int, epochs: int, device: str, cache: bool = True,
                     scratch: Path | None = None) -> tuple[compare.CheckpointSpec, str]:
    """The dense model for ``(dataset, kind)`` (``kind``: a grid model of :data:`MODELS`) as a checkpoint spec,
    and where it came from.

    The shipped checkpoint ``<dataset>-<kind>`` when there is one, else the model trained by an
    earlier run (``cache``), else one trained now with :func:`lattice_lab.train.fit` and saved:
    under the cache (``cache``) or in ``scratch``, a folder that lives as long as the run, so that
    workers can load it like any checkpoint. This is the phase before the fan-out.
    """
    name, spec = f"{dataset}-{kind}", MODELS.get(kind, {"kind": kind})
    if name in checkpoints.list_shipped():
        checkpoints.load(name, expect_kind=spec["kind"])
        return compare.checkpoint_spec(name), f"shipped {name}"
    path = trained_path(dataset, kind, hidden, epochs) if cache else Path(scratch) / f"{name}.pt"
    if cache and path.is_file():
        checkpoints.load(path, expect_kind=spec["kind"])
        return compare.checkpoint_spec(path), f"trained here ({epochs} epochs), cached"
    train_data, test_data = load_data(train_set), load_data(test_set)
    torch.manual_seed(0)
    model = models.build({**spec, "input_size": train_data.input_size, "hidden_size": hidden,
                          "num_classes": train_data.num_classes})
    history = train.fit(model, train_data, epochs=epochs, lr=train.FIT_LR, batch_size=128, device=device, seed=0)
    model = model.cpu().eval()
    accuracy = train.evaluate(model, test_data, device=device)["accuracy"]
    card = checkpoints.make_card(model, dataset=dataset, layout="rows", n_train=len(train_data),
                                 n_test=len(test_data), epochs=epochs, seed=0, device=device,
                                 test_accuracy=accuracy, history=history,
                                 command=f"python -m benchmarks.quality (train {name}, {epochs} epochs)")
    checkpoints.save(path, model, card)
    return compare.checkpoint_spec(path), f"trained here ({epochs} epochs)"


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


def plan_model(checkpoint: compare.CheckpointSpec, test_set: compare.DataSpec, train_set: compare.DataSpec, *,
               methods: list[str], amounts: list[float], units: list[int], seeds: list[int], finetune_epochs: int,
               finetune_amounts: list[float] | None, finetune_units: list[int] | None, options: dict,
               device: str) -> tuple[list[str], list[compare.PlannedCell]]:
    """Every cell for one dense model, with the row label of each: weight-level methods at ``amounts``, unit-level ones at ``units``.

    Fine-tuning (``finetune_epochs``) is done at every amount / unit count, or only at those in
    ``finetune_amounts`` / ``finetune_units`` when given; the other rows have no fine-tuned accuracy.
    ``methods`` are row labels (registered methods or :data:`VARIANTS`). Nothing is computed here:
    the cells of every model run together (:func:`lattice_lab.compare.run_cells`), and the sweep
    cache keeps each finished cell, so an interrupted run resumes cell by cell.
    """
    hidden = models.hidden_sizes(load_checkpoint(checkpoint)[0])[0]
    labels, cells = [], []
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
                found = compare.plan_sweep(checkpoint, test_set, methods=[method], amounts=chosen, seeds=seeds,
                                           finetune_epochs=epochs, train_data=train_set,
                                           options={method: options.get(label, {})}, device=device)
                labels += [label] * len(found)
                cells += found
    return labels, cells


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
    parser.add_argument("--models", nargs="+", default=None, choices=list(MODELS),
                        help="grid models on every dataset (default: GRID, i.e. lstm gru rnn irnn, and on mnist also "
                             "feedback lstm-2layer; fast: lstm)")
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
                        help="torch threads (default: torch's own; fast mode 1; with --jobs/--scheduler: 1 per worker)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="worker processes on this machine (default 1: every cell in this process)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="a Dask scheduler (tcp://host:8786) whose workers compute the cells; needs the "
                             "[cluster] extra")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON and PNGs")
    parser.add_argument("--add", action="store_true",
                        help="add this run's rows to the quality.json already in --out (rows of the same dataset, model "
                             "and method are replaced) instead of writing a report of this run alone")
    return parser


def added_to(earlier: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
    """``earlier`` with the rows, summary and models of ``report`` added, replacing those of the same labels.

    A row's label is its (dataset, model, method); the machine block and settings stay the earlier
    run's, and ``settings["added"]`` lists each added run (its command, its settings, its machine).

    >>> old = {"settings": {}, "rows": [{"dataset": "d", "model": "m", "method": "a", "accuracy": 0.1}],
    ...        "summary": [{"dataset": "d", "model": "m", "method": "a"}], "models": [{"name": "m", "methods": ["a"]}]}
    >>> new = {"settings": {"seeds": [0]}, "machine": {"command": "x"}, "rows": [
    ...        {"dataset": "d", "model": "m", "method": "a", "accuracy": 0.2},
    ...        {"dataset": "d", "model": "m", "method": "b", "accuracy": 0.3}],
    ...        "summary": [{"dataset": "d", "model": "m", "method": m} for m in "ab"], "models": [{"name": "m", "methods": ["a", "b"]}]}
    >>> both = added_to(old, new)
    >>> [(r["method"], r["accuracy"]) for r in both["rows"]], both["models"][0]["methods"], both["settings"]["added"][0]["command"]
    ([('a', 0.2), ('b', 0.3)], ['a', 'b'], 'x')
    """
    def label(entry: dict) -> tuple:
        return entry.get("dataset"), entry.get("model"), entry.get("method")

    replaced = {label(row) for row in report["rows"]}
    merged = dict(earlier)
    for key in ("rows", "summary"):
        merged[key] = [e for e in earlier[key] if label(e) not in replaced] + report[key]
    models_by_name = {m["name"]: dict(m) for m in earlier["models"]}
    for info in report["models"]:
        known = models_by_name.get(info["name"])
        methods = list(dict.fromkeys((known or {}).get("methods", []) + info["methods"]))
        models_by_name[info["name"]] = {**(known or info), "methods": methods}
    merged["models"] = list(models_by_name.values())
    merged["plots"] = list(dict.fromkeys(earlier.get("plots", []) + report.get("plots", [])))
    added = {"command": report.get("machine", {}).get("command"), "settings": report["settings"],
             "machine": report.get("machine")}
    merged["settings"] = {**earlier["settings"], "added": [*earlier["settings"].get("added", []), added]}
    return merged


def _methods_for(kind_model, args) -> list[str]:
    """The row labels run on a model: every supported method and variant, or ``--methods``, less ``--skip-methods``."""
    supported = compare.supported_methods(kind_model)
    supported += [label for label, (method, _) in VARIANTS.items() if method in supported]
    methods = [m for m in (args.methods or supported) if m not in args.skip_methods]
    unknown = [m for m in methods if m not in supported]
    if unknown:
        raise SystemExit(f"methods {unknown} are not registered for {kind_model.kind!r}; registered methods and "
                         f"variants: {supported}")
    return methods


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the quality sweeps; write the JSON report and one plot per model; return the report.

    Three phases: the dense models (shipped, cached, or trained now and saved), then every cell
    of every model planned, then all cells computed together: here, or on ``--jobs`` local worker
    processes, or on the workers of a Dask ``--scheduler``.
    """
    args = _parser().parse_args(argv)
    quick = fast()
    datasets = args.datasets or (["digits"] if quick else ["mnist", "fashion-mnist"])
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
    with tempfile.TemporaryDirectory(prefix="quality-models-") as scratch:
        planned = []  # per model: its info (dense accuracy to come), row labels and cells
        for dataset in datasets:
            train_full, test_set = compare.data_spec(dataset, "train"), compare.data_spec(dataset, "test")
            size = len(load_data(train_full))
            train_set = train_full if train_subset is None else compare.data_spec(dataset, "train",
                                                                                  subset=min(train_subset, size))
            for kind in grid_models(dataset, args.models, quick):
                checkpoint, source = dense_checkpoint(dataset, kind, train_full, test_set, hidden=hidden_default,
                                                      epochs=train_epochs, device=args.device, cache=cache,
                                                      scratch=Path(scratch))
                model = load_checkpoint(checkpoint)[0]
                hidden = models.hidden_sizes(model)[0]
                units = [max(1, hidden // 2)] if quick and not args.units else unit_counts(hidden, args.units)
                methods = _methods_for(model, args)
                name = f"{dataset}-{kind}"
                print(f"{name}: {source}, {hidden} units; methods {methods}", flush=True)
                labels, cells = plan_model(checkpoint, test_set, train_set, methods=methods, amounts=amounts,
                                           units=units, seeds=seeds, finetune_epochs=args.finetune_epochs,
                                           finetune_amounts=args.finetune_amounts,
                                           finetune_units=args.finetune_units,
                                           options=method_options(methods, method_samples), device=args.device)
                info = {"name": name, "dataset": dataset, "kind": kind, "hidden": hidden, "source": source,
                        "methods": methods, "units": units, "n_test": len(load_data(test_set)),
                        "n_train_used": len(load_data(train_set))}
                planned.append((info, labels, cells))
        every_cell = [cell for _, _, cells in planned for cell in cells]
        print(f"{len(every_cell)} cells; computing them "
              + (f"on the Dask scheduler {args.scheduler}" if args.scheduler else
                 f"on {args.jobs} worker processes" if args.jobs > 1 else "here"), flush=True)
        with executor_for(args.jobs, args.scheduler) as executor:
            every_row = compare.run_cells(every_cell, executor=executor, cache_dir=sweep_cache)
    rows, summary, model_infos, plots = [], [], [], []
    start = 0
    for info, labels, cells in planned:
        found, start = every_row[start:start + len(cells)], start + len(cells)
        name, dataset = info["name"], info["dataset"]
        model_rows = sorted(({"dataset": dataset, "model": name, **row, "method": label}
                             for label, row in zip(labels, found)),
                            key=lambda r: (r["level"], r["method"], r["amount"], r["seed"]))
        info = {**info, "dense_accuracy": model_rows[0]["dense_accuracy"]}
        model_infos.append(info)
        rows += model_rows
        summary += [{"dataset": dataset, "model": name, **e} for e in summarize(model_rows, info["hidden"])]
        png = plot(model_rows, name, report_path(args.out, f"quality_{name}", ".png"))
        plots.append(png.name)
        print(compare.format_table(model_rows), flush=True)
    lead = next((m for m in model_infos if m["dataset"] == "mnist" and m["kind"] == "lstm"),
                next((m for m in model_infos if m["kind"] == "lstm"), None))
    settings = {"datasets": datasets, "models": {d: grid_models(d, args.models, quick) for d in datasets},
                "amounts": amounts, "units": "per model (models[].units)",
                "seeds": seeds, "finetune_epochs": args.finetune_epochs, "finetune_amounts": args.finetune_amounts,
                "finetune_units": args.finetune_units, "finetune_lr": train.FINETUNE_LR,
                "train_subset": train_subset, "method_samples": method_samples, "scope": "recurrent",
                "skip_methods": args.skip_methods, "device": args.device, "train_epochs_if_trained": train_epochs,
                "jobs": args.jobs, "scheduler": args.scheduler}
    report = {"benchmark": "quality", "machine": machine, "settings": settings, "models": model_infos,
              "summary": summary, "headlines": headlines(summary, lead), "rows": rows, "plots": plots}
    if args.add:
        earlier = read_report(args.out, report_path(args.out, "quality").stem)
        if earlier is None:
            raise SystemExit(f"--add: no {report_path(args.out, 'quality')} to add the rows to")
        report = added_to(earlier, {**report, "machine": finish_machine(machine)})
        for info in model_infos:  # the figures of the models that got rows show every row of them now
            plot([r for r in report["rows"] if r["model"] == info["name"]], info["name"],
                 report_path(args.out, f"quality_{info['name']}", ".png"))
        lead = next((m for m in report["models"] if m["dataset"] == "mnist" and m["kind"] == "lstm"), lead)
        report["headlines"] = headlines(report["summary"], lead)
    path = write_report(report, args.out, "quality")
    print(f"wrote {path} and {', '.join(plots)}")
    return json.loads(path.read_text())


if __name__ == "__main__":
    main()
