"""Atomic file writes: a file the package writes is either the old one or the complete new one.

:func:`atomic_write` writes into a temporary file made by ``tempfile.mkstemp`` in the destination
folder (so two processes writing the same path never share a temporary name), flushes and
``fsync``\\ s it, gives it the permissions a new file gets under the user's umask (``mkstemp``
creates it 0600), then moves it over the destination with ``os.replace``, which is atomic on
POSIX and Windows. If anything fails or is interrupted (a full disk, Ctrl-C) before the rename,
the temporary file is removed and the destination is untouched.

Results, masks, checkpoints and caches all go through here.

Must not import anything from the package.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> with tempfile.TemporaryDirectory() as folder:
...     path = atomic_write(Path(folder) / "rows.json", '{"rows": []}')
...     path.read_text(), sorted(p.name for p in Path(folder).iterdir())
('{"rows": []}', ['rows.json'])
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write", "new_file_mode"]


def new_file_mode() -> int:
    """The permission bits a newly created regular file gets under the current umask (e.g. 0o644 under 022).

    >>> 0 <= new_file_mode() <= 0o666
    True
    """
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: str | os.PathLike, content: bytes | str | Callable[[BinaryIO], object]) -> Path:
    """Write ``content`` to ``path`` all or nothing; returns the path.

    Parameters
    ----------
    path : the destination; its folder must exist (a missing folder is a FileNotFoundError
        naming it, a folder where the file should be an IsADirectoryError).
    content : bytes, a str (written as UTF-8), or a function called with the open binary file
        (e.g. ``lambda f: torch.save(payload, f)``).

    The destination keeps the permissions of a new file under the user's umask; an existing
    file is replaced, never partially overwritten.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give a file name to write")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: the folder {path.parent} does not exist")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            if callable(content):
                content(file)
            else:
                file.write(content.encode("utf-8") if isinstance(content, str) else content)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, new_file_mode())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
