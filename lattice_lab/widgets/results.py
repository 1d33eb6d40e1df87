"""The explorer over committed results: pick a model, a method, an amount, fine-tuned or not; see mean ± std and the curves.

Distiller's habit, without its ``sys.path`` tricks: a dropdown over precomputed results opens in
a second, where computing them took hours. Everything here is read from a quality report of
``benchmarks/results/`` (``quality.json`` by default, found in a checkout or in the installed
package by :func:`lattice_lab.course.results_file`); nothing is trained, pruned or evaluated.
Each view is a pure function of the report and the selection, so the notebook and the tests can
call it without a browser:

* :func:`model_rows` and :func:`lattice_lab.compare.aggregate`: the rows of one model and their
  mean ± std over seeds (the same numbers as the report's ``summary``);
* :func:`results_state`: the readouts of one selection (:class:`ResultsState`);
* :func:`comparison_figure`: the static figure of a model's grid, accuracy against measured
  sparsity and against FLOPs (:func:`lattice_lab.compare.plot_accuracy`);
* :func:`structure_gains` and :func:`structure_summary`: what structure bought each method,
  the points of accuracy it gains over its structure-blind counterpart (:func:`baseline_of`) at
  the same measured sparsity (weight level) or the same number of units (unit level), each grid
  point judged by the course's verdict function (:mod:`lattice_lab.verdicts`: Welch's test on the
  seeds, Holm across a method's grid points, the minimum detectable effect).

:class:`ResultsExplorer` puts the controls on top: ``.controls``, ``.state`` and ``.widget`` as
in the other explorers.

Must not import: cli, train, pruning, widgets.lab.

Examples
--------
>>> report = load_report()
>>> explorer = ResultsExplorer(report, model="mnist-lstm", method="magnitude", amount=0.5)
>>> explorer.state.method, explorer.state.seeds, explorer.state.level
('magnitude', 3, 'weight')
>>> baseline_of("ramanujan-imp", "weight"), baseline_of("spectral", "unit"), baseline_of("magnitude", "weight")
('imp', 'magnitude-units', None)
"""
from __future__ import annotations

import html
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as W
import numpy as np

from .. import compare, strict_json, verdicts
from ..course import results_file
from ..validation import check_bool, check_choice, check_instance, fail
from .plots import figure_png, new_figure, table_html

STRUCTURE_BLIND = ("random", "magnitude", "imp", "random-units", "magnitude-units")
"""The methods that look at no structure: the baselines the others are measured against."""
BASELINES = {"ramanujan-imp": "imp", "expander": "random"}
"""A method's structure-blind counterpart where it is not magnitude pruning of its level:
``ramanujan-imp`` is IMP's schedule with the Δ_r rule added, ``expander`` a random mask made regular."""
X_AXES = ("sparsity", "flops", "amount")


def load_report(path: str | Path | None = None) -> dict[str, Any]:
    """A quality report (``python -m benchmarks.quality``): the committed one by default.

    Raises
    ------
    ValueError : when the file is not a quality report (no ``rows`` and ``models``).

    Examples
    --------
    >>> sorted(load_report()["settings"]["datasets"])
    ['fashion-mnist', 'mnist']
    """
    path = results_file("quality.json") if path is None else Path(path)
    report = strict_json.read(path)  # bounded: size by os.stat, depth by a scan, before parsing
    if not isinstance(report, dict) or not {"rows", "models"} <= set(report):
        raise ValueError(f"{path} is not a quality report of benchmarks.quality (it needs 'rows' and 'models')")
    return report


def models_of(report: Mapping[str, Any], dataset: str | None = None) -> list[str]:
    """The models of the report (of one dataset), in the report's order.

    >>> models_of(load_report(), "mnist")  # doctest: +NORMALIZE_WHITESPACE
    ['mnist-lstm', 'mnist-gru', 'mnist-rnn', 'mnist-irnn', 'mnist-feedback', 'mnist-lstm-2layer']
    """
    return [m["name"] for m in report["models"] if dataset is None or m["dataset"] == dataset]


