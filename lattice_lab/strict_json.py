"""Strict JSON: what the package prints and writes parses with every JSON parser.

Python's ``json`` writes ``NaN`` and ``Infinity`` by default, which strict parsers (JavaScript's
``JSON.parse``, ``jq``, most languages' standard libraries) reject. :func:`plain` turns a value
into plain JSON types, with every non-finite float as ``None`` (``null``: "not a number" is "no
value" here) and numpy scalars as Python numbers; :func:`dumps` writes it with
``allow_nan=False``, so a NaN that slipped through is an error rather than invalid output.
Results, cards and the command line's ``--json`` all go through here.

Must not import anything from the package.

Examples
--------
>>> import numpy as np
>>> dumps({"accuracy": float("nan"), "loss": np.float32(0.5), "rows": (1, float("inf"))})
'{"accuracy": null, "loss": 0.5, "rows": [1, null]}'
"""
from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

__all__ = ["dumps", "plain"]


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
