"""Does structure matter? Controlled tests of each paper's claim (issue 18).

Experiments, each a list of independent *runs* (one model trained or pruned with one seed) that
are cached one by one, so an interrupted benchmark resumes where it stopped:

- ``expansion`` (Kalra et al. 2024: expander masks preserve performance). LSTM-128 and GRU-128
  on row-MNIST are trained from scratch with a fixed 0/1 mask at 90% and 95% sparsity, the masks
  of a cell differing only in how well they expand:

  * ``biregular``: a random mask with every row degree c = round(density · inputs) in every gate
    block and balanced column degrees (:func:`lattice_lab.masks.degree_sequence_mask`): an
    expander, Ramanujan or close to it;
  * ``erdos-renyi``: the same number of edges per gate block, uniformly at random;
  * ``poor-expander``: exactly the row and column degree multisets of ``biregular``, but the
    hidden units split into 4 communities of 32 (the inputs into 4 groups) with 5% of the edges
    rewired between communities (:func:`lattice_lab.masks.block_mask`), so Δ_r ≪ 0.

  Scopes: W_hh alone (``recurrent``; LSTM and GRU) and W_hh with W_ih (``all``; LSTM). Every run
  has the same budget: ``--epochs`` − 1 epochs at lr 2e-3 and one annealing epoch at 1e-4 on the
  60k training sequences (batch 128, Adam, clipping 1). Reported: test accuracy (10k), the
  measured sparsity of the scope, Δ_r, ΔS and IMDB of the stacked W_hh mask (and of W_ih and of
  the step graph [W_ih | W_hh] where defined), and accuracy under Gaussian input noise.

Fast mode (``LATTICE_LAB_FAST=1``): digits, 16 hidden units, 2 epochs, one seed, 90% only:
seconds, a smoke test of the whole path (writes ``structure_claims_fast.json``).

Usage::

    python -m benchmarks.structure_claims [--experiments expansion] [--seeds 0 1 2] [--epochs 10]
        [--jobs 2] [--out DIR]

Each run is one process with one torch thread (``--jobs`` of them at once); finished runs are
kept as JSON under ``<cache>/structure_claims/`` and reused on the next call.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from fnmatch import fnmatch
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lattice_lab import checkpoints, data, masks, models, robustness, spectral, surgery, train, verdicts
from lattice_lab.pruning import prune
from lattice_lab.settings import fast
from lattice_lab.verdicts import Verdict

from .common import RESULTS, command_line, machine_info, write_report

NAME = "structure_claims"
CODE_VERSION = "1"
"""Bump when a change to this module changes what a cached run holds."""
MASK_FAMILIES = ("biregular", "erdos-renyi", "poor-expander")
COMMUNITIES = 4
CROSS_FRACTION = 0.05
SCRATCH_LR = 2e-3
ANNEAL_LR = 1e-4
NOISE_SIGMAS = (0.5, 1.0)
EXPANSION_CELLS = (("lstm", "recurrent"), ("lstm", "all"), ("gru", "recurrent"))
PIXEL_METHODS = ("spectral", "magnitude-units", "random-units")
CHANCE_MULTIPLE = 2.0
"""A pixel width ranks the pruners only where one of them is above twice chance (20% on 10 classes)."""
PIXEL_EPOCHS = 20  # 6 epochs left the IRNN at 74% (still rising 5 points an epoch): too weak to compare pruners on
"""Epochs of the pixel-MNIST IRNN (the CPU budget of issue 18: at most an hour of training)."""


# --------------------------------------------------------------------------- masks of a model

def row_degree(density: float, cols: int) -> int:
    """The edges per unit of a gate block's mask, c = round(density · cols) (at least 1)."""
    return max(1, int(round(density * cols)))


def mask_sparsity(sparsity: float, cols: int) -> float:
    """The sparsity the expansion masks reach when asked for ``sparsity`` over ``cols`` inputs (c edges per unit).

    A control that compares another mask with them prunes to this sparsity, so that both keep as many weights:

    >>> mask_sparsity(0.95, 128)   # c = round(0.05 · 128) = 6 of 128 inputs: 95.31%, not 95%
    0.953125
    """
    return 1.0 - row_degree(1.0 - sparsity, cols) / cols


def gate_block_mask(family: str, rows: int, cols: int, density: float, seed: int) -> np.ndarray:
    """One gate block's mask: ``rows`` units x ``cols`` inputs, ``rows · c`` edges with c = :func:`row_degree`."""
    c = row_degree(density, cols)
    edges = rows * c
    if family == "biregular":
        return masks.degree_sequence_mask(np.full(rows, c), masks.balanced_degrees(cols, edges), seed=seed)
    if family == "erdos-renyi":
        return masks.erdos_renyi_mask(rows, cols, edges, seed=seed)
    if family == "poor-expander":
        return masks.block_mask(rows, cols, edges, blocks=COMMUNITIES, cross_fraction=CROSS_FRACTION, seed=seed)
    raise ValueError(f"family must be one of {MASK_FAMILIES}, got {family!r}")