def model_info(report: Mapping[str, Any], model: str) -> dict[str, Any]:
    """The report's entry for ``model``: dataset, kind, source, dense accuracy."""
    check_choice(model, "model", "model_info", models_of(report))
    return next(m for m in report["models"] if m["name"] == model)


def model_rows(report: Mapping[str, Any], model: str) -> list[dict[str, Any]]:
    """Every row (one per method, amount and seed) of ``model``.

    >>> report = load_report()
    >>> methods = model_info(report, "mnist-lstm")["methods"]
    >>> len(model_rows(report, "mnist-lstm")) == len(methods) * 4 * 3  # methods x amounts x seeds
    True
    """
    check_choice(model, "model", "model_rows", models_of(report))
    return [r for r in report["rows"] if r["model"] == model]


def baseline_of(method: str, level: str) -> str | None:
    """The structure-blind counterpart of ``method`` (None for a structure-blind method).

    The counterpart prunes at the same level with the same schedule but looks at no structure:
    :data:`BASELINES` where that is not magnitude pruning, else ``magnitude`` (weight level) or
    ``magnitude-units`` (unit level); so a new variant of a method is compared with magnitude.

    >>> baseline_of("lattice", "weight"), baseline_of("expander", "weight")
    ('magnitude', 'random')
    """
    check_choice(level, "level", "baseline_of", ("weight", "unit"))
    if method in STRUCTURE_BLIND:
        return None
    return BASELINES.get(method, "magnitude" if level == "weight" else "magnitude-units")


def _matched(points: Sequence[tuple[float, float]], x: float) -> float | None:
    """The value at ``x`` on the piecewise-linear curve through ``points``; None outside their range."""
    points = sorted(points)
    xs = [p[0] for p in points]
    if not points or x < xs[0] - 1e-9 or x > xs[-1] + 1e-9:
        return None
    return float(np.interp(x, xs, [p[1] for p in points]))


@dataclass(frozen=True)
class ResultsState:
    """The readouts of one selection of :class:`ResultsExplorer` (fractions, not percentages)."""

    model: str
    method: str
    amount: float
    finetuned: bool
    level: str
    seeds: int
    accuracy: float | None
    accuracy_std: float | None
    sparsity: float
    hidden_units: float
    flops: float
    flops_dense: float
    dense_accuracy: float
    baseline: str | None
    baseline_accuracy: float | None
    """The baseline's accuracy at the same measured sparsity (or units), interpolated between its grid points."""
    finetune_epochs: int
    verdict: verdicts.Verdict | None = None
    """The method against its baseline at this grid point (:func:`point_verdict`; a family of one)."""

    @property
    def gain(self) -> float | None:
        """Points of accuracy over the baseline at the same sparsity (None when not comparable)."""
        if self.accuracy is None or self.baseline_accuracy is None:
            return None
        return 100 * (self.accuracy - self.baseline_accuracy)


def _column(finetuned: bool) -> str:
    return "accuracy_finetuned" if finetuned else "accuracy"


def _matching_key(level: str) -> str:
    return "sparsity" if level == "weight" else "hidden_units"


