"""How every plot of the course draws a method: one colour and one line style per method, in this one table.

The colours are Paul Tol's *muted* qualitative scheme, made to stay apart for readers with the
common forms of colour blindness (P. Tol, "Colour Schemes", SRON/EPS/TN/09-002, 2021;
https://personal.sron.nl/~pault/). It has nine colours, fewer than the methods, so the line style
carries the rest: weight-level methods are drawn solid and unit-level methods dashed, and a
unit-level method shares its colour with its weight-level counterpart (``magnitude`` and
``magnitude-units``). Every registered method gets its pair from :data:`METHOD_STYLES` through
the registry (:func:`lattice_lab.pruning.register`); :func:`series_styles` gives the series of one
plot pairs that differ, also for names outside the table (variants such as ``lattice-q0.98`` of
the quality grid take their method's colour and a line style of their own).

Must not import anything from the package.

Examples
--------
>>> METHOD_STYLES["magnitude"], METHOD_STYLES["magnitude-units"]
(Style(colour='#332288', line_style='-'), Style(colour='#332288', line_style='--'))
>>> styles = series_styles(["lattice", "lattice-q0.98", "magnitude"], METHOD_STYLES)
>>> [(s.colour, s.line_style) for s in styles.values()]
[('#cc6677', '-'), ('#cc6677', ':'), ('#332288', '-')]
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import NamedTuple

__all__ = ["DENSE_STYLE", "LINE_STYLES", "METHOD_STYLES", "TOL_MUTED", "VARIANT_ORDER", "Style", "derived_style",
           "series_styles"]

TOL_MUTED = {"rose": "#cc6677", "indigo": "#332288", "sand": "#ddcc77", "green": "#117733", "cyan": "#88ccee",
             "wine": "#882255", "teal": "#44aa99", "olive": "#999933", "purple": "#aa4499"}
"""Paul Tol's muted qualitative colours (his pale grey, for missing data, is left out)."""
LINE_STYLES = ("-", "--", ":", "-.")
"""Solid for weight level, dashed for unit level, then the two a plot uses when pairs would repeat."""
VARIANT_ORDER = (":", "-.", "-", "--")
"""The line styles a name outside the table tries in turn: dotted and dash-dotted first, as they mean no level."""


class Style(NamedTuple):
    """A series' look: a hex colour and a matplotlib line style."""

    colour: str
    line_style: str


DENSE_STYLE = Style("#000000", "--")
"""The unpruned model: a black dashed line in every plot."""

_C = TOL_MUTED
METHOD_STYLES: dict[str, Style] = {
    "magnitude": Style(_C["indigo"], "-"), "magnitude-units": Style(_C["indigo"], "--"),
    "random": Style(_C["sand"], "-"), "random-units": Style(_C["sand"], "--"),
    "lattice": Style(_C["rose"], "-"), "spectral": Style(_C["green"], "--"),
    "ramanujan-imp": Style(_C["wine"], "-"), "imp": Style(_C["cyan"], "-"), "expander": Style(_C["teal"], "-"),
    "gradual-magnitude": Style(_C["olive"], "-"), "jacobian": Style(_C["purple"], "-"),
}
"""The course's methods: a distinct (colour, line style) pair each; a new method adds its line here."""


def derived_style(name: str) -> Style:
    """A stable style for a name the table does not hold: a Tol colour picked by a hash, dotted.

    >>> derived_style("some-new-method") == derived_style("some-new-method")
    True
    >>> derived_style("some-new-method").colour in TOL_MUTED.values()
    True
    """
    colours = list(TOL_MUTED.values())
    return Style(colours[int(hashlib.sha1(name.encode()).hexdigest(), 16) % len(colours)], ":")


def _base_style(name: str, known: Mapping[str, Style]) -> Style:
    """``name``'s own style, or its method's (the longest known name it extends with ``-``), or a derived one."""
    if name in known:
        return known[name]
    bases = [method for method in known if name.startswith(f"{method}-")]
    return known[max(bases, key=len)] if bases else derived_style(name)


def series_styles(names: Iterable[str], known: Mapping[str, Style]) -> dict[str, Style]:
    """A style for each series of one plot, no two alike: the known style, or the next free line style.

    Parameters
    ----------
    names : the series, in drawing order (repeats are drawn once).
    known : name -> style of the registered methods (their registry entries).

    Returns
    -------
    dict : name -> :class:`Style`; a known method keeps its own style wherever it is drawn, a
        variant (``lattice-q0.98``) its method's colour with the first line style of
        :data:`VARIANT_ORDER` that no other series of the plot has in that colour.

    Examples
    --------
    >>> series_styles(["imp", "imp-late", "imp-early"], {"imp": Style("#88ccee", "-")})["imp-early"]
    Style(colour='#88ccee', line_style='-.')
    """
    names = list(dict.fromkeys(names))
    styles = {name: known[name] for name in names if name in known}
    taken = set(styles.values())
    for name in names:
        if name in styles:
            continue
        colour = _base_style(name, known).colour
        free = [Style(colour, ls) for ls in VARIANT_ORDER if Style(colour, ls) not in taken]
        if not free:  # every line style of this colour is taken: go round the other colours
            free = [Style(c, ls) for ls in LINE_STYLES for c in TOL_MUTED.values() if Style(c, ls) not in taken]
        styles[name] = free[0]
        taken.add(free[0])
    return {name: styles[name] for name in names}
