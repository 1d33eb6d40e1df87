"""The cache: how what this package derives from a source (extracted archives, features) is written and read back.

Everything here lives under :func:`~lattice_lab.data.folders.cache_dir`, never next to the source.
An entry's name carries a key of its source (:func:`source_key`), so a replaced source gets a new
entry. An entry is one file that carries the checksum of its content: :func:`write_entry` writes
a header (:data:`MAGIC` and the content's sha256) followed by the content, all or nothing through
:func:`lattice_lab.atomic.atomic_write` (two processes filling one cache never share a temporary
file); :func:`read_entry` gives the content back only when the checksum matches, and None for an
entry that is missing, truncated, overwritten or damaged, which the caller then rebuilds from
its source. Every source that caches goes through these two.
Must not import anything from the package (except atomic, settings, validation and data).

Examples
--------
>>> import tempfile
>>> entry = Path(tempfile.mkdtemp()) / "features" / "toy.bin"
>>> read_entry(entry) is None
True
>>> _ = write_entry(entry, b"abc")
>>> read_entry(entry)
b'abc'
>>> _ = entry.write_bytes(entry.read_bytes()[:-1])  # truncated: no longer an entry
>>> read_entry(entry) is None
True
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from lattice_lab.atomic import atomic_write

__all__ = ["MAGIC", "read_entry", "source_key", "write_entry"]

MAGIC = b"lattice_lab cache entry 1\n"
"""The first bytes of every cache entry; the 32 bytes after it are the sha256 of the rest."""
_HEADER = len(MAGIC) + 32


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


def write_entry(path: Path, content: bytes) -> Path:
    """Create (or replace) the cache entry ``path`` holding ``content``, its folders too, all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, lambda handle: handle.writelines((MAGIC, hashlib.sha256(content).digest(), content)))


def read_entry(path: Path, max_bytes: int | None = None) -> bytes | None:
    """The content of the cache entry ``path``, or None when it is missing or fails its checksum.

    With ``max_bytes``, an entry whose content would be larger (by ``os.stat``) is None too, unread.
    """
    try:
        if max_bytes is not None and path.stat().st_size > _HEADER + max_bytes:
            return None
        raw = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    if len(raw) < _HEADER or not raw.startswith(MAGIC):
        return None
    content = memoryview(raw)[_HEADER:]
    if hashlib.sha256(content).digest() != raw[len(MAGIC):_HEADER]:
        return None
    return bytes(content)
