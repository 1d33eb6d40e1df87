"""The synthetic tasks ``adding`` and ``parity``: sequences drawn from a seeded generator, no files.

- ``adding``: T steps x 2 features (a value in [0, 1) and a 0/1 marker set on exactly two steps).
  The adding problem is a regression on the sum of the two marked values; for a classifier it is
  binarized here: target 1 if the sum exceeds 1.0, else 0.
- ``parity``: T steps x 1 feature of 0/1 bits; target = XOR of all bits.

Default length 50 (adding) and 20 (parity); default size 5000 train / 1000 test, 1000 / 500 in
fast mode. The test split uses a stream derived from ``seed`` that differs from the train one.
Must not import anything from the package (except settings, memory, validation and data).

Examples
--------
>>> x, y = adding(np.random.default_rng(0), n=3, length=5)
>>> x.shape, x[:, :, 1].sum(axis=1).tolist()
((3, 5, 2), [2.0, 2.0, 2.0])
>>> bits, odd = parity(np.random.default_rng(0), n=4, length=6)
>>> bool((bits.sum(axis=(1, 2)) % 2 == odd).all())
True
"""
from __future__ import annotations

import numpy as np
import torch

from lattice_lab.memory import check_fits
from lattice_lab.settings import fast
from lattice_lab.validation import check_range

from .request import Request
from .sequences import SequenceDataset, choose

__all__ = ["LENGTH", "MIN_LENGTH", "SIZE", "SIZE_FAST", "adding", "parity", "read"]

SIZE = {"train": 5000, "test": 1000}
SIZE_FAST = {"train": 1000, "test": 500}
LENGTH = {"adding": 50, "parity": 20}  # default sequence length
MIN_LENGTH = {"adding": 2, "parity": 1}  # the adding problem marks two steps
BYTES_PER_STEP = 64  # the float64 draws and masks of a step while generating, then its float32 copy (adding: 6 arrays)
_STREAM = ("train", "test")  # a split's position here separates its random stream from the other's


def adding(rng: np.random.Generator, n: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` adding-problem sequences ``(n, length, 2)`` and their binarized targets ``(n,)``."""
    values = rng.random((n, length))
    marked = np.argsort(rng.random((n, length)), axis=1)[:, :2]
    markers = np.zeros((n, length))
    np.put_along_axis(markers, marked, 1.0, axis=1)
    total = (values * markers).sum(axis=1)
    return np.stack([values, markers], axis=2), (total > 1.0).astype(np.int64)


def parity(rng: np.random.Generator, n: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` bit sequences ``(n, length, 1)`` and their parities ``(n,)``."""
    bits = rng.integers(0, 2, size=(n, length))
    return bits[:, :, None].astype(np.float64), (bits.sum(axis=1) % 2).astype(np.int64)


_TASKS = {"adding": adding, "parity": parity}


def read(request: Request) -> SequenceDataset:
    """The synthetic task ``request.name`` with ``request.length`` / ``request.n`` (or the defaults)."""
    name, split, seed = request.name, request.split, request.seed
    length = check_range(LENGTH[name] if request.length is None else request.length, "length", "load", "length",
                         low=MIN_LENGTH[name])
    n = request.n
    if n is None:
        n = (SIZE_FAST if fast() else SIZE)[split]
    n = check_range(n, "n", "load", "samples")
    check_fits(BYTES_PER_STEP * n * length, f"load({name!r}, n={n}, length={length}) ({n * length:,} time steps)")
    x, y = _TASKS[name](np.random.default_rng([seed, _STREAM.index(split)]), n, length)
    if request.subset is not None:
        index = choose(n, request.subset, seed, "subset", "load")
        x, y = x[index], y[index]
    source = f"synthetic {name} task (length={length}, n={n}, seed={seed}, split={split})"
    return SequenceDataset(torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y),
                           name=name, split=split, num_classes=2, layout="rows", source=source)
