"""Global settings: the one piece of global state, the FAST flag.

``LATTICE_LAB_FAST=1`` shrinks epochs, grids and data so tests, CI and notebooks in
test mode run in seconds.

Must not import anything from the package.

Examples
--------
>>> from lattice_lab.settings import fast
>>> isinstance(fast(), bool)
True
"""
from __future__ import annotations

import os


def fast() -> bool:
    """Return True when ``LATTICE_LAB_FAST`` is set to a true value ("1", "true", "yes")."""
    return os.environ.get("LATTICE_LAB_FAST", "").strip().lower() in {"1", "true", "yes", "on"}