def point_verdict(report: Mapping[str, Any], model: str, method: str, amount: float,
                  finetuned: bool = False) -> verdicts.Verdict | None:
    """``method`` against its baseline at one grid point, by the course's verdict function.

    The method's per-seed accuracies against the baseline's, each seed's baseline read on that seed's curve at
    the method's mean measured sparsity (weight level) or number of units (unit level); None where the baseline
    has no grid point on either side. Arms whose seeds change nothing (a deterministic method on one checkpoint)
    are tested on the model's test sequences (``models[].n_test``).

    >>> v = point_verdict(load_report(), "mnist-lstm", "spectral", 0.5)
    >>> v.outcome, round(v.points, 1), v.observations
    ('above', 44.0, '3 seeds each')
    """
    rows = model_rows(report, model)
    level = next(r["level"] for r in rows if r["method"] == method)
    baseline, column, key = baseline_of(method, level), _column(finetuned), _matching_key(level)
    mine = [r for r in rows if r["method"] == method and abs(r["amount"] - amount) < 1e-9 and r.get(column) is not None]
    if baseline is None or not mine:
        return None
    at = float(np.mean([r[key] for r in mine]))
    read = []
    for seed in sorted({r["seed"] for r in rows if r["method"] == baseline}):
        curve = [(r[key], r[column]) for r in rows if r["method"] == baseline and r["seed"] == seed
                 and r.get(column) is not None]
        read.append(_matched(curve, at))
    if not read or None in read:
        return None
    return verdicts.compare([r[column] for r in mine], read, labels=(method, baseline),
                            trials=model_info(report, model).get("n_test"), at=(model, amount))


def results_state(report: Mapping[str, Any], model: str, method: str, amount: float,
                  finetuned: bool = False) -> ResultsState:
    """Mean ± std of ``method`` at ``amount`` on ``model``, and its baseline at the same measured sparsity.

    Examples
    --------
    >>> s = results_state(load_report(), "mnist-lstm", "lattice", 0.5)
    >>> s.baseline, s.seeds, round(s.sparsity, 2)
    ('magnitude', 3, 0.5)
    """
    check_bool(finetuned, "finetuned", "results_state")
    rows = model_rows(report, model)
    check_choice(method, "method", "results_state", sorted({r["method"] for r in rows}))
    entries = compare.aggregate([r for r in rows if r["method"] == method])
    amounts = sorted(e["amount"] for e in entries)
    found = [e for e in entries if abs(e["amount"] - amount) < 1e-9]
    if not found:
        fail("amount", "results_state", f"one of the amounts of {method} on {model} {amounts}", amount)
    entry, level = found[0], next(r["level"] for r in rows if r["method"] == method)
    column, key = _column(finetuned), _matching_key(level)
    baseline = baseline_of(method, level)
    matched = None
    if baseline is not None:
        points = [(e[key], e[column]) for e in compare.aggregate([r for r in rows if r["method"] == baseline])
                  if e.get(column) is not None]
        matched = _matched(points, entry[key])
    return ResultsState(model=model, method=method, amount=entry["amount"], finetuned=finetuned, level=level,
                        seeds=entry["seeds"], accuracy=entry.get(column), accuracy_std=entry.get(column + "_std"),
                        sparsity=entry["sparsity"], hidden_units=entry["hidden_units"], flops=entry["flops"],
                        flops_dense=rows[0]["flops_dense"], dense_accuracy=model_info(report, model)["dense_accuracy"],
                        baseline=baseline, baseline_accuracy=matched,
                        finetune_epochs=int(report["settings"].get("finetune_epochs", 0)),
                        verdict=point_verdict(report, model, method, entry["amount"], finetuned))


def _percent(value: float | None, std: float | None = None) -> str:
    if value is None:
        return "not measured"
    return f"{100 * value:.2f}%" + (f" ± {100 * std:.2f}" if std is not None else "")


def state_readouts(state: ResultsState) -> list[tuple[str, str]]:
    """The readout table of a state: (name, text) pairs.

    >>> dict(state_readouts(results_state(load_report(), "mnist-lstm", "magnitude", 0.5)))["seeds"]
    '3'
    """
    tuned = f"after {state.finetune_epochs} epoch(s) of fine-tuning" if state.finetuned else "no fine-tuning"
    pairs = [(f"test accuracy ({tuned}), mean ± std", _percent(state.accuracy, state.accuracy_std)),
             ("dense accuracy", _percent(state.dense_accuracy)),
             ("measured sparsity of W_hh", f"{100 * state.sparsity:.1f}%"),
             ("hidden units", f"{state.hidden_units:.0f}"),
             ("FLOPs per sequence", f"{state.flops:,.0f} ({100 * state.flops / state.flops_dense:.0f}% of dense)"),
             ("seeds", str(state.seeds))]
    if state.baseline is not None:
        where = "sparsity" if state.level == "weight" else "number of units"
        gain = "not comparable (outside its grid)" if state.gain is None else f"{state.gain:+.2f} points"
        pairs += [(f"{state.baseline} at the same {where}", _percent(state.baseline_accuracy)),
                  ("what structure bought", gain)]
        if state.verdict is not None:
            pairs.append(("verdict at this point", state.verdict.sentence))
    return pairs


