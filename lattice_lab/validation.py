"""One validation vocabulary for every entry point of the package.

Each check takes the value, the parameter's name and the function it belongs to, and either
returns the value normalised (``numpy.int64(3)`` becomes ``3``) or raises one message shape,
the one scikit-learn uses::

    The 'amount' parameter of prune must be a float in [0, 1). Got 1.5 instead.

A value is quoted in the message at most about 80 characters long (:func:`quote`): a 100000-digit
number or a 50 MB string is described, not echoed back.

Ranges in one place: :data:`RANGES` gives every kind of integer and float parameter of the package
(seeds, epochs, rounds, layers, units, data sizes, batch sizes, learning rates, workers, list
lengths) the interval its meaning allows, with the reason; :func:`check_range` checks a value
against one of them (a caller may only narrow it). Sizes are bounded here so that nothing the
size implies (a model, a dataset, a schedule) is ever built for an absurd one: ``2**63`` hidden
units are refused before PyTorch sees them. Whether a size within its range fits the machine's
memory is :func:`lattice_lab.memory.check_fits`'s question.

The error is :class:`InvalidParameterError`, a subclass of both ``ValueError`` and
``TypeError`` (as scikit-learn's is): a wrong type and a wrong value are one kind of mistake
for the caller, and code that catches either keeps working. Booleans are never numbers here
(``True`` is not the integer 1), and a float that happens to be whole is not an int.

Must not import anything from the package (numpy only).

Examples
--------
>>> check_float(0.25, "amount", "prune", low=0, high=1, high_open=True)
0.25
>>> check_range(2 ** 64, "seed", "fit", "seed")
Traceback (most recent call last):
...
lattice_lab.validation.InvalidParameterError: The 'seed' parameter of fit must be an int in [0, 4294967295] (what \
numpy's legacy seeding and torch.manual_seed both accept). Got 18446744073709551616 instead.
>>> check_int(1.5, "seed", "fit", low=0)
Traceback (most recent call last):
...
lattice_lab.validation.InvalidParameterError: The 'seed' parameter of fit must be an int >= 0. Got 1.5 instead.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass
from itertools import islice
from typing import Any, NoReturn

import numpy as np

__all__ = ["RANGES", "InvalidParameterError", "Range", "check_bool", "check_choice", "check_float", "check_instance",
           "check_int", "check_list", "check_range", "fail", "quote"]

QUOTE_LENGTH = 80  # characters of a value a message quotes at most


@dataclass(frozen=True)
class Range:
    """The values a kind of parameter may take: ``[low, high]`` (``(low, high]`` when ``low_open``), and why."""

    low: float
    high: float
    why: str
    integer: bool = True
    low_open: bool = False


RANGES: dict[str, Range] = {
    "seed": Range(0, 2 ** 32 - 1, "what numpy's legacy seeding and torch.manual_seed both accept"),
    "epochs": Range(0, 10_000, "passes over the data, each as long as the data"),
    "rounds": Range(1, 1_000, "rounds of pruning, each followed by a fine-tuning"),
    "layers": Range(1, 100, "stacked layers: each takes milliseconds to build, 200000 would take minutes"),
    "units": Range(1, 2 ** 20, "a layer's width (units, inputs, classes); whether it fits in memory is checked apart"),
    "elements": Range(0, 2 ** 20, "elements of a poset, whose order is an n x n matrix; memory is checked apart"),
    "samples": Range(1, 10 ** 8, "a number of samples: over a thousand times MNIST's 60000"),
    "length": Range(1, 10 ** 6, "time steps of a sequence"),
    "batch_size": Range(1, 2 ** 20, "samples per batch"),
    "lr": Range(0, 10, "a learning rate: Adam moves each weight by about lr per step, so past 10 one step "
                       "outgrows any weight",
                integer=False, low_open=True),
    "workers": Range(1, 1_024, "processes or threads"),
    "list": Range(1, 10_000, "entries of a list of amounts, seeds, thresholds or noise levels (each is a row)"),
}


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
    raise InvalidParameterError(f"The {name!r} parameter of {caller} must be {constraint}. Got {quote(value)} instead.")


def quote(value: Any) -> str:
    """``repr(value)``, or when that passes :data:`QUOTE_LENGTH` characters its start and its length.

    A huge int is described by its number of digits (Python refuses to write one of over 4300).

    >>> quote(0.5), quote("x" * 1000)
    ('0.5', "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... (1,002 characters)")
    >>> quote(10 ** 100000)
    'an int of about 100001 digits'
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value).bit_length() > 256:
        return f"an int of about {int(abs(int(value)).bit_length() * math.log10(2)) + 1} digits"
    try:
        text = repr(value)
    except ValueError:  # an object whose repr refuses (an int inside it too long to write)
        return f"a {type(value).__name__}"
    if len(text) <= QUOTE_LENGTH:
        return text
    return f"{text[:QUOTE_LENGTH - 20]}... ({len(text):,} characters)"


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{_bound(low)}, {_bound(high)}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {_bound(low)}"
    if high is not None:
        return f" {'<' if high_open else '<='} {_bound(high)}"
    return ""


