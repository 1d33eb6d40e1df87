"""The dashboard (notebooks/dashboard.ipynb) and its figures: one style per method, legends outside, nothing cut.

Without a browser: the widget tree of :func:`lattice_lab.widgets.dashboard_widget`, the notebook run by
nbclient (what it outputs), and the figures as matplotlib lays them out and :func:`figure_png`
saves them. That both the lab's readout and the explorer's figure are in the first 1366×768 screen is
tested in Chromium (tests/widgets/test_browser.py).
"""
from __future__ import annotations

import io
from pathlib import Path

import ipywidgets as W
import matplotlib
import nbformat
import pytest
from matplotlib.colors import to_hex
from matplotlib.text import Text

from lattice_lab import compare, course
from lattice_lab.data import load
from lattice_lab.models import build
from lattice_lab.pruning import REGISTRY
from lattice_lab.widgets import PruningLab, ResultsExplorer, dashboard_widget, figure_png, load_report
from lattice_lab.widgets.plots import FIG_DPI
from lattice_lab.widgets.results import comparison_figure
from lattice_lab.validation import InvalidParameterError

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[2]
REPORT = load_report()
MODEL = "mnist-lstm"


@pytest.fixture(scope="module")
def lab():
    model = build({"kind": "lstm", "input_size": 8, "hidden_size": 16, "num_classes": 10})
    return PruningLab(model, load("digits", "test"))


def series(ax) -> dict[str, tuple[str, str]]:
    """label -> (colour, line style) of the axes' method lines (the dense line and the selection star left out)."""
    return {line.get_label(): (to_hex(line.get_color()), line.get_linestyle()) for line in ax.get_lines()
            if line.get_label() not in ("dense", "selected", "current") and not line.get_label().startswith("_")}


def drawn_texts(fig) -> list[Text]:
    """The texts matplotlib draws: titles, axis labels, the tick labels inside the view, legends' texts."""
    texts = list(fig.texts) + [text for legend in fig.legends for text in legend.get_texts()]
    for ax in fig.axes:
        texts += [ax.title, ax.xaxis.label, ax.yaxis.label]
        texts += ax.get_legend().get_texts() if ax.get_legend() is not None else []
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            texts += [tick.label1 for tick in axis.get_major_ticks() if low <= tick.get_loc() <= high]
    return texts


def assert_nothing_cut_and_legends_outside(fig) -> None:
    """Every text inside the saved PNG (the tight box), every legend clear of every axes' frame."""
    from PIL import Image

    png = Image.open(io.BytesIO(figure_png(fig)))
    renderer = fig.canvas.get_renderer()
    tight = fig.get_tightbbox(renderer)  # inches
    expected = ((tight.width + 0.1) * FIG_DPI, (tight.height + 0.1) * FIG_DPI)  # pad_inches=0.05 each side
    assert abs(png.size[0] - expected[0]) <= 2 and abs(png.size[1] - expected[1]) <= 2, (png.size, expected)
    box = tight.transformed(fig.dpi_scale_trans)
    texts = [t for t in drawn_texts(fig) if t.get_visible() and t.get_text().strip()]
    assert len(texts) > 5
    for text in texts:
        extent = text.get_window_extent(renderer)
        assert box.x0 - 1 <= extent.x0 and extent.x1 <= box.x1 + 1 and box.y0 - 1 <= extent.y0 \
            and extent.y1 <= box.y1 + 1, f"{text.get_text()!r} is cut off"
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends)
    assert legends
    for legend in legends:
        extent = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert not extent.overlaps(ax.get_window_extent(renderer)), "a legend covers the data"


def test_the_comparison_figure_draws_every_method_in_its_registry_style_with_one_legend_outside():
    fig = comparison_figure(REPORT, MODEL)
    methods = {r["method"] for r in REPORT["rows"] if r["model"] == MODEL}
    for ax in fig.axes:
        drawn = series(ax)
        assert set(drawn) == methods and len(methods) >= 13
        assert len(set(drawn.values())) == len(drawn), f"two series look alike: {drawn}"
        for method in methods & set(REGISTRY):
            assert drawn[method] == (REGISTRY[method].colour, REGISTRY[method].line_style), method
    assert len(fig.legends) == 1 and not any(ax.get_legend() for ax in fig.axes)
    assert_nothing_cut_and_legends_outside(fig)


@pytest.mark.parametrize("method, level", [("lattice", "weight"), ("spectral", "unit")])
def test_the_explorers_figure_keeps_its_legend_outside_and_cuts_no_label(method, level):
    explorer = ResultsExplorer(REPORT, model=MODEL, method=method, amount=0.75)
    assert explorer.state.level == level
    from lattice_lab.widgets.plots import new_figure
    from lattice_lab.widgets.results import draw_curves

    fig = new_figure(5.6, 3.8)
    draw_curves(fig.add_subplot(), REPORT, explorer.state)
    drawn = series(fig.axes[0])
    assert len(set(drawn.values())) == len(drawn)
    assert_nothing_cut_and_legends_outside(fig)


def test_the_labs_amount_curve_keeps_its_legend_outside(lab):
    from lattice_lab.widgets.plots import draw_amount_curve, new_figure

    fig = new_figure(5.0, 3.2)
    draw_amount_curve(fig.add_subplot(), lab.cache.states(), lab.state)
    assert_nothing_cut_and_legends_outside(fig)


def test_the_dashboard_puts_the_explorers_figure_under_its_controls_and_the_lab_beside_it(lab):
    explorer = ResultsExplorer(REPORT, model=MODEL, method="lattice", amount=0.75)
    board = dashboard_widget(explorer, lab)
    left, right = board.children
    assert board.layout.grid_template_columns == "minmax(0, 1fr) minmax(0, 1fr)"
    order = list(left.children)
    assert order.index(explorer.image) < order.index(explorer.readout)  # the figure before the readouts
    assert explorer.controls["method"] in order[0].children and right.children == (lab.widget,)

    def walk(widget):
        yield widget
        for child in getattr(widget, "children", ()):
            yield from walk(child)

    rows = [w for w in walk(board) if isinstance(w, W.HBox)]
    images = [w for w in walk(board) if isinstance(w, W.Image)]
    assert rows and all(w.layout.flex_flow == "row wrap" for w in rows)
    assert explorer.image in images and all(w.layout.max_width == "100%" for w in images)
    explorer.controls["method"].value = "magnitude"  # still the live explorer: it answers in the dashboard
    assert explorer.state.method == "magnitude"


def test_the_dashboard_refuses_what_is_not_an_explorer_and_a_lab(lab):
    with pytest.raises(InvalidParameterError, match="The 'explorer' parameter of dashboard_widget"):
        dashboard_widget(lab, lab)


def test_the_dashboard_notebook_outputs_the_dataset_line_and_the_dashboard_only(monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("LATTICE_LAB_FAST", "1")
    notebook = nbformat.read(ROOT / "notebooks" / course.DASHBOARD, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    install, board = [c for c in notebook.cells if c.cell_type == "code"]
    assert install.outputs == []
    kinds = [o.output_type for o in board.outputs]
    assert kinds in (["display_data", "execute_result"], ["stream", "execute_result"]), board.outputs
    line = board.outputs[0]
    text = line.get("text") or line["data"]["text/plain"]
    assert text.startswith(("Dataset: ", "MNIST is not available here")), text  # the data it uses, said once
    assert "application/vnd.jupyter.widget-view+json" in board.outputs[1]["data"]
