"""What the lab and the explorers draw and print: figures, diagnostic plots, readout text.

Figures are matplotlib ``Figure`` objects that belong to no pyplot state (:func:`new_figure`),
drawn with the object API and rendered to PNG bytes (:func:`figure_png`) for ``Image`` widgets.
A diagnostic value of any common shape (a number per layer, a curve, a set of unit indices ...)
is turned into plottable series by its structure, not by the method that reported it
(:func:`diagnostic_series`); plot titles and readout names come from the method's registry
entry (:func:`diagnostic_label`). matplotlib is imported only when something is drawn; this
module imports no ipywidgets.

Must not import: cli.

Examples
--------
>>> fig = new_figure(3, 2)
>>> draw_diagnostic(fig.add_subplot(), "delta_r", [1.5, -0.25], "ramanujan-imp")
True
>>> figure_png(fig)[:4]
b'\\x89PNG'
>>> format_value(0.123456), diagnostic_label("delta_r", "ramanujan-imp")
('0.1235', 'Δ_r')
"""
from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import compare
from ..models import SequenceClassifier, get_weight
from ..pruning import PruneResult
from .state import LabState, as_scalar, as_vector, diagnostic_labels, is_index_set, is_scalar, keep_pattern

FIG_DPI = 80


# ==================================================================================== figures

