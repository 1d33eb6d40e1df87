"""Live pruning in Jupyter: :class:`PruningLab`, and small explorers for the theory notebooks.

The widgets are thin: every number they show comes from a pure function that tests (and
learners) can call without a browser. The package holds these rooms:

* :mod:`~lattice_lab.widgets.results`: :class:`ResultsExplorer`, the explorer over committed
  benchmark results (notebook 08), and what structure bought each method;
* :mod:`~lattice_lab.widgets.state`: :class:`LabSettings`, :class:`LabState`, :class:`LabCache`
  and :func:`compute_state` ``(model, data, settings) -> LabState`` (prune, evaluate, measure),
  with no ipywidgets and no matplotlib;
* :mod:`~lattice_lab.widgets.plots`: the figures and readout text, matplotlib's object API;
* :mod:`~lattice_lab.widgets.lab`: :class:`PruningLab`, whose controls reflect the settings it holds;
* :mod:`~lattice_lab.widgets.dashboard`: :func:`dashboard_widget`, the explorer and the lab side by side
  in one screen (``notebooks/dashboard.ipynb``, what the Voilà badge opens);
* :mod:`~lattice_lab.widgets.explorers`: :class:`HasseExplorer`, :class:`SpectralGapExplorer`,
  :class:`ImpRoundExplorer` (IMP round by round) and :class:`SpectralKeepExplorer` (the units
  spectral pruning keeps).

Every name is re-exported here and imported on first use (PEP 562), so
``import lattice_lab.widgets.state`` does not import ipywidgets. The names that moved down to
their rooms stay available here for one release: ``random_poset`` (now
:func:`lattice_lab.posets.random_poset`) and ``mask_spectrum`` (now
:func:`lattice_lab.spectral.mask_spectrum`); ``keep_pattern`` here takes a PruneResult
(:func:`lattice_lab.surgery.keep_pattern` takes the pruned model and kept units).

Sits on top of the package: nothing imports it.

Must not import: cli.

Examples
--------
>>> from lattice_lab.data import load
>>> from lattice_lab.models import build
>>> from lattice_lab.widgets import LabSettings, PruningLab, compute_state
>>> test = load("digits", "test")
>>> model = build({"kind": "lstm", "input_size": 8, "hidden_size": 16, "num_classes": 10})
>>> state = compute_state(model, test, LabSettings("magnitude", 0.5))
>>> state.error is None, state.sparsity, state.hidden_units
(True, 0.5, 16)
>>> lab = PruningLab(model, test)
>>> lab.controls["method"].value = "magnitude-units"
>>> lab.controls["amount"].value = 0.75
>>> lab.state.hidden_units
4
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "results": ("ResultsExplorer", "ResultsState", "comparison_figure", "format_summary", "load_report",
                "results_state", "structure_gains", "structure_summary"),
    "state": ("DIAGNOSTIC_LABELS", "DIAGNOSTIC_PLOTS", "EVAL_BATCH", "FAST_BUDGETS", "LabCache", "LabSettings",
              "LabState", "compute_state", "dependency_poset", "diagnostic_labels", "diagnostic_plots",
              "diagnostic_readouts", "keep_pattern", "lab_options", "mask_summary", "method_label",
              "parse_option_text", "poset_readout", "unavailable_reason"),
    "plots": ("FIG_DPI", "diagnostic_label", "diagnostic_series", "draw_amount_curve", "draw_diagnostic",
              "draw_spectrum", "draw_weights", "figure_png", "format_percent", "format_value", "new_figure",
              "table_html"),
    "lab": ("AMOUNT_MAX", "AMOUNT_STEP", "PruningLab"),
    "dashboard": ("dashboard_widget",),
    "explorers": ("HasseExplorer", "HasseState", "ImpRoundExplorer", "ImpRoundState", "SPECTRAL_FAMILIES",
                  "SpectralGapExplorer", "SpectralKeepExplorer", "SpectralKeepState", "SpectralState", "hasse_state",
                  "imp_round_state", "spectral_keep_state", "spectral_state"),
}
_MOVED = {"random_poset": "lattice_lab.posets", "mask_spectrum": "lattice_lab.spectral"}  # kept for one release
_HOME = {name: f"{__name__}.{module}" for module, names in _EXPORTS.items() for name in names} | _MOVED

__all__ = sorted(_HOME)


def __getattr__(name: str):
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