def model_masks(model: models.SequenceClassifier, family: str, sparsity: float, scope: str,
                seed: int) -> dict[str, torch.Tensor]:
    """A mask of ``family`` for every weight in ``scope``, one gate block at a time."""
    gates = models.gate_count(model.kind)
    out = {}
    for index, name in enumerate(models.weight_names(model, scope)):
        n_out, n_in = models.get_weight(model, name).shape
        blocks = []
        for gate in range(gates):
            block_seed = int(np.random.SeedSequence([seed, index, gate]).generate_state(1)[0])
            blocks.append(gate_block_mask(family, n_out // gates, n_in, 1.0 - sparsity, block_seed))
        out[name] = torch.from_numpy(np.concatenate(blocks)).float()
    return out


def _measure(function, mask: np.ndarray) -> float | None:
    try:
        return float(function(mask))
    except ValueError:
        return None  # undefined (an average degree below 3)


def expansion_measures(mask: np.ndarray, prefix: str) -> dict[str, float | None]:
    """Δ_r, ΔS and IMDB (Δ_r form) of a stacked mask, None where undefined."""
    return {f"{prefix}delta_r": _measure(spectral.delta_r, mask), f"{prefix}delta_s": _measure(spectral.delta_s, mask),
            f"{prefix}imdb": _measure(spectral.imdb, mask)}


def mask_measures(model: models.SequenceClassifier, model_masks_: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Expansion of the first layer's W_hh mask, its W_ih mask and the step graph [W_ih | W_hh]."""
    weight_hh, weight_ih = "layers.0.weight_hh_l0", "layers.0.weight_ih_l0"
    hh = model_masks_.get(weight_hh, torch.ones_like(models.get_weight(model, weight_hh))).numpy()
    ih = model_masks_.get(weight_ih, torch.ones_like(models.get_weight(model, weight_ih))).numpy()
    gates = models.gate_count(model.kind)
    blocks = [_measure(spectral.delta_r, block) for block in np.split(hh, gates)]
    defined = [b for b in blocks if b is not None]
    return {**expansion_measures(hh, ""), **expansion_measures(ih, "ih_"),
            **expansion_measures(np.concatenate([ih, hh], axis=1), "step_"),
            "delta_r_gate_mean": statistics.fmean(defined) if defined else None}


# --------------------------------------------------------------------------- runs

@lru_cache(maxsize=4)
def _datasets(name: str) -> tuple[data.SequenceDataset, data.SequenceDataset]:
    """The train and test splits, loaded once per process."""
    return data.load(name, "train"), data.load(name, "test")


def run_key(spec: dict[str, Any]) -> str:
    """A file name for a run: its experiment, a readable part and a hash of the whole spec.

    The dataset is named only where it is not row-MNIST (the keys of the MNIST runs predate the others).

    >>> spec = {"experiment": "expansion", "dataset": "fashion-mnist", "model": "gru", "method": "biregular",
    ...         "scope": "recurrent", "sparsity": 0.95, "seed": 3}
    >>> run_key(spec)[:-12]
    'expansion-fashion-mnist-gru-biregular-recurrent-0.95-3-'
    """
    digest = hashlib.sha256(json.dumps({**spec, "version": CODE_VERSION}, sort_keys=True).encode()).hexdigest()[:12]
    fields = ("model", "method", "scope", "sparsity", "seed")
    readable = "-".join(str(spec[k]) for k in (("dataset",) if spec.get("dataset") != "mnist" else ()) + fields
                        if k in spec)
    return f"{spec['experiment']}-{readable}-{digest}"


def run_expansion(spec: dict[str, Any]) -> dict[str, Any]:
    """Train one masked model from scratch (see the module docstring) and measure it."""
    torch.set_num_threads(1)
    train_set, test_set = _datasets(spec["dataset"])
    seed = spec["seed"]
    torch.manual_seed(seed)
    model = models.build({"kind": spec["model"], "input_size": train_set.input_size,
                          "hidden_size": spec["hidden"], "num_classes": train_set.num_classes})
    dense = models.clone(model)
    chosen = model_masks(model, spec["method"], spec["sparsity"], spec["scope"], seed)
    surgery.apply_masks(model, chosen, inplace=True)
    start = time.perf_counter()
    history = train.fit(model, train_set, epochs=spec["epochs"] - 1, lr=SCRATCH_LR, seed=seed, device="cpu",
                        progress=False)
    history += train.finetune(model, train_set, epochs=1, lr=ANNEAL_LR, seed=seed + 1, device="cpu", progress=False)
    seconds = time.perf_counter() - start
    model.eval()
    noise = robustness.noise_curve(model, test_set, (0.0,) + NOISE_SIGMAS, seed=0, device="cpu")
    from lattice_lab import metrics

    return {"spec": spec, "accuracy": noise[0]["accuracy"], "sparsity": metrics.sparsity(model, dense, spec["scope"]),
            "noise": {str(row["sigma"]): row["accuracy"] for row in noise[1:]},
            "train_accuracy": history[-1]["train_accuracy"], "train_seconds": seconds,
            **mask_measures(model, chosen)}


def _trained(name: str) -> models.SequenceClassifier:
    """A shipped checkpoint, or a model this benchmark trains once and keeps (``lstm2`` = 2-layer LSTM-128)."""
    if name in checkpoints.list_shipped():
        return checkpoints.load(name)[0]
    path = data.cache_dir() / NAME / f"{name}.pt"
    if path.is_file():
        return checkpoints.load(path)[0]
    if name != "mnist-lstm2":
        raise ValueError(f"no model {name!r}")
    train_set, test_set = _datasets("mnist")
    torch.manual_seed(0)
    model = models.build({"kind": "lstm", "input_size": 28, "hidden_size": [128, 128], "num_classes": 10})
    history = train.fit(model, train_set, epochs=12, seed=0, device="cpu", progress=False)
    card = checkpoints.make_card(model, dataset="mnist", layout="rows", n_train=len(train_set), n_test=len(test_set),
                                 epochs=12, seed=0, device="cpu",
                                 test_accuracy=train.evaluate(model, test_set, device="cpu")["accuracy"],
                                 command=f"benchmarks.{NAME}: a 2-layer LSTM-128, 12 epochs at lr 1e-3", history=history)
    path.parent.mkdir(parents=True, exist_ok=True)
    checkpoints.save(path, model.cpu(), card)
    return checkpoints.load(path)[0]


def _dense_from_scratch(kind: str, seed: int, epochs: int, train_set) -> models.SequenceClassifier:
    torch.manual_seed(seed)
    model = models.build({"kind": kind, "input_size": train_set.input_size, "hidden_size": 128,
                          "num_classes": train_set.num_classes})
    train.fit(model, train_set, epochs=epochs - 1, lr=SCRATCH_LR, seed=seed, device="cpu", progress=False)
    train.finetune(model, train_set, epochs=1, lr=ANNEAL_LR, seed=seed + 1, device="cpu", progress=False)
    return model


def run_baseline(spec: dict[str, Any]) -> dict[str, Any]:
    """One strong baseline at high sparsity (module docstring), or the dense model trained with the same budget."""
    torch.set_num_threads(1)
    train_set, test_set = _datasets(spec["dataset"])
    start = time.perf_counter()
    if spec["method"] == "dense":
        model, sparsity, info = _dense_from_scratch(spec["model"], spec["seed"], spec["epochs"], train_set), 0.0, {}
    else:
        base = _trained(spec["start"]) if spec.get("start") else models.build(
            {"kind": spec["model"], "input_size": train_set.input_size, "hidden_size": 128,
             "num_classes": train_set.num_classes})
        result = prune(base, spec["method"], spec["sparsity"], train_set, seed=spec["seed"], **spec["options"])
        model, sparsity = result.model, result.sparsity
        info = {k: v for k, v in result.info.items() if k in ("objective", "ramp_steps", "finetune_samples")}
    seconds = time.perf_counter() - start
    noise = robustness.noise_curve(model, test_set, (0.0,) + NOISE_SIGMAS, seed=0, device="cpu")
    hh = models.get_weight(model, "layers.0.weight_hh_l0").detach()
    return {"spec": spec, "accuracy": noise[0]["accuracy"], "sparsity": sparsity,
            "noise": {str(row["sigma"]): row["accuracy"] for row in noise[1:]}, "train_seconds": seconds, "info": info,
            **(mask_measures(model, {"layers.0.weight_hh_l0": (hh != 0).float()}) if spec["method"] != "dense" else {})}


def run_ramanujan_rule(spec: dict[str, Any]) -> dict[str, Any]:
    """ramanujan-imp with one stopping measure towards 95%, then plain imp to the sparsity it reached."""
    torch.set_num_threads(1)
    train_set, test_set = _datasets(spec["dataset"])
    dense = _trained(spec["start"])
    options = dict(spec["options"])
    rule = prune(dense, "ramanujan-imp", spec["sparsity"], train_set, seed=spec["seed"], measure=spec["method"],
                 **options)
    reached = rule.sparsity
    plain = prune(dense, "imp", min(reached, 0.999), train_set, seed=spec["seed"], **options)
    accuracy = train.evaluate(rule.model, test_set, device="cpu")["accuracy"]
    return {"spec": spec, "accuracy": accuracy, "sparsity": reached,
            "imp_accuracy": train.evaluate(plain.model, test_set, device="cpu")["accuracy"],
            "imp_sparsity": plain.sparsity, "rounds": rule.info["rounds"], "stopped_early": rule.info["stopped_early"],
            "delta_r": _final(rule.info["delta_r"]), "measure_final": _final(rule.info["measure_per_round"])}


def _final(per_tensor: dict[str, list]) -> float | None:
    values = [v[-1] for v in per_tensor.values() if v and v[-1] is not None]
    return statistics.fmean(values) if values else None


def run_lattice_settings(spec: dict[str, Any]) -> dict[str, Any]:
    """Lattice pruning (binary or continuous adjacency) or magnitude on one model, with and without fine-tuning."""
    torch.set_num_threads(1)
    train_set, test_set = _datasets(spec["dataset"])
    dense = _trained(spec["start"])
    result = prune(dense, spec["prune"], spec["sparsity"], train_set, seed=spec["seed"], **spec["options"])
    accuracy = train.evaluate(result.model, test_set, device="cpu")["accuracy"]
    subset = train_set.subset(spec["finetune_samples"], seed=spec["seed"])
    train.finetune(result.model, subset, seed=spec["seed"], device="cpu", progress=False)
    return {"spec": spec, "accuracy": accuracy, "sparsity": result.sparsity,
            "accuracy_finetuned": train.evaluate(result.model, test_set, device="cpu")["accuracy"],
            "critical_units": len(result.info.get("critical_units", [])) if "critical_units" in result.info else None,
            "dense_accuracy": train.evaluate(dense, test_set, device="cpu")["accuracy"]}


def downsampled_pixels(dataset: data.SequenceDataset, size: int = 14) -> data.SequenceDataset:
    """Pixel-by-pixel MNIST at ``size`` x ``size`` (2x2 average pooling of the 28x28 image): ``size²`` steps of 1 pixel."""
    images = dataset.inputs.reshape(len(dataset), 1, 28, 28)
    pooled = torch.nn.functional.avg_pool2d(images, 28 // size).reshape(len(dataset), size * size, 1)
    return data.SequenceDataset(pooled.contiguous(), dataset.targets, name=f"{dataset.name}-{size}x{size}",
                                split=dataset.split, num_classes=dataset.num_classes, layout="pixels",
                                source=f"{dataset.source}, {28 // size}x{28 // size} average pooling",
                                classes=dataset.classes)


@lru_cache(maxsize=2)
def _pixel_datasets(size: int) -> tuple[data.SequenceDataset, data.SequenceDataset]:
    return tuple(downsampled_pixels(data.load("mnist", split, layout="pixels"), size) for split in ("train", "test"))


def _pixel_irnn(spec: dict[str, Any]) -> models.SequenceClassifier:
    """The IRNN-128 on pixel sequences this benchmark trains once (``pixel_epochs`` at lr 1e-4) and keeps."""
    path = data.cache_dir() / NAME / f"irnn128-pixels{spec['size']}-e{spec['pixel_epochs']}.pt"
    if path.is_file():
        return checkpoints.load(path)[0]
    train_set, test_set = _pixel_datasets(spec["size"])
    torch.manual_seed(0)
    model = models.build({"kind": "irnn", "input_size": 1, "hidden_size": 128, "num_classes": 10})
    history = train.fit(model, train_set, epochs=spec["pixel_epochs"], lr=1e-4, seed=0, device="cpu", progress=False)
    card = checkpoints.make_card(model, dataset="mnist", layout=f"pixels {spec['size']}x{spec['size']}",
                                 n_train=len(train_set), n_test=len(test_set), epochs=spec["pixel_epochs"], seed=0,
                                 device="cpu", test_accuracy=train.evaluate(model, test_set, device="cpu")["accuracy"],
                                 command=f"benchmarks.{NAME}: IRNN-128 on {spec['size']}x{spec['size']} pixel MNIST, "
                                         f"lr 1e-4, CPU", history=history)
    path.parent.mkdir(parents=True, exist_ok=True)
    checkpoints.save(path, model.cpu(), card)
    return checkpoints.load(path)[0]


def run_spectral_pixel(spec: dict[str, Any]) -> dict[str, Any]:
    """Spectral pruning against unit-norm and random units on the pixel-MNIST IRNN, no fine-tuning."""
    torch.set_num_threads(1)
    train_set, test_set = _pixel_datasets(spec["size"])
    dense = _pixel_irnn(spec)
    result = prune(dense, spec["method"], spec["sparsity"], train_set, seed=spec["seed"])
    return {"spec": spec, "accuracy": train.evaluate(result.model, test_set, device="cpu")["accuracy"],
            "sparsity": result.sparsity, "hidden_units": result.model.config["hidden_size"][0],
            "dense_accuracy": train.evaluate(dense, test_set, device="cpu")["accuracy"]}


RUNNERS = {"expansion": run_expansion, "baseline": run_baseline, "ramanujan-rule": run_ramanujan_rule,
           "lattice-settings": run_lattice_settings, "spectral-pixel": run_spectral_pixel}


def _init_worker() -> None:
    torch.set_num_threads(1)


def _kept(spec: dict[str, Any], folder: Path) -> tuple[Path, dict[str, Any] | None]:
    """Where a run of ``spec`` is kept in ``folder``, and the record kept there (None if none yet)."""
    path = folder / f"{run_key(spec)}.json"
    return path, (json.loads(path.read_text()) if path.is_file() else None)


def _keep(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".part")
    temporary.write_text(json.dumps(record, indent=1))
    temporary.replace(path)


def _cached_run(spec: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Compute one run, or read it from ``folder`` where an earlier call kept it."""
    path, kept = _kept(spec, folder)
    if kept is not None:
        return kept
    record = RUNNERS[spec["experiment"]](spec)
    _keep(path, record)
    return record


def restore_runs(report: Path, folder: Path) -> int:
    """Keep every run of a written report in ``folder``, as the run cache holds it, and return how many.

    The cache lives on the machine that made the runs; a report's ``runs`` are its records, unchanged (JSON keeps
    floats exactly), so a later call on another machine adds its new runs to the same report instead of
    recomputing the old ones. A run the cache already holds must equal the report's.
    """
    records = json.loads(report.read_text())["runs"]
    for record in records:
        path, kept = _kept(record["spec"], folder)
        if kept is None:
            _keep(path, record)
        elif kept != record:
            raise ValueError(f"the run cache's {path.name} differs from the run of that key in {report}")
    return len(records)


def cached_runs(specs: list[dict[str, Any]], folder: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The runs of ``specs`` already kept in ``folder``, in order, and the keys of those that are not."""
    found, missing = [], []
    for spec in specs:
        path, kept = _kept(spec, folder)
        if kept is not None:
            found.append(kept)
        else:
            missing.append(path.stem)
    return found, missing


def run_all(specs: list[dict[str, Any]], folder: Path, jobs: int) -> list[dict[str, Any]]:
    """Every run of ``specs`` (cached ones read back), in order; ``jobs`` processes at once."""
    if jobs == 1:
        return [_cached_run(spec, folder) for spec in specs]
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_init_worker) as pool:
        futures = [pool.submit(_cached_run, spec, folder) for spec in specs]
        records = []
        for index, future in enumerate(futures):
            records.append(future.result())
            print(f"  run {index + 1}/{len(futures)}: {run_key(specs[index])}", flush=True)
        return records


# --------------------------------------------------------------------------- grids and rows

def expansion_specs(seeds: list[int], epochs: int) -> list[dict[str, Any]]:
    """The expansion grid: cells x sparsities x mask families x seeds."""
    if fast():
        return [{"experiment": "expansion", "dataset": "digits", "model": kind, "hidden": 16, "scope": scope,
                 "sparsity": 0.9, "method": family, "seed": seeds[0], "epochs": 2}
                for kind, scope in EXPANSION_CELLS[:1] for family in MASK_FAMILIES]
    return [{"experiment": "expansion", "dataset": "mnist", "model": kind, "hidden": 128, "scope": scope,
             "sparsity": sparsity, "method": family, "seed": seed, "epochs": epochs}
            for kind, scope in EXPANSION_CELLS for sparsity in (0.9, 0.95) for family in MASK_FAMILIES
            for seed in seeds]


REPLICATION_CELL = ("gru", "recurrent", 0.95)
"""The one expansion cell beyond noise at 3 seeds (GRU, W_hh, 95%), replicated at 5 seeds on MNIST and Fashion-MNIST."""
REPLICATION_DATASETS = ("mnist", "fashion-mnist")
DEFAULT_SEEDS = {"replication": [0, 1, 2, 3, 4]}
"""Seeds an experiment runs when ``--seeds`` is not given (the others: 0, 1, 2)."""


def replication_specs(seeds: list[int], epochs: int) -> list[dict[str, Any]]:
    """The expansion runs of :data:`REPLICATION_CELL` on each of :data:`REPLICATION_DATASETS` (the MNIST runs of
    seeds 0-2 are the expansion grid's own, read back from the cache)."""
    if fast():
        return []
    kind, scope, sparsity = REPLICATION_CELL
    return [{"experiment": "expansion", "dataset": dataset, "model": kind, "hidden": 128, "scope": scope,
             "sparsity": sparsity, "method": family, "seed": seed, "epochs": epochs}
            for dataset in REPLICATION_DATASETS for family in MASK_FAMILIES for seed in seeds]


def baseline_specs(seeds: list[int], epochs: int) -> list[dict[str, Any]]:
    """Strong baselines at 95% W_hh sparsity on row-MNIST (LSTM-128 and GRU-128), and dense models of the same budget.

    ``jacobian`` is the control of the expansion grid's Erdős–Rényi masks, so it prunes to their exact sparsity
    (:func:`mask_sparsity`: 95.31%), keeping as many weights as they do."""
    if fast():
        return [{"experiment": "baseline", "dataset": "digits", "model": "lstm", "hidden": 16, "scope": "recurrent",
                 "sparsity": 0.9, "method": "jacobian", "seed": seeds[0], "epochs": 2,
                 "options": {"epochs": 1, "anneal_epochs": 1}}]
    scratch = {"epochs": epochs - 1, "lr": SCRATCH_LR, "anneal_epochs": 1}
    cells = [("lstm", "gradual-magnitude", "mnist-lstm", {}), ("lstm", "gradual-magnitude", None,
                                                               {**scratch, "from_scratch": True}),
             ("lstm", "jacobian", None, scratch), ("lstm", "dense", None, {}),
             ("gru", "gradual-magnitude", "mnist-gru", {}), ("gru", "jacobian", None, scratch),
             ("gru", "dense", None, {})]
    return [{"experiment": "baseline", "dataset": "mnist", "model": kind, "hidden": 128, "scope": "recurrent",
             "sparsity": {"dense": 0.0, "jacobian": mask_sparsity(0.95, 128)}.get(method, 0.95), "method": method,
             "start": start, "seed": seed,
             "epochs": epochs, "options": options}
            for kind, method, start, options in cells for seed in seeds]


def ramanujan_rule_specs(seeds: list[int], epochs: int) -> list[dict[str, Any]]:
    """ramanujan-imp with each stopping measure on the shipped LSTM, towards 95% in 8 rounds."""
    if fast():
        return [{"experiment": "ramanujan-rule", "dataset": "digits", "model": "lstm", "hidden": 16,
                 "scope": "recurrent", "start": "digits-lstm", "sparsity": 0.9, "method": "delta_s",
                 "seed": seeds[0], "epochs": 1, "options": {"rounds": 2, "finetune_epochs": 1}}]
    return [{"experiment": "ramanujan-rule", "dataset": "mnist", "model": "lstm", "hidden": 128, "scope": "recurrent",
             "start": "mnist-lstm", "sparsity": 0.95, "method": measure, "seed": seed, "epochs": 8,
             "options": {"rounds": 8, "finetune_epochs": 1, "finetune_samples": 10000}}
            for measure in ("delta_r", "delta_s", "imdb") for seed in seeds]


def lattice_settings_specs(seeds: list[int], epochs: int) -> list[dict[str, Any]]:
    """Lattice (binary and continuous adjacency) against magnitude on the shipped LSTM, the 2-layer feedback
    RNN and a 2-layer LSTM-128, at 50, 75 and 90%."""
    methods = (("lattice", {"adjacency": "binary"}, "lattice-binary"), ("lattice", {"adjacency": "continuous"},
                                                                        "lattice-continuous"), ("magnitude", {}, "magnitude"))
    if fast():
        return [{"experiment": "lattice-settings", "dataset": "digits", "model": "lstm", "hidden": 16,
                 "scope": "recurrent", "start": "digits-lstm", "sparsity": 0.5, "method": label, "prune": method,
                 "options": options, "seed": seeds[0], "epochs": 1, "finetune_samples": 200}
                for method, options, label in methods]
    starts = (("mnist-lstm", "lstm"), ("mnist-feedback", "feedback"), ("mnist-lstm2", "lstm-2layer"))
    return [{"experiment": "lattice-settings", "dataset": "mnist", "model": kind, "hidden": 128, "scope": "recurrent",
             "start": start, "sparsity": amount, "method": label, "prune": method, "options": options, "seed": seed,
             "epochs": 1, "finetune_samples": 10000}
            for start, kind in starts for amount in (0.5, 0.75, 0.9) for method, options, label in methods
            for seed in seeds]


def spectral_pixel_specs(seeds: list[int], epochs: int) -> list[dict[str, Any]]:
    """Spectral against magnitude-units and random-units on a pixel-MNIST IRNN-128 (14x14: 196 steps), 4 widths."""
    if fast():
        return []
    return [{"experiment": "spectral-pixel", "dataset": "mnist", "model": "irnn", "hidden": 128, "scope": "recurrent",
             "size": 14, "pixel_epochs": PIXEL_EPOCHS, "sparsity": amount, "method": method, "seed": seed, "epochs": 0}
            for amount in (0.25, 0.5, 0.625, 0.75) for method in PIXEL_METHODS
            for seed in seeds]


def _mean_std(values: list[float | None]) -> tuple[float | None, float | None]:
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)  # one seed: no spread


EXTRA_MEANS = ("delta_r", "delta_s", "imdb", "ih_delta_r", "step_delta_r", "delta_r_gate_mean", "imp_accuracy",
               "imp_sparsity", "accuracy_finetuned", "critical_units", "dense_accuracy", "hidden_units", "measure_final",
               "rounds")
"""Per-run fields averaged into a row where the experiment records them."""


def budget(spec: dict[str, Any]) -> str:
    """The training budget of a cell, in words (what the README table states)."""
    experiment, options = spec["experiment"], spec.get("options", {})
    if experiment == "expansion" or (experiment == "baseline" and spec["method"] == "dense"):
        return f"{spec['epochs'] - 1} epochs from scratch at lr {SCRATCH_LR:g}, 1 at {ANNEAL_LR:g}"
    if experiment == "baseline" and spec.get("start"):
        return f"the shipped {spec['start']}, then 9 epochs of gradual pruning at lr 1e-3 and 1 at 1e-4"
    if experiment == "baseline":
        return f"{options.get('epochs', 9)} epochs from scratch at lr {options.get('lr', SCRATCH_LR):g}, 1 at 1e-4"
    if experiment == "ramanujan-rule":
        return (f"the shipped {spec['start']}, {options['rounds']} rounds, 1 epoch of fine-tuning on "
                f"{options.get('finetune_samples', 'all the')} samples after each")
    if experiment == "lattice-settings":
        return f"{spec['start']}, one-shot; fine-tuned: 1 epoch at 1e-4 on {spec['finetune_samples']} samples"
    return f"IRNN-128 trained {spec['pixel_epochs']} epochs at lr 1e-4 on {spec['size']}x{spec['size']} pixels"


def aggregate(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per cell (all but the seed equal): means and standard deviations over seeds."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        cell = {k: v for k, v in record["spec"].items() if k != "seed"}
        groups.setdefault(json.dumps(cell, sort_keys=True), []).append(record)
    rows = []
    for key, group in groups.items():
        cell = json.loads(key)
        accuracy, accuracy_std = _mean_std([r["accuracy"] for r in group])
        row = {"experiment": cell["experiment"], "model": f"{cell['model']}-{cell['hidden']}",
               "start": cell.get("start"), "method": cell["method"], "scope": cell["scope"],
               "target_sparsity": cell.get("sparsity"), "sparsity": _mean_std([r["sparsity"] for r in group])[0],
               "accuracy_mean": accuracy, "accuracy_std": accuracy_std,
               "seeds": sorted(r["spec"]["seed"] for r in group), "epochs": cell.get("epochs"),
               "budget": budget(group[0]["spec"]), "dataset": cell["dataset"]}
        for field in EXTRA_MEANS:
            if any(field in r for r in group):  # recorded by this experiment (None where undefined)
                row[field], row[f"{field}_std"] = _mean_std([r.get(field) for r in group])
        for sigma in NOISE_SIGMAS:
            if all("noise" in r for r in group):
                row[f"noise_{sigma:g}"], row[f"noise_{sigma:g}_std"] = _mean_std([r["noise"][str(sigma)] for r in group])
        rows.append(row)
    return rows


def _spearman(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 3:
        return None
    rx, ry = np.argsort(np.argsort(xs)), np.argsort(np.argsort(ys))
    if rx.std() == 0 or ry.std() == 0:
        return None
    return float(np.corrcoef(rx, ry)[0, 1])


def _runs(records: list[dict[str, Any]], **fields: Any) -> list[dict[str, Any]]:
    """One flat row per run of ``records`` matching ``fields``: its measured values and its spec's fields (the spec's
    target ``sparsity`` wins over the measured one), for :func:`lattice_lab.verdicts.compare_rows`."""
    flat = [{**{k: v for k, v in r.items() if k != "spec"}, **r["spec"]} for r in records]
    return [row for row in flat if all(row.get(k) == v for k, v in fields.items())]


CELL = ("model", "scope", "sparsity")
"""What names an expansion cell (within one dataset)."""


def expansion_families(records: list[dict[str, Any]]) -> dict[str, dict[str, list[Verdict]]]:
    """Per dataset, the two families of the expansion grid, one verdict per cell each (Holm across the cells):
    biregular against the poor expander (equal degrees: does expansion matter?) and against Erdős–Rényi (same
    density; at 95% not Ramanujan: does the Ramanujan bound matter?)."""
    runs = _runs(records, experiment="expansion")
    out = {}
    for dataset in dict.fromkeys(r["dataset"] for r in runs):
        mine = [r for r in runs if r["dataset"] == dataset]
        out[dataset] = {other: verdicts.compare_rows(mine, {"method": "biregular"}, {"method": other}, by=CELL,
                                                     value="accuracy", labels=("biregular", label))
                        for other, label in (("poor-expander", "the poor expander"), ("erdos-renyi", "Erdős–Rényi"))}
    return out


def expansion_verdicts(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (dataset, model, scope, sparsity): the verdicts of :func:`expansion_families` (each with its
    Holm-adjusted p and minimum detectable effect), the seeds of each mask, and the rank correlation of Δ_r with
    accuracy.

    >>> runs = [{"spec": {"experiment": "expansion", "dataset": "mnist", "model": "gru", "scope": "recurrent",
    ...                   "sparsity": 0.95, "method": method}, "accuracy": accuracy, "delta_r": None}
    ...         for method, accuracy in [("biregular", 0.9), ("biregular", 0.92), ("biregular", 0.91),
    ...                                  ("poor-expander", 0.8), ("poor-expander", 0.82), ("poor-expander", 0.81),
    ...                                  ("erdos-renyi", 0.91)]]
    >>> v = expansion_verdicts(runs)[0]
    >>> v["seeds"], v["biregular_vs_poor"]["outcome"], round(100 * v["biregular_vs_poor"]["difference"], 6)
    ({'biregular': 3, 'erdos-renyi': 1, 'poor-expander': 3}, 'above', 10.0)
    >>> v["biregular_vs_erdos_renyi"]["outcome"]   # one Erdős–Rényi seed: no spread to test against
    'no test'
    """
    runs = _runs(records, experiment="expansion")
    out = []
    for dataset, families in expansion_families(records).items():
        cells = sorted({tuple(r[k] for k in CELL) for r in runs if r["dataset"] == dataset})
        by_cell = {name: {v.at: v for v in family} for name, family in families.items()}
        for cell in cells:
            group = [r for r in runs if r["dataset"] == dataset and tuple(r[k] for k in CELL) == cell]
            defined = [r for r in group if r.get("delta_r") is not None]
            found = {name: by_cell[name].get(cell) for name in by_cell}
            out.append({"dataset": dataset, **dict(zip(CELL, cell)),
                        "seeds": {f: sum(r["method"] == f for r in group) for f in sorted(MASK_FAMILIES)},
                        **{f"biregular_vs_{'poor' if name == 'poor-expander' else 'erdos_renyi'}":
                           (v.as_dict() if v else None) for name, v in found.items()},
                        "spearman_delta_r_accuracy": _spearman([r["delta_r"] for r in defined],
                                                               [r["accuracy"] for r in defined])})
    return out


# --------------------------------------------------------------------------- claims and verdicts

RECORD_TARGET = 0.983
"""Issue 18's goal: a method of this package at >= 98.3% at 95% W_hh sparsity (row-MNIST LSTM-128, 3 seeds)."""
TEST_SEQUENCES = 10_000
"""The test split of MNIST and of Fashion-MNIST (``data.load(name, "test")``): the observations of an arm that does
not vary over its seeds (:func:`lattice_lab.verdicts.compare`)."""


def _select(rows: list[dict[str, Any]], **fields: Any) -> list[dict[str, Any]]:
    return [r for r in rows if all(r.get(k) == v for k, v in fields.items())]


def _percent(row: dict[str, Any] | None, field: str = "accuracy_mean") -> str:
    if row is None or row.get(field) is None:
        return "–"
    std = row.get(field.replace("_mean", "") + "_std") if field == "accuracy_mean" else row.get(f"{field}_std")
    return f"{100 * row[field]:.2f}" + (f" ± {100 * std:.2f}" if std is not None else "") + "%"


ZHANG_STADIE_TABLE_1 = {"lstm": (97.83, 98.34), "gru": (98.50, 98.54)}
"""Zhang & Stadie (ICLR 2020), Table 1, row-MNIST, 400 units, 95% sparse: (random, Jacobian) test accuracy, %."""


def _seeds(rows: list[dict[str, Any]]) -> str:
    """How many seeds each row of a group averages: "3 seeds per cell", or their range ("1-3 seeds per cell")."""
    counts = sorted({len(r["seeds"]) for r in rows})
    return f"{counts[0]} seeds per cell" if len(counts) == 1 else f"{counts[0]}-{counts[-1]} seeds per cell"


def _cell_name(point: tuple) -> str:
    model, scope, sparsity = point
    return f"{model} {scope} {100 * sparsity:.0f}%"


def _tested(verdict: Verdict) -> str:
    """A verdict's difference with its Holm-adjusted p and its minimum detectable effect, in brief."""
    if verdict.outcome == "no test":
        return f"{verdict.points:+.2f} (no test: {verdict.reason})"
    return f"{verdict.points:+.2f} (p_Holm {verdict.p_text}, MDE {100 * verdict.mde:.2f})"


def _arms(runs: list[dict[str, Any]], arm: str, key: str, value: str = "accuracy") -> list[dict[str, Any]]:
    """Runs as one arm of a comparison across experiments or fields: ``arm``, the run's ``key`` and its ``value``."""
    return [{"arm": arm, key: r[key], "accuracy": r[value]} for r in runs]


def claims(records: list[dict[str, Any]], rows: list[dict[str, Any]]
           ) -> tuple[list[dict[str, str]], dict[str, list[dict[str, Any]]]]:
    """The README's "claim | test | result | verdict" rows, and every family of verdicts behind them (each verdict
    with its Holm-adjusted p and minimum detectable effect: :meth:`lattice_lab.verdicts.Verdict.as_dict`)."""
    out, tested = [], {}
    families = expansion_families(records)
    expansion_rows = _select(rows, experiment="expansion", dataset="mnist")
    if families.get("mnist", {}).get("poor-expander"):
        poor, random_ = families["mnist"]["poor-expander"], families["mnist"]["erdos-renyi"]
        out.append({"claim": "Kalra et al. 2024: expander (Ramanujan) masks preserve performance",
                    "test": "train from scratch with masks of equal density and degrees that differ only in expansion "
                            f"(random biregular vs 4 communities with 5% cross edges), {_seeds(expansion_rows)}",
                    "result": "biregular minus poor expander, accuracy points: "
                              + "; ".join(f"{_cell_name(v.at)}: {_tested(v)}" for v in poor),
                    "verdict": f"biregular against the poor expander: {verdicts.summary(poor, 'cells')}; against "
                               f"Erdős–Rényi (same density, not Ramanujan at 95%): "
                               f"{verdicts.summary(random_, 'cells')}"})
    replicated = [(dataset, v) for dataset, found in families.items() for v in found.get("poor-expander", [])
                  if v.at == REPLICATION_CELL]
    if any(dataset != "mnist" for dataset, _ in replicated):
        out.append({"claim": "the one cell beyond noise, replicated: GRU-128, W_hh 95%, biregular against the poor "
                             "expander",
                    "test": "the same masks and budget with 5 seeds on MNIST (seeds 0-2 are the grid's) and 5 on "
                            "Fashion-MNIST (a family of its own)",
                    "result": "; ".join(f"{dataset}: {_tested(v)}" for dataset, v in replicated),
                    "verdict": "; ".join(f"{dataset}: {v.sentence}" for dataset, v in replicated)})
    baseline_runs = _runs(records, experiment="baseline", method="jacobian")
    random_runs = _runs(records, experiment="expansion", dataset="mnist", method="erdos-renyi", scope="recurrent",
                        sparsity=0.95)
    jacobian = verdicts.compare_rows(_arms(baseline_runs, "jacobian", "model") + _arms(random_runs, "random", "model"),
                                     {"arm": "jacobian"}, {"arm": "random"}, by=["model"], value="accuracy",
                                     labels=("Jacobian", "random"))
    tested["jacobian_vs_random"] = jacobian
    for v in jacobian:
        kind = v.at[0]
        jac = _select(rows, experiment="baseline", model=f"{kind}-128", method="jacobian")[0]
        rand = _select(rows, experiment="expansion", dataset="mnist", model=f"{kind}-128", method="erdos-renyi",
                       scope="recurrent", target_sparsity=0.95)[0]
        paper_random, paper_jacobian = ZHANG_STADIE_TABLE_1[kind]
        out.append({"claim": f"Zhang & Stadie 2020: pruning at initialisation by the Jacobian beats random "
                             f"({kind.upper()}, 95%)",
                    "test": "the same budget from scratch, Jacobian-chosen vs uniformly random (Erdős–Rényi) W_hh "
                            f"masks, both {100 * jac['sparsity']:.2f}% sparse",
                    "result": f"Jacobian {_percent(jac)} at {100 * jac['sparsity']:.2f}%, random {_percent(rand)} at "
                              f"{100 * rand['sparsity']:.2f}%: {_tested(v)} points (their Table 1, 400 units: "
                              f"{paper_jacobian - paper_random:+.2f})",
                    "verdict": v.sentence})
    gmp = _select(rows, experiment="baseline", model="lstm-128", method="gradual-magnitude", start="mnist-lstm")
    if gmp:
        met = gmp[0]["accuracy_mean"] >= RECORD_TARGET
        out.append({"claim": f"goal: >= {100 * RECORD_TARGET:.1f}% at 95% W_hh sparsity, row-MNIST LSTM-128",
                    "test": f"gradual magnitude pruning ({gmp[0]['budget']})",
                    "result": f"{_percent(gmp[0])} at {100 * gmp[0]['sparsity']:.1f}%",
                    "verdict": ("met" if met else f"missed by {100 * (RECORD_TARGET - gmp[0]['accuracy_mean']):.2f} "
                                                  "points") + f" by the mean of {len(gmp[0]['seeds'])} seeds (a target, "
                                                              "not a comparison of two arms)"})
    rule_runs = _runs(records, experiment="ramanujan-rule")
    if rule_runs:
        rule = verdicts.compare_rows(_arms(rule_runs, "rule", "method") + _arms(rule_runs, "imp", "method", "imp_accuracy"),
                                     {"arm": "rule"}, {"arm": "imp"}, by=["method"], value="accuracy",
                                     labels=("the rule", "plain IMP"))
        tested["ramanujan_rule_vs_imp"] = rule
        result = "; ".join(f"{r['method']}: stops at {100 * r['sparsity']:.1f}% with {_percent(r)} "
                           f"(imp there {_percent(r, 'imp_accuracy')})" for r in _select(rows, experiment="ramanujan-rule"))
        out.append({"claim": "relaxed Ramanujan stopping rules let IMP go further at no cost",
                    "test": "ramanujan-imp towards 95% with Δ_r, ΔS or IMDB as the rule, against plain IMP at the "
                            "sparsity each reached",
                    "result": result,
                    "verdict": f"the rule against plain IMP at the same sparsity: {verdicts.summary(rule, 'measures')}"})
    lattice_runs = _runs(records, experiment="lattice-settings")
    if lattice_runs:
        parts = []
        for value, trials, when in (("accuracy", TEST_SEQUENCES, "no fine-tuning"),
                                    ("accuracy_finetuned", None, "after one epoch of fine-tuning")):
            family = verdicts.family([v for method in ("lattice-binary", "lattice-continuous")
                                      for v in verdicts.compare_rows(lattice_runs, {"method": method},
                                                                     {"method": "magnitude"}, by=["start", "sparsity"],
                                                                     value=value, trials=trials,
                                                                     labels=(method, "magnitude"))])
            above = [f"{v.first} on {v.at[0]} at {100 * v.at[1]:.0f}%" for v in family if v.outcome == "above"]
            parts.append((when, family, above))
            tested[f"lattice_vs_magnitude_{value}"] = family
        out.append({"claim": "Sengupta 2025: the lattice ordering preserves accuracy better than magnitude",
                    "test": "lattice (binary and continuous adjacency) vs magnitude at 50, 75, 90% on the shipped LSTM, "
                            "the 2-layer feedback RNN and a 2-layer LSTM. The pruning is deterministic (the seeds "
                            "replicate only the fine-tuning), so with no fine-tuning each arm is one model, tested on "
                            f"its {TEST_SEQUENCES} test sequences",
                    "result": "; ".join(f"{when}: lattice above magnitude at " + (", ".join(above) or "no setting")
                                        for when, _, above in parts),
                    "verdict": "; ".join(f"{when}: {verdicts.summary(family, 'settings')}"
                                         for when, family, _ in parts)})
    pixel = _select(rows, experiment="spectral-pixel")
    if pixel:
        parts, informative = [], []
        widths = sorted({r["target_sparsity"] for r in pixel})
        for amount in widths:
            at = {r["method"]: r for r in _select(pixel, target_sparsity=amount)}
            units = next(iter(at.values())).get("hidden_units", 0)
            parts.append(f"{units:.0f} units: " + ", ".join(f"{m} {_percent(at[m])}" for m in PIXEL_METHODS if m in at))
            if max(r["accuracy_mean"] for r in at.values()) >= CHANCE_MULTIPLE / 10:  # else all near chance: no ranking
                informative.append(amount)
        pixel_runs = [r for r in _runs(records, experiment="spectral-pixel") if r["sparsity"] in informative]
        family = verdicts.family([v for other in PIXEL_METHODS[1:] for v in verdicts.compare_rows(
            pixel_runs, {"method": "spectral"}, {"method": other}, by=["sparsity"], value="accuracy",
            labels=("spectral", other))])
        tested["spectral_pixel"] = family
        best = sum(all(v.outcome == "above" for v in family if v.at == (amount,)) for amount in informative)
        dense = pixel[0].get("dense_accuracy")
        out.append({"claim": "Furuya et al. 2022: spectral pruning beats unit-norm and random units on a pixel IRNN",
                    "test": f"an IRNN-128 on {pixel[0]['budget'].split(' on ')[-1]} (CPU, dense "
                            f"{100 * dense:.2f}%), 4 widths, no fine-tuning",
                    "result": "; ".join(parts),
                    "verdict": f"spectral above both baselines at {best} of the {len(informative)} widths where any "
                               f"method is above {CHANCE_MULTIPLE:g}x chance (of {len(widths)} widths): "
                               + verdicts.summary(family, "comparisons")})
    return out, {name: [v.as_dict() for v in family] for name, family in tested.items()}


# --------------------------------------------------------------------------- entry point

EXPERIMENTS = {"expansion": expansion_specs, "replication": replication_specs, "baseline": baseline_specs,
               "ramanujan-rule": ramanujan_rule_specs, "lattice-settings": lattice_settings_specs,
               "spectral-pixel": spectral_pixel_specs}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the chosen experiments (resuming from cached runs) and write ``structure_claims.json``."""
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{NAME}", description=__doc__.split("\n")[0])
    parser.add_argument("--experiments", nargs="+", default=list(EXPERIMENTS), choices=list(EXPERIMENTS))
    parser.add_argument("--seeds", nargs="+", type=int,
                        help="seeds of every chosen experiment (default: 0 1 2; replication: 0-4)")
    parser.add_argument("--epochs", type=int, default=10, help="training budget of every from-scratch run")
    parser.add_argument("--jobs", type=int, default=1, help="runs at once, one torch thread each")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--only", nargs="+", metavar="GLOB",
                        help="only the runs whose key matches one of these shell patterns, e.g. "
                             "'expansion-gru-*-0.9-[01]-*' (a key is experiment-model-method-scope-sparsity-seed-hash)")
    parser.add_argument("--cached-only", action="store_true",
                        help="compute nothing: report the runs already kept, and list the missing ones in the report")
    parser.add_argument("--restore-from", type=Path, metavar="REPORT",
                        help="first keep the runs of this report (e.g. the committed structure_claims.json) in the "
                             "run cache, so that this call adds to them")
    args = parser.parse_args(argv)
    machine = machine_info(command_line(NAME, argv))
    folder = data.cache_dir() / NAME / ("fast" if fast() else "full")
    if args.restore_from:
        print(f"restored {restore_runs(args.restore_from, folder)} runs from {args.restore_from}", flush=True)
    records, missing = [], {}
    for experiment in args.experiments:
        specs = EXPERIMENTS[experiment](args.seeds or DEFAULT_SEEDS.get(experiment, [0, 1, 2]), args.epochs)
        if args.only:
            specs = [spec for spec in specs if any(fnmatch(run_key(spec), pattern) for pattern in args.only)]
        if args.cached_only:
            found, missing[experiment] = cached_runs(specs, folder)
            print(f"{experiment}: {len(found)} of {len(specs)} runs kept", flush=True)
            records += found
        else:
            print(f"{experiment}: {len(specs)} runs", flush=True)
            records += run_all(specs, folder, args.jobs)
    records = list({run_key(record["spec"]): record for record in records}.values())  # a run two experiments share
    rows = aggregate(records)
    claim_rows, tested = claims(records, rows)
    report = {"benchmark": NAME, "machine": machine, "rows": rows,
              "verdicts": {"expansion": expansion_verdicts(records), **tested},
              "claims": claim_rows, "missing_runs": {k: v for k, v in missing.items() if v},
              "runs": records}
    path = write_report(report, args.out, NAME)
    print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main()
