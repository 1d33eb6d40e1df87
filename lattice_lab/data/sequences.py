"""Sequences, the one shape every dataset takes: :class:`SequenceDataset`, :func:`loader` and seeded subsets.

A dataset is float32 inputs ``(N, T, F)`` (``T`` time steps of ``F`` features) with int64 class
targets ``(N,)``. This module also holds what every source shares on the way there: an image batch
read as rows or as pixels (:func:`image_layout`), a seeded random subset that keeps the original
order (:func:`choose`), and the fast-mode cap of the real datasets (:func:`selection`).

It knows no dataset and no folder; the sources (digits, idx, cifar, speech, synthetic) build on it.
Must not import anything from the package (except settings, validation and data).

Examples
--------
>>> import torch
>>> ds = SequenceDataset(torch.zeros(5, 3, 2), torch.tensor([0, 1, 0, 1, 1]), name="toy",
...                      split="train", num_classes=2, layout="rows", source="zeros")
>>> [tuple(x.shape) for x, y in loader(ds, batch_size=2)]
[(2, 3, 2), (2, 3, 2), (1, 3, 2)]
>>> len(ds.subset(3, seed=0)), image_layout(torch.zeros(2, 4, 5).numpy(), "pixels").shape
(3, (2, 20, 1))
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

from lattice_lab.settings import fast
from lattice_lab.validation import check_instance, check_int, check_range

__all__ = ["FAST_CAP", "SequenceDataset", "choose", "image_layout", "loader", "selection"]

FAST_CAP = {"train": 2000, "test": 1000}  # samples per split of a real dataset in fast mode


@dataclass(eq=False, repr=False)
class SequenceDataset(Dataset):
    """A labelled set of equal-length sequences, ready for an RNN classifier.

    Parameters
    ----------
    inputs : torch.Tensor
        float32, shape ``(N, T, F)``: N sequences of T steps with F features.
    targets : torch.Tensor
        int64, shape ``(N,)``, values in ``0 .. num_classes - 1``.
    name, split, layout : str
        Which dataset, split and layout this is (see :func:`lattice_lab.data.load`).
    num_classes : int
        Number of classes.
    source : str
        Where the data came from (a path read, or a description).
    classes : tuple of str
        Human-readable class names, ``len(classes) == num_classes``.

    Examples
    --------
    >>> import torch
    >>> ds = SequenceDataset(torch.zeros(4, 3, 2), torch.tensor([0, 1, 0, 1]), name="toy",
    ...                      split="train", num_classes=2, layout="rows", source="zeros")
    >>> len(ds), ds.seq_len, ds.input_size
    (4, 3, 2)
    >>> len(ds.subset(2, seed=1))
    2
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    name: str
    split: str
    num_classes: int
    layout: str
    source: str
    classes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.inputs, torch.Tensor) or self.inputs.dtype != torch.float32 \
                or self.inputs.dim() != 3:
            raise TypeError(f"inputs must be a float32 tensor of shape (N, T, F), got "
                            f"{type(self.inputs).__name__} {getattr(self.inputs, 'dtype', '')} "
                            f"{tuple(getattr(self.inputs, 'shape', ()))}")
        if not isinstance(self.targets, torch.Tensor) or self.targets.dtype != torch.int64 \
                or self.targets.shape != self.inputs.shape[:1]:
            raise TypeError(f"targets must be an int64 tensor of shape ({self.inputs.shape[0]},), "
                            f"got {getattr(self.targets, 'dtype', type(self.targets).__name__)} "
                            f"{tuple(getattr(self.targets, 'shape', ()))}")
        check_int(self.num_classes, "num_classes", "SequenceDataset", low=1)
        if len(self.targets) and not (0 <= int(self.targets.min())
                                      and int(self.targets.max()) < self.num_classes):
            raise ValueError(f"targets must lie in 0..{self.num_classes - 1}, got range "
                             f"{int(self.targets.min())}..{int(self.targets.max())}")
        if not self.classes:
            self.classes = tuple(str(c) for c in range(self.num_classes))
        if len(self.classes) != self.num_classes:
            raise ValueError(f"classes must have num_classes={self.num_classes} names, "
                             f"got {len(self.classes)}")

    @property
    def seq_len(self) -> int:
        """Number of time steps T."""
        return int(self.inputs.shape[1])

    @property
    def input_size(self) -> int:
        """Number of features per step F."""
        return int(self.inputs.shape[2])

    def __len__(self) -> int:
        return int(self.inputs.shape[0])

    def __getitem__(self, index):
        """Return ``(x, y)``; ``index`` may be an int, a slice or a list/tensor of indices."""
        return self.inputs[index], self.targets[index]

    def __repr__(self) -> str:
        return (f"SequenceDataset(name={self.name!r}, split={self.split!r}, n={len(self)}, "
                f"seq_len={self.seq_len}, input_size={self.input_size}, "
                f"num_classes={self.num_classes}, layout={self.layout!r}, source={self.source!r})")

    def subset(self, n: int, seed: int = 0) -> SequenceDataset:
        """Return a new dataset with a seeded random subset of ``n`` samples (original order kept).

        Parameters
        ----------
        n : int
            Number of samples, ``1 <= n <= len(self)``.
        seed : int
            Seed of the random choice.

        Examples
        --------
        >>> from lattice_lab.data import load
        >>> ds = load("digits", "test")
        >>> small = ds.subset(10, seed=0)
        >>> len(small), small.seq_len
        (10, 8)
        """
        index = choose(len(self), n, seed, "n", "SequenceDataset.subset")
        return SequenceDataset(self.inputs[index], self.targets[index], name=self.name,
                               split=self.split, num_classes=self.num_classes,
                               layout=self.layout, source=self.source, classes=self.classes)


