"""Training-speed benchmark: samples per second of ``lattice_lab.train.fit`` vs a bare PyTorch loop.

The same LSTM-128 (same initial weights), the same in-memory row-MNIST training sequences (a
seeded subset of ``--samples``, 10,000 by default), the same batch size (128) and Adam (lr 1e-3),
one epoch per call. Three loops, timed interleaved in the same run, the order rotated every
round (median over ``--repeats`` epochs, each from a fresh copy of the initial model):

- ``bare``: the textbook loop — a seeded permutation, slicing, forward, cross-entropy,
  ``zero_grad``, ``backward``, ``step``;
- ``train.fit``: our loop with its defaults (gradient-norm clipping at 1.0, loss and accuracy
  accumulated on the device, device placement, seeded RNG fork);
- ``train.fit (clip=None)``: our loop without clipping, to separate the cost of clipping from
  the cost of the bookkeeping.

``overhead`` = median epoch time of the loop / median epoch time of ``bare`` (1.0 = no overhead).
CPU always; CUDA too when available. Fast mode: digits (8x8), LSTM-32, two repeats.

Usage::

    python -m benchmarks.train_speed [--dataset mnist] [--hidden 128] [--samples 10000] [--repeats 3] [--out DIR]

Writes ``train_speed.json`` (``train_speed_fast.json`` in fast mode) under ``--out``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from lattice_lab import data, train
from lattice_lab.models import build, clone
from lattice_lab.settings import fast

from .common import RESULTS, command_line, machine_info, rotated, set_threads, write_report

BATCH_SIZE = 128
LR = 1e-3


def bare_epoch(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, batch_size: int = BATCH_SIZE,
               lr: float = LR, device: torch.device = torch.device("cpu"), seed: int = 0) -> None:
    """One epoch of the plainest PyTorch training loop (Adam, cross-entropy, no extras), in place."""
    model.to(device).train()
    inputs, targets = inputs.to(device), targets.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    order = torch.randperm(len(inputs), generator=torch.Generator().manual_seed(seed)).to(device)
    for start in range(0, len(inputs), batch_size):
        index = order[start:start + batch_size]
        loss = nn.functional.cross_entropy(model(inputs[index]), targets[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def loops(dataset: data.SequenceDataset, device: torch.device) -> dict[str, Callable[[nn.Module], Any]]:
    """Loop name -> a function training a given model for one epoch on ``dataset``."""
    common = {"epochs": 1, "lr": LR, "batch_size": BATCH_SIZE, "device": device, "progress": False, "seed": 0}
    return {
        "bare": lambda m: bare_epoch(m, dataset.inputs, dataset.targets, device=device),
        "train.fit": lambda m: train.fit(m, dataset, **common),
        "train.fit (clip=None)": lambda m: train.fit(m, dataset, clip=None, **common),
    }


def measure(initial: nn.Module, dataset: data.SequenceDataset, device: torch.device,
            repeats: int) -> dict[str, list[float]]:
    """Epoch seconds per loop, interleaved, each epoch from a fresh copy of ``initial``.

    One untimed warm-up round comes first (allocator, kernels, lazy initialization); round r
    runs the loops in the order rotated by r (:func:`benchmarks.common.rotated`), so no loop
    always runs first.
    """
    functions = loops(dataset, device)
    seconds: dict[str, list[float]] = {name: [] for name in functions}
    for repeat in range(repeats + 1):
        for name in rotated(list(functions), repeat):
            model = clone(initial)
            start = time.perf_counter()
            functions[name](model)
            elapsed = time.perf_counter() - start
            if repeat > 0:
                seconds[name].append(elapsed)
    return seconds


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Time the three loops on every device; write the JSON report; return it."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.train_speed", description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default=None, help="training data (default mnist; fast mode digits)")
    parser.add_argument("--kind", default="lstm", choices=["lstm", "gru", "rnn", "irnn"])
    parser.add_argument("--hidden", type=int, default=None, help="hidden size (default 128; fast 32)")
    parser.add_argument("--samples", type=int, default=None,
                        help="training sequences per epoch (default 10000; fast: all 1437 digits)")
    parser.add_argument("--repeats", type=int, default=None, help="timed epochs per loop (default 3; fast 2)")
    parser.add_argument("--devices", nargs="+", default=None, help="devices (default cpu, and cuda when available)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's own; fast mode 1)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON")
    args = parser.parse_args(argv)
    name = args.dataset or ("digits" if fast() else "mnist")
    hidden = args.hidden or (32 if fast() else 128)
    repeats = args.repeats or (2 if fast() else 3)
    samples = args.samples if args.samples is not None else (None if fast() else 10000)
    devices = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    dataset = data.load(name, "train", subset=samples)
    torch.manual_seed(0)
    initial = build({"kind": args.kind, "input_size": dataset.input_size, "hidden_size": hidden,
                     "num_classes": dataset.num_classes})
    model_name = f"{args.kind.upper()}-{hidden} on {name} rows"
    set_threads(args.threads)
    machine = machine_info(command_line("train_speed", argv))
    results = []
    for device in devices:
        seconds = measure(initial, dataset, torch.device(device), repeats)
        bare = statistics.median(seconds["bare"])
        for loop, timings in seconds.items():
            median = statistics.median(timings)
            results.append({"device": device, "model": model_name, "loop": loop, "median_epoch_s": median,
                            "samples_per_second": len(dataset) / median, "overhead": median / bare,
                            "seconds": timings})
            print(f"{device} {model_name}: {loop:22s} {len(dataset) / median:8.0f} samples/s "
                  f"(epoch {median:.2f} s, {median / bare:.2f}x the bare loop)", flush=True)
    settings = {"dataset": name, "kind": args.kind, "hidden": hidden, "samples": len(dataset),
                "batch_size": BATCH_SIZE, "lr": LR, "optimizer": "Adam", "repeats": repeats, "devices": devices}
    report = {"benchmark": "train_speed", "machine": machine, "settings": settings, "results": results}
    path = write_report(report, args.out, "train_speed")
    print(f"wrote {path}")
    return json.loads(path.read_text())


if __name__ == "__main__":
    main()
