"""Drawing Hasse diagrams: a layered layout of a finite poset, drawn with matplotlib.

The layout is the classic one for DAGs (Sugiyama, Tagawa & Toda 1981): every element sits at the
height of its rank, and the elements of one rank are ordered by the barycenter heuristic so
that covers cross as little as possible. :func:`draw_hasse` draws it on a matplotlib axes (the
object API; it never calls ``plt.show()``); matplotlib is imported only when something is drawn.

The posets themselves live in :mod:`lattice_lab.posets`, which never imports this module: the
drawing depends on the order, not the other way round (``from lattice_lab.hasse_drawing import
draw_hasse``).

Must not import anything from the package (except posets and validation).

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from lattice_lab.posets import chain
>>> len(draw_hasse(chain(3)).collections[-1].get_offsets())
3
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .posets import Poset
from .validation import check_bool, check_float, check_instance, check_int, check_list

__all__ = ["draw_hasse"]


def _layer_positions(poset: Poset, sweeps: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """x, y of each element: y = rank, x ordered within a layer by the barycenter heuristic.

    Sugiyama, Tagawa & Toda, "Methods for visual understanding of hierarchical system
    structures", IEEE SMC 1981: alternate down and up sweeps, sorting each layer by the mean x of
    its neighbours in the layers already placed.
    """
    rank = poset.rank()
    levels = poset.levels()
    lower, upper = poset.covers[:, 0], poset.covers[:, 1]
    down_nb = [[] for _ in range(poset.size)]
    up_nb = [[] for _ in range(poset.size)]
    for a, b in zip(lower.tolist(), upper.tolist()):
        up_nb[a].append(b)
        down_nb[b].append(a)
    x = np.zeros(poset.size)
    order = [list(level) for level in levels]

    def place(layer: list) -> None:
        m = len(layer)
        x[layer] = (np.arange(m) + 0.5) / m - 0.5 if m > 1 else 0.0

    for layer in order:
        place(layer)
    for _ in range(sweeps):
        for neighbours, layers in ((down_nb, order[1:]), (up_nb, order[-2::-1])):
            for layer in layers:
                keys = [np.mean(x[neighbours[e]]) if neighbours[e] else x[e] for e in layer]
                layer[:] = [layer[i] for i in np.argsort(keys, kind="stable")]
                place(layer)
    return x, rank.astype(float)


def _element_indices(highlight: Any, n: int) -> list[int]:
    """``highlight`` as a list of element indices in ``0 .. n - 1`` (an array of any shape is flattened)."""
    entries = np.asarray(highlight).ravel().tolist() if isinstance(highlight, np.ndarray) else highlight
    return check_list(entries, "highlight", "draw_hasse",
                      lambda e: check_int(e, "highlight", "draw_hasse", low=0, high=n - 1),
                      f"a list of element indices (ints in [0, {n - 1}])", nonempty=False)


def draw_hasse(poset: Poset, ax: Any = None, *, labels: bool = True, max_labels: int = 60,
               node_size: float | None = None, highlight: Sequence[int] | np.ndarray | None = None,
               color: str = "tab:blue", highlight_color: str = "tab:red") -> Any:
    """Draw the Hasse diagram with matplotlib: layered by rank, barycenter-ordered layers.

    Collapsed components are drawn larger (area ∝ √size) and labelled ``{size}``. Readable up to a
    few hundred elements: markers and edges thin out as the poset grows, and labels are dropped
    past ``max_labels`` elements. Never calls ``plt.show()``.

    Parameters
    ----------
    poset : Poset
        Nonempty.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made when None.
    labels : bool
        Write element labels (when ``size <= max_labels``).
    max_labels : int
        Largest poset that gets labels.
    node_size : float, optional
        Marker area in points²; default shrinks with the size of the poset.
    highlight : array of int, optional
        Elements drawn in ``highlight_color`` (e.g. the meet-irreducibles).
    color, highlight_color : str
        Matplotlib colours.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the nodes as one scatter collection (one point per element).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from lattice_lab.posets import boolean_lattice
    >>> B = boolean_lattice(3)
    >>> ax = draw_hasse(B, highlight=B.meet_irreducibles())
    >>> len(ax.collections[-1].get_offsets())
    8
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    check_instance(poset, "poset", "draw_hasse", Poset, "a Poset")
    n = poset.size
    if n == 0:
        raise ValueError("poset is an empty graph; there is nothing to draw")
    labels = check_bool(labels, "labels", "draw_hasse")
    max_labels = check_int(max_labels, "max_labels", "draw_hasse", low=0)
    node_size = check_float(node_size, "node_size", "draw_hasse", low=0, low_open=True, allow_none=True)
    marked = np.zeros(n, dtype=bool)
    if highlight is not None:
        marked[_element_indices(highlight, n)] = True
    if ax is None:
        _, ax = plt.subplots(figsize=(min(12, 4 + n / 25), min(9, 3 + poset.height() / 2)))
    x, y = _layer_positions(poset)
    base = node_size if node_size is not None else float(np.clip(4000 / n, 8, 300))
    sizes = base * np.sqrt([len(c) for c in poset.components])
    lower, upper = poset.covers[:, 0], poset.covers[:, 1]
    ends = np.column_stack([x, y])
    segments = np.stack([ends[lower], ends[upper]], axis=1)
    ax.add_collection(LineCollection(segments, colors="0.4", linewidths=1.0 if n <= 60 else 0.4,
                                     alpha=0.8 if n <= 60 else 0.35, zorder=1))
    ax.scatter(x, y, s=sizes, c=np.where(marked, highlight_color, color), zorder=2,
               edgecolors="white", linewidths=0.5)
    if labels and n <= max_labels:
        for e in range(n):
            size = len(poset.components[e])
            text = f"{{{size}}}" if size > 1 else str(poset.labels[e])
            offset = (0, np.sqrt(sizes[e]) / 2 + 2)
            ax.annotate(text, (x[e], y[e]), xytext=offset, textcoords="offset points",
                        ha="center", fontsize=8)
    ax.set_xlim(-0.6, 0.6)
    ax.set_ylim(-0.6, float(y.max()) + 0.6)
    ax.set_axis_off()
    return ax
