"""What a dataset's reader is handed: :class:`Request`, the validated arguments of a ``load`` call.

A leaf of its own so that the readers (``digits``, ``idx``, ``cifar``, ``speech``, ``synthetic``)
and the registry that lists them both import it, and no reader imports the registry: the registry
validates a call, finds the files and passes this request down; a reader needs nothing else.
Must not import anything from the package (except settings, validation and data).

Examples
--------
>>> request = Request("parity", "train", "rows", subset=None, seed=3, length=8, n=100, location=None)
>>> request.name, request.length, request.download
('parity', 8, False)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Request"]


@dataclass(frozen=True)
class Request:
    """What :func:`lattice_lab.data.load` was asked for, validated, and where the files were found.

    ``location`` is what the entry's ``files.find`` returned (a folder, a path...), None for a
    dataset without files; ``length`` and ``n`` are None unless given (synthetic tasks only);
    ``download`` says whether a damaged downloaded file may be downloaded again.
    """

    name: str
    split: str
    layout: str
    subset: int | None
    seed: int
    length: int | None
    n: int | None
    location: Any
    download: bool = False