def draw_curves(ax, report: Mapping[str, Any], state: ResultsState, x: str = "sparsity") -> None:
    """Accuracy against ``x`` for every method of the selection's level, the selection starred."""
    check_choice(x, "x", "draw_curves", X_AXES)
    rows = [r for r in model_rows(report, state.model) if r["level"] == state.level]
    compare.plot_accuracy(rows, x, ax=ax, finetuned=state.finetuned)
    if state.accuracy is not None:
        value = {"sparsity": state.sparsity, "flops": state.flops, "amount": state.amount}[x]
        ax.plot([value], [100 * state.accuracy], "*", ms=16, mec="black", color=compare.method_colour(state.method),
                label="selected")
    ax.set_title(f"{state.model}: {state.level}-level methods "
                 f"({'fine-tuned' if state.finetuned else 'no fine-tuning'})", fontsize=9)
    compare.legend_outside(ax, fontsize=6)


def comparison_figure(report: Mapping[str, Any], model: str, finetuned: bool = False):
    """The static figure of ``model``'s grid: accuracy against measured sparsity and against FLOPs.

    Every method of the report in its colour and line style (:func:`lattice_lab.compare.plot_styles`),
    mean over seeds with a ±1 std band, the dense accuracy dashed, one legend right of both panels.
    Returns the matplotlib Figure.

    >>> fig = comparison_figure(load_report(), "mnist-lstm")
    >>> [ax.get_xlabel() for ax in fig.axes]
    ['measured sparsity', 'FLOPs per sequence']
    """
    check_bool(finetuned, "finetuned", "comparison_figure")
    rows = model_rows(report, model)
    fig = new_figure(11.0, 4.0)
    fig.subplots_adjust(left=0.07, right=0.82, bottom=0.14, top=0.9, wspace=0.25)
    for index, x in enumerate(("sparsity", "flops")):
        ax = fig.add_subplot(1, 2, index + 1)
        compare.plot_accuracy(rows, x, ax=ax, finetuned=finetuned)
        ax.get_legend().remove()  # one legend for both panels, right of the second (the methods are the same)
    fig.legend(*fig.axes[-1].get_legend_handles_labels(), fontsize=7, loc="upper left", frameon=False,
               bbox_to_anchor=(0.83, 0.9), borderaxespad=0.0)
    info = model_info(report, model)
    tuned = f"after {report['settings'].get('finetune_epochs', 0)} epoch(s) of fine-tuning" if finetuned \
        else "no fine-tuning"
    fig.suptitle(f"{model} ({info['source']}, dense {100 * info['dense_accuracy']:.2f}%): {tuned}", fontsize=10)
    return fig


