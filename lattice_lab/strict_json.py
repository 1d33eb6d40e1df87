"""Strict JSON: what the package prints and writes parses with every JSON parser.

Python's ``json`` writes ``NaN`` and ``Infinity`` by default, which strict parsers (JavaScript's
``JSON.parse``, ``jq``, most languages' standard libraries) reject. :func:`plain` turns a value
into plain JSON types, with every non-finite float as ``None`` (``null``: "not a number" is "no
value" here) and numpy scalars as Python numbers; :func:`dumps` writes it with
``allow_nan=False``, so a NaN that slipped through is an error rather than invalid output.
Results, cards and the command line's ``--json`` all go through here.

Reading is bounded the same way for every JSON file the package reads (cards, sidecars, results,
sweep caches): :func:`read` refuses a file larger than its size limit by ``os.stat``, before
reading it, and :func:`loads` refuses text nested deeper than its depth limit by a scan of the
brackets outside strings, before parsing (Python's parser recurses and a file 100000 levels deep
ends in ``RecursionError``). :func:`check_plain` bounds a value that arrived another way (a card
inside a torch checkpoint) without recursing. Messages name the file and quote at most about 80
characters of a value (:func:`lattice_lab.validation.quote`): a 50 MB string in a card is never
echoed whole.

Must not import anything from the package (except validation).

Examples
--------
>>> import numpy as np
>>> dumps({"accuracy": float("nan"), "loss": np.float32(0.5), "rows": (1, float("inf"))})
'{"accuracy": null, "loss": 0.5, "rows": [1, null]}'
>>> loads("[[[1]]]", "example.json", max_depth=2)
Traceback (most recent call last):
...
lattice_lab.strict_json.JsonLimitError: example.json is JSON nested 3 levels deep, more than the 2 levels this package reads; refused before parsing
"""
from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from .validation import quote

__all__ = ["MAX_BYTES", "MAX_DEPTH", "JsonLimitError", "check_plain", "dumps", "loads", "nesting_depth", "plain", "read"]

MAX_BYTES = 64 * 2 ** 20
"""The largest JSON text read by default (64 MiB; the biggest file the package writes, a sweep's results, is
a few MB)."""
MAX_DEPTH = 64
"""The deepest nesting read by default (a card is 4 levels deep, the committed results files at most 7)."""
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')  # a JSON string, escapes included (the unrolled loop: linear)
_SCAN_CHUNK = 1 << 20
_STEP = np.zeros(256, np.int8)  # byte -> its step in depth: +1 for [ and {, -1 for ] and }
_STEP[list(b"[{")], _STEP[list(b"]}")] = 1, -1


class JsonLimitError(ValueError):
    """JSON (or a value that should be JSON) beyond the size or depth this package reads: refused unread."""


def plain(value: Any) -> Any:
    """``value`` with plain JSON types only: dicts, lists, str, int, float (finite), bool, None.

    Tuples become lists, str subclasses str, numpy scalars Python numbers and non-finite floats
    None. Anything else (a tensor, an array, an object) is a TypeError naming its type.

    >>> plain({"a": [np.int64(3), -float("inf")], 1: True})
    {'a': [3, None], '1': True}
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {_key(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _key(key: Any) -> str:
    if isinstance(key, np.generic):
        key = key.item()
    if isinstance(key, str):
        return str(key)
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)  # what json.dumps does with such keys
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` of :func:`plain` ``(value)`` with ``allow_nan=False`` (other keywords passed on).

    >>> dumps([float("nan")])
    '[null]'
    """
    return json.dumps(plain(value), allow_nan=False, **kwargs)


def nesting_depth(text: str | bytes) -> int:
    """How deep the brackets of JSON ``text`` nest, strings skipped; linear time, no recursion.

    >>> nesting_depth('{"a": [1, {"b": "[[["}]}'), nesting_depth("3")
    (3, 0)
    """
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    codes = np.frombuffer(_STRING.sub(b'""', raw), np.uint8)
    depth = deepest = 0
    for start in range(0, len(codes), _SCAN_CHUNK):  # in chunks: a 64 MiB text costs a few MB of counters
        running = depth + np.cumsum(_STEP[codes[start:start + _SCAN_CHUNK]], dtype=np.int32)
        deepest, depth = max(deepest, int(running.max())), int(running[-1])
    return deepest


