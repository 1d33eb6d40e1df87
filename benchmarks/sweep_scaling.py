"""Sweep scaling: one grid serially and on worker processes — speedup, per-cell overhead, identical rows (issue 17).

**The grid**: the shipped ``mnist-lstm`` (row-MNIST LSTM-128) pruned by ``magnitude``, ``random``,
``magnitude-units`` and ``random-units`` at amounts 0.5, 0.75 and 0.9, seeds 0, 1 and 2 (``--seeds``,
the quality grid's three): 36 cells of nearly the same cost. Each cell prunes, evaluates on the
10,000 test sequences, fine-tunes one epoch (lr 1e-4) on a seeded 10,000-sequence subset of the training set and evaluates again —
the quality grid's recipe (``benchmarks.quality --train-subset 10000``).

**The runs**, sweep cache off: *serial* (``compare.sweep(..., executor=None, threads=1)``: every cell
in this process with one torch thread, what each worker gets) and *parallel* on ``--workers``
workers (``--engine process``: :func:`lattice_lab.compare.executors.local_pool`, spawned processes;
``--engine dask``: a ``distributed.LocalCluster`` of as many single-thread worker processes).
The parallel wall time includes starting the workers and each worker loading the checkpoint and
the data once. ``--repeats`` runs each, alternating which goes first.

**Measured**: the medians ``serial_s`` and ``parallel_s``; ``speedup = serial_s / parallel_s`` (target
≥ 1.6 on 2 workers); ``overhead_per_cell_s = (workers · parallel_s − serial_s) / cells``, the
core-seconds per cell that fanning out adds (start-up, loading, pickling, cores idle at the end);
and ``identical``: every row of every parallel run equals the serial run's but for the wall-clock
columns (``compare.TIMING_COLUMNS``).

**The projection** (``--probe``, on by default): one cell of every row label of the quality grid
(``benchmarks.quality``: every registered method and variant, weight-level at 0.75, unit-level
keeping 64 units, ``--method-samples`` 10,000 for the methods that fine-tune while pruning, one
epoch of fine-tuning on the same 10,000 sequences), each timed serially. The full quality grid
has, per label, 2 datasets × 4 models × 4 settings × 3 seeds = 96 cells; counting every model as
costly as the LSTM (the GRU and the RNNs are cheaper) gives an upper bound of its core-seconds,
and ``projected_s = (core-seconds + cells · overhead_per_cell_s) / cores``, at least the longest
probed cell (a cell is never split), for ``--cores`` (64) cores.

Why three seeds and not one: starting the workers (spawning, importing torch, loading the checkpoint
and the data) is paid once per run, and a 12-cell grid is only a minute of serial work, so the
start-up weighs on it (one seed measured 1.51× on 2026-12-02, on a machine not fully quiet). A real
sweep has seeds, and the start-up is paid once for all of them.

Fast mode (``LATTICE_LAB_FAST=1``): digits, the shipped digits LSTM, 2 methods × 2 amounts, one seed, one
epoch on 256 sequences, the probe on digits — a smoke test of the whole path.

Usage::

    python -m benchmarks.sweep_scaling [--workers 2] [--engine process|dask] [--repeats 1] [--seeds 3]
        [--train-subset 10000] [--no-probe] [--cores 64] [--out DIR]

Writes ``sweep_scaling.json`` (``sweep_scaling_fast.json`` in fast mode). Run it on a quiet machine:
other processes on the cores change both wall times (the report's ``machine`` block says how busy
it was).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import statistics
import time
from typing import Any

from lattice_lab import compare
from lattice_lab.compare.executors import local_pool
from lattice_lab.compare.specs import load_checkpoint
from lattice_lab.pruning import REGISTRY
from lattice_lab.settings import fast

from . import quality
from .common import RESULTS, command_line, machine_info, rotated, set_threads, write_report

METHODS = ("magnitude", "random", "magnitude-units", "random-units")
AMOUNTS = (0.5, 0.75, 0.9)
TARGET_SPEEDUP = 1.6
PROBE_AMOUNT = 0.75  # weight-level methods; unit-level keep half the units (64 of 128)
FULL_GRID = {"datasets": 2, "models": 4, "settings": len(quality.AMOUNTS), "seeds": 3}
"""The committed quality grid per row label: 2 datasets x 4 models x 4 amounts (or unit counts) x 3 seeds."""


@contextlib.contextmanager
def engine(name: str, workers: int):
    """An executor of ``workers`` single-thread workers: spawned processes, or a Dask LocalCluster."""
    if name == "process":
        with local_pool(workers) as pool:
            yield pool
        return
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client.get_executor()


def _timed(function) -> tuple[float, Any]:
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def probe(checkpoint, test_set, train_set, *, method_samples: int | None) -> list[dict]:
    """Seconds of one serial cell per quality row label (with fine-tuning), on the benchmark's model."""
    model = load_checkpoint(checkpoint)[0]
    labels = compare.supported_methods(model) + [label for label, (method, _) in quality.VARIANTS.items()
                                                 if method in compare.supported_methods(model)]
    options = quality.method_options(labels, method_samples)
    cache = compare.SweepCache()  # memory only: the dense accuracy once, every cell computed
    out = []
    for label in labels:
        method = quality.base_method(label)
        amount = PROBE_AMOUNT if REGISTRY[method].level == "weight" else 0.5
        seconds, rows = _timed(lambda: compare.sweep(checkpoint, test_set, methods=[method], amounts=[amount],
                                                     finetune_epochs=1, train_data=train_set,
                                                     options={method: options.get(label, {})}, cache=cache,
                                                     threads=1))
        out.append({"label": label, "amount": amount, "seconds": seconds, "accuracy": rows[0]["accuracy"],
                    "accuracy_finetuned": rows[0]["accuracy_finetuned"]})
        print(f"probe {label:28s} {seconds:8.1f} s", flush=True)
    return out