def structure_gains(report: Mapping[str, Any], models: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Per model, method and grid point: the points of accuracy a method gains over its baseline.

    The baseline (:func:`baseline_of`) is read at the method's own measured sparsity (weight
    level: the methods do not all reach the amount they are asked for) or number of units (unit
    level), linearly between its grid points; a point outside the baseline's grid is left out.
    ``gain`` is without fine-tuning, ``gain_finetuned`` after it (None where either was not measured), and
    ``test`` / ``test_finetuned`` their verdicts (:func:`point_verdict`) for :func:`structure_summary`.

    >>> gains = structure_gains(load_report(), ["mnist-lstm"])
    >>> sorted({g["method"] for g in gains})  # doctest: +NORMALIZE_WHITESPACE
    ['expander', 'lattice', 'lattice-continuous', 'lattice-degree-p0.25', 'lattice-q0.98', 'ramanujan-imp',
     'spectral', 'spectral-no-reconstruction']
    """
    models = models_of(report) if models is None else list(models)
    out = []
    for model in models:
        rows = model_rows(report, model)
        levels = {r["method"]: r["level"] for r in rows}
        means = {m: compare.aggregate([r for r in rows if r["method"] == m]) for m in levels}
        for method, level in levels.items():
            baseline = baseline_of(method, level)
            if baseline is None or baseline not in means:
                continue
            key = _matching_key(level)
            for entry in sorted(means[method], key=lambda e: e["amount"]):
                gains = {}
                for column in ("accuracy", "accuracy_finetuned"):
                    points = [(e[key], e[column]) for e in means[baseline] if e.get(column) is not None]
                    matched = _matched(points, entry[key])
                    gains[column] = (None if matched is None or entry.get(column) is None
                                     else 100 * (entry[column] - matched))
                if gains["accuracy"] is None and gains["accuracy_finetuned"] is None:
                    continue
                tests = {column: point_verdict(report, model, method, entry["amount"], column != "accuracy")
                         if gains[column] is not None else None for column in gains}
                out.append({"model": model, "method": method, "level": level, "baseline": baseline,
                            "amount": entry["amount"], key: entry[key], "gain": gains["accuracy"],
                            "gain_finetuned": gains["accuracy_finetuned"], "test": tests["accuracy"],
                            "test_finetuned": tests["accuracy_finetuned"]})
    return out


def method_verdict(family: Sequence[verdicts.Verdict]) -> str:
    """A method's verdict over its grid points (one family, Holm-corrected): "buys accuracy" only where it is
    above its baseline beyond noise at every point, "costs accuracy" only where below at every point.

    >>> above = verdicts.compare([0.9, 0.91, 0.92], [0.8, 0.81, 0.82])
    >>> method_verdict([above, above])
    'buys accuracy at every point'
    >>> method_verdict([above, verdicts.compare([0.9, 0.91, 0.92], [0.9, 0.92, 0.93])])
    'above at 1 of 2 points, below at 0, no difference larger than 4.20 points at 1 (Holm over the 2)'
    """
    family = verdicts.family(family)
    if not family:
        return "not measured"
    counts = verdicts.tally(family)
    if counts["above"] == len(family):
        return "buys accuracy at every point"
    if counts["below"] == len(family):
        return "costs accuracy at every point"
    if counts["within noise"] == len(family):
        return f"no difference larger than {verdicts.SCALE * max(v.mde for v in family):.2f} points"
    return verdicts.summary(family, "points")


def structure_summary(gains: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per method: its baseline, how often and by how much it gains, and the verdict.

    ``mean_gain`` is the mean over every compared grid point of every model (points of
    accuracy), ``min_gain`` and ``max_gain`` its range; ``wins`` counts the points where the mean is ahead;
    the verdict (:func:`method_verdict`) judges every point with its seeds, Holm across the method's points.
    The same with ``_finetuned`` after fine-tuning.

    >>> test = verdicts.compare([0.9, 0.91, 0.92], [0.8, 0.81, 0.82])
    >>> rows = structure_summary([{"method": "m", "baseline": "b", "level": "weight", "model": "x",
    ...                            "gain": 10.0, "gain_finetuned": None, "test": test, "test_finetuned": None}])
    >>> rows[0]["verdict"], rows[0]["verdict_finetuned"], rows[0]["wins"]
    ('buys accuracy at every point', 'not measured', 1)
    """
    out = []
    for method in dict.fromkeys(g["method"] for g in gains):
        mine = [g for g in gains if g["method"] == method]
        row = {"method": method, "baseline": mine[0]["baseline"], "level": mine[0]["level"],
               "models": len({g["model"] for g in mine})}
        for suffix in ("", "_finetuned"):
            values = [g["gain" + suffix] for g in mine if g["gain" + suffix] is not None]
            mean = statistics.fmean(values) if values else None
            row |= {"points" + suffix: len(values), "wins" + suffix: sum(v > 0 for v in values),
                    "mean_gain" + suffix: mean, "min_gain" + suffix: min(values) if values else None,
                    "max_gain" + suffix: max(values) if values else None,
                    "verdict" + suffix: method_verdict([g["test" + suffix] for g in mine
                                                        if g["test" + suffix] is not None])}
        out.append(row)
    return out