def loads(text: str | bytes, where: str | os.PathLike, *, max_bytes: int = MAX_BYTES,
          max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads(text)`` once ``text`` is known to be within ``max_bytes`` and ``max_depth``.

    ``where`` names the text in errors (a file, an option). Raises :class:`JsonLimitError` beyond a limit
    and ValueError naming ``where`` for text that is not JSON.

    >>> loads('{"a": [1, 2]}', "card.json")
    {'a': [1, 2]}
    >>> loads("{", "card.json")
    Traceback (most recent call last):
    ...
    ValueError: card.json is not valid JSON: Expecting property name enclosed in double quotes (line 1, column 2)
    """
    if len(text) > max_bytes:
        raise JsonLimitError(f"{where} is {len(text)} bytes of JSON, more than the {max_bytes} this package reads; "
                             "refused before parsing")
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    opening = raw.count(b"[") + raw.count(b"{")  # a bound on the depth, counted at C speed: most files stop here
    depth = nesting_depth(raw) if opening > max_depth else 0
    if depth > max_depth:
        raise JsonLimitError(f"{where} is JSON nested {depth} levels deep, more than the {max_depth} levels this "
                             "package reads; refused before parsing")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{where} is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})") \
            from None
    except (UnicodeDecodeError, ValueError) as error:  # bytes that are no UTF-8; a number too long for int()
        raise ValueError(f"{where} is not valid JSON: {quote(str(error))}") from None


def read(path: str | os.PathLike, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value in the file ``path``, its size checked by ``os.stat`` before it is read (see :func:`loads`).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / "big.json").write_text("[" + "0, " * 50 + "0]")
    ...     read(Path(folder) / "big.json", max_bytes=100)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lattice_lab.strict_json.JsonLimitError: ...big.json is 153 bytes, more than the 100 this package reads ...
    """
    size = os.stat(path).st_size
    if size > max_bytes:
        raise JsonLimitError(f"{path} is {size} bytes, more than the {max_bytes} this package reads as JSON; "
                             "refused before reading")
    return loads(Path(path).read_bytes(), path, max_bytes=max_bytes, max_depth=max_depth)


def check_plain(value: Any, where: str, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES) -> Any:
    """``value`` itself if it holds only what ``json.dumps`` writes, within the limits; else :class:`JsonLimitError`.

    Dicts (keys str, int, float, bool or None), lists and tuples, str, int, float, bool and None: ``json.dumps``
    checks the common case at C speed; otherwise a walk with its own stack (no recursion) stops at the first
    thing of another type, at ``max_depth`` levels, or once its strings and numbers pass ``max_bytes``
    characters. ``where`` names the value in errors (e.g. "the card of model.pt").

    >>> check_plain({"a": [1, "x", None]}, "a card")
    {'a': [1, 'x', None]}
    >>> check_plain({"a": {"b": np.zeros(3)}}, "the card of model.pt")
    Traceback (most recent call last):
    ...
    lattice_lab.strict_json.JsonLimitError: the card of model.pt holds a ndarray at ['a']['b'], not a JSON value
    """
    if _plain_at_c_speed(value, max_depth, max_bytes):
        return value
    stack: list[tuple[Any, tuple, int]] = [(value, (), 0)]  # (item, where it is: (parent's, key), depth)
    size = 0
    while stack:
        item, at, depth = stack.pop()
        if depth > max_depth:
            raise JsonLimitError(f"{where} is nested more than {max_depth} levels deep")
        if isinstance(item, dict):
            for key, child in item.items():
                if not (key is None or isinstance(key, (str, int, float))):
                    raise JsonLimitError(f"{where} has a key {quote(key)} at {_at(at)} that JSON cannot hold")
                size += len(key) if isinstance(key, str) else 8
                stack.append((child, (at, key), depth + 1))
        elif isinstance(item, (list, tuple)):
            stack.extend((child, (at, index), depth + 1) for index, child in enumerate(item))
        elif isinstance(item, str):
            size += len(item)
        elif item is None or isinstance(item, (int, float)):
            size += 8
        else:
            raise JsonLimitError(f"{where} holds a {type(item).__name__} at {_at(at)}, not a JSON value")
        if size > max_bytes:
            raise JsonLimitError(f"{where} holds more than {max_bytes} characters of strings and numbers; refused")
    return value


def _plain_at_c_speed(value: Any, max_depth: int, max_bytes: int) -> bool:
    """True when ``json.dumps`` (C) writes ``value`` within the limits, its depth bounded by its bracket count.

    The common case, at C speed; False (a value json cannot write, or brackets that might nest too deep) sends
    :func:`check_plain` to its walk, which decides and names the place.
    """
    try:
        text = json.dumps(value, check_circular=False)
    except (TypeError, ValueError, RecursionError):
        return False
    return len(text) <= max_bytes and text.count("[") + text.count("{") <= max_depth


def _at(at: tuple) -> str:
    """A location of :func:`check_plain` (nested (parent, key) pairs) as subscripts: ``['a'][0]``."""
    keys = []
    while at:
        at, key = at
        keys.append(f"[{quote(key)}]")
    return "".join(reversed(keys)) or "the top"
