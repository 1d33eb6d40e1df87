"""MNIST and Fashion-MNIST: LeCun's IDX files (:func:`parse_idx`) as image sequences.

A split is two files under ``<root>/MNIST/raw/`` (or ``FashionMNIST/raw/``), gzipped or not:
``train-images-idx3-ubyte`` / ``train-labels-idx1-ubyte`` and ``t10k-...`` for the test split,
parsed with numpy + gzip. Pixels are divided by 255, then ``(x - mean) / std`` with the usual
constants (0.1307/0.3081 for MNIST, 0.2860/0.3530 for Fashion-MNIST). :func:`download` is the one
place the files are fetched (:func:`lattice_lab.data.download.fetch`: mirrors first, every file
checked against its sha256).

Reading is bounded by the header: :func:`read_idx` reads the header first, checks the declared
shape against the dataset's (images N x 28 x 28, labels N) and the memory it implies against the
machine (:func:`lattice_lab.memory.check_fits`), and then decompresses at most the bytes the header
implies plus one, to tell a file with more data than it declares (a 10 KB ``.gz`` that inflates to
3 GB is refused after 7.8 MB). Sizes are Python ints, so no product of dimensions wraps around.

A file that cannot be read (a truncated or bit-flipped ``.gz``: gzip's CRC catches a flipped bit,
an IDX header that disagrees with the data or with the dataset) is a
:class:`~lattice_lab.data.folders.DamagedFileError` naming it. In the download folder (the cache)
it is downloaded again when downloads are allowed, and read once more; in a user's folder it is
never touched, and the error says which file to replace.
Must not import anything from the package (except atomic, memory, progress, settings, validation and data).

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
import math
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lattice_lab.memory import MemoryLimitError, check_fits

from . import download as downloads
from . import folders
from .request import Request
from .sequences import SequenceDataset, image_layout, selection

__all__ = ["FILES", "IDX", "IdxDataset", "download", "find", "idx_header", "missing", "parse_idx", "read", "read_idx",
           "source"]


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
ITEM_SHAPES = ((28, 28), ())
"""The shape of one item in each file of a split (images, labels): the declared shape must be (N, *item)."""
_BYTES_PER_VALUE = 1 + 4  # the file's bytes, then the float32 inputs made of them (lattice_lab.data.idx.read)


def idx_header(data: bytes) -> tuple[tuple[int, ...], int]:
    """(declared dimensions, header length) of an IDX file starting with ``data``; ValueError if it is none.

    IDX (LeCun's MNIST format): two zero bytes, a type byte (0x08 = unsigned byte), the number
    of dimensions, each dimension as a big-endian uint32, then the data. Labels have magic
    2049 (1 dimension), images 2051 (3 dimensions).

    >>> idx_header(bytes([0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 4]))
    ((3, 4), 12)
    """
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError("not an IDX file: it must start with two zero bytes")
    if data[2] != 0x08:
        raise ValueError(f"IDX type byte must be 0x08 (unsigned byte), got {data[2]:#04x}")
    header = 4 + 4 * data[3]
    if len(data) < header:
        raise ValueError(f"IDX header of {data[3]} dimensions needs {header} bytes, the file has {len(data)}")
    return tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(data[3])), header


def parse_idx(data: bytes) -> np.ndarray:
    """Parse an (uncompressed) IDX file of unsigned bytes into a uint8 array (see :func:`idx_header`).

    The size the header implies is a Python int: dimensions whose product passes 2**64 do not wrap around.

    Examples
    --------
    >>> import numpy as np
    >>> raw = bytes([0, 0, 8, 1]) + (3).to_bytes(4, "big") + bytes([7, 2, 1])
    >>> parse_idx(raw)
    array([7, 2, 1], dtype=uint8)
    >>> parse_idx(bytes([0, 0, 8, 3]) + (2 ** 32 - 1).to_bytes(4, "big") * 3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: IDX file has 16 bytes, the header (4294967295, 4294967295, 4294967295) implies 79228162...
    """
    dims, header = idx_header(data)
    expected = header + math.prod(dims)
    if len(data) != expected:
        raise ValueError(f"IDX file has {len(data)} bytes, the header {dims} implies {expected}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def read_idx(path: Path, item: tuple[int, ...], what: str) -> np.ndarray:
    """The array in the IDX file ``path`` (gzipped or not), read no further than its header implies.

    The declared shape must be ``(N, *item)`` and its memory fit the machine (``check_fits``) before any
    data is read; then at most the declared bytes plus one are decompressed, and a file holding fewer
    or more is refused. ``what`` names the content in errors ("MNIST images"). Errors are
    :class:`~lattice_lab.data.folders.DamagedFileError` naming the file.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            start = handle.read(4)
            dims, header = idx_header(start + handle.read(4 * start[3] if len(start) == 4 else 0))
            if len(dims) != 1 + len(item) or dims[1:] != item:
                raise folders.DamagedFileError(path, f"{path} declares the shape {dims}, but {what} are "
                                                     f"{' x '.join(['N', *map(str, item)])}; refused unread")
            count = math.prod(dims)
            try:
                check_fits(_BYTES_PER_VALUE * count, f"{path} (declared shape {dims})")
            except MemoryLimitError as error:  # a ValueError too: not "damaged" but declared too big
                raise folders.DamagedFileError(path, str(error)) from None
            data = handle.read(count + 1)
    except (gzip.BadGzipFile, EOFError, zlib.error, ValueError) as error:
        if isinstance(error, folders.DamagedFileError):
            raise
        raise folders.DamagedFileError(path, f"{path} cannot be read: it is truncated or damaged "
                                             f"({type(error).__name__}: {error})") from error
    if len(data) != count:
        raise folders.DamagedFileError(path, f"{path} cannot be read: it is truncated or damaged (its header "
                                             f"{dims} declares {count} bytes of data, it holds "
                                             f"{'more' if len(data) > count else len(data)})")
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


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


def _read_split(name: str, raw_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray, Path]:
    """(images, labels, image path) of ``split`` in ``raw_dir``; DamagedFileError when a file cannot be read."""
    image_path, label_path = (_idx_path(raw_dir, stem) for stem in FILES[split])
    images, labels = (read_idx(path, item, f"{IDX[name].folder} {kind}")
                      for path, item, kind in zip((image_path, label_path), ITEM_SHAPES, ("images", "labels")))
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
