"""The registry of datasets, and the two functions that read it: :func:`load` and :func:`available`.

Each dataset is one :class:`DatasetSpec` in :data:`REGISTRY`: its name, what one sequence is,
whether it is an image dataset (layouts "rows" and "pixels") or a synthetic task (``length`` and
``n``), where its files come from (a :class:`~lattice_lab.data.folders.FileSource`: how to find
them under the search roots, what is missing, how to download them; None when it needs none), and
how to read a split. :func:`load` validates the request against the entry, locates the files
(downloading when allowed) and hands a :class:`~lattice_lab.data.request.Request` to the entry's
reader; :func:`available` asks the entry's file source. A new dataset is one reader and one entry here, nothing else.
:data:`DATASETS` is the registry's names, in order.
Must not import anything from the package (except settings, validation and data).

Examples
--------
>>> DATASETS[:3]
('digits', 'mnist', 'fashion-mnist')
>>> spec = REGISTRY["parity"]
>>> spec.synthetic, spec.image, spec.files is None
(True, False, True)
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from lattice_lab.validation import check_bool, check_choice, check_range

from . import cifar, digits, idx, speech, synthetic
from .folders import FileSource, locate, search_roots
from .request import Request
from .sequences import SequenceDataset

__all__ = ["DATASETS", "LAYOUTS", "REGISTRY", "SPLITS", "DatasetSpec", "available", "load"]

SPLITS: tuple[str, ...] = ("train", "test")
LAYOUTS: tuple[str, ...] = ("rows", "pixels")


@dataclass(frozen=True)
class DatasetSpec:
    """A registered dataset.

    Attributes
    ----------
    name : str
        What :func:`load` is called with.
    sequence : str
        What one sequence is, for people ("28x28 image: rows (28x28) or pixels (784x1)").
    read : callable ``(Request) -> SequenceDataset``
        Reads the split the request asks for.
    image : bool
        An image dataset: both layouts are allowed (otherwise only "rows").
    synthetic : bool
        A synthetic task: ``length`` and ``n`` are allowed.
    files : FileSource or None
        Where its files come from; None when it needs none (it is always available).
    """

    name: str
    sequence: str
    read: Callable[[Request], SequenceDataset]
    image: bool = False
    synthetic: bool = False
    files: FileSource | None = None


REGISTRY: dict[str, DatasetSpec] = {spec.name: spec for spec in (
    DatasetSpec("digits", "8x8 image: 8 rows of 8 pixels", digits.read, image=True),
    DatasetSpec("mnist", "28x28 image: rows (28x28) or pixels (784x1)", idx.read, image=True,
                files=idx.source("mnist")),
    DatasetSpec("fashion-mnist", "28x28 image, as mnist", idx.read, image=True,
                files=idx.source("fashion-mnist")),
    DatasetSpec("cifar10", "32x32x3 image: rows (32x96) or pixels (1024x3)", cifar.read, image=True,
                files=cifar.SOURCE),
    DatasetSpec("speech-commands", "1 s of audio: 101 MFCC frames x 40", speech.read, files=speech.SOURCE),
    DatasetSpec("adding", "synthetic adding problem (T x 2)", synthetic.read, synthetic=True),
    DatasetSpec("parity", "synthetic bit parity (T x 1)", synthetic.read, synthetic=True),
)}
DATASETS: tuple[str, ...] = tuple(REGISTRY)


def load(name: str, split: str = "train", *, layout: str = "rows",
         root: str | os.PathLike | None = None, subset: int | None = None,
         download: bool = True, seed: int = 0, length: int | None = None,
         n: int | None = None) -> SequenceDataset:
    """Load a dataset as sequences ``(N, T, F)`` with integer class targets.

    Parameters
    ----------
    name : str
        One of :data:`REGISTRY` (:data:`DATASETS`): ``"digits"``, ``"mnist"``, ``"fashion-mnist"``,
        ``"cifar10"``, ``"speech-commands"``, ``"adding"``, ``"parity"``.
    split : {"train", "test"}
        Which split.
    layout : {"rows", "pixels"}
        Image datasets only: ``"rows"`` reads an image row by row (one step per row),
        ``"pixels"`` pixel by pixel (one step per pixel). Other datasets accept only ``"rows"``.
    root : path, optional
        Data folder (default :func:`~lattice_lab.data.data_root`). Used read-only.
    subset : int, optional
        Keep a seeded random subset of this size (original order kept). When None and fast
        mode is on, real datasets are capped at 2000 train / 1000 test samples.
    download : bool
        When files are missing, try to download them into ``cache_dir() / "data"``
        (:func:`lattice_lab.data.fetch`: mirrors first, every file verified); a downloaded file
        found damaged is downloaded again.
    seed : int
        Seed of the subset choice and of the synthetic tasks (the test split of a synthetic
        task uses a stream derived from ``seed`` that differs from the train one).
    length : int, optional
        Synthetic tasks only: sequence length (default 50 for adding, 20 for parity).
    n : int, optional
        Synthetic tasks only: number of samples (default 5000 train / 1000 test;
        1000 / 500 in fast mode).

    Returns
    -------
    SequenceDataset

    Notes
    -----
    How each dataset is read and normalized is in its reader's module: :mod:`.digits`,
    :mod:`.idx` (mnist, fashion-mnist), :mod:`.cifar`, :mod:`.speech`, :mod:`.synthetic`.

    Examples
    --------
    >>> ds = load("parity", length=8, n=100, seed=3)
    >>> ds.inputs.shape, ds.num_classes
    (torch.Size([100, 8, 1]), 2)
    >>> bool((ds.inputs.sum(dim=(1, 2)).long() % 2 == ds.targets).all())
    True
    >>> load("adding", "test", n=10).inputs.shape
    torch.Size([10, 50, 2])
    """
    check_choice(name, "name", "load", REGISTRY)
    check_choice(split, "split", "load", SPLITS)
    check_choice(layout, "layout", "load", LAYOUTS)
    spec = REGISTRY[name]
    if not spec.image and layout != "rows":
        images = [s.name for s in REGISTRY.values() if s.image]
        raise ValueError(f"layout={layout!r} applies only to the image datasets "
                         f"{', '.join(images)}; {name!r} allows only 'rows'")
    seed = check_range(seed, "seed", "load", "seed")
    download = check_bool(download, "download", "load")
    subset = check_range(subset, "subset", "load", "samples", allow_none=True)
    if not spec.synthetic and (length is not None or n is not None):
        synthetic = [s.name for s in REGISTRY.values() if s.synthetic]
        raise ValueError(f"length and n apply only to the synthetic tasks "
                         f"{', '.join(synthetic)}; got length={length!r}, n={n!r} for {name!r}")
    location = None if spec.files is None else locate(spec.files, root, split, download)
    return spec.read(Request(name, split, layout, subset, seed, length, n, location, download))


def available(name: str, root: str | os.PathLike | None = None) -> bool:
    """Whether ``name`` can be loaded now without the network (both splits' files are there).

    Examples
    --------
    >>> available("digits"), available("parity")
    (True, True)
    """
    check_choice(name, "name", "available", REGISTRY)
    spec = REGISTRY[name]
    if spec.files is None:
        return True
    roots = search_roots(root)
    return all(spec.files.find(roots, split) is not None for split in SPLITS)
