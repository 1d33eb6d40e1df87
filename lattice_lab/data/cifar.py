"""CIFAR-10: the python batches of ``cifar-10-python.tar.gz`` as 32x32x3 image sequences.

Found under a root as the extracted folder ``cifar-10-batches-py/`` or as the archive; an archive
is extracted once into the cache (:func:`extracted`), never next to it. Pixels are divided by 255
and normalized per channel; a row step holds 32 pixels x 3 channels (R, G, B interleaved per
pixel). A batch is read by :func:`read_batch`, the one place that parses a batch file (a pickle:
the archive is trusted).
Must not import anything from the package (except settings, validation and data).

Examples
--------
>>> BATCHES["test"], len(CLASSES)
(('test_batch',), 10)
"""
from __future__ import annotations

import pickle
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from . import cache, folders
from .sequences import SequenceDataset, image_layout, selection

if TYPE_CHECKING:
    from .registry import Request

__all__ = ["ARCHIVE", "BATCHES", "CLASSES", "FOLDER", "SOURCE", "download", "extracted", "find", "missing",
           "read", "read_batch"]

FOLDER = "cifar-10-batches-py"
ARCHIVE = "cifar-10-python.tar.gz"
BATCHES = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_ALL_BATCHES = BATCHES["train"] + BATCHES["test"]


def find(roots: list[Path], split: str) -> tuple[Path, str] | None:
    """(path, kind) of the first extracted folder or archive found; kind is "folder" or "archive".

    Both splits live in the same folder or archive, so ``split`` does not change the answer.
    """
    for base in roots:
        if all((base / FOLDER / name).is_file() for name in _ALL_BATCHES):
            return base / FOLDER, "folder"
        if (base / ARCHIVE).is_file():
            return base / ARCHIVE, "archive"
    return None


def missing(roots: list[Path], split: str) -> folders.Missing:
    """The archive (or its extracted folder), to put into the first root."""
    return folders.Missing("CIFAR-10 files", [ARCHIVE + f"  (or the extracted folder {FOLDER}/)"], roots[0], roots)


def download() -> None:
    """Fetch the archive into the download folder."""
    folders.download_torchvision("CIFAR10")


SOURCE = folders.FileSource(find=find, missing=missing, download=download)


def extracted(archive: Path) -> Path:
    """The batches of ``archive``, extracted once into the cache (never next to the archive)."""
    target = folders.cache_dir() / "extracted" / f"cifar10-{cache.source_key(archive)}" / FOLDER
    if all(cache.is_cached(target / name) for name in _ALL_BATCHES):
        return target
    wanted = set(_ALL_BATCHES + ("batches.meta",))
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            base = Path(member.name).name
            in_folder = Path(member.name).parent.name == FOLDER
            if member.isfile() and base in wanted and in_folder:
                with tar.extractfile(member) as src:
                    cache.write_atomic(target / base, lambda handle: handle.write(src.read()))
    if not all(cache.is_cached(target / name) for name in _ALL_BATCHES):
        raise ValueError(f"{archive} does not contain the CIFAR-10 batches "
                         f"{', '.join(sorted(wanted))} under {FOLDER}/")
    return target


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 32, 32, 3)`` uint8 and labels ``(N,)`` int64 of one batch file."""
    with open(path, "rb") as handle:
        batch = pickle.load(handle, encoding="bytes")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise ValueError(f"{path} is not a CIFAR-10 batch: it has no 'data' and 'labels'")
    images = np.asarray(data, dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, np.asarray(labels, dtype=np.int64)


def read(request: Request) -> SequenceDataset:
    """The split of CIFAR-10 at ``request.location`` (what :func:`find` found), in ``request.layout``."""
    path, kind = request.location
    folder = extracted(path) if kind == "archive" else path
    parts = [read_batch(folder / name) for name in BATCHES[request.split]]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    index = selection(len(labels), request.subset, request.split, request.seed)
    if index is not None:
        images, labels = images[index], labels[index]
    x = torch.from_numpy(np.ascontiguousarray(images)).float().div_(255.0)
    x = (x - torch.tensor(MEAN)) / torch.tensor(STD)
    x = torch.from_numpy(image_layout(x.numpy(), request.layout))
    return SequenceDataset(x, torch.from_numpy(labels), name=request.name, split=request.split,
                           num_classes=10, layout=request.layout, source=str(path),
                           classes=CLASSES)
