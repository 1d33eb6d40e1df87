"""The cache: how what this package derives from a source (extracted archives, features) is written and read back.

Everything here lives under :func:`~lattice_lab.data.folders.cache_dir`, never next to the source.
An entry's name carries a key of its source (:func:`source_key`), so a replaced source gets a new
entry; an entry is written through a ``.part`` sibling renamed into place (:func:`write_atomic`),
so a reader never sees half of one; and :func:`is_cached` is the one test of whether an entry can
be read back. Every source that caches goes through these three.
Must not import anything from the package (except settings, validation and data).

Examples
--------
>>> import tempfile
>>> entry = Path(tempfile.mkdtemp()) / "features" / "toy.bin"
>>> is_cached(entry)
False
>>> write_atomic(entry, lambda handle: handle.write(b"abc"))
>>> is_cached(entry), entry.read_bytes()
(True, b'abc')
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["is_cached", "source_key", "write_atomic"]


def source_key(path: Path) -> str:
    """16 hex digits naming the file at ``path`` as it is now (its resolved path, size and mtime).

    Examples
    --------
    >>> len(source_key(Path(__file__)))
    16
    """
    stat = path.stat()
    text = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def write_atomic(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Create the cache entry ``path`` with ``write(handle)`` (its folders too), all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    with open(part, "wb") as handle:
        write(handle)
    os.replace(part, path)


def is_cached(path: Path) -> bool:
    """Whether the cache entry ``path`` is there to be read back."""
    return path.is_file()