def loader(dataset: SequenceDataset, batch_size: int = 128, shuffle: bool = False,
           seed: int = 0) -> DataLoader:
    """A DataLoader yielding batches ``(x, y)`` of shape ``(B, T, F)`` and ``(B,)``.

    Batches are sliced from the tensors in one step (no per-sample collation), in a single
    process; with ``shuffle=True`` the order comes from a generator seeded with ``seed``
    (each pass over the loader draws a new, reproducible permutation).

    Examples
    --------
    >>> from lattice_lab.data import load
    >>> ds = load("parity", n=10, length=4)
    >>> [tuple(x.shape) for x, y in loader(ds, batch_size=4)]
    [(4, 4, 1), (4, 4, 1), (2, 4, 1)]
    """
    check_instance(dataset, "dataset", "loader", Dataset, "a torch Dataset")
    batch_size = check_range(batch_size, "batch_size", "loader", "batch_size")
    seed = check_range(seed, "seed", "loader", "seed")
    if shuffle:
        sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(seed))
    else:
        sampler = SequentialSampler(dataset)
    batches = BatchSampler(sampler, batch_size=batch_size, drop_last=False)
    return DataLoader(dataset, sampler=batches, batch_size=None, num_workers=0)


def image_layout(images: np.ndarray, layout: str) -> np.ndarray:
    """``(N, H, W[, C])`` images as sequences: ``(N, H, W*C)`` for "rows", ``(N, H*W, C)`` for "pixels".

    A row step holds the row's pixels with their channels interleaved (R, G, B of pixel 0, then pixel 1, ...).

    Examples
    --------
    >>> images = np.zeros((2, 4, 5, 3))
    >>> image_layout(images, "rows").shape, image_layout(images, "pixels").shape
    ((2, 4, 15), (2, 20, 3))
    """
    n, h, w = images.shape[:3]
    c = images.shape[3] if images.ndim == 4 else 1
    if layout == "rows":
        return images.reshape(n, h, w * c)
    return images.reshape(n, h * w, c)


def choose(total: int, n: int, seed: int, name: str, caller: str) -> np.ndarray:
    """Sorted indices of a seeded random subset of ``n`` out of ``total``.

    ``name`` and ``caller`` are the parameter that asked for ``n`` and its function, for the message
    when ``n`` is not an int in ``[1, total]``.

    Examples
    --------
    >>> choose(10, 4, 0, "subset", "load").tolist()
    [1, 4, 5, 7]
    >>> choose(10, 11, 0, "subset", "load")
    Traceback (most recent call last):
    ...
    lattice_lab.validation.InvalidParameterError: The 'subset' parameter of load must be an int in [1, 10]. Got 11 \
instead.
    """
    n = check_int(n, name, caller, low=1, high=total)
    generator = torch.Generator().manual_seed(int(seed))
    return np.sort(torch.randperm(total, generator=generator)[:n].numpy())


def selection(total: int, subset: int | None, split: str, seed: int) -> np.ndarray | None:
    """Indices that :func:`~lattice_lab.data.load` keeps of a real dataset's split of ``total`` samples.

    ``subset`` if given, else the fast-mode cap (:data:`FAST_CAP`) when fast mode is on and the
    split is larger, else None (all of it).

    Examples
    --------
    >>> len(selection(5000, 7, "train", seed=0))
    7
    """
    if subset is not None:
        return choose(total, subset, seed, "subset", "load")
    if fast() and total > FAST_CAP[split]:
        return choose(total, FAST_CAP[split], seed, "subset", "load")
    return None
