"""Folders: where a dataset's files are looked for, where downloads go, and what to say when they are missing.

Files are looked up under the data root (:func:`data_root`: the ``root`` argument, else
``$LATTICE_LAB_DATA``, else ``<cache>/data``) and then under ``<cache>/data``
(:func:`search_roots`). A folder that holds the original files is used strictly read-only.
Everything written goes to :func:`cache_dir` (``$LATTICE_LAB_CACHE``, else
``~/.cache/lattice_lab``); downloads go to :func:`download_root` (``<cache>/data``).

A source of files is a :class:`FileSource`: how to find them under the search roots, what is
missing when they are not there, and how to download them. :func:`locate` is the one
locate-or-download step every dataset with files goes through; a failed or refused download
becomes a ``FileNotFoundError`` that says which files to put in which folder
(:func:`missing_message`), and a missing optional backend (torchaudio) an ``ImportError`` that
names the extra to install. A file that is there but cannot be read (truncated, damaged) is a
:class:`DamagedFileError` naming it; one in :func:`download_root` can be downloaded again
(:func:`in_download_root`), one in a user's folder never is. Downloads themselves live in
:mod:`lattice_lab.data.download`.
Must not import anything from the package (except settings, validation and data).

Examples
--------
>>> str(data_root("/some/folder"))
'/some/folder'
>>> search_roots("/some/folder")[0] == Path("/some/folder")
True
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DamagedFileError", "FileSource", "Missing", "cache_dir", "data_root", "download_root",
           "in_download_root", "locate", "missing_message", "search_roots"]


class DamagedFileError(ValueError):
    """A dataset file that is there but cannot be read as what it should be (truncated, damaged, foreign).

    ``path`` is the file. A ValueError: the file, not the code, is wrong.
    """

    def __init__(self, path: Path, message: str):
        super().__init__(message)
        self.path = Path(path)

    def __reduce__(self):  # picklable (errors cross process boundaries in parallel sweeps)
        return type(self), (self.path, str(self))


def cache_dir() -> Path:
    """The folder for everything this package writes.

    ``$LATTICE_LAB_CACHE`` if set, else ``~/.cache/lattice_lab``.

    Examples
    --------
    >>> isinstance(cache_dir(), Path)
    True
    """
    env = os.environ.get("LATTICE_LAB_CACHE", "").strip()
    return Path(env).expanduser() if env else Path.home() / ".cache" / "lattice_lab"


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data folder.

    ``root`` if given, else ``$LATTICE_LAB_DATA``, else ``cache_dir() / "data"``.

    Examples
    --------
    >>> str(data_root("/some/folder"))
    '/some/folder'
    """
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("LATTICE_LAB_DATA", "").strip()
    return Path(env).expanduser() if env else download_root()


def download_root() -> Path:
    """The folder downloads go to: ``cache_dir() / "data"`` (always searched last).

    Examples
    --------
    >>> download_root() == cache_dir() / "data"
    True
    """
    return cache_dir() / "data"


def in_download_root(path: Path) -> bool:
    """Whether ``path`` lies in :func:`download_root`: a downloaded file, which may be downloaded again.

    >>> in_download_root(download_root() / "MNIST" / "raw" / "x.gz"), in_download_root(Path("/elsewhere/x.gz"))
    (True, False)
    """
    try:
        Path(path).resolve().relative_to(download_root().resolve())
    except ValueError:
        return False
    return True


def search_roots(root: str | os.PathLike | None) -> list[Path]:
    """The folders a dataset's files are looked for in, in order: :func:`data_root`, then :func:`download_root`.

    Examples
    --------
    >>> search_roots(download_root()) == [download_root()]
    True
    """
    roots = [data_root(root)]
    if download_root() not in roots:
        roots.append(download_root())
    return roots


@dataclass(frozen=True)
class Missing:
    """What to tell when a dataset's files are not found: ``what`` they are, the ``files`` to put
    into ``folder``, and the folders ``searched``."""

    what: str
    files: list[str]
    folder: Path
    searched: list[Path]


@dataclass(frozen=True)
class FileSource:
    """Where a dataset's files come from.

    Attributes
    ----------
    find : callable ``(roots, split) -> location or None``
        What the reader needs (a folder, a file...) for ``split`` under the search ``roots``, or None
        when the files are not there. Never writes.
    missing : callable ``(roots, split) -> Missing``
        What is missing when ``find`` found nothing.
    download : callable ``() -> None``
        Fetches the files into :func:`download_root` (raises when it cannot).
    """

    find: Callable[[list[Path], str], Any]
    missing: Callable[[list[Path], str], Missing]
    download: Callable[[], None]


def missing_message(missing: Missing, download: bool) -> str:
    """The error text for files that are not found, saying which files to put where.

    Examples
    --------
    >>> text = missing_message(Missing("toy files", ["a.gz"], Path("/d"), [Path("/d")]), download=False)
    >>> text.splitlines()[0]
    'toy files not found and download=False was given. Put these files:'
    """
    how = ("download=False was given" if not download
           else "downloading them failed (offline?)")
    return (f"{missing.what} not found and {how}. Put these files:\n  "
            + "\n  ".join(missing.files)
            + f"\ninto the folder\n  {missing.folder}\n"
            + "(searched: " + ", ".join(str(p) for p in missing.searched) + ").\n"
            + "Either pass root=<folder that holds them>, or set the environment variable "
            + "LATTICE_LAB_DATA to it, or call with download=True when online (files go to "
            + f"{download_root()}). To work offline without any files, use "
            + "load('digits'): it ships with scikit-learn.")


def locate(source: FileSource, root: str | os.PathLike | None, split: str, download: bool) -> Any:
    """What ``source.find`` finds for ``split``; if nothing and ``download``, download then look again.

    Raises ``FileNotFoundError`` with :func:`missing_message` when the files stay missing (the
    download's own error is its ``__cause__``); an ``ImportError`` of the download (a missing
    optional backend) is raised as it is, since it says what to install.

    Examples
    --------
    >>> def find(roots, split):
    ...     return next((r for r in roots if (r / f"{split}.npy").is_file()), None)
    >>> def missing(roots, split):
    ...     return Missing("toy files", [f"{split}.npy"], roots[0], roots)
    >>> source = FileSource(find=find, missing=missing, download=lambda: None)
    >>> locate(source, "/nowhere", "train", download=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: toy files not found and download=False was given. Put these files:
      train.npy
    into the folder
      /nowhere
    ...
    """
    roots = search_roots(root)
    found = source.find(roots, split)
    if found is not None:
        return found
    error = missing_message(source.missing(roots, split), download)
    if download:
        try:
            source.download()
        except ImportError:
            raise  # names the extra to install: more useful than "files not found"
        except Exception as exc:  # network, checksum...
            raise FileNotFoundError(error) from exc
        found = source.find(roots, split)
    if found is None:
        raise FileNotFoundError(error)
    return found

