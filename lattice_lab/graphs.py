"""Recurrent networks as graphs: the dependency digraph of the hidden units, the layer bipartite
graphs, and the time-unfolded graph.

Three views of the same weights, each used somewhere else in the package:

* **Dependency digraph** (lattice pruning, :mod:`lattice_lab.analysis`). One node per hidden
  unit over *all* layers (layer ``k`` occupies ``offsets[k] .. offsets[k + 1] - 1``; both
  directions of a bidirectional layer, forward first). ``A[i, j]`` means "unit i influences
  unit j": i at step t-1 feeds j at step t (lateral, ``W_hh`` of j's layer; top-down, ``W_td``
  from layer k+1 to layer k) or i feeds j at the same step (bottom-up, ``W_ih`` of layer k from
  layer k-1). ``W[j, i]`` is the weight from i to j, so each block of ``A`` is a transposed
  weight. The input features and the readout are not units and are left out.
* **Layer bipartite graphs** (Ramanujan / Δ_r diagnostics, expander pruning). A weight of shape
  ``(out, in)`` is the biadjacency matrix of a bipartite graph: ``W_ih``, ``W_hh`` (stacked: the
  ``G·H`` gate pre-activations are the outputs — that is the matrix a weight mask acts on, so
  Δ_r of masks uses the stacked form; per gate: one ``H``-row block per gate, for inspection), the
  step graph ``(x_t, h_{t-1}) → h_t`` with biadjacency ``[W_ih | W_hh]`` (stacked gates), the
  top-down ``W_td`` and the readout.
* **Time-unfolded graph** over T steps (teaching, small T and H): a networkx DiGraph whose
  nodes are the inputs ``x_t``, the states ``h_t`` of every layer and the classes, with its
  spectral gap computed by :mod:`lattice_lab.spectral` on the undirected version.

Gate rule (how the G gate blocks of an LSTM/GRU become one unit-to-unit strength)
[reconstructed, METHODS.md §1.1]: ``"max"`` (default) takes ``max_g |W_g[j, i]|``, so i
influences j if it does through any gate. Alternatives: ``"sum"``, ``"mean"``, ``"l2"``
(``sqrt(Σ_g W_g²)``) over the gates, or one named gate (LSTM ``input``, ``forget``, ``cell``,
``output``; GRU ``reset``, ``update``, ``new``). Plain RNNs and top-down weights have one block.

Adjacency: binary ``strength >= θ`` (and nonzero), with θ an absolute value or the
``threshold``-quantile of the strengths of every possible connection (pruned ones count as
zeros); continuous ``strength / max(strength)`` in [0, 1].

Imports numpy, networkx and torch, and from the package models, spectral and validation.
Must not import: pruning, analysis, train, data, checkpoints, compare, widgets, cli.

Examples
--------
>>> import numpy as np
>>> from lattice_lab.models import build
>>> model = build({"kind": "lstm", "input_size": 3, "hidden_size": 4, "num_classes": 2})
>>> g = dependency_graph(model, adjacency="binary", threshold=0.75)
>>> g.adjacency.shape, g.adjacency.dtype, int(g.adjacency.sum())
((4, 4), dtype('bool'), 4)
>>> blocks = layer_biadjacencies(model, per_gate=True)
>>> blocks["W_hh"].shape, blocks["W_hh[forget]"].shape, blocks["step"].shape
((16, 4), (4, 4), (16, 7))
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import torch

from . import spectral
from .models import SequenceClassifier, gate_count, get_weight, hidden_sizes, weight_names
from .validation import check_bool, check_choice, check_float, check_instance, check_int, check_range

GATE_NAMES: dict[str, tuple[str, ...]] = {
    "rnn": ("hidden",), "irnn": ("hidden",), "feedback": ("hidden",),
    "lstm": ("input", "forget", "cell", "output"), "gru": ("reset", "update", "new"),
}
GATE_RULES = ("max", "sum", "mean", "l2")
ADJACENCIES = ("binary", "continuous")
THRESHOLD_KINDS = ("quantile", "absolute")


# ----------------------------------------------------------------------------------------------
# Validation and gate blocks
# ----------------------------------------------------------------------------------------------
def weight_array(weight: Any, name: str = "weight") -> np.ndarray:
    """A float64 numpy copy of a 2-D, nonempty, finite weight (torch tensor or array-like).

    >>> weight_array(torch.ones(2, 3)).shape
    (2, 3)
    """
    if isinstance(weight, torch.Tensor):
        weight = weight.detach().cpu().double().numpy()
    try:
        array = np.array(weight, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a numeric 2-D array or tensor, got {type(weight).__name__}") from err
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}): an empty graph has no connections")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} has NaN or infinite entries; clean the weights first")
    return array


def _model(model: Any, caller: str) -> SequenceClassifier:
    return check_instance(model, "model", caller, SequenceClassifier, "a lattice_lab SequenceClassifier")


def check_gate_rule(kind: str, gate_rule: str, caller: str = "check_gate_rule") -> str:
    """``gate_rule`` if it is valid for ``kind`` (a rule in :data:`GATE_RULES` or a gate name).

    ``caller`` names the function in the error message.

    >>> check_gate_rule("gru", "update")
    'update'
    >>> check_gate_rule("gru", "forget", "dependency_graph")
    Traceback (most recent call last):
    ...
    lattice_lab.validation.InvalidParameterError: The 'gate_rule' parameter of dependency_graph must be one of \
