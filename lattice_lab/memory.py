"""Memory: refuse a size the machine cannot hold before allocating it, with the estimate in the message.

A size that comes from a user or from a file (``hidden_size = 200000`` on the command line or in a
4 KB checkpoint, a 200000 x 200000 mask) can ask for far more memory than the machine has;
allocating it first fails late (after minutes of swapping), or the kernel's OOM killer ends the
process without a word. Callers estimate what they are about to allocate and call
:func:`check_fits`, which compares the estimate with :func:`machine_bytes` (the physical memory,
lowered to the container's cgroup limit when there is one; a CUDA device's own memory) and raises
:class:`MemoryLimitError` (a ``MemoryError`` and a ``ValueError``) naming both.

Only sizes that cannot fit at all are refused: whether the free memory suffices right now depends
on everything else running, and is the operating system's call. After the work,
:func:`release_freed_memory` hands what freed tensors left in the heap back to the system (a notebook
kernel on Binder has 1 GB).

Must not import anything from the package.

Examples
--------
>>> check_fits(1000, "a small array") is None
True
>>> check_fits(10 ** 18, "an absurd array")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
lattice_lab.memory.MemoryLimitError: an absurd array would need about 1000000000.0 GB of memory, ...
>>> format_bytes(640 * 10 ** 9), format_bytes(3 * 2 ** 20)
('640.0 GB', '3.1 MB')
"""
from __future__ import annotations

import ctypes
import functools
import os
from pathlib import Path
from typing import Any

__all__ = ["MemoryLimitError", "check_fits", "format_bytes", "machine_bytes", "release_freed_memory"]

_CGROUP_LIMITS = (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"))


class MemoryLimitError(MemoryError, ValueError):
    """A size whose memory exceeds what the machine (or device) has: refused before allocating.

    Both a ``MemoryError`` and a ``ValueError``: it is a size the caller asked for, so code that
    catches bad values catches it too.
    """


def format_bytes(count: float) -> str:
    """A byte count for people, in decimal units (``"640.0 GB"``).

    >>> format_bytes(512), format_bytes(1.5e12)
    ('512 bytes', '1500.0 GB')
    """
    if count < 1000:
        return f"{int(count)} bytes"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def _cgroup_limit() -> int | None:
    for path in _CGROUP_LIMITS:
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2 ** 60:  # "max" or a huge number mean no limit
            return int(text)
    return None


def _address_space_limit() -> int | None:
    """The process's RLIMIT_AS (bytes) when one is set; None where there is none or it cannot be read."""
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def machine_bytes(device: Any = "cpu") -> int | None:
    """The memory a computation on ``device`` can have at most; None when it cannot be told.

    The CPU: physical memory (``os.sysconf``), or the container's cgroup limit or the process's
    address-space limit (``ulimit -v``, ``RLIMIT_AS``) when lower. A CUDA device (a ``torch.device``
    or a name such as ``"cuda:0"``): its total memory.

    >>> machine_bytes("cpu") is None or machine_bytes("cpu") > 10 ** 8
    True
    """
    if str(device).startswith("cuda"):
        import torch

        return int(torch.cuda.get_device_properties(torch.device(device)).total_memory)
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not on every platform (Windows)
        physical = None
    limits = [size for size in (physical, _cgroup_limit(), _address_space_limit()) if size]
    return min(limits) if limits else None


def check_fits(needed: float, what: str, device: Any = "cpu") -> None:
    """Raise :class:`MemoryLimitError` if ``needed`` bytes exceed what ``device`` has.

    ``what`` says what would be allocated (it starts the message); the message gives the estimate
    and the machine's memory.
    """
    have = machine_bytes(device)
    if have is not None and needed > have:
        where = "this machine" if not str(device).startswith("cuda") else f"the device {device}"
        raise MemoryLimitError(f"{what} would need about {format_bytes(needed)} of memory, more than {where} "
                               f"has ({format_bytes(have)}); refused before allocating anything")


def release_freed_memory() -> bool:
    """Hand the heap pages that freed tensors left behind back to the operating system; True if it could.

    glibc's ``malloc`` keeps freed memory for reuse, and training scatters it (every batch allocates and
    frees buffers of many sizes), so a process's resident memory after :func:`lattice_lab.train.fit` stays
    near its peak long after the tensors are gone; ``malloc_trim(0)`` returns it (some 20 ms). Where glibc is
    not the allocator (macOS, Windows, musl) this does nothing and returns False.

    >>> release_freed_memory() in (True, False)
    True
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


@functools.cache
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, looked up once (None where glibc is not the C library)."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
