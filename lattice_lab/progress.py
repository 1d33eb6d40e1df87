"""Progress bars that show for learners and stay quiet in tests.

``enabled=None`` means: show, unless ``LATTICE_LAB_QUIET=1`` or running under pytest.
Must not import anything from the package.

Examples
--------
>>> sum(progress_bar(range(3), desc="demo", enabled=False))
3
"""
from __future__ import annotations

import os
from typing import Iterable, TypeVar

T = TypeVar("T")


def quiet() -> bool:
    """True when progress bars should be hidden (``LATTICE_LAB_QUIET=1`` or under pytest)."""
    return os.environ.get("LATTICE_LAB_QUIET", "") in {"1", "true", "yes"} or "PYTEST_CURRENT_TEST" in os.environ


def progress_bar(iterable: Iterable[T], *, desc: str = "", total: int | None = None,
                 enabled: bool | None = None, **kwargs) -> Iterable[T]:
    """Wrap ``iterable`` in a ``tqdm.auto`` bar (a notebook widget in Jupyter, text elsewhere)."""
    from tqdm.auto import tqdm

    show = (not quiet()) if enabled is None else enabled
    return tqdm(iterable, desc=desc, total=total, disable=not show, leave=False, **kwargs)