'max', 'sum', 'mean', 'l2', 'reset', 'update', 'new'. Got 'forget' instead.
    """
    gates = GATE_NAMES[check_choice(kind, "kind", caller, tuple(GATE_NAMES))]
    return check_choice(gate_rule, "gate_rule", caller, GATE_RULES + gates)


def gate_blocks(weight: Any, kind: str) -> dict[str, np.ndarray]:
    """Split a weight with gate blocks stacked along the rows into one ``(H, in)`` block per gate.

    PyTorch's order: LSTM ``input, forget, cell, output`` (i, f, g, o); GRU ``reset, update,
    new`` (r, z, n); one block ``hidden`` for RNN and feedback layers.

    Examples
    --------
    >>> w = np.arange(8.0).reshape(4, 2)                       # LSTM with H = 1: one row per gate
    >>> {name: b.tolist() for name, b in gate_blocks(w, "lstm").items()}
    {'input': [[0.0, 1.0]], 'forget': [[2.0, 3.0]], 'cell': [[4.0, 5.0]], 'output': [[6.0, 7.0]]}
    """
    array = weight_array(weight)
    gates = gate_count(kind)
    if array.shape[0] % gates:
        raise ValueError(f"a {kind!r} weight needs a multiple of {gates} rows (one block per gate), "
                         f"got shape {array.shape}")
    return dict(zip(GATE_NAMES[kind], np.split(array, gates, axis=0)))


def combine_gates(weight: Any, kind: str, gate_rule: str = "max") -> np.ndarray:
    """Nonnegative ``(H, in)`` strength of a gated weight: the gate blocks of ``|W|`` combined.

    ``max``, ``sum``, ``mean`` or ``l2`` over the gates, or the ``|W|`` of one named gate.

    Examples
    --------
    >>> w = np.array([[1.0], [-3.0], [2.0], [0.0]])          # LSTM, H = 1, one input
    >>> [combine_gates(w, "lstm", rule).item() for rule in ("max", "sum", "mean", "forget")]
    [3.0, 6.0, 1.5, 3.0]
    """
    gate_rule = check_gate_rule(kind, gate_rule, "combine_gates")
    blocks = gate_blocks(weight, kind)
    if gate_rule in blocks:
        return np.abs(blocks[gate_rule])
    stacked = np.abs(np.stack(list(blocks.values())))
    if gate_rule == "max":
        return stacked.max(axis=0)
    if gate_rule == "sum":
        return stacked.sum(axis=0)
    if gate_rule == "mean":
        return stacked.mean(axis=0)
    return np.sqrt((stacked ** 2).sum(axis=0))


# ----------------------------------------------------------------------------------------------
# Adjacency from a strength matrix
# ----------------------------------------------------------------------------------------------
def _threshold(threshold: Any, threshold_kind: str, caller: str) -> float:
    """``threshold`` as a float: a quantile in [0, 1), or an absolute cut >= 0."""
    check_choice(threshold_kind, "threshold_kind", caller, THRESHOLD_KINDS)
    if threshold_kind == "quantile":
        return check_float(threshold, "threshold", caller, low=0, high=1, high_open=True)
    return check_float(threshold, "threshold", caller, low=0)


def threshold_value(values: Any, threshold: float, threshold_kind: str = "quantile") -> float:
    """The absolute cut θ: ``threshold`` itself, or the ``threshold``-quantile of ``values``.

    Examples
    --------
    >>> threshold_value([0.0, 1.0, 2.0, 3.0, 4.0], 0.5), threshold_value([5.0], 0.2, "absolute")
    (2.0, 0.2)
    """
    return _cut(values, threshold, threshold_kind, "threshold_value")


def _cut(values: Any, threshold: float, threshold_kind: str, caller: str) -> float:
    threshold = _threshold(threshold, threshold_kind, caller)
    if threshold_kind == "absolute":
        return threshold
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("values is empty: an empty graph has no weights to take a quantile of")
    if not np.isfinite(values).all():
        raise ValueError("values has NaN or infinite entries")
    return float(np.quantile(values, threshold))


def binary_adjacency(strength: Any, threshold: float = 0.5, threshold_kind: str = "quantile",
                     *, support: Any = None) -> np.ndarray:
    """Boolean adjacency ``strength >= θ`` restricted to nonzero strengths.

    Parameters
    ----------
    strength : array_like (n, n), nonnegative, finite, square.
    threshold : a quantile in [0, 1) or an absolute value >= 0 (see ``threshold_kind``).
    threshold_kind : ``"quantile"`` (θ is that quantile of the strengths in ``support``) or
        ``"absolute"``.
    support : optional boolean (n, n): the entries that are possible connections (default all);
        the quantile is taken over these, and entries outside are never edges.

    Examples
    --------
    >>> s = np.array([[0.0, 0.9], [0.2, 0.5]])
    >>> binary_adjacency(s, 0.5).astype(int).tolist()
    [[0, 1], [0, 1]]
    >>> binary_adjacency(s, 0.0, "absolute").astype(int).tolist()   # zeros are never edges
    [[0, 1], [1, 1]]
    """
    s = _square_strength(strength)
    mask = np.ones(s.shape, dtype=bool) if support is None else _support(support, s.shape)
    theta = _cut(s[mask], threshold, threshold_kind, "binary_adjacency")
    return mask & (s >= theta) & (s > 0)


def continuous_adjacency(strength: Any) -> np.ndarray:
    """Continuous adjacency ``strength / max(strength)``, in [0, 1].

    Examples
    --------
    >>> continuous_adjacency(np.array([[0.0, 2.0], [1.0, 4.0]])).tolist()
    [[0.0, 0.5], [0.25, 1.0]]
    """
    s = _square_strength(strength)
    top = s.max()
    if top == 0:
        raise ValueError("strength is all zero: an empty graph has no continuous adjacency")
    return s / top


def _square_strength(strength: Any) -> np.ndarray:
    s = weight_array(strength, "strength")
    if s.shape[0] != s.shape[1]:
        raise ValueError(f"strength must be a square (n, n) matrix, got shape {s.shape}")
    if (s < 0).any():
        raise ValueError("strength must be nonnegative (take |w| first)")
    return s


def _support(support: Any, shape: tuple[int, int]) -> np.ndarray:
    mask = np.asarray(support, dtype=bool)
    if mask.shape != shape:
        raise ValueError(f"support must have shape {shape}, got {mask.shape}")
    return mask


# ----------------------------------------------------------------------------------------------
# The dependency digraph of a model
# ----------------------------------------------------------------------------------------------
def unit_offsets(model: SequenceClassifier) -> np.ndarray:
    """Start of each layer's units in the dependency graph, plus the total at the end.

    >>> from lattice_lab.models import build
    >>> unit_offsets(build({"kind": "gru", "input_size": 2, "hidden_size": [3, 5], "num_classes": 2})).tolist()
    [0, 3, 8]
    """
    directions = 2 if _model(model, "unit_offsets").config["bidirectional"] else 1
    return np.concatenate([[0], np.cumsum([directions * h for h in hidden_sizes(model)])]).astype(np.int64)


neuron_offsets = unit_offsets  # the old name, kept for one release


def weight_endpoints(model: SequenceClassifier, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The dependency-graph units a weight connects: (unit of each row, unit of each column).

    Rows of every gate block map to the same units (the receiving ones); columns are the
    sending units, or ``None`` for layer 0's ``W_ih`` (its columns are input features).

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> m = build({"kind": "feedback", "input_size": 2, "hidden_size": [2, 3], "num_classes": 2})
    >>> rows, cols = weight_endpoints(m, "layers.0.weight_td_l0")
    >>> rows.tolist(), cols.tolist()
    ([0, 1], [2, 3, 4])
    """
    offsets = unit_offsets(model)
    sizes = hidden_sizes(model)
    parts = name.split(".")
    if len(parts) != 3 or parts[0] != "layers" or not parts[1].isdigit() or int(parts[1]) >= len(sizes):
        raise ValueError(f"name must be a layer weight such as 'layers.0.weight_hh_l0', got {name!r}")
    k, attr = int(parts[1]), parts[2]
    size = sizes[k]
    direction = 1 if attr.endswith("_reverse") else 0
    own = offsets[k] + direction * size + np.arange(size)
    if attr.startswith("weight_hh"):
        rows, cols = own, own
    elif attr.startswith("weight_ih"):
        rows, cols = own, (None if k == 0 else np.arange(offsets[k - 1], offsets[k]))
    elif attr.startswith("weight_td") and k + 1 < len(sizes):
        rows, cols = own, offsets[k + 1] + np.arange(sizes[k + 1])
    else:
        raise ValueError(f"name must be a weight_ih, weight_hh or weight_td tensor, got {name!r}")
    gates = 1 if attr.startswith("weight_td") else gate_count(model.kind)
    return np.tile(rows, gates), cols


