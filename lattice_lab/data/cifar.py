"""CIFAR-10: the python batches of ``cifar-10-python.tar.gz`` as 32x32x3 image sequences.

Found under a root as the extracted folder ``cifar-10-batches-py/`` or as the archive; an archive
is extracted once into the cache (:func:`extracted`), never next to it. Pixels are divided by 255
and normalized per channel; a row step holds 32 pixels x 3 channels (R, G, B interleaved per
pixel).

A batch is a pickle, and unpickling runs whatever callables the file names, so a crafted batch in
a data folder or in the cache could run code. :func:`parse_batch`, the one place that parses a
batch, uses an unpickler that admits only what the format holds (numpy's array reconstruction,
the ``dtype`` and ``ndarray`` types, and latin-1 ``_codecs.encode`` for bytes pickled by Python 3),
refuses every other global, and then checks the content: a dict with ``data`` (uint8, N x 3072)
and N ``labels`` in 0..9 (checked as Python ints first: a label too large for int64 is a clear
refusal, not an ``OverflowError``).

Sizes are bounded before anything is read or built. A batch file, a tar member (by the size its
header declares) and a cache entry larger than :data:`MAX_BATCH_BYTES` (64 MiB; the official
batches are about 31.0 MB) are refused unread. Before unpickling, the opcodes are walked with
``pickletools.genops`` (:func:`_check_opcodes`), which builds nothing: the restricted unpickler
decides which callables may run, but the C unpickler grows its memo to the largest index a
``PUT`` names before any of them, so a 12-byte pickle could ask for gigabytes; a memo index larger
than the count of opcodes read so far (a real pickle numbers its memo 0, 1, 2, ...) is refused.

Extracted batches are cache entries (:mod:`lattice_lab.data.cache`: written atomically with a
checksum, so two processes extracting into one cache never collide and a truncated or replaced
entry is noticed); an entry that fails its checksum, or does not parse, is extracted again from
the archive. A damaged archive in the download folder is downloaded again when downloads are
allowed; files in a user's folder are never written, and a damaged one is an error naming it.
Must not import anything from the package (except settings, validation and data).

Examples
--------
>>> BATCHES["test"], len(CLASSES)
(('test_batch',), 10)
>>> import pickle, numpy as np
>>> images, labels = parse_batch(pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [3, 5]}), "toy")
>>> images.shape, labels.tolist()
((2, 32, 32, 3), [3, 5])
"""
from __future__ import annotations

import gzip
import io
import os
import pickle
import pickletools
import tarfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import cache, folders
from . import download as downloads
from .request import Request
from .sequences import SequenceDataset, image_layout, selection

__all__ = ["ARCHIVE", "BATCHES", "CLASSES", "FOLDER", "MAX_BATCH_BYTES", "SOURCE", "download", "extracted", "find",
           "missing", "parse_batch", "read", "read_batch"]

FOLDER = "cifar-10-batches-py"
ARCHIVE = "cifar-10-python.tar.gz"
BATCHES = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_ALL_BATCHES = BATCHES["train"] + BATCHES["test"]
_PIXELS = 32 * 32 * 3
MAX_BATCH_BYTES = 64 * 2 ** 20
"""The largest batch file read (64 MiB): a batch is 10000 images of 3072 bytes (30.7 MB) plus labels and file
names; the official files (Python 2 pickles) are about 31.0 MB, and one pickled again by Python 3 with protocol 2
(bytes as latin-1 text in UTF-8) about 46 MB."""
_MEMO_PUTS = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})


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
    """Fetch the archive into the download folder, verified (:func:`lattice_lab.data.download.fetch`)."""
    downloads.fetch("cifar10")


SOURCE = folders.FileSource(find=find, missing=missing, download=download)


# --------------------------------------------------------------------------- parsing without running code