def projection(probed: list[dict], overhead_per_cell_s: float, cores: int) -> dict[str, Any]:
    """The full quality grid's core-seconds (upper bound, from the probe) and its wall time on ``cores`` cores.

    >>> p = projection([{"label": "a", "seconds": 10.0}, {"label": "b", "seconds": 30.0}], 1.0, 64)
    >>> p["cells"], p["core_seconds"], round(p["projected_s"], 2), p["longest_cell_s"]
    (192, 3840.0, 63.0, 30.0)
    """
    per_label = FULL_GRID["datasets"] * FULL_GRID["models"] * FULL_GRID["settings"] * FULL_GRID["seeds"]
    cells = per_label * len(probed)
    core_seconds = per_label * sum(p["seconds"] for p in probed)
    longest = max(p["seconds"] for p in probed)
    spread = (core_seconds + cells * max(overhead_per_cell_s, 0.0)) / cores
    return {"cores": cores, "cells": cells, "cells_per_label": per_label, "core_seconds": core_seconds,
            "overhead_per_cell_s": overhead_per_cell_s, "longest_cell_s": longest,
            "projected_s": max(spread, longest)}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sweep_scaling", description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the parallel run (default 2)")
    parser.add_argument("--engine", choices=("process", "dask"), default="process",
                        help="local spawned processes (default) or a Dask LocalCluster (the [cluster] extra)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each, alternating the order (default 1)")
    parser.add_argument("--seeds", type=int, default=None,
                        help="seeds 0 .. N-1 of every cell (default 3, the quality grid's; fast 1)")
    parser.add_argument("--train-subset", type=int, default=None,
                        help="fine-tuning sequences (default 10000; fast 256)")
    parser.add_argument("--method-samples", type=int, default=None,
                        help="finetune_samples of the probed methods that fine-tune while pruning (default 10000; "
                             "fast: their own)")
    parser.add_argument("--no-probe", action="store_true", help="skip the per-label probe and the projection")
    parser.add_argument("--cores", type=int, default=64, help="cores of the projection (default 64)")
    parser.add_argument("--out", default=RESULTS, help="folder for the JSON report")
    return parser


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Time the grid serially and on workers, check the rows agree, probe and project; write and return the report."""
    args = _parser().parse_args(argv)
    quick = fast()
    dataset, checkpoint_name = ("digits", "digits-lstm") if quick else ("mnist", "mnist-lstm")
    methods, amounts = (METHODS[::2], AMOUNTS[::2]) if quick else (METHODS, AMOUNTS)
    subset = args.train_subset or (256 if quick else 10000)
    seeds = list(range(args.seeds or (1 if quick else 3)))
    method_samples = args.method_samples if args.method_samples is not None else (None if quick else 10000)
    set_threads(1)
    machine = machine_info(command_line("sweep_scaling", argv))
    checkpoint = compare.checkpoint_spec(checkpoint_name)
    test_set = compare.data_spec(dataset, "test")
    train_set = compare.data_spec(dataset, "train", subset=subset)
    grid = {"methods": list(methods), "amounts": list(amounts), "seeds": seeds, "finetune_epochs": 1,
            "train_data": train_set, "cache": False}
    cells = len(methods) * len(amounts) * len(seeds)

    def serial():
        return compare.sweep(checkpoint, test_set, **grid, threads=1)

    def parallel():
        with engine(args.engine, args.workers) as executor:
            return compare.sweep(checkpoint, test_set, **grid, executor=executor)

    timings: dict[str, list[float]] = {"serial": [], "parallel": []}
    found: dict[str, list] = {"serial": [], "parallel": []}
    for repeat in range(args.repeats):
        for name in rotated(["serial", "parallel"], repeat):
            seconds, rows = _timed(serial if name == "serial" else parallel)
            timings[name].append(seconds)
            found[name].append(rows)
            print(f"{name:8s} {seconds:8.1f} s ({cells} cells)", flush=True)
    serial_s, parallel_s = statistics.median(timings["serial"]), statistics.median(timings["parallel"])
    reference = [compare.comparable(r) for r in found["serial"][0]]
    identical = all([compare.comparable(r) for r in rows] == reference
                    for rows in found["serial"] + found["parallel"])
    speedup = serial_s / parallel_s
    overhead = (args.workers * parallel_s - serial_s) / cells
    report = {
        "benchmark": "sweep_scaling", "machine": machine,
        "settings": {"dataset": dataset, "checkpoint": checkpoint_name, "methods": list(methods),
                     "amounts": list(amounts), "seeds": seeds, "finetune_epochs": 1, "train_subset": subset,
                     "workers": args.workers, "engine": args.engine, "repeats": args.repeats,
                     "method_samples": method_samples, "threads_per_worker": 1},
        "cells": cells, "serial_s": serial_s, "parallel_s": parallel_s, "serial_runs_s": timings["serial"],
        "parallel_runs_s": timings["parallel"], "speedup": speedup, "efficiency": speedup / args.workers,
        "overhead_per_cell_s": overhead, "serial_per_cell_s": serial_s / cells, "identical": identical,
        "target_speedup": TARGET_SPEEDUP, "target_met": speedup >= TARGET_SPEEDUP,
        "rows": found["serial"][0],
    }
    if not args.no_probe:
        report["probe"] = probe(checkpoint, test_set, train_set, method_samples=method_samples)
        report["projection"] = projection(report["probe"], overhead, args.cores)
    path = write_report(report, args.out, "sweep_scaling")
    print(f"speedup {speedup:.2f}x on {args.workers} workers, {overhead:.2f} s overhead per cell, rows identical: "
          f"{identical}; wrote {path}")
    return json.loads(path.read_text())


if __name__ == "__main__":
    main()