@dataclass(frozen=True)
class DependencyGraph:
    """The unit dependency digraph of a model (see the module docstring for conventions).

    Attributes
    ----------
    adjacency : (n, n) bool (binary) or float in [0, 1] (continuous); ``adjacency[i, j]``: i → j.
    strength : (n, n) float, the gate-combined ``|w|`` from i to j (0 where no weight connects them).
    support : (n, n) bool, the entries that some weight of the graph connects.
    offsets : (layers + 1,) int, the first unit of each layer, then n.
    threshold_value : the absolute cut θ used for the binary adjacency (None when continuous).
    names : the weight tensors that contributed edges.
    """

    adjacency: np.ndarray
    strength: np.ndarray
    support: np.ndarray
    offsets: np.ndarray
    threshold_value: float | None
    names: tuple[str, ...]

    @property
    def size(self) -> int:
        """Number of units."""
        return int(self.adjacency.shape[0])

    def layer_of(self) -> np.ndarray:
        """The layer of every unit."""
        return np.searchsorted(self.offsets, np.arange(self.size), side="right") - 1


def graph_weight_names(model: SequenceClassifier, *, bottom_up: bool = True, top_down: bool = True) -> list[str]:
    """The weights whose entries are edges between units: every ``W_hh``, the ``W_ih`` of layers
    above the first (``bottom_up``), every ``W_td`` (``top_down``; feedback models).

    >>> from lattice_lab.models import build
    >>> graph_weight_names(build({"kind": "rnn", "input_size": 2, "hidden_size": 3, "num_classes": 2,
    ...                           "num_layers": 2}))
    ['layers.0.weight_hh_l0', 'layers.1.weight_ih_l0', 'layers.1.weight_hh_l0']
    """
    _model(model, "graph_weight_names")
    bottom_up = check_bool(bottom_up, "bottom_up", "graph_weight_names")
    top_down = check_bool(top_down, "top_down", "graph_weight_names")

    def is_edge(name: str) -> bool:
        layer, attr = int(name.split(".")[1]), name.split(".")[2]
        if attr.startswith("weight_ih"):
            return bottom_up and layer > 0  # layer 0's W_ih reads the data, not units
        return top_down or not attr.startswith("weight_td")

    return [name for name in weight_names(model, "all") if is_edge(name)]


