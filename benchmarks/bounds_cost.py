"""Bounds-cost benchmark: what the bounded readers (issue 29) cost on the good path, before vs after.

Three workloads, each timed in two variants interleaved in the same run (the order rotated every
round, :func:`benchmarks.common.interleaved_seconds`; median over ``--repeats``):

- ``idx files``: the four MNIST files (train and test, images and labels). *before* is main's
  unbounded reader — ``gzip.open(...).read()`` of the whole file, then ``parse_idx``
  (``np.frombuffer``); *after* is :func:`lattice_lab.data.idx.read_idx` (header first, shape and
  memory checked, then at most the declared bytes plus one).
- ``mnist load``: ``lattice_lab.data.load("mnist", split)`` of both splits (normalization included),
  with ``read_idx`` swapped for main's reader in *before*.
- ``checkpoints``: ``lattice_lab.checkpoints.load`` of every shipped checkpoint, five passes per timed
  call (:data:`CHECKPOINT_PASSES`; one load takes a few ms); *before* is the same
  call with the new checks swapped out for what main did (no check of the zip's declared sizes, no
  tensor checks, no bounded walk of card and config, no dtype check, the sidecar read with
  ``json.loads``).

``ratio`` = median after / median before (1.0 = the bounds cost nothing; the goal is <= 1.05).
Fast mode: a generated 1000-image IDX dataset instead of MNIST, two repeats.

Usage::

    python -m benchmarks.bounds_cost [--root DIR] [--repeats 15] [--threads 1] [--out DIR]

Writes ``bounds_cost.json`` (``bounds_cost_fast.json`` in fast mode) under ``--out``.
"""
from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator
from unittest import mock

import numpy as np

from lattice_lab import checkpoints, data, strict_json
from lattice_lab.data import idx
from lattice_lab.settings import fast

from .common import RESULTS, command_line, interleaved_seconds, machine_info, set_threads, write_report

GOAL = 1.05
CHECKPOINT_PASSES = 5
"""Loads of every shipped checkpoint per timed call of the ``checkpoints`` workload."""


def unbounded_idx(path: Path, item: tuple[int, ...], what: str) -> np.ndarray:
    """main's reader: the whole file decompressed, then parsed (``item`` and ``what`` unused)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        return data.parse_idx(handle.read())


@contextlib.contextmanager
def unbounded() -> Iterator[None]:
    """main's good path: the readers' new checks swapped for what main did."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(idx, "read_idx", unbounded_idx))
        stack.enter_context(mock.patch.object(checkpoints, "_check_archive", lambda path: None))
        stack.enter_context(mock.patch.object(checkpoints, "_tensor_problem", lambda tensor, mask: ""))
        stack.enter_context(mock.patch.object(checkpoints, "_check_dtypes", lambda path, state, expected: None))
        stack.enter_context(mock.patch.object(strict_json, "check_plain", lambda value, where, **limits: value))
        stack.enter_context(mock.patch.object(strict_json, "read", lambda path, **limits: json.loads(
            Path(path).read_text(encoding="utf-8"))))
        yield


def _before(function: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        with unbounded():
            return function()
    return run


def _idx_files(root: Path) -> list[tuple[Path, tuple[int, ...]]]:
    raw = root / "MNIST" / "raw"
    found = []
    for split in ("train", "test"):
        for stem, item in zip(idx.FILES[split], idx.ITEM_SHAPES):
            path = raw / f"{stem}.gz"
            found.append((path if path.is_file() else raw / stem, item))
    return found


def _write_small_mnist(root: Path, n: int = 1000) -> None:
    """A generated MNIST-shaped IDX dataset of ``n`` images per split (fast mode)."""
    rng = np.random.default_rng(0)
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for split in ("train", "test"):
        for stem, item in zip(idx.FILES[split], idx.ITEM_SHAPES):
            dims = (n, *item)
            header = bytes([0, 0, 8, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
            values = rng.integers(0, 256 if item else 10, size=dims, dtype=np.uint8)
            (raw / f"{stem}.gz").write_bytes(gzip.compress(header + values.tobytes(), compresslevel=6))


def workloads(root: Path) -> dict[str, Callable[[], Any]]:
    """Workload name -> the good-path call that the bounds guard (every variant reads the same files)."""
    files = _idx_files(root)

    def idx_files() -> list[np.ndarray]:
        return [idx.read_idx(path, item, "MNIST") for path, item in files]

    def mnist_load() -> list[data.SequenceDataset]:
        return [data.load("mnist", split, root=root, download=False) for split in ("train", "test")]

    def shipped() -> list[Any]:  # a few ms per checkpoint: several passes per timed call keep the clock's noise out
        return [checkpoints.load(name) for _ in range(CHECKPOINT_PASSES) for name in checkpoints.list_shipped()]

    return {"idx files": idx_files, "mnist load": mnist_load, "checkpoints": shipped}


def check_same_results(root: Path) -> None:
    """The bounded and the unbounded path give equal arrays, datasets and weights (else AssertionError)."""
    after = workloads(root)
    before = {name: _before(function) for name, function in after.items()}
    for left, right in zip(after["idx files"](), before["idx files"]()):
        assert np.array_equal(left, right)
    for left, right in zip(after["mnist load"](), before["mnist load"]()):
        assert left.inputs.equal(right.inputs) and left.targets.equal(right.targets)
    for (left, _), (right, _) in zip(after["checkpoints"](), before["checkpoints"]()):
        assert all(value.equal(right.state_dict()[key]) for key, value in left.state_dict().items())


def measure(root: Path, repeats: int) -> list[dict[str, Any]]:
    """One row per workload: median seconds before and after, and their ratio."""
    rows = []
    for name, function in workloads(root).items():
        timings = interleaved_seconds({"before": _before(function), "after": function}, repeats=repeats)
        before, after = timings["before"]["median_s"], timings["after"]["median_s"]
        rows.append({"workload": name, "before_median_s": before, "after_median_s": after, "ratio": after / before,
                     "before_seconds": timings["before"]["seconds"], "after_seconds": timings["after"]["seconds"]})
        print(f"{name:12s} before {before:.4f} s  after {after:.4f} s  ratio {after / before:.3f}", flush=True)
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Time the good path before and after the bounds; write the JSON report; return it."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bounds_cost", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=None,
                        help="data folder holding MNIST/raw (default: lattice_lab.data.data_root(); fast mode: a "
                             "generated 1000-image dataset)")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (default 15; fast 2)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own; fast 1)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON")
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if fast() else 15)
    set_threads(args.threads)
    machine = machine_info(command_line("bounds_cost", argv))
    with tempfile.TemporaryDirectory() as scratch:
        root = args.root
        if root is None and fast():
            root = Path(scratch)
            _write_small_mnist(root)
        elif root is None:
            root = data.data_root()
        check_same_results(root)
        rows = measure(root, repeats)
    report = {"benchmark": "bounds_cost", "machine": machine,
              "settings": {"root": str(root) if args.root or not fast() else "generated", "repeats": repeats,
                           "checkpoints": checkpoints.list_shipped(), "checkpoint_passes": CHECKPOINT_PASSES},
              "results": rows, "goal_ratio": GOAL, "within_goal": all(row["ratio"] <= GOAL for row in rows)}
    path = write_report(report, args.out, "bounds_cost")
    print(f"wrote {path}")
    return json.loads(path.read_text())


if __name__ == "__main__":
    main()
