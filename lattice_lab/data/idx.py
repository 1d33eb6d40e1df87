"""MNIST and Fashion-MNIST: LeCun's IDX files (:func:`parse_idx`) as image sequences.

A split is two files under ``<root>/MNIST/raw/`` (or ``FashionMNIST/raw/``), gzipped or not:
``train-images-idx3-ubyte`` / ``train-labels-idx1-ubyte`` and ``t10k-...`` for the test split,
parsed with numpy + gzip. Pixels are divided by 255, then ``(x - mean) / std`` with the usual
constants (0.1307/0.3081 for MNIST, 0.2860/0.3530 for Fashion-MNIST). :func:`download` is the one
place the files are fetched (:func:`lattice_lab.data.download.fetch`: mirrors first, every file
checked against its sha256).

A file that cannot be read (a truncated or bit-flipped ``.gz``: gzip's CRC catches a flipped bit,
an IDX header that disagrees with the data) is a
:class:`~lattice_lab.data.folders.DamagedFileError` naming it. In the download folder (the cache)
it is downloaded again when downloads are allowed, and read once more; in a user's folder it is
never touched, and the error says which file to replace.
Must not import anything from the package (except atomic, progress, settings, validation and data).

Examples
--------
>>> raw = bytes([0, 0, 8, 1]) + (3).to_bytes(4, "big") + bytes([7, 2, 1])
>>> parse_idx(raw)
array([7, 2, 1], dtype=uint8)
>>> IDX["fashion-mnist"].folder, FILES["test"][1]
('FashionMNIST', 't10k-labels-idx1-ubyte')
"""
from __future__ import annotations

import functools
import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import download as downloads
from . import folders
from .request import Request
from .sequences import SequenceDataset, image_layout, selection

__all__ = ["FILES", "IDX", "IdxDataset", "download", "find", "missing", "parse_idx", "read", "source"]


@dataclass(frozen=True)
class IdxDataset:
    """One dataset in IDX files: its folder under a root, its pixel statistics and class names."""

    folder: str
    mean: float
    std: float
    classes: tuple[str, ...]


IDX = {
    "mnist": IdxDataset("MNIST", 0.1307, 0.3081, tuple(str(d) for d in range(10))),
    "fashion-mnist": IdxDataset("FashionMNIST", 0.2860, 0.3530,
                                ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")),
}
FILES = {  # split -> (images, labels), without the .gz
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def parse_idx(data: bytes) -> np.ndarray:
    """Parse an (uncompressed) IDX file of unsigned bytes into a uint8 array.

    IDX (LeCun's MNIST format): two zero bytes, a type byte (0x08 = unsigned byte), the number
    of dimensions, each dimension as a big-endian uint32, then the data. Labels have magic
    2049 (1 dimension), images 2051 (3 dimensions).

    Examples
    --------
    >>> import numpy as np
    >>> raw = bytes([0, 0, 8, 1]) + (3).to_bytes(4, "big") + bytes([7, 2, 1])
    >>> parse_idx(raw)
    array([7, 2, 1], dtype=uint8)
    """
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError("not an IDX file: it must start with two zero bytes")
    if data[2] != 0x08:
        raise ValueError(f"IDX type byte must be 0x08 (unsigned byte), got {data[2]:#04x}")
    ndim = data[3]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(data) != expected:
        raise ValueError(f"IDX file has {len(data)} bytes, the header {dims} implies {expected}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _idx_path(raw_dir: Path, stem: str) -> Path | None:
    for candidate in (raw_dir / f"{stem}.gz", raw_dir / stem):
        if candidate.is_file():
            return candidate
    return None


def _raw_dir(name: str, base: Path) -> Path:
    return base / IDX[name].folder / "raw"


def find(name: str, roots: list[Path], split: str) -> Path | None:
    """The first ``<root>/<folder>/raw`` that holds both files of ``split``, or None."""
    for base in roots:
        raw_dir = _raw_dir(name, base)
        if all(_idx_path(raw_dir, stem) is not None for stem in FILES[split]):
            return raw_dir
    return None


def missing(name: str, roots: list[Path], split: str) -> folders.Missing:
    """The files of ``split`` missing from the first root's raw folder (the others are only searched)."""
    folder = _raw_dir(name, roots[0])
    files = [f"{stem}.gz" for stem in FILES[split] if _idx_path(folder, stem) is None]
    return folders.Missing(f"{name} {split} files", files, folder, [_raw_dir(name, r) for r in roots])


def download(name: str) -> None:
    """Fetch both splits of ``name`` into the download folder, verified."""
    downloads.fetch(name)


def source(name: str) -> folders.FileSource:
    """Where the files of ``name`` ("mnist" or "fashion-mnist") come from."""
    return folders.FileSource(find=functools.partial(find, name), missing=functools.partial(missing, name),
                              download=functools.partial(download, name))


def _read_idx(path: Path) -> np.ndarray:
    """The array in the IDX file ``path`` (gzipped or not); DamagedFileError when it cannot be read."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            return parse_idx(handle.read())
    except (gzip.BadGzipFile, EOFError, zlib.error, ValueError) as error:
        raise folders.DamagedFileError(path, f"{path} cannot be read: it is truncated or damaged "
                                             f"({type(error).__name__}: {error})") from error


def _read_split(name: str, raw_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray, Path]:
    """(images, labels, image path) of ``split`` in ``raw_dir``; DamagedFileError when a file cannot be read."""
    image_path, label_path = (_idx_path(raw_dir, stem) for stem in FILES[split])
    images, labels = _read_idx(image_path), _read_idx(label_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise folders.DamagedFileError(image_path, f"{image_path} and {label_path} disagree: images "
                                                   f"{images.shape}, labels {labels.shape}")
    return images, labels, image_path


def _damaged_message(error: folders.DamagedFileError, request: Request) -> str:
    if folders.in_download_root(error.path):
        return (f"{error} It is in the download cache: call load({request.name!r}, download=True) (or run "
                f"`lattice-lab fetch {request.name}`) to download it again, or delete it.")
    file = next((f for f in downloads.REMOTES[request.name].files if f.name == error.path.name), None)
    expected = f" (the official file has {file.size} bytes, sha256 {file.sha256})" if file else ""
    return f"{error} Replace it with a good copy{expected}; this package never writes into {error.path.parent}."


def read(request: Request) -> SequenceDataset:
    """The split of ``request.name`` in the raw folder ``request.location``, as images in ``request.layout``."""
    info = IDX[request.name]
    try:
        images, labels, image_path = _read_split(request.name, request.location, request.split)
    except folders.DamagedFileError as error:
        if not (request.download and folders.in_download_root(error.path)):
            raise folders.DamagedFileError(error.path, _damaged_message(error, request)) from error
        try:
            download(request.name)  # a damaged download is fetched again (fetch verifies every file)
        except OSError as failure:
            raise folders.DamagedFileError(error.path, f"{error} Downloading it again failed: {failure}") from failure
        images, labels, image_path = _read_split(request.name, request.location, request.split)
    index = selection(len(labels), request.subset, request.split, request.seed)
    if index is not None:
        images, labels = images[index], labels[index]
    x = torch.from_numpy(image_layout(images, request.layout).astype(np.float32))
    x = x.div_(255.0).sub_(info.mean).div_(info.std)
    return SequenceDataset(x, torch.from_numpy(labels.astype(np.int64)), name=request.name, split=request.split,
                           num_classes=10, layout=request.layout, source=str(image_path),
                           classes=info.classes)