def dependency_strength(model: SequenceClassifier, *, gate_rule: str = "max", bottom_up: bool = True,
                        top_down: bool = True) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(strength, support, names): the gate-combined ``|w|`` from unit i to unit j over all
    layers, the mask of the entries some weight connects, and the weights used.

    Masked (pruned) weights count as zeros. Examples: see :func:`dependency_graph`.
    """
    _model(model, "dependency_strength")
    check_gate_rule(model.kind, gate_rule, "dependency_strength")
    n = int(unit_offsets(model)[-1])
    strength = np.zeros((n, n))
    support = np.zeros((n, n), dtype=bool)
    names = graph_weight_names(model, bottom_up=bottom_up, top_down=top_down)
    for name in names:
        weight = get_weight(model, name)
        kind = "rnn" if ".weight_td" in name else model.kind
        combined = combine_gates(weight_array(weight, name), kind, "max" if kind == "rnn" else gate_rule)
        rows, cols = weight_endpoints(model, name)
        rows = rows[:combined.shape[0]]
        strength[np.ix_(cols, rows)] = combined.T
        support[np.ix_(cols, rows)] = True
    return strength, support, names


def dependency_graph(model: SequenceClassifier, *, adjacency: str = "binary", threshold: float = 0.9,
                     threshold_kind: str = "quantile", gate_rule: str = "max", bottom_up: bool = True,
                     top_down: bool = True) -> DependencyGraph:
    """The unit dependency digraph of a model (all layers; lateral, bottom-up, top-down edges).

    Parameters
    ----------
    model : a :class:`~lattice_lab.models.SequenceClassifier`.
    adjacency : ``"binary"`` (``strength >= θ``) or ``"continuous"`` (``strength / max``).
    threshold, threshold_kind : θ for the binary adjacency, a quantile in [0, 1) of the
        strengths of every possible connection (default 0.9: the strongest 10%), or an absolute
        value. Ignored by the continuous adjacency (it has none; see :mod:`lattice_lab.pruning.lattice`
        for how a relation is cut from it).
    gate_rule : how LSTM/GRU gate blocks combine (module docstring).
    bottom_up, top_down : include the ``W_ih`` edges between layers and the ``W_td`` edges.

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> m = build({"kind": "feedback", "input_size": 2, "hidden_size": [2, 3], "num_classes": 2})
    >>> g = dependency_graph(m, threshold=0.0)           # every nonzero weight is an edge
    >>> g.offsets.tolist(), bool(g.adjacency[:2, 2:].all()), bool(g.adjacency[2:, :2].all())
    ([0, 2, 5], True, True)
    >>> float(dependency_graph(m, adjacency="continuous").adjacency.max())
    1.0
    """
    _model(model, "dependency_graph")
    check_choice(adjacency, "adjacency", "dependency_graph", ADJACENCIES)
    _threshold(threshold, threshold_kind, "dependency_graph")
    check_gate_rule(model.kind, gate_rule, "dependency_graph")
    check_bool(bottom_up, "bottom_up", "dependency_graph")
    check_bool(top_down, "top_down", "dependency_graph")
    strength, support, names = dependency_strength(model, gate_rule=gate_rule, bottom_up=bottom_up,
                                                   top_down=top_down)
    if adjacency == "binary":
        theta = threshold_value(strength[support], threshold, threshold_kind)
        matrix = support & (strength >= theta) & (strength > 0)
    else:
        theta, matrix = None, continuous_adjacency(strength)
    return DependencyGraph(matrix, strength, support, unit_offsets(model), theta, tuple(names))


def to_networkx(adjacency: Any, offsets: Any = None) -> nx.DiGraph:
    """A networkx DiGraph with an edge i → j for each nonzero ``adjacency[i, j]``.

    Continuous entries become the edge attribute ``weight``; with ``offsets`` every node gets
    ``layer`` and ``unit`` attributes.

    Examples
    --------
    >>> G = to_networkx(np.array([[0.0, 0.5], [0.0, 0.0]]))
    >>> list(G.edges(data=True))
    [(0, 1, {'weight': 0.5})]
    """
    a = np.asarray(adjacency)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"adjacency must be a square (n, n) matrix, got shape {a.shape}")
    if a.dtype != bool and not np.isfinite(a).all():
        raise ValueError("adjacency has NaN or infinite entries")
    graph = nx.DiGraph()
    n = a.shape[0]
    if offsets is None:
        graph.add_nodes_from(range(n))
    else:
        offsets = np.asarray(offsets)
        layers = np.searchsorted(offsets, np.arange(n), side="right") - 1
        graph.add_nodes_from((i, {"layer": int(layers[i]), "unit": int(i - offsets[layers[i]])}) for i in range(n))
    src, dst = np.nonzero(a)
    graph.add_weighted_edges_from(zip(src.tolist(), dst.tolist(), a[src, dst].astype(float).tolist()))
    return graph


# ----------------------------------------------------------------------------------------------
# Layer bipartite graphs
# ----------------------------------------------------------------------------------------------
def layer_biadjacencies(model: SequenceClassifier, layer: int = 0, *, direction: int = 0,
                        per_gate: bool = False) -> dict[str, np.ndarray]:
    """The weights of one layer as bipartite biadjacency matrices ``(out, in)`` (signed weights).

    Keys: ``W_ih`` and ``W_hh`` (gate blocks stacked: ``G·H`` rows), ``step`` = ``[W_ih | W_hh]``
    (the step graph ``(x_t, h_{t-1}) → h_t``, stacked gates), ``W_td`` (feedback layers below the
    top), ``readout`` (top layer only; columns are the top layer's units, both directions), and
    with ``per_gate`` one ``W_ih[gate]`` / ``W_hh[gate]`` of ``H`` rows per gate.
    Take ``!= 0`` for a mask, or ``abs`` for weights.

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> m = build({"kind": "gru", "input_size": 3, "hidden_size": 5, "num_classes": 2})
    >>> {k: v.shape for k, v in layer_biadjacencies(m, per_gate=True).items()}["W_ih[new]"]
    (5, 3)
    """
    _model(model, "layer_biadjacencies")
    sizes = hidden_sizes(model)
    layer = check_int(layer, "layer", "layer_biadjacencies", low=0, high=len(sizes) - 1)
    directions = 2 if model.config["bidirectional"] else 1
    direction = check_int(direction, "direction", "layer_biadjacencies", low=0, high=directions - 1)
    per_gate = check_bool(per_gate, "per_gate", "layer_biadjacencies")
    suffix = "_l0_reverse" if direction else "_l0"
    prefix = f"layers.{layer}."
    out = {"W_ih": weight_array(get_weight(model, prefix + "weight_ih" + suffix)),
           "W_hh": weight_array(get_weight(model, prefix + "weight_hh" + suffix))}
    out["step"] = np.concatenate([out["W_ih"], out["W_hh"]], axis=1)
    if model.kind == "feedback" and layer + 1 < len(sizes):
        out["W_td"] = weight_array(get_weight(model, prefix + "weight_td_l0"))
    if layer == len(sizes) - 1:
        out["readout"] = weight_array(get_weight(model, "readout.weight"))
    if per_gate and gate_count(model.kind) > 1:
        for key in ("W_ih", "W_hh"):
            for gate, block in gate_blocks(out[key], model.kind).items():
                out[f"{key}[{gate}]"] = block
    return out


def bipartite_graph(biadjacency: Any) -> nx.Graph:
    """An undirected bipartite networkx graph of a ``(out, in)`` matrix: nodes ``("out", r)``
    (``bipartite=0``) and ``("in", c)`` (``bipartite=1``), an edge with ``weight=|w|`` for each
    nonzero entry.

    Examples
    --------
    >>> G = bipartite_graph(np.array([[1.0, 0.0], [-2.0, 3.0]]))
    >>> G.number_of_nodes(), G.number_of_edges(), G[("out", 1)][("in", 0)]["weight"]
    (4, 3, 2.0)
    """
    w = weight_array(biadjacency, "biadjacency")
    graph = nx.Graph()
    graph.add_nodes_from((("out", r) for r in range(w.shape[0])), bipartite=0)
    graph.add_nodes_from((("in", c) for c in range(w.shape[1])), bipartite=1)
    rows, cols = np.nonzero(w)
    graph.add_weighted_edges_from((("out", int(r)), ("in", int(c)), float(abs(w[r, c]))) for r, c in zip(rows, cols))
    return graph


# ----------------------------------------------------------------------------------------------
# Time-unfolded graph
# ----------------------------------------------------------------------------------------------
MAX_UNFOLDED_NODES = 20000


def unfolded_graph(model: SequenceClassifier, steps: int, *, gate_rule: str = "max", threshold: float = 0.0,
                   threshold_kind: str = "absolute", inputs: bool = True, readout: bool = True) -> nx.DiGraph:
    """The network unrolled over ``steps`` time steps as a DAG (unidirectional models).

    Nodes: ``("h", k, t, i)`` unit i of layer k at step t (t = 0 is the initial state),
    ``("x", t, f)`` input feature f at step t ≥ 1 (``inputs``), ``("y", c)`` class c
    (``readout``, fed by the top layer at step ``steps``). Edges, for t = 1..steps: lateral
    ``h(k, t-1, i) → h(k, t, j)``, bottom-up ``h(k-1, t, i) → h(k, t, j)``, top-down
    ``h(k+1, t-1, i) → h(k, t, j)`` and input ``x(t, f) → h(0, t, j)``, each where the
    gate-combined strength is nonzero and ``>= θ`` (the binary adjacency's rule; ``threshold=0``
    keeps every nonzero weight; a quantile is taken over the unit-to-unit strengths and θ
    then applies to the input and readout edges too). Edge attribute ``strength`` holds it (not ``weight``, so the
    spectral gap of :func:`unfolded_spectral_gap` is that of the unweighted graph).

    Node count: ``steps·F + (steps+1)·ΣH + C``; edge count: ``steps`` times the edges of one
    step, plus the readout's.

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> m = build({"kind": "rnn", "input_size": 2, "hidden_size": 3, "num_classes": 2})
    >>> G = unfolded_graph(m, 4)
    >>> G.number_of_nodes(), G.number_of_edges()     # 4·2 + 5·3 + 2,  4·(3·3 + 3·2) + 2·3
    (25, 66)
    """
    _model(model, "unfolded_graph")
    if model.config["bidirectional"]:
        raise ValueError("unfolded_graph needs a unidirectional model (a bidirectional layer runs backwards "
                         "in time too); build one with bidirectional=False")
    steps = check_range(steps, "steps", "unfolded_graph", "length")
    check_gate_rule(model.kind, gate_rule, "unfolded_graph")
    inputs = check_bool(inputs, "inputs", "unfolded_graph")
    readout = check_bool(readout, "readout", "unfolded_graph")
    sizes = hidden_sizes(model)
    total = steps * model.config["input_size"] + (steps + 1) * sum(sizes) + model.config["num_classes"]
    if total > MAX_UNFOLDED_NODES:
        raise ValueError(f"the unfolded graph would have {total} nodes (> {MAX_UNFOLDED_NODES}); "
                         "use fewer steps or a smaller model")
    strength, support, _ = dependency_strength(model, gate_rule=gate_rule)
    theta = _cut(strength[support], threshold, threshold_kind, "unfolded_graph")
    offsets = unit_offsets(model)
    layer_of = np.searchsorted(offsets, np.arange(offsets[-1]), side="right") - 1
    node = [("h", int(layer_of[i]), int(i - offsets[layer_of[i]])) for i in range(offsets[-1])]
    graph = nx.DiGraph()
    for t in range(steps + 1):
        graph.add_nodes_from(("h", k, t, u) for _, k, u in node)
    edges = []
    src, dst = np.nonzero((strength >= theta) & (strength > 0))
    for i, j in zip(src.tolist(), dst.tolist()):
        same_step = layer_of[i] == layer_of[j] - 1  # bottom-up: read at the same step
        lag = 0 if same_step else 1
        (_, ki, ui), (_, kj, uj) = node[i], node[j]
        edges += [(("h", ki, t - lag, ui), ("h", kj, t, uj), strength[i, j]) for t in range(1, steps + 1)]
    if inputs:
        w_in = combine_gates(weight_array(get_weight(model, "layers.0.weight_ih_l0")), model.kind, gate_rule)
        graph.add_nodes_from(("x", t, f) for t in range(1, steps + 1) for f in range(w_in.shape[1]))
        rows, cols = np.nonzero((w_in >= theta) & (w_in > 0))
        edges += [(("x", t, int(f)), ("h", 0, t, int(j)), w_in[j, f]) for t in range(1, steps + 1)
                  for j, f in zip(rows, cols)]
    if readout:
        w_out = np.abs(weight_array(get_weight(model, "readout.weight")))
        graph.add_nodes_from(("y", c) for c in range(w_out.shape[0]))
        rows, cols = np.nonzero((w_out >= theta) & (w_out > 0))
        top = len(sizes) - 1
        edges += [(("h", top, steps, int(u)), ("y", int(c)), w_out[c, u]) for c, u in zip(rows, cols)]
    graph.add_edges_from((a, b, {"strength": float(s)}) for a, b, s in edges)
    return graph


def unfolded_spectral_gap(graph: nx.DiGraph, kind: str = "adjacency") -> float:
    """Spectral gap of the undirected version of an unfolded graph, via
    :func:`lattice_lab.spectral.spectral_gap` (``"adjacency"``: λ1 − λ2; ``"laplacian"``;
    ``"normalized"``). Unweighted: the edges' ``strength`` attribute is not used.

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> m = build({"kind": "rnn", "input_size": 1, "hidden_size": 2, "num_classes": 2})
    >>> unfolded_spectral_gap(unfolded_graph(m, 3)) > 0
    True
    """
    check_instance(graph, "graph", "unfolded_spectral_gap", nx.DiGraph, "a networkx.DiGraph (from unfolded_graph)")
    if graph.number_of_nodes() == 0:
        raise ValueError("graph is an empty graph (0 nodes)")
    undirected = nx.Graph()
    undirected.add_nodes_from(graph.nodes)
    undirected.add_edges_from(graph.edges)
    return spectral.spectral_gap(undirected, kind=kind)
