"""The dashboard: the results explorer and the live PruningLab side by side, both in the first screen.

What the README's Voilà badge opens (``notebooks/dashboard.ipynb``): no lesson around it, two
columns that fit a laptop screen of 1366×768. On the left the explorer over the committed grid
(its controls, then its figure, then its readouts), on the right the lab (its controls, its
accuracy readout, then its views on a row of their own). Rows of controls wrap instead of
running off a column, and figures shrink to their column's width; nothing is recomputed, the
two widgets are only arranged (``tests/widgets/test_browser.py`` checks in Chromium that the lab's readout and the
explorer's figure lie in the first viewport).

Must not import: cli.

Examples
--------
>>> from lattice_lab.data import load
>>> from lattice_lab.models import build
>>> from lattice_lab.widgets import PruningLab, ResultsExplorer
>>> model = build({"kind": "lstm", "input_size": 8, "hidden_size": 16, "num_classes": 10})
>>> board = dashboard_widget(ResultsExplorer(model="mnist-lstm"), PruningLab(model, load("digits", "test")))
>>> [sorted(column._dom_classes) for column in board.children]
[['ll-dashboard-results'], ['ll-dashboard-lab']]
"""
from __future__ import annotations

import ipywidgets as W

from ..validation import check_instance
from .lab import PruningLab
from .results import ResultsExplorer

__all__ = ["COLUMN_GAP", "dashboard_widget"]

COLUMN_GAP = "16px"
CONTROL_WIDTH = "200px"
"""The explorer's dropdowns: three to a row in half of a 1366-pixel screen."""


def _fit_column(widget: W.Widget) -> None:
    """Let ``widget``'s rows of controls wrap and its images shrink to the column (layouts only)."""
    if isinstance(widget, W.HBox):
        widget.layout.flex_flow = "row wrap"
    if isinstance(widget, W.Image):
        widget.layout.max_width = "100%"
        widget.layout.height = "auto"
    if isinstance(widget, W.Tab):  # a row of its own, wide enough for every title (a squeezed tab cuts them)
        widget.layout.width = "100%"
    for child in getattr(widget, "children", ()):
        _fit_column(child)


def dashboard_widget(explorer: ResultsExplorer, lab: PruningLab) -> W.GridBox:
    """The explorer (left) and the lab (right) in two columns of equal width; the widget to display.

    Parameters
    ----------
    explorer : the :class:`~lattice_lab.widgets.results.ResultsExplorer` over the committed grid.
    lab : the :class:`~lattice_lab.widgets.lab.PruningLab` that computes the rest live.

    Returns
    -------
    ipywidgets.GridBox : its children are the two columns (CSS classes ``ll-dashboard-results``
        and ``ll-dashboard-lab``); the explorer's figure comes right under its controls, above its
        readouts, so that it is in the first screen.
    """
    check_instance(explorer, "explorer", "dashboard_widget", ResultsExplorer, "a ResultsExplorer")
    check_instance(lab, "lab", "dashboard_widget", PruningLab, "a PruningLab")
    c = explorer.controls
    for name in ("dataset", "model", "method", "amount", "x"):
        c[name].layout.width = CONTROL_WIDTH
        c[name].style.description_width = "56px"
    c["finetuned"].style.button_width = "auto"  # each button as wide as its label: none is cut
    results = W.VBox([W.HBox([c["dataset"], c["model"], c["method"]]), W.HBox([c["amount"], c["x"]]),
                      c["finetuned"], explorer.source, explorer.image, explorer.readout],
                     layout=W.Layout(min_width="0")).add_class("ll-dashboard-results")
    live = W.VBox([lab.widget], layout=W.Layout(min_width="0")).add_class("ll-dashboard-lab")
    for column in (results, live):
        _fit_column(column)
    return W.GridBox([results, live], layout=W.Layout(grid_template_columns="minmax(0, 1fr) minmax(0, 1fr)",
                                                      grid_gap=COLUMN_GAP, width="100%")).add_class("ll-dashboard")