def new_figure(width: float = 5.0, height: float = 3.2):
    """A matplotlib Figure that belongs to no pyplot state (nothing to close, nothing leaks).

    Fixed margins instead of a layout engine: drawing stays well under 100 ms.

    >>> new_figure(4, 3).get_size_inches().tolist()
    [4.0, 3.0]
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=FIG_DPI)
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.15, top=0.9, hspace=0.75)
    return fig


def figure_png(fig) -> bytes:
    """The figure rendered as PNG bytes (Agg), cropped to its tight bounding box.

    The tight box (matplotlib's ``bbox_inches="tight"``) holds every artist, so a legend outside
    the axes (:func:`lattice_lab.compare.legend_outside`) or a long label is never cut off, whatever
    the fixed margins of :func:`new_figure`.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIG_DPI, bbox_inches="tight", pad_inches=0.05,
                pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


# ==================================================================================== the lab's views

def draw_weights(ax, dense: SequenceClassifier, result: PruneResult, name: str) -> None:
    """Heatmap of the dense ``|W|`` (grey) with the pruned entries marked in red."""
    from matplotlib import colormaps

    magnitude = get_weight(dense, name).detach().abs().float().cpu().numpy()
    keep = keep_pattern(dense, result, name).astype(bool)
    scale = float(np.quantile(magnitude, 0.99)) or 1.0
    rgb = colormaps["Greys"](np.clip(magnitude / scale, 0, 1) * 0.85 + 0.1)[..., :3]
    rgb[~keep] = (0.90, 0.25, 0.20)
    ax.imshow(rgb, aspect="auto", interpolation="nearest")
    ax.set_title(f"{name}: {int(keep.sum())}/{keep.size} kept (red: pruned)", fontsize=9)
    ax.set_xlabel("input (column)", fontsize=8)
    ax.set_ylabel("output (row; gate blocks stacked)", fontsize=8)
    ax.tick_params(labelsize=7)


def draw_amount_curve(ax, states: Sequence[LabState], current: LabState) -> None:
    """Accuracy against amount for the computed states of the current method and settings."""
    same = [s for s in states if s.ok and s.settings.replace(amount=0.0) == current.settings.replace(amount=0.0)]
    points = sorted({s.settings.amount: s.accuracy for s in same}.items())
    if current.dense_accuracy is not None:
        points = sorted(dict([(0.0, current.dense_accuracy)] + points).items())
    style = compare.plot_styles([current.settings.method])[current.settings.method]
    colour = style.colour
    if points:
        xs, ys = zip(*points)
        ax.plot(xs, [100 * y for y in ys], marker="o", ls=style.line_style, color=colour, ms=4,
                label=f"{current.settings.method} (visited)")
    if current.ok:
        ax.plot([current.settings.amount], [100 * current.accuracy], "*", color=colour, ms=16, mec="black",
                label="current")
    if current.dense_accuracy is not None:
        ax.axhline(100 * current.dense_accuracy, color=compare.DENSE_COLOUR, ls="--", lw=1, label="dense")
    ax.set_xlim(-0.02, 1.0)
    ax.set_xlabel("amount (fraction removed)", fontsize=8)
    ax.set_ylabel("test accuracy (%)", fontsize=8)
    ax.grid(alpha=0.3)
    compare.legend_outside(ax)
    ax.set_title("accuracy vs amount (move the slider to add points)", fontsize=9)


def draw_spectrum(ax, info: Mapping[str, Any], title: str) -> None:
    """Singular values (the bipartite adjacency spectrum ±σ) and the Ramanujan bound.

    ``info`` is what :func:`lattice_lab.spectral.mask_spectrum` returns.
    """
    values = info["values"]
    ax.plot(np.arange(1, len(values) + 1), values, ".", ms=4, color="tab:blue", label="σᵢ of the mask")
    if info["bound"] is not None:
        ax.axhline(info["bound"], color="tab:red", ls="--", lw=1, label="√(d̄_L−1)+√(d̄_R−1)")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_xlabel("index i", fontsize=8)
    ax.set_ylabel("singular value", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    compare.legend_outside(ax)


# ==================================================================================== diagnostics

def diagnostic_series(value: Any, label: str = "") -> list[dict[str, Any]]:
    """Plottable series in a diagnostic value of any common shape (generic, by structure).

    * a 1-D sequence of numbers: ``y`` against its index (e.g. one value per layer or per round);
    * a set of indices (sorted distinct integers): a strip of marks (``kind="set"``);
    * a dict of exactly two equal-length numeric arrays: the second against the first (a curve);
    * a dict of numbers: one bar per key; other dicts and lists: their items, labelled by key or
      position (``None`` items skipped).

    >>> [s["label"] for s in diagnostic_series([{"lam": [1, 10], "dof": [5.0, 2.0]}, None])]
    ['[0]']
    >>> import torch
    >>> diagnostic_series(torch.tensor([1, 4, 9]))[0]["kind"]
    'set'
    """
    if value is None or is_scalar(value):
        return []
    array = as_vector(value)
    if array is not None:
        if array.size > 1 and is_index_set(array):
            return [{"label": label, "kind": "set", "x": array.astype(float), "y": None}]
        return [{"label": label, "kind": "line", "x": np.arange(array.size), "y": array.astype(float)}]
    if isinstance(value, Mapping):
        arrays = {k: as_vector(v) for k, v in value.items()}
        if len(arrays) == 2 and all(a is not None for a in arrays.values()) and \
                len({a.size for a in arrays.values()}) == 1:
            (kx, x), (ky, y) = arrays.items()
            return [{"label": label, "kind": "curve", "x": x.astype(float), "y": y.astype(float),
                     "xlabel": kx, "ylabel": ky}]
        if value and all(is_scalar(v) and isinstance(as_scalar(v), (int, float)) for v in value.values()):
            return [{"label": label, "kind": "bar", "x": [str(k) for k in value], "y":
                     np.array([float(as_scalar(v)) for v in value.values()])}]
        return [s for k, v in value.items() for s in diagnostic_series(v, f"{label}{k}")]
    if isinstance(value, (list, tuple)):
        return [s for i, v in enumerate(value) for s in diagnostic_series(v, f"{label}[{i}]")]
    return []


def diagnostic_label(key: str, method: str | None = None) -> str:
    """The display name of a readout key: its first word through the method's ``diagnostic_labels``.

    Without ``method``, the labels of every registered method are searched
    (:func:`~lattice_lab.widgets.state.diagnostic_labels`).

    >>> diagnostic_label("delta_r layers.0.weight_hh_l0", "imp"), diagnostic_label("per_layer", "imp")
    ('Δ_r layers.0.weight_hh_l0', 'per_layer')
    >>> diagnostic_label("delta_r", "magnitude")   # magnitude labels no diagnostics
    'delta_r'
    """
    head, _, rest = key.partition(" ")
    return diagnostic_labels(method).get(head, head) + (f" {rest}" if rest else "")


def draw_diagnostic(ax, key: str, value: Any, method: str | None = None) -> bool:
    """Plot one diagnostic, titled by ``method``'s label for ``key``; False (nothing drawn) when
    the value holds no series."""
    series = diagnostic_series(value)
    if not series:
        return False
    from matplotlib.ticker import MaxNLocator

    strips = [s for s in series if s["kind"] == "set"]
    for row, s in enumerate(strips):
        ax.plot(s["x"], np.full(len(s["x"]), row), "|", ms=10)
    if strips:
        ax.set_yticks(range(len(strips)), [s["label"] for s in strips], fontsize=7)
        ax.set_ylim(-0.5, len(strips) - 0.5)
        ax.set_xlabel("index", fontsize=8)
    for s in (s for s in series if s["kind"] in ("line", "curve")):
        ax.plot(s["x"], s["y"], ".-", ms=4, label=s["label"] or None)
        if s["kind"] == "line":
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel("entry (layer, round ...)", fontsize=8)
        else:
            ax.set_xlabel(s["xlabel"], fontsize=8)
            ax.set_ylabel(s["ylabel"], fontsize=8)
            if s["x"].min() > 0 and s["x"].max() / s["x"].min() > 100:
                ax.set_xscale("log")
    for s in (s for s in series if s["kind"] == "bar"):
        ax.bar(s["x"], s["y"], label=s["label"] or None)
        ax.tick_params(axis="x", labelrotation=45, labelsize=6)
    if any(s["label"] for s in series if s["kind"] != "set") and len(series) <= 8:
        compare.legend_outside(ax, fontsize=6)
    ax.set_title(diagnostic_label(key, method), fontsize=9)
    ax.grid(alpha=0.3)
    return True


# ==================================================================================== text

def format_value(value: Any) -> str:
    """A readout value as short text.

    >>> format_value(0.123456), format_value((3, None)), format_value(True)
    ('0.1235', '3, –', 'True')
    """
    if value is None:
        return "–"
    if isinstance(value, tuple):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_percent(value: float | None) -> str:
    """A fraction as a percentage with two decimals; ``–`` for None.

    >>> format_percent(0.97777), format_percent(None)
    ('97.78%', '–')
    """
    return "–" if value is None else f"{100 * value:.2f}%"


def table_html(pairs: Sequence[tuple[str, Any]]) -> str:
    """``(name, value)`` pairs as a small HTML table (names and values escaped).

    >>> table_html([("a<b", 0.5)])
    "<table style='font-size:90%'><tr><td style='padding-right:1em'>a&lt;b</td><td><b>0.5</b></td></tr></table>"
    """
    cells = "".join(f"<tr><td style='padding-right:1em'>{html.escape(str(k))}</td>"
                    f"<td><b>{html.escape(format_value(v))}</b></td></tr>" for k, v in pairs)
    return f"<table style='font-size:90%'>{cells}</table>"
