"""One validation vocabulary for every entry point of the package.

Each check takes the value, the parameter's name and the function it belongs to, and either
returns the value normalised (``numpy.int64(3)`` becomes ``3``) or raises one message shape,
the one scikit-learn uses::

    The 'amount' parameter of prune must be a float in [0, 1). Got 1.5 instead.

The error is :class:`InvalidParameterError`, a subclass of both ``ValueError`` and
``TypeError`` (as scikit-learn's is): a wrong type and a wrong value are one kind of mistake
for the caller, and code that catches either keeps working. Booleans are never numbers here
(``True`` is not the integer 1), and a float that happens to be whole is not an int.

Must not import anything from the package (numpy only).

Examples
--------
>>> check_float(0.25, "amount", "prune", low=0, high=1, high_open=True)
0.25
>>> check_int(1.5, "seed", "fit", low=0)
Traceback (most recent call last):
...
lattice_lab.validation.InvalidParameterError: The 'seed' parameter of fit must be an int >= 0. Got 1.5 instead.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

import numpy as np

__all__ = ["InvalidParameterError", "check_bool", "check_choice", "check_float", "check_instance", "check_int",
           "check_list", "fail"]


class InvalidParameterError(ValueError, TypeError):
    """A parameter outside what its function accepts (both a ValueError and a TypeError)."""


def fail(name: str, caller: str, constraint: str, value: Any) -> NoReturn:
    """Raise :class:`InvalidParameterError` with the house message.

    >>> fail("scope", "prune", "one of 'recurrent', 'input', 'all'", "both")
    Traceback (most recent call last):
    ...
    lattice_lab.validation.InvalidParameterError: The 'scope' parameter of prune must be one of 'recurrent', \
'input', 'all'. Got 'both' instead.
    """
    raise InvalidParameterError(f"The {name!r} parameter of {caller} must be {constraint}. Got {value!r} instead.")


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high:g}"
    return ""


def _inside(value: float, low: float | None, high: float | None, low_open: bool, high_open: bool) -> bool:
    above = low is None or (value > low if low_open else value >= low)
    below = high is None or (value < high if high_open else value <= high)
    return above and below


def check_int(value: Any, name: str, caller: str, *, low: int | None = None, high: int | None = None,
              allow_none: bool = False) -> int | None:
    """``value`` as a Python int in ``[low, high]`` (either end optional).

    Accepts ``int`` and numpy integers; refuses booleans and floats, even whole ones.

    >>> check_int(3, "rounds", "imp", low=1), check_int(None, "n", "load", allow_none=True)
    (3, None)
    >>> check_int(True, "epochs", "fit", low=0)
    Traceback (most recent call last):
    ...
    lattice_lab.validation.InvalidParameterError: The 'epochs' parameter of fit must be an int >= 0. Got True instead.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not _inside(value, low, high, False,
                                                                                           False):
        fail(name, caller, "an int" + _interval(low, high, False, False) + (" or None" if allow_none else ""), value)
    return int(value)


def check_float(value: Any, name: str, caller: str, *, low: float | None = None, high: float | None = None,
                low_open: bool = False, high_open: bool = False, allow_none: bool = False,
                allow_inf: bool = False) -> float | None:
    """``value`` as a finite Python float in the interval given (an int is accepted and converted).

    ``allow_inf`` admits ``±inf`` when the interval does (``nan`` is never a valid number).

    >>> check_float(1, "lr", "fit", low=0, low_open=True)
    1.0
    >>> check_float(float("nan"), "lr", "fit", low=0, low_open=True)
    Traceback (most recent call last):
    ...
    lattice_lab.validation.InvalidParameterError: The 'lr' parameter of fit must be a float > 0. Got nan instead.
    """
    if value is None and allow_none:
        return None
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and not math.isnan(value) \
        and (allow_inf or math.isfinite(value)) and _inside(value, low, high, low_open, high_open)
    if not ok:
        fail(name, caller, "a float" + _interval(low, high, low_open, high_open) + (" or None" if allow_none else ""),
             value)
    return float(value)


def check_bool(value: Any, name: str, caller: str) -> bool:
    """``value`` if it is exactly True or False (numpy booleans too); ``"no"`` or ``1`` are refused.

    >>> check_bool(False, "per_layer", "magnitude")
    False
    >>> check_bool("no", "bidirectional", "build")
    Traceback (most recent call last):
    ...
    lattice_lab.validation.InvalidParameterError: The 'bidirectional' parameter of build must be True or False. \
Got 'no' instead.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    fail(name, caller, "True or False", value)


def check_choice(value: Any, name: str, caller: str, options: Iterable[Any]) -> Any:
    """``value`` if it is one of ``options``.

    >>> check_choice("test", "split", "load", ("train", "test"))
    'test'
    """
    options = tuple(options)
    try:
        found = value in options
    except TypeError:  # an unhashable or incomparable value is not among them
        found = False
    if not found or isinstance(value, bool) and not any(isinstance(o, bool) for o in options):
        fail(name, caller, "one of " + ", ".join(map(repr, options)), value)
    return value


def check_instance(value: Any, name: str, caller: str, types: type | tuple[type, ...], what: str) -> Any:
    """``value`` if it is an instance of ``types``; ``what`` describes them for the message.

    >>> check_instance([1], "keep", "remove_units", (list, tuple), "a list of index tensors")
    [1]
    """
    if not isinstance(value, types):
        fail(name, caller, what, value if _short(value) else type(value).__name__)
    return value


def _short(value: Any) -> bool:
    return value is None or isinstance(value, (bool, numbers.Number, str)) and len(repr(value)) <= 80


def check_list(value: Any, name: str, caller: str, item: Callable[[Any], Any], what: str, *,
               nonempty: bool = True) -> list:
    """``value`` as a list, each entry passed through ``item`` (which raises on a bad entry).

    A string is not a list of its characters; ``what`` describes the list for the message.

    >>> check_list((0.5, 0.9), "amounts", "sweep", float, "a list of floats")
    [0.5, 0.9]
    >>> check_list([], "seeds", "sweep", int, "a nonempty list of ints >= 0")
    Traceback (most recent call last):
    ...
    lattice_lab.validation.InvalidParameterError: The 'seeds' parameter of sweep must be a nonempty list of ints \
>= 0. Got [] instead.
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        fail(name, caller, what, value)
    items = list(value)
    if nonempty and not items:
        fail(name, caller, what, value)
    try:
        return [item(entry) for entry in items]
    except InvalidParameterError:
        fail(name, caller, what, value)