def format_summary(summary: Sequence[Mapping[str, Any]], finetune_epochs: int = 1) -> str:
    """The summary as a markdown table (gains in points of accuracy).

    >>> print(format_summary([{"method": "m", "baseline": "b", "level": "weight", "models": 1, "points": 1,
    ...     "wins": 1, "mean_gain": 2.0, "min_gain": 2.0, "max_gain": 2.0, "verdict": "buys accuracy",
    ...     "points_finetuned": 0, "wins_finetuned": 0, "mean_gain_finetuned": None, "min_gain_finetuned": None,
    ...     "max_gain_finetuned": None, "verdict_finetuned": "not measured"}]).splitlines()[2])
    | m | b | +2.0 [+2.0, +2.0] | 1 of 1 | buys accuracy | – | 0 of 0 | not measured |
    """
    def gain(row, suffix):
        if row["mean_gain" + suffix] is None:
            return "–"
        return f"{row['mean_gain' + suffix]:+.1f} [{row['min_gain' + suffix]:+.1f}, {row['max_gain' + suffix]:+.1f}]"

    header = ["method", "compared with", "gain, no fine-tuning: mean [min, max]", "mean ahead at", "verdict",
              f"gain after {finetune_epochs} epoch(s) of fine-tuning", "mean ahead at", "verdict"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    for row in summary:
        cells = [row["method"], row["baseline"], gain(row, ""), f"{row['wins']} of {row['points']}", row["verdict"],
                 gain(row, "_finetuned"), f"{row['wins_finetuned']} of {row['points_finetuned']}",
                 row["verdict_finetuned"]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report_source(report: Mapping[str, Any]) -> str:
    """Where the numbers come from: the benchmark's command and date.

    >>> report_source(load_report()).startswith("python -m benchmarks.quality")
    True
    """
    machine = report.get("machine", {})
    return f"{machine.get('command', 'benchmarks.quality')} ({machine.get('date', 'undated')[:10]})"


class ResultsExplorer:
    """Dropdowns over a quality report: dataset, model, method, amount, fine-tuned or not, x axis.

    Parameters
    ----------
    report : a report from :func:`load_report` (default: the committed one).
    dataset, model, method, amount : the starting selection (default: the report's first of each).

    Attributes
    ----------
    controls : ``dataset``, ``model``, ``method``, ``amount``, ``finetuned``, ``x``.
    image, readout, source : the figure, the readouts and the line that says where the numbers come from.
    state : the :class:`ResultsState` shown.
    widget : the root widget.
    """

    def __init__(self, report: Mapping[str, Any] | None = None, *, dataset: str | None = None,
                 model: str | None = None, method: str | None = None, amount: float | None = None):
        report = load_report() if report is None else report
        check_instance(report, "report", "ResultsExplorer", Mapping, "a quality report (load_report())")
        self.report = report
        datasets = list(dict.fromkeys(m["dataset"] for m in report["models"]))
        if model is not None:
            dataset = model_info(report, model)["dataset"]
        dataset = datasets[0] if dataset is None else check_choice(dataset, "dataset", "ResultsExplorer", datasets)
        epochs = int(report["settings"].get("finetune_epochs", 0))
        self.controls = {
            "dataset": W.Dropdown(options=datasets, value=dataset, description="dataset"),
            "model": W.Dropdown(options=models_of(report, dataset), description="model"),
            "method": W.Dropdown(description="method"),
            "amount": W.Dropdown(description="amount"),
            "finetuned": W.ToggleButtons(options=[("no fine-tuning", False), (f"{epochs} epoch(s) fine-tuned", True)],
                                         value=False, style={"button_width": "140px"}),
            "x": W.Dropdown(options=[("measured sparsity", "sparsity"), ("FLOPs", "flops"), ("amount", "amount")],
                            value="sparsity", description="x axis"),
        }
        if model is not None:
            self.controls["model"].value = model
        self._fill_methods(method)
        self._fill_amounts(amount)
        self.image = W.Image(format="png", layout=W.Layout(max_width="640px"))
        self.readout = W.HTML().add_class("ll-readouts")
        self.source = W.HTML(f"<span style='font-size:85%;color:gray'>committed results of "
                             f"<code>{html.escape(report_source(report))}</code>; nothing is computed here</span>")
        c = self.controls
        self.widget = W.VBox([W.HBox([c["dataset"], c["model"], c["method"]]),
                              W.HBox([c["amount"], c["finetuned"], c["x"]]), self.source,
                              W.HBox([self.readout, self.image])]).add_class("ll-results")
        self.state: ResultsState | None = None
        self._filling = False
        for widget in c.values():
            widget.observe(self._on_change, names="value")
        self.refresh()

    def _fill_methods(self, method: str | None) -> None:
        rows = model_rows(self.report, self.controls["model"].value)
        methods = list(dict.fromkeys(r["method"] for r in rows))
        if method is not None:
            check_choice(method, "method", "ResultsExplorer", methods)
        keep = method if method is not None else self.controls["method"].value
        self.controls["method"].options = methods
        self.controls["method"].value = keep if keep in methods else methods[0]

    def _fill_amounts(self, amount: float | None) -> None:
        rows = [r for r in model_rows(self.report, self.controls["model"].value)
                if r["method"] == self.controls["method"].value]
        amounts = sorted({r["amount"] for r in rows})
        if amount is not None and all(abs(a - amount) > 1e-9 for a in amounts):
            fail("amount", "ResultsExplorer", f"one of {amounts}", amount)
        units = {r["amount"]: r["hidden_units"] for r in rows}
        unit_level = rows[0]["level"] == "unit"
        previous = self.controls["amount"].value if amount is None else amount
        self.controls["amount"].options = [(f"{a:.2f} ({units[a]} units kept)" if unit_level else f"{a:.2f}", a)
                                           for a in amounts]
        self.controls["amount"].value = (amounts[0] if previous is None
                                         else min(amounts, key=lambda a: abs(a - previous)))

    def _on_change(self, change: dict) -> None:
        """A control moved: refill the controls below it (their own events are ignored meanwhile), redraw once."""
        if self._filling:
            return
        c, owner = self.controls, change["owner"]
        self._filling = True
        try:
            if owner is c["dataset"]:
                c["model"].options = models_of(self.report, change["new"])
            if owner in (c["dataset"], c["model"]):
                self._fill_methods(None)
            if owner in (c["dataset"], c["model"], c["method"]):
                self._fill_amounts(None)
        finally:
            self._filling = False
        self.refresh()

    def refresh(self) -> ResultsState:
        """Read the selection off the controls, recompute the state and redraw."""
        c = self.controls
        self.state = results_state(self.report, c["model"].value, c["method"].value, c["amount"].value,
                                   c["finetuned"].value)
        fig = new_figure(5.6, 3.8)
        draw_curves(fig.add_subplot(), self.report, self.state, c["x"].value)
        self.image.value = figure_png(fig)
        self.readout.value = table_html(state_readouts(self.state))
        return self.state

    def _repr_mimebundle_(self, **kwargs: Any):
        return self.widget._repr_mimebundle_(**kwargs)