def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """``_codecs.encode`` as Python 3 pickles bytes with protocol 2 (latin-1 text); no other codec."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"_codecs.encode with {encoding!r} is not part of a CIFAR-10 batch")
    return text.encode(encoding)


_ARRAY = np.zeros(1, dtype=np.uint8)
_ALLOWED = {  # (module, name) -> what it stands for; numpy's modules moved (numpy.core -> numpy._core)
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _ARRAY.__reduce__()[0],
    ("numpy._core.multiarray", "_reconstruct"): _ARRAY.__reduce__()[0],
    ("numpy.core.numeric", "_frombuffer"): _ARRAY.__reduce_ex__(5)[0],
    ("numpy._core.numeric", "_frombuffer"): _ARRAY.__reduce_ex__(5)[0],
    ("_codecs", "encode"): _latin1_encode,
}


class _BatchUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals a CIFAR-10 batch needs (Python docs, "Restricting Globals")."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"the global {module}.{name} is not part of a CIFAR-10 batch; "
                                         "refused (a batch holds only arrays, lists and bytes)") from None


def _check_opcodes(content: bytes) -> None:
    """Walk the pickle's opcodes (``pickletools.genops``, which builds nothing); refuse an inflated memo.

    >>> _check_opcodes(pickle.dumps([1, 2]))
    >>> _check_opcodes(b"\\x80\\x02]r\\xff\\xff\\xff\\x7f.")
    Traceback (most recent call last):
    ...
    _pickle.UnpicklingError: its pickle stores memo entry 2147483647 at opcode 2; a batch numbers its memo from 0
    """
    for count, (opcode, argument, _) in enumerate(pickletools.genops(content)):
        if opcode.name in _MEMO_PUTS and argument > count:
            raise pickle.UnpicklingError(f"its pickle stores memo entry {argument} at opcode {count}; a batch "
                                         "numbers its memo from 0")


def _labels(labels: Any) -> np.ndarray | None:
    """Labels as int64 when they are integers in 0..9 (Python ints checked before numpy sees them), else None."""
    if isinstance(labels, list):
        if all(type(v) is int and 0 <= v < len(CLASSES) for v in labels):
            return np.asarray(labels, dtype=np.int64)
    elif isinstance(labels, np.ndarray) and labels.dtype.kind in "iu" and labels.ndim == 1:
        if not labels.size or (0 <= labels.min() and labels.max() < len(CLASSES)):
            return labels.astype(np.int64)
    return None


def parse_batch(content: bytes, where: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 32, 32, 3)`` uint8 and labels ``(N,)`` int64 of one batch file's ``content``.

    Never runs code from the file, and builds nothing before its size and opcodes are checked (see the
    module docstring). ``where`` names the file in errors; anything that is not a CIFAR-10 batch is a
    :class:`~lattice_lab.data.folders.DamagedFileError`.
    """
    if len(content) > MAX_BATCH_BYTES:
        raise folders.DamagedFileError(Path(where), f"{where} is not a CIFAR-10 batch: it has {len(content)} bytes, "
                                                    f"more than a batch's {MAX_BATCH_BYTES}")
    try:
        _check_opcodes(content)
        batch = _BatchUnpickler(io.BytesIO(content), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            MemoryError, OverflowError) as error:
        raise folders.DamagedFileError(Path(where), f"{where} is not a CIFAR-10 batch (truncated, damaged or "
                                                    f"crafted): {error}") from error
    if not isinstance(batch, dict):
        raise folders.DamagedFileError(Path(where), f"{where} is not a CIFAR-10 batch: it holds a "
                                                    f"{type(batch).__name__}, not a dict")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise folders.DamagedFileError(Path(where), f"{where} is not a CIFAR-10 batch: it has no 'data' and 'labels'")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != _PIXELS:
        shape = getattr(data, "shape", None)
        raise folders.DamagedFileError(Path(where), f"{where} is not a CIFAR-10 batch: its data must be a uint8 "
                                                    f"array of N x {_PIXELS}, got {type(data).__name__} {shape}")
    targets = _labels(labels)
    if targets is None or targets.shape != (data.shape[0],):
        raise folders.DamagedFileError(Path(where), f"{where} is not a CIFAR-10 batch: it needs "
                                                    f"{data.shape[0]} integer labels in 0..9")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, targets


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 32, 32, 3)`` uint8 and labels ``(N,)`` int64 of one batch file (see :func:`parse_batch`).

    A file larger than :data:`MAX_BATCH_BYTES` (by ``os.stat``) is refused unread.
    """
    size = os.stat(path).st_size
    if size > MAX_BATCH_BYTES:
        raise folders.DamagedFileError(Path(path), f"{path} is not a CIFAR-10 batch: it has {size} bytes, more than "
                                                   f"a batch's {MAX_BATCH_BYTES}; refused unread")
    return parse_batch(Path(path).read_bytes(), path)


# --------------------------------------------------------------------------- the archive, extracted into the cache

def _extracted_folder(archive: Path) -> Path:
    return folders.cache_dir() / "extracted" / f"cifar10-{cache.source_key(archive)}" / FOLDER


def _extract(archive: Path, target: Path, names: set[str]) -> None:
    """Write the batches ``names`` of ``archive`` as cache entries in ``target``; DamagedFileError if it cannot."""
    found = set()
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                base = Path(member.name).name
                if member.isfile() and base in names and Path(member.name).parent.name == FOLDER:
                    if member.size > MAX_BATCH_BYTES:  # declared in the member's header: checked unread
                        raise folders.DamagedFileError(archive, f"{archive} cannot be read: its member {member.name} "
                                                                f"declares {member.size} bytes, more than a batch's "
                                                                f"{MAX_BATCH_BYTES}")
                    with tar.extractfile(member) as source:
                        cache.write_entry(target / base, source.read(member.size))
                    found.add(base)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise folders.DamagedFileError(archive, f"{archive} cannot be read: it is truncated or damaged "
                                                f"({type(error).__name__}: {error})") from error
    if found != names:
        raise folders.DamagedFileError(archive, f"{archive} does not contain the CIFAR-10 batches "
                                                f"{', '.join(sorted(names - found))} under {FOLDER}/")


def extracted(archive: Path) -> Path:
    """The folder in the cache holding the batches of ``archive`` as valid cache entries (extracted when needed)."""
    target = _extracted_folder(archive)
    stale = {name for name in _ALL_BATCHES if cache.read_entry(target / name, MAX_BATCH_BYTES) is None}
    if stale:
        _extract(archive, target, stale)
    return target


def _batch_from_archive(archive: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """One batch of ``archive``, from its cache entry; an entry that does not parse is extracted once more."""
    entry = extracted(archive) / name
    try:
        return parse_batch(cache.read_entry(entry, MAX_BATCH_BYTES) or b"", entry)
    except folders.DamagedFileError:
        _extract(archive, entry.parent, {name})  # a valid checksum over content that is no batch
        return parse_batch(cache.read_entry(entry, MAX_BATCH_BYTES) or b"", f"{name} of {archive}")


def _batches(location: tuple[Path, str], split: str, allow_download: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    path, kind = location
    if kind == "folder":
        return [read_batch(path / name) for name in BATCHES[split]]
    try:
        return [_batch_from_archive(path, name) for name in BATCHES[split]]
    except folders.DamagedFileError as error:
        if not (allow_download and folders.in_download_root(path)):
            hint = ("download it again (load(..., download=True) or `lattice-lab fetch cifar10`) or delete it"
                    if folders.in_download_root(path) else "replace it with a good copy")
            raise folders.DamagedFileError(error.path, f"{error}; {hint}") from error
        try:
            download()  # a damaged download is fetched again, verified
        except OSError as failure:
            raise folders.DamagedFileError(error.path, f"{error}; downloading it again failed: {failure}") from failure
        return [_batch_from_archive(path, name) for name in BATCHES[split]]


def read(request: Request) -> SequenceDataset:
    """The split of CIFAR-10 at ``request.location`` (what :func:`find` found), in ``request.layout``."""
    path, _ = request.location
    parts = _batches(request.location, request.split, request.download)
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
