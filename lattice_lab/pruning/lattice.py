"""Lattice-based pruning: keep the connections of the critical (meet-irreducible) hidden units.

Method: R. Sengupta, "Lattice-Based Pruning in Recurrent Neural Networks via Poset Modeling",
arXiv 2502.16525 (2025). Only the abstract and secondary summaries were readable; each step is
tagged **[paper]** (the abstract), **[summary]** (secondary summaries) or **[reconstructed]**
(our choice, METHODS.md §1). The steps:

1. **Dependency digraph** [summary]: unit i (a neuron, in the paper's words) precedes unit j if
   i's activation at step t directly influences j at t+1. Built by :func:`lattice_lab.graphs.dependency_graph` over all
   layers (lateral ``W_hh``, bottom-up ``W_ih``, top-down ``W_td``; [paper] multilayer with
   feedback) with the gate blocks of an LSTM/GRU combined by ``gate_rule`` (default ``max |w|``
   over the gates [reconstructed]).
2. **Relation** [paper: binary and continuous adjacency]. ``adjacency="binary"``: i → j iff the
   strength is ``>= θ``, θ the ``threshold`` quantile of all connection strengths (or an
   absolute value). ``adjacency="continuous"``: the normalized strengths ``a_ij = s_ij / max s``
   in [0, 1]; the *relation* is their support above the same cut θ [reconstructed: a poset needs a
   yes/no relation, and the support of a dense trained matrix is one cycle], and the continuous
   values weight the centrality (step 4).
3. **Poset and lattice** [reconstructed]: a recurrent relation has cycles, so it is a preorder;
   its strongly connected components (SCCs) are collapsed and the condensation is the poset P
   (:meth:`lattice_lab.posets.Poset.from_adjacency`). The minimal lattice containing P [summary]
   is its Dedekind–MacNeille completion, whose meet-irreducibles are elements of P and are found
   without building the lattice (:meth:`~lattice_lab.posets.Poset.meet_irreducibles`). A unit
   is **critical** if its component is meet-irreducible and has at most ``critical_size``
   units (default 1) [reconstructed: a collapsed cycle is the recurrent core, not one unit;
   counting it would mark most of a dense layer critical and reduce the method to magnitude
   pruning]. At low thresholds a trained ``W_hh`` is a single SCC, P has one element, nothing is
   critical and the centrality is constant: the method *is* magnitude pruning there (``info``
   records the poset size, so this is visible).
4. **Centrality** [summary: "from the lattice's Möbius function"; formula reconstructed]:
   ``"mobius"`` — for the component X of a unit, ``Σ_Y |μ(X, Y)| + Σ_Y |μ(Y, X)| − 1`` (the
   Möbius mass of X in both directions, μ(X, X) counted once); ``"mobius-up"`` — ``Σ_Y |μ(X, Y)|``
   only (the summary's example); ``"degree"`` — the unit's in+out degree in the relation;
   ``"none"`` — constant (the ablation: tiers and |w| only). With continuous adjacency every
   centrality is multiplied by the unit's weighted degree ``Σ_j a_ij + Σ_j a_ji``
   [reconstructed: "weighted by edge strength"]. Centralities are scaled to mean 1 over the
   units and enter the score raised to ``centrality_power`` (p).
5. **Exact pruning** [summary: "connections outside the meet-irreducibles below τ are pruned";
   exact amount reconstructed]. Every weight entry in ``scope`` is a connection from a sending
   unit (a column) to a receiving unit (its row, in every gate block). Entries are ranked by
   tier, then by ``|w| · (c_send^p + c_recv^p) / 2`` (``c_recv^p`` for layer 0's input weights):
   tier 0 — already zero; tier 1 — touching no critical unit and ``|w| / max|w| < tau``
   (the τ-cut candidates, pruned first); tier 2 — touching no critical unit; tier 3 — touching
   a critical unit (kept preferentially: removed only once every other connection is; with a
   finite ``critical_bonus`` b they stay in tier 2 with the score × (1 + b) instead [ours]).
   Exactly ``round(amount · total)`` lowest-ranked entries are removed
   (:func:`~lattice_lab.pruning.base.masks_from_scores` on the ranks), so the requested amount is
   met exactly whatever τ is.

Cost: the poset has at most one element per unit; the Möbius matrix is O(k³) for k elements
(< 0.1 s for k = 512). Beyond ``MAX_MOBIUS_ELEMENTS`` elements the Möbius centralities use
only the Hasse diagram (|μ| = 1 on covers: the cover degree), documented in ``info``.

Must not import: widgets, cli, compare, train, data.

Examples
--------
>>> from lattice_lab.models import build
>>> from lattice_lab.pruning import prune
>>> model = build({"kind": "lstm", "input_size": 4, "hidden_size": 16, "num_classes": 3})
>>> result = prune(model, "lattice", 0.75, threshold=0.97)
>>> round(result.sparsity, 6)
0.75
>>> {"poset_size", "connected_components", "meet_irreducibles", "centrality"} <= set(result.info)
True
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy.sparse.csgraph import connected_components

from .. import graphs
from ..models import SequenceClassifier, get_weight, weight_names
from ..posets import Poset
from ..surgery import apply_masks
from ..validation import check_choice, check_float, check_int
from .base import PruneResult, masks_from_scores, register

CENTRALITIES = ("mobius", "mobius-up", "degree", "none")
MAX_MOBIUS_ELEMENTS = 4096
MAX_RANKED = 2**24  # masks_from_scores ranks in float32, exact for integers up to 2**24


# ----------------------------------------------------------------------------------------------
# Structure: poset, critical units, centrality
# ----------------------------------------------------------------------------------------------
def _check_options(caller: str, adjacency: str, centrality: str, tau: Any, centrality_power: Any, critical_size: Any,
                   critical_bonus: Any = math.inf) -> None:
    check_choice(adjacency, "adjacency", caller, graphs.ADJACENCIES)
    check_choice(centrality, "centrality", caller, CENTRALITIES)
    check_float(tau, "tau", caller, low=0)
    check_float(centrality_power, "centrality_power", caller, low=0)
    check_float(critical_bonus, "critical_bonus", caller, low=0, allow_inf=True)
    check_int(critical_size, "critical_size", caller, low=0)


def mobius_centrality(poset: Poset, kind: str = "mobius") -> tuple[np.ndarray, bool]:
    """Per element: the Möbius mass ``Σ_Y |μ(X, Y)|`` (``"mobius-up"``), or that plus
    ``Σ_Y |μ(Y, X)| − 1`` (``"mobius"``); and whether it is exact.

    Posets with more than :data:`MAX_MOBIUS_ELEMENTS` elements use the Hasse diagram only
    (``|μ| = 1`` on covers, so the mass becomes 1 + the number of covers); the flag is then False.

    Examples
    --------
    >>> from lattice_lab.posets import boolean_lattice, chain
    >>> mobius_centrality(chain(3))[0].tolist()                 # μ = -1 on covers, 0 beyond
    [2, 3, 2]
    >>> mobius_centrality(boolean_lattice(2), "mobius-up")[0].tolist()   # μ(∅, {0,1}) = +1
    [4, 2, 2, 1]
    """
    check_choice(kind, "kind", "mobius_centrality", ("mobius", "mobius-up"))
    if poset.size > MAX_MOBIUS_ELEMENTS:
        covers = poset.covers
        up = 1 + np.bincount(covers[:, 0], minlength=poset.size)
        down = np.bincount(covers[:, 1], minlength=poset.size)
        return (up if kind == "mobius-up" else up + down).astype(np.int64), False
    mu = np.abs(poset.mobius_matrix()).astype(np.float64)
    up = mu.sum(axis=1)
    values = up if kind == "mobius-up" else up + mu.sum(axis=0) - 1
    return np.rint(values).astype(np.int64), True


def lattice_structure(model: SequenceClassifier, *, adjacency: str = "binary", threshold: float = 0.95,
                      threshold_kind: str = "quantile", gate_rule: str = "max", centrality: str = "mobius",
                      critical_size: int = 1) -> dict[str, Any]:
    """The poset of a model's dependency graph and what the lattice method reads from it.

    Returns a dict: ``poset`` (:class:`~lattice_lab.posets.Poset` of the SCC condensation),
    ``graph`` (:class:`~lattice_lab.graphs.DependencyGraph`), ``meet_irreducibles`` (element
    indices), ``critical`` (bool per unit), ``centrality`` (float per unit, mean 1),
    ``mobius_exact`` (bool). Parameters as in :func:`lattice`.

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> s = lattice_structure(build({"kind": "gru", "input_size": 2, "hidden_size": 8, "num_classes": 2}),
    ...                       threshold=0.95)
    >>> s["critical"].shape, round(float(s["centrality"].mean()), 12)  # mean 1 up to float rounding
    ((8,), 1.0)
    """
    _check_options("lattice_structure", adjacency, centrality, 0.0, 1.0, critical_size)
    graph = graphs.dependency_graph(model, adjacency="binary", threshold=threshold,
                                    threshold_kind=threshold_kind, gate_rule=gate_rule)
    if not graph.strength.any():
        raise ValueError("the dependency graph is empty: every connection weight is zero")
    poset = Poset.from_adjacency(graph.adjacency)
    irreducible = poset.meet_irreducibles()
    sizes = np.array([len(c) for c in poset.components])
    critical_elements = irreducible[sizes[irreducible] <= critical_size]
    critical = np.isin(poset.component_of, critical_elements)
    exact = True
    if centrality in ("mobius", "mobius-up"):
        per_element, exact = mobius_centrality(poset, centrality)
        values = per_element[poset.component_of].astype(np.float64)
    elif centrality == "degree":
        values = (graph.adjacency.sum(axis=0) + graph.adjacency.sum(axis=1)).astype(np.float64)
    else:
        values = np.ones(graph.size)
    if adjacency == "continuous":
        weighted = graphs.continuous_adjacency(graph.strength)
        values = values * (weighted.sum(axis=0) + weighted.sum(axis=1))
    mean = values.mean()
    values = values / mean if mean > 0 else np.ones_like(values)
    return {"poset": poset, "graph": graph, "meet_irreducibles": irreducible, "critical": critical,
            "centrality": values, "mobius_exact": exact}


# ----------------------------------------------------------------------------------------------
# Scores and the registered method
# ----------------------------------------------------------------------------------------------
def connection_ranks(model: SequenceClassifier, names: list[str], structure: dict[str, Any], *,
                     tau: float = 0.0, centrality_power: float = 1.0,
                     critical_bonus: float = math.inf) -> dict[str, torch.Tensor]:
    """Rank of every weight entry in ``names`` in the lattice order (0 is removed first).

    Sort keys, most significant first: tier (0 zero, 1 non-critical below τ, 2 non-critical,
    3 touching a critical unit), then ``|w| · centrality factor``, then position. With a finite
    ``critical_bonus`` b there is no tier 3: critical connections stay in tier 2 with their key
    multiplied by ``1 + b`` (a soft preference instead of a strict one).

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> m = build({"kind": "rnn", "input_size": 2, "hidden_size": 6, "num_classes": 2})
    >>> s = lattice_structure(m, threshold=0.8)
    >>> r = connection_ranks(m, ["layers.0.weight_hh_l0"], s)["layers.0.weight_hh_l0"]
    >>> sorted(r.flatten().tolist()) == list(range(36))
    True
    """
    critical, cent = structure["critical"], structure["centrality"] ** centrality_power
    weights = {name: graphs.weight_array(get_weight(model, name), name) for name in names}
    top = max(float(np.abs(w).max()) for w in weights.values())
    tiers, keys = [], []
    for name, w in weights.items():
        rows, cols = graphs.weight_endpoints(model, name)
        magnitude = np.abs(w)
        if cols is None:
            factor, touches = cent[rows][:, None], critical[rows][:, None]
        else:
            factor = (cent[rows][:, None] + cent[cols][None, :]) / 2
            touches = critical[rows][:, None] | critical[cols][None, :]
        touches = np.broadcast_to(touches, w.shape)
        strict = math.isinf(critical_bonus)
        tier = np.where(touches, 3 if strict else 2, np.where(magnitude < tau * top, 1, 2))
        tiers.append(np.where(magnitude == 0, 0, tier).ravel())
        boost = 1.0 if strict else np.where(touches, 1.0 + critical_bonus, 1.0)
        keys.append((magnitude * factor * boost).ravel())
    tier, key = np.concatenate(tiers), np.concatenate(keys)
    if len(key) > MAX_RANKED:
        raise ValueError(f"{len(key)} weights in scope; ranks are exact in float32 only up to {MAX_RANKED}: "
                         "prune a smaller scope")
    order = np.lexsort((key, tier))  # stable: ties keep their position
    ranks = np.empty(len(key), dtype=np.int64)
    ranks[order] = np.arange(len(key))
    out, start = {}, 0
    for name, w in weights.items():
        out[name] = torch.from_numpy(ranks[start:start + w.size].reshape(w.shape).astype(np.float64))
        start += w.size
    return out


@register("lattice", level="weight",
          summary="keep the connections of meet-irreducible units of the dependency poset; "
                  "rank the rest by Möbius centrality x |w| (Sengupta 2025, reconstructed)",
          diagnostic_labels={"meet_irreducibles": "meet-irreducibles", "tau": "τ"},
          diagnostic_plots=("meet_irreducibles",))
def lattice(model, amount, *, data=None, scope="recurrent", seed=0, adjacency: str = "binary",
            threshold: float = 0.95, threshold_kind: str = "quantile", gate_rule: str = "max",
            centrality: str = "mobius", tau: float = 0.0, centrality_power: float = 1.0,
            critical_size: int = 1, critical_bonus: float = math.inf) -> PruneResult:
    """Lattice-based pruning (see the module docstring for every step and its provenance).

    Options
    -------
    adjacency : ``"binary"`` or ``"continuous"`` (continuous strengths weight the centrality).
    threshold, threshold_kind : the relation's cut θ, a quantile in [0, 1) of the connection
        strengths (default 0.95) or an absolute value. Below some quantile a trained ``W_hh`` is
        one strongly connected component and the method *is* magnitude pruning; 0.95 is the
        lowest standard quantile at which the shipped row-MNIST LSTM-128 shows structure (what
        it shows there and at 0.98: ``docs/METHODS.md``, "Measured in this project").
    gate_rule : how LSTM/GRU gate blocks combine (``max``, ``sum``, ``mean``, ``l2`` or a gate).
    centrality : ``mobius`` (default), ``mobius-up``, ``degree`` or ``none``.
    tau : non-critical connections with ``|w| / max|w| < tau`` (max over the tensors in scope)
        are removed before any other.
    centrality_power : exponent p of the centrality factor (0: plain |w| inside each tier).
    critical_size : largest component whose units can be critical (0: none are).
    critical_bonus : ``math.inf`` (default): critical connections are removed only after every
        other one; a finite b ≥ 0 multiplies their score by 1 + b instead (a soft preference).

    ``info``: ``poset_size`` (elements after condensation: the number of strongly connected
    components), ``connected_components`` (connected pieces of the poset), ``largest_scc``,
    ``meet_irreducibles`` (element indices), ``critical_units`` (unit indices over all layers,
    see ``graphs.unit_offsets``; ``critical_neurons`` before this release), ``units`` (hidden
    units over all layers; ``neurons`` before), ``centrality`` (per unit), ``threshold_value``
    (θ), ``edges``, ``mobius_exact``, the options used and the ``tensors`` pruned.
    """
    _check_options("lattice", adjacency, centrality, tau, centrality_power, critical_size, critical_bonus)
    structure = lattice_structure(model, adjacency=adjacency, threshold=threshold, threshold_kind=threshold_kind,
                                  gate_rule=gate_rule, centrality=centrality, critical_size=critical_size)
    names = weight_names(model, scope)
    ranks = connection_ranks(model, names, structure, tau=tau, centrality_power=centrality_power,
                             critical_bonus=critical_bonus)
    masks = masks_from_scores(ranks, amount)
    masks = {name: mask.to(dtype=torch.float32, device=get_weight(model, name).device) for name, mask in masks.items()}
    poset, graph = structure["poset"], structure["graph"]
    info = {
        "adjacency": adjacency, "threshold": threshold, "threshold_kind": threshold_kind,
        "threshold_value": graph.threshold_value, "gate_rule": gate_rule, "centrality_kind": centrality,
        "tau": tau, "centrality_power": centrality_power, "critical_size": critical_size,
        "critical_bonus": None if math.isinf(critical_bonus) else critical_bonus,  # None: strict tiers
        "units": graph.size, "edges": int(graph.adjacency.sum()), "poset_size": poset.size,
        "connected_components": _poset_components(poset), "largest_scc": max(len(c) for c in poset.components),
        "meet_irreducibles": structure["meet_irreducibles"].tolist(),
        "critical_units": np.flatnonzero(structure["critical"]).tolist(),
        "centrality": structure["centrality"].tolist(), "mobius_exact": structure["mobius_exact"],
        "tensors": names,
    }
    return PruneResult(model=apply_masks(model, masks, inplace=True), masks=masks, info=info)


def _poset_components(poset: Poset) -> int:
    """Number of connected components of the poset's comparability graph."""
    count, _ = connected_components(poset.leq_matrix.astype(np.int8), directed=True, connection="weak")
    return int(count)