def _bound(end: float) -> str:
    return str(end) if isinstance(end, numbers.Integral) else f"{end:g}"


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


def check_range(value: Any, name: str, caller: str, kind: str, *, low: float | None = None,
                high: float | None = None, allow_none: bool = False) -> Any:
    """``value`` checked against ``RANGES[kind]`` (see the module docstring); ``low``/``high`` may narrow it.

    A value of the wrong type, or below the range, gets the message :func:`check_int` or
    :func:`check_float` gives (``an int >= 0``); one above it gets the whole interval and the
    reason for its upper end.

    >>> check_range(3, "epochs", "fit", "epochs"), check_range(1e-3, "lr", "fit", "lr")
    (3, 0.001)
    >>> check_range(1e308, "lr", "fit", "lr")
    Traceback (most recent call last):
    ...
    lattice_lab.validation.InvalidParameterError: The 'lr' parameter of fit must be a float in (0, 10] (a learning \
rate: Adam moves each weight by about lr per step, so past 10 one step outgrows any weight). Got 1e+308 instead.
    """
    bounds = RANGES[kind]
    low = bounds.low if low is None else max(low, bounds.low)
    high = bounds.high if high is None else min(high, bounds.high)
    low_open = bounds.low_open and low == bounds.low
    if bounds.integer:
        low, high = int(low), int(high)
        value = check_int(value, name, caller, low=low, allow_none=allow_none)
    else:
        value = check_float(value, name, caller, low=low, low_open=low_open, allow_none=allow_none)
    if value is not None and value > high:
        fail(name, caller, ("an int" if bounds.integer else "a float") + _interval(low, high, low_open, False)
             + f" ({bounds.why})", value)
    return value


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
               nonempty: bool = True, unique: bool = False) -> list:
    """``value`` as a list, each entry passed through ``item`` (which raises on a bad entry).

    A string is not a list of its characters; ``what`` describes the list for the message. A list
    longer than ``RANGES["list"]`` allows is refused before its entries are looked at; with
    ``unique`` a repeated entry is refused, naming it (a repeated amount or seed would compute the
    same row twice, and dropping it silently would give fewer rows than were asked for).

    >>> check_list((0.5, 0.9), "amounts", "sweep", float, "a list of floats")
    [0.5, 0.9]
    >>> check_list([], "seeds", "sweep", int, "a nonempty list of ints >= 0")
    Traceback (most recent call last):
    ...
    lattice_lab.validation.InvalidParameterError: The 'seeds' parameter of sweep must be a nonempty list of ints \
>= 0. Got [] instead.
    """
    longest = int(RANGES["list"].high)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        fail(name, caller, what, value)
    items = list(islice(value, longest + 1))  # a generator may be endless
    if len(items) > longest:
        count = f"{len(value):,}" if isinstance(value, Sized) else "more than " + f"{longest:,}"
        raise InvalidParameterError(f"The {name!r} parameter of {caller} must be {what}, of at most {longest:,} "
                                    f"entries. Got {count} entries instead.")
    if nonempty and not items:
        fail(name, caller, what, value)
    try:
        checked = [item(entry) for entry in items]
    except InvalidParameterError:
        fail(name, caller, what, value)
    if unique:
        seen = set()
        for entry in checked:
            if entry in seen:
                raise InvalidParameterError(f"The {name!r} parameter of {caller} must not repeat an entry "
                                            f"(each is a row of its own). Got {quote(entry)} more than once.")
            seen.add(entry)
    return checked
