"""The structure of a trained model in one report: posets, lattices, Ramanujan gaps, spectra.

:func:`analyze` is what ``lattice-lab analyze --checkpoint X`` prints. For every threshold (a
quantile of the connection strengths |w|, gate blocks combined by ``gate_rule``) it builds the
binary dependency digraph (:func:`lattice_lab.graphs.dependency_graph`), of each layer alone
(its lateral ``W_hh`` block, both directions; quantile taken within the layer) and, for models
with more than one layer, of all layers together (lateral, bottom-up and top-down edges;
quantile over all of them), collapses its strongly connected components into a poset
(:meth:`lattice_lab.posets.Poset.from_adjacency`) and reports the poset's size (the number of
components), the largest component, height, width and the numbers of meet- and
join-irreducibles of its Dedekind–MacNeille completion. It also reports Δ_r
(:func:`lattice_lab.spectral.delta_r`) of the magnitude mask that keeps the weights of each
recurrent tensor (``W_hh`` with its gate blocks stacked, and ``W_td``) at or above that quantile,
and, when ``data`` is given, the hidden-state covariance diagnostics of spectral pruning
(:func:`lattice_lab.pruning.spectral_units.hidden_covariance`, :func:`lattice_lab.ridge.degrees_of_freedom`).

The report is a plain JSON-able dict; :func:`format_report` renders it as text tables.

Sits on top with the CLI: imports graphs, posets, spectral, models, validation (and
ridge, pruning.spectral_units and pruning.spectral_foreign lazily); only the CLI imports it. It reads a model and never trains, loads or
saves one.
Must not import: widgets, cli, compare, train, data, checkpoints.

Examples
--------
>>> from lattice_lab.models import build
>>> model = build({"kind": "lstm", "input_size": 3, "hidden_size": 8, "num_classes": 2})
>>> report = analyze(model, thresholds=(0.5, 0.9))
>>> [(row["graph"], row["threshold"]) for row in report["posets"]]
[('layer 0', 0.5), ('layer 0', 0.9)]
>>> print(format_report(report).splitlines()[0])
lstm model, hidden sizes [8], gate rule 'max'
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import graphs, spectral
from .models import SequenceClassifier, attached_view, get_weight, hidden_sizes, weight_names
from .posets import Poset
from .validation import check_float, check_instance, check_list

DOF_RIDGES = (1e-3, 1e-2, 1e-1, 1.0)  # ridge λ relative to the mean eigenvalue of Σ̂


def poset_summary(adjacency: np.ndarray) -> dict[str, int]:
    """Size and shape of the poset of a (possibly cyclic) boolean influence graph.

    Keys: ``units``, ``edges`` (off-diagonal), ``components`` (poset size after collapsing
    strongly connected components), ``largest_component`` (units), ``height``, ``width``,
    ``meet_irreducibles``, ``join_irreducibles`` (counts, in the Dedekind–MacNeille completion),
    and ``neurons``, the old name of ``units``: a key of ``lattice-lab analyze --json``, kept
    for one release.

    Examples
    --------
    >>> A = np.array([[0, 1, 0], [1, 0, 1], [0, 0, 0]], dtype=bool)   # 0 <-> 1 -> 2
    >>> poset_summary(A)["components"], poset_summary(A)["height"]
    (2, 2)
    """
    a = np.asarray(adjacency, dtype=bool)
    poset = Poset.from_adjacency(a)
    return {
        "units": int(a.shape[0]),
        "neurons": int(a.shape[0]),
        "edges": int(a.sum() - np.trace(a)),
        "components": poset.size,
        "largest_component": max(len(c) for c in poset.components),
        "height": poset.height(),
        "width": poset.width(),
        "meet_irreducibles": len(poset.meet_irreducibles()),
        "join_irreducibles": len(poset.join_irreducibles()),
    }


def _poset_rows(model: SequenceClassifier, thresholds: list[float], gate_rule: str) -> list[dict]:
    strength, support, _ = graphs.dependency_strength(model, gate_rule=gate_rule)
    offsets = graphs.unit_offsets(model)
    blocks = [(f"layer {k}", k, slice(offsets[k], offsets[k + 1])) for k in range(len(offsets) - 1)]
    if len(blocks) > 1:
        blocks.append(("all layers", None, slice(0, int(offsets[-1]))))
    rows = []
    for label, layer, part in blocks:
        s, mask = strength[part, part], support[part, part]
        for q in thresholds:
            theta = graphs.threshold_value(s[mask], q)
            adjacency = mask & (s >= theta) & (s > 0)
            rows.append({"graph": label, "layer": layer, "threshold": q, "threshold_value": theta,
                         **poset_summary(adjacency)})
    return rows


def _ramanujan_rows(model: SequenceClassifier, thresholds: list[float]) -> list[dict]:
    rows = []
    for name in weight_names(model, "recurrent"):
        w = np.abs(graphs.weight_array(get_weight(model, name), name))
        for q in thresholds:
            mask = (w >= np.quantile(w, q)) & (w > 0)
            row = {"tensor": name, "threshold": q, "kept": float(mask.mean()), "delta_r": None, "reason": None}
            try:
                row["delta_r"] = float(spectral.delta_r(mask.astype(np.float64)))
            except ValueError as err:
                row["reason"] = str(err)
            rows.append(row)
    return rows


def _spectral_rows(model: SequenceClassifier, data: Any, n_samples: int | None) -> list[dict] | None:
    try:
        from .pruning.spectral_units import hidden_covariance
        from .ridge import degrees_of_freedom
    except ImportError:
        return None
    eigenvalues = [np.linalg.eigvalsh(hidden_covariance(model, data, layer=k, n_samples=n_samples))[::-1]
                   for k in range(len(model.layers))]
    return [_spectral_row(k, eig, degrees_of_freedom) for k, eig in enumerate(eigenvalues)]


def _spectral_row(k: int, eig: np.ndarray, degrees_of_freedom) -> dict:
    """The spectral row of layer ``k`` from the eigenvalues of its Σ̂ (descending)."""
    eig = np.clip(eig, 0.0, None)
    mean = float(eig.mean())
    ridges = [r * mean for r in DOF_RIDGES] if mean > 0 else []
    dof = [float(degrees_of_freedom(eig, lam)) for lam in ridges]
    return {
        "layer": k, "units": int(len(eig)), "trace": float(eig.sum()),
        "top_eigenvalue_share": float(eig[0] / eig.sum()) if eig.sum() > 0 else None,
        "effective_rank": float(eig.sum() ** 2 / (eig ** 2).sum()) if eig.sum() > 0 else None,
        "dof": {f"{r:g}": d for r, d in zip(DOF_RIDGES, dof)},
    }


def _foreign_spectral_rows(held, data: Any, n_samples: int | None) -> list[dict]:
    """The spectral rows of a model of the user's own: Σ̂ of each layer's states (one block per
    direction, as the course's), collected by :func:`lattice_lab.pruning.spectral_foreign.layer_states`."""
    from .pruning.spectral_foreign import layer_states, sequences
    from .recurrent.data import as_dataset
    from .ridge import degrees_of_freedom

    view, data = attached_view(held), sequences(as_dataset(data), n_samples, seed=0)
    rows = []
    for k in range(len(view.layers)):
        states = layer_states(held, view, data, k)
        eig = np.concatenate([np.linalg.eigvalsh(s.T @ s / s.shape[0]) for s in states])
        rows.append(_spectral_row(k, np.sort(eig)[::-1], degrees_of_freedom))
    return rows


def analyze(model: SequenceClassifier, thresholds: Sequence[float] = (0.5, 0.75, 0.9, 0.95), data: Any = None,
            *, gate_rule: str = "max", n_samples: int | None = None, example: Any = None) -> dict:
    """The structure report of a model (see the module docstring); the model is not changed.

    Parameters
    ----------
    model : a :class:`~lattice_lab.models.SequenceClassifier` (masked or not), or a model of the
        user's own (any ``nn.Module`` with ``nn.RNN``/``nn.LSTM``/``nn.GRU`` layers, found on
        ``example`` or the first inputs of ``data``): its posets are those of its recurrent layers
        (:func:`lattice_lab.recurrent.methods.mirror`), its Δ_r rows name its own parameters, and its
        ``spectral`` section reads its recurrent modules' states by hooks.
    thresholds : quantiles in [0, 1) of the connection strengths.
    data : optional dataset (or ``(N, T, F)`` tensor) for the hidden-state covariance section.
    gate_rule : how LSTM/GRU gate blocks combine in the dependency graph (``max``, ``sum``,
        ``mean``, ``l2`` or a gate name).
    n_samples : sequences used for the covariance (default: that of ``hidden_covariance``).

    Returns
    -------
    dict with ``model`` (the config), ``gate_rule``, ``thresholds``, ``posets`` (one row per
    graph and threshold), ``ramanujan`` (one row per recurrent tensor and threshold: ``kept``
    fraction, ``delta_r`` or None with the ``reason``), and ``spectral`` (one row per layer:
    ``trace``, ``top_eigenvalue_share``, ``effective_rank``, ``dof`` = N̂(λ) at
    λ = r · mean eigenvalue for r in :data:`DOF_RIDGES`) — None without data or when
    ``lattice_lab.pruning.spectral`` is not available.

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> m = build({"kind": "feedback", "input_size": 2, "hidden_size": [6, 4], "num_classes": 2})
    >>> r = analyze(m, thresholds=[0.8])
    >>> [row["graph"] for row in r["posets"]], [row["tensor"] for row in r["ramanujan"]][:2]
    (['layer 0', 'layer 1', 'all layers'], ['layers.0.weight_hh_l0', 'layers.0.weight_td_l0'])
    """
    if not isinstance(model, SequenceClassifier):
        return _analyze_foreign(model, thresholds, data, gate_rule, example, n_samples)
    values = check_list(thresholds, "thresholds", "analyze",
                        lambda q: check_float(q, "thresholds", "analyze", low=0, high=1, high_open=True),
                        "a nonempty list of quantiles in [0, 1)")
    graphs.check_gate_rule(model.kind, gate_rule, "analyze")
    return {
        "model": dict(model.config),
        "gate_rule": gate_rule,
        "thresholds": values,
        "posets": _poset_rows(model, values, gate_rule),
        "ramanujan": _ramanujan_rows(model, values),
        "spectral": None if data is None else _spectral_rows(model, data, n_samples),
    }


def _analyze_foreign(model, thresholds, data, gate_rule: str, example: Any, n_samples: int | None) -> dict:
    from .recurrent.data import as_dataset, check_data, example_inputs
    from .recurrent.methods import held_copy, mirror

    if example is None:
        if data is None:
            raise ValueError(f"analyze needs example inputs for a {type(model).__name__} (example=..., or data).")
        example = example_inputs(as_dataset(check_data(data, "analyze")))
    held = held_copy(model, example)
    course = mirror(held, attached_view(held))[0]
    report = analyze(course, thresholds, gate_rule=gate_rule)
    return dict(report, model={"kind": type(model).__name__, "hidden_size": hidden_sizes(held)},
                ramanujan=_ramanujan_rows(held, report["thresholds"]),
                spectral=None if data is None else _foreign_spectral_rows(held, check_data(data, "analyze"), n_samples))


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def format_report(report: dict) -> str:
    """Human-readable tables of an :func:`analyze` report.

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> text = format_report(analyze(build({"kind": "rnn", "input_size": 2, "hidden_size": 8,
    ...                                      "num_classes": 2}), thresholds=[0.9]))
    >>> "meet-irr" in text and "delta_r" in text
    True
    """
    config = report["model"]
    parts = [f"{config['kind']} model, hidden sizes {config['hidden_size']}, gate rule {report['gate_rule']!r}",
             "", "Dependency posets (SCCs collapsed; binary adjacency |w| >= quantile):"]
    header = ["graph", "quantile", "theta", "units", "edges", "components", "largest", "height", "width",
              "meet-irr", "join-irr"]
    parts.append(_table(header, [[r["graph"], _fmt(r["threshold"], 2), _fmt(r["threshold_value"], 4),
                                  *(_fmt(r[k]) for k in ("units", "edges", "components", "largest_component",
                                                         "height", "width", "meet_irreducibles",
                                                         "join_irreducibles"))]
                                 for r in report["posets"]]))
    parts += ["", "Ramanujan gap of the magnitude mask keeping |w| >= quantile (stacked gate blocks):"]
    parts.append(_table(["tensor", "quantile", "kept", "delta_r", "note"],
                        [[r["tensor"], _fmt(r["threshold"], 2), _fmt(r["kept"]), _fmt(r["delta_r"]),
                          "" if r["reason"] is None else "undefined: average degree < 3"]
                         for r in report["ramanujan"]]))
    if report.get("spectral"):
        ridges = list(report["spectral"][0]["dof"])
        parts += ["", "Hidden-state covariance (spectral pruning): degrees of freedom N(lambda), "
                      "lambda = r x mean eigenvalue:"]
        parts.append(_table(["layer", "units", "trace", "top share", "eff. rank", *(f"N(r={r})" for r in ridges)],
                            [[str(r["layer"]), str(r["units"]), _fmt(r["trace"]), _fmt(r["top_eigenvalue_share"]),
                              _fmt(r["effective_rank"], 1), *(_fmt(r["dof"][k], 1) for k in ridges)]
                             for r in report["spectral"]]))
    return "\n".join(parts)
