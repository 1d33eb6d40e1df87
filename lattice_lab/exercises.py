"""What the notebooks' self-checks compare a learner's answer with: equal values, whatever their type.

A learner's right answer comes in many types: ``answer_3.max() / len(digits)`` is a 0-d tensor,
``np.argmax(...)`` an ``np.int64``, ``(6, 24, 7.1)`` a tuple where the check built a list, a
numpy array where it built nested lists. A check that compared types would say "Not quite" to all
of them. Every check of the course therefore goes through :func:`same` (is the answer the value
the check computed?) and :func:`is_number` (is it a number at all, for the hint that says so).

Both convert with numpy (``np.asarray``; a tensor through ``.detach().cpu().numpy()``) and
compare with ``np.array_equal`` (integers, booleans) or ``np.allclose`` (floats): the kept
library's definitions of "equal" and "close", here only made blind to the container. What stays
strict: a shape (``[1, 2]`` is not ``[[1, 2]]``, and a scalar is not broadcast against an array),
a mapping's keys, a string, and a boolean against a number (``True`` is not the answer 1).

Must not import anything from the package (except validation).

Examples
--------
>>> import numpy as np, torch
>>> same(torch.tensor(0.25), 1 / 4), same(np.int64(7), 7), same((6, 24), [6, 24])
(True, True, True)
>>> same([6, 24], [6, 25]), same([1, 2], [[1, 2]]), same(True, 1), same(..., 3)
(False, False, False, False)
>>> same({"rows": (28, 28)}, {"rows": [28, 28]}), is_number(np.float32(0.5)), is_number("0.5")
(True, True, False)
"""
from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

import numpy as np

from .validation import check_float

__all__ = ["REL_TOL", "is_number", "same"]

REL_TOL = 1e-9
"""The default relative tolerance of :func:`same` for floats (``math.isclose``'s default)."""


def _array(value: Any) -> np.ndarray | None:
    """``value`` as a numeric numpy array (a tensor, a numpy value, a number or nested sequences of them), else None."""
    if isinstance(value, (str, bytes, Mapping, Set)) or value is None or value is Ellipsis:
        return None
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor (torch is not imported here)
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):  # ragged nesting: not one array
        return None
    return array if array.dtype.kind in "biuf" else None


def is_number(value: Any) -> bool:
    """Whether ``value`` is one real number: a Python or numpy int or float, or a 0-d tensor/array (not a bool).

    >>> import torch
    >>> is_number(3), is_number(torch.tensor(2.0)), is_number(True), is_number([3]), is_number(...)
    (True, True, False, False, False)
    """
    array = _array(value)
    return array is not None and array.ndim == 0 and array.dtype.kind in "iuf"


def same(answer: Any, reference: Any, *, rel_tol: float = REL_TOL, abs_tol: float = 0.0) -> bool:
    """Whether ``answer`` is ``reference``: equal numbers or arrays of any numeric type, equal containers.

    Parameters
    ----------
    answer : what the learner gave.
    reference : what the check computed.
    rel_tol, abs_tol : how close two floats must be (``np.allclose``'s ``rtol``/``atol``); integers and
        booleans must be equal.

    Returns
    -------
    bool : numbers and arrays (tensors, numpy values, lists and tuples of numbers) of the same shape whose
    entries agree; mappings with the same keys whose values are :func:`same`; sets that are equal; anything
    else by ``==``. A boolean matches only a boolean.

    >>> same(np.float64(0.1 + 0.2), 0.3), same(0.1 + 0.2, 0.3, rel_tol=0), same(2.0, 2.004, abs_tol=0.01)
    (True, False, True)
    >>> same([(0, 1), (2, 3)], np.array([[0, 1], [2, 3]])), same([4, 6], {4, 6})
    (True, False)
    """
    check_float(rel_tol, "rel_tol", "same", low=0)
    check_float(abs_tol, "abs_tol", "same", low=0)
    if isinstance(reference, Mapping) or isinstance(answer, Mapping):
        return (isinstance(reference, Mapping) and isinstance(answer, Mapping) and set(answer) == set(reference)
                and all(same(answer[key], reference[key], rel_tol=rel_tol, abs_tol=abs_tol) for key in reference))
    mine, wanted = _array(answer), _array(reference)
    if mine is None or wanted is None:
        if mine is not None or wanted is not None:  # a number against a non-number
            return False
        if isinstance(answer, (list, tuple)) and isinstance(reference, (list, tuple)):  # ragged: entry by entry
            return len(answer) == len(reference) and all(
                same(a, r, rel_tol=rel_tol, abs_tol=abs_tol) for a, r in zip(answer, reference))
        return type(answer) is type(reference) and answer == reference
    if mine.shape != wanted.shape or (mine.dtype.kind == "b") != (wanted.dtype.kind == "b"):
        return False
    if mine.dtype.kind in "bui" and wanted.dtype.kind in "bui":
        return bool(np.array_equal(mine, wanted))
    return bool(np.allclose(mine.astype(float), wanted.astype(float), rtol=rel_tol, atol=abs_tol))
