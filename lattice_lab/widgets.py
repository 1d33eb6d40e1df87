"""Live pruning in Jupyter: :class:`PruningLab`, and two small explorers for the theory notebooks.

The widgets are thin: every number they show comes from a pure function that tests (and
learners) can call without a browser.

* :class:`LabSettings` (frozen: method, amount, scope, seed, options, fine-tune epochs) and
  :func:`compute_state` ``(model, data, settings) -> LabState`` — prune, evaluate, measure. The
  lab maps its controls to a ``LabSettings``, asks :func:`compute_state` (through a
  :class:`LabCache`, so revisiting a slider position is instant) and draws the result.
* Every method in :data:`lattice_lab.pruning.REGISTRY` appears in the lab with no code of its
  own: its options become input boxes (from the function's keyword defaults), its scalar
  ``PruneResult.info`` entries become readouts, and the entries named in
  :data:`DIAGNOSTIC_PLOTS` (``delta_r``, ``dof``, ``meet_irreducibles``) get a plot, whatever
  their shape (a number per layer, a curve, a set of unit indices ...).
* Impossible choices never raise in a learner's face: a method that does not support the
  model's kind, or needs training data the lab was not given, is labelled in the dropdown and
  explained in the status line; an error from a method becomes a message and is recorded in
  ``LabState.error``.
* :class:`HasseExplorer` (random posets, their Hasse diagrams and meet-irreducibles) and
  :class:`SpectralGapExplorer` (regular graphs and biregular masks against the Ramanujan
  bound), each with ``.controls``, ``.state`` and a pure compute function
  (:func:`hasse_state`, :func:`spectral_state`).

Figures are drawn with matplotlib's object API (no pyplot state) into PNG ``Image`` widgets;
only the visible tab is redrawn after a change.

Sits on top of the package: nothing imports it. Must not be imported by any other module.

Examples
--------
>>> from lattice_lab.data import load
>>> from lattice_lab.models import build
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

import ast
import contextlib
import dataclasses
import html
import io
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ipywidgets as W
import numpy as np
import torch

from . import checkpoints, compare, graphs, metrics, posets, spectral, train
from .models import SCOPES, SequenceClassifier, clone, get_weight, weight_names
from .posets import Poset, dedekind_macneille, draw_hasse
from .pruning import REGISTRY, PruneResult, prune
from .settings import fast as fast_mode
from .surgery import keep_pattern as surgery_keep_pattern

DIAGNOSTIC_PLOTS = ("delta_r", "dof", "meet_irreducibles")
"""``PruneResult.info`` keys that get a plot in the lab's diagnostics tab, when a method reports them."""

DIAGNOSTIC_LABELS = {"delta_r": "Δ_r", "dof": "N̂(λ)", "meet_irreducibles": "meet-irreducibles", "lam": "λ",
                     "mu_hat": "μ̂", "theta": "θ"}
"""Display names of diagnostic keys (by key, for every method alike)."""

FAST_BUDGETS = (("epoch", 1), ("round", 2), ("iteration", 2), ("n_", 256))
"""In quick mode, a method option whose name contains one of these (``finetune_epochs``,
``rounds``, ``n_samples``, ``n_finetune`` ...; first match wins) and whose default is None or
larger starts at this value in the lab (shown in its input box), so slow methods stay quick."""

EVAL_BATCH = 10_000  # one batch for a 10k test set: 2-3x less CPU than batches of 1024 (oneDNN LSTM)
FIG_DPI = 80
AMOUNT_STEP = 0.05
AMOUNT_MAX = 0.95
_CAUGHT = (ValueError, TypeError, RuntimeError, ArithmeticError, IndexError, KeyError, NotImplementedError)


# ==================================================================================== pure core

def _freeze(value: Any) -> Any:
    """A hashable version of an option value (lists and tuples become tuples, recursively)."""
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, Mapping):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


@dataclass(frozen=True)
class LabSettings:
    """Everything that decides a :class:`LabState`: hashable, so it keys the cache.

    Parameters
    ----------
    method : a registered method name.
    amount : fraction removed (rounded to 6 decimals so slider positions coincide).
    scope : ``recurrent``, ``input`` or ``all``.
    seed : integer >= 0.
    options : method options, a dict or ``(name, value)`` pairs (stored sorted, as a tuple).
    finetune_epochs : epochs of fine-tuning after pruning (0: none).

    Examples
    --------
    >>> s = LabSettings("magnitude", 0.5, options={"per_layer": True})
    >>> s.options, s.options_dict, s == LabSettings("magnitude", 0.5000000001, options=[("per_layer", True)])
    ((('per_layer', True),), {'per_layer': True}, True)
    """

    method: str
    amount: float
    scope: str = "recurrent"
    seed: int = 0
    options: Any = ()
    finetune_epochs: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.method, str):
            raise TypeError(f"method must be a str, got {type(self.method).__name__}")
        if isinstance(self.amount, bool) or not isinstance(self.amount, (int, float)):
            raise TypeError(f"amount must be a number, got {self.amount!r}")
        for name in ("seed", "finetune_epochs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        options = self.options.items() if isinstance(self.options, Mapping) else self.options
        object.__setattr__(self, "amount", round(float(self.amount), 6))
        object.__setattr__(self, "options", tuple(sorted((str(k), _freeze(v)) for k, v in options)))

    @property
    def options_dict(self) -> dict[str, Any]:
        """The options as a dict (the keyword arguments passed to the method)."""
        return dict(self.options)

    def replace(self, **changes: Any) -> LabSettings:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class LabState:
    """What the lab shows for one :class:`LabSettings`; plain values, comparable with ``==``.

    ``result`` (the :class:`~lattice_lab.pruning.PruneResult`, for drawing and export) and
    ``seconds`` (compute time) are left out of comparisons. When the settings are impossible
    or the method fails, ``error`` says why in words and the measurements are None.
    """

    settings: LabSettings
    accuracy: float | None = None
    accuracy_finetuned: float | None = None
    dense_accuracy: float | None = None
    sparsity: float | None = None
    hidden_units: int | None = None
    params_nonzero: int | None = None
    flops: int | None = None
    flops_dense: int | None = None
    kept: tuple = ()
    diagnostics: tuple = ()
    error: str | None = None
    result: PruneResult | None = field(default=None, compare=False, repr=False)
    seconds: float = field(default=0.0, compare=False)

    @property
    def ok(self) -> bool:
        """True when the state holds measurements (no error)."""
        return self.error is None

    def diagnostic(self, key: str, default: Any = None) -> Any:
        """One readout value from :attr:`diagnostics` by key."""
        return dict(self.diagnostics).get(key, default)


class LabCache:
    """A least-recently-used cache of :class:`LabState` by :class:`LabSettings`.

    A cache serves one ``(model, data)`` pair; using it with another is a ValueError.

    >>> cache = LabCache(maxsize=2)
    >>> len(cache), cache.hits, cache.misses
    (0, 0, 0)
    """

    def __init__(self, maxsize: int = 64):
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
            raise ValueError(f"maxsize must be an integer >= 1, got {maxsize!r}")
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._states: OrderedDict[LabSettings, LabState] = OrderedDict()
        self._owner: tuple[int, int] | None = None

    def bind(self, model: Any, data: Any) -> None:
        """Tie the cache to ``(model, data)`` on first use; refuse any other pair afterwards."""
        owner = (id(model), id(data))
        if self._owner is None:
            self._owner = owner
        elif self._owner != owner:
            raise ValueError("this LabCache already serves another (model, data) pair; make a new LabCache")

    def get(self, settings: LabSettings) -> LabState | None:
        """The cached state for ``settings`` (counted as a hit or a miss), or None."""
        state = self._states.get(settings)
        if state is None:
            self.misses += 1
            return None
        self.hits += 1
        self._states.move_to_end(settings)
        return state

    def peek(self, settings: LabSettings) -> LabState | None:
        """Like :meth:`get` but neither counted nor moved."""
        return self._states.get(settings)

    def put(self, state: LabState) -> None:
        """Store ``state`` under its settings, evicting the least recently used beyond ``maxsize``."""
        self._states[state.settings] = state
        self._states.move_to_end(state.settings)
        while len(self._states) > self.maxsize:
            self._states.popitem(last=False)

    def states(self) -> list[LabState]:
        """Every cached state, least recently used first."""
        return list(self._states.values())

    def clear(self) -> None:
        """Forget every state (the binding to a model stays)."""
        self._states.clear()

    def __len__(self) -> int:
        return len(self._states)


def unavailable_reason(method: str, model: SequenceClassifier, has_train_data: bool) -> str | None:
    """Why ``method`` cannot run on ``model`` in the lab, in words; None when it can.

    >>> from lattice_lab.models import build
    >>> model = build({"kind": "gru", "input_size": 2, "hidden_size": 4, "num_classes": 2})
    >>> unavailable_reason("magnitude", model, False) is None
    True
    >>> unavailable_reason("no-such-method", model, False)
    "'no-such-method' is not a registered pruning method"
    """
    spec = REGISTRY.get(method)
    if spec is None:
        return f"{method!r} is not a registered pruning method"
    if model.kind not in spec.kinds:
        return (f"{method!r} does not work on {model.kind} models (it supports {', '.join(spec.kinds)}); "
                "choose another method")
    if spec.needs_data and not has_train_data:
        return f"{method!r} needs training data: create the lab with PruningLab(model, data, train_data=...)"
    return None


def method_label(method: str, model: SequenceClassifier, has_train_data: bool) -> str:
    """The dropdown label of a method: its name, with the reason in brackets when unavailable.

    >>> from lattice_lab.models import build
    >>> model = build({"kind": "lstm", "input_size": 2, "hidden_size": 4, "num_classes": 2})
    >>> method_label("magnitude", model, False)
    'magnitude'
    """
    spec = REGISTRY.get(method)
    if spec is not None and model.kind not in spec.kinds:
        return f"{method} (not for {model.kind})"
    if spec is not None and spec.needs_data and not has_train_data:
        return f"{method} (needs train_data)"
    return method


def lab_options(method: str, quick: bool) -> dict[str, Any]:
    """A method's options as the lab starts them: the defaults, with :data:`FAST_BUDGETS` when ``quick``.

    >>> lab_options("magnitude", quick=True)
    {'per_layer': False}
    """
    options = dict(REGISTRY[method].options)
    if quick:
        for name, default in options.items():
            for word, budget in FAST_BUDGETS:
                if (name.startswith(word) if word == "n_" else word in name) and not isinstance(default, bool) and (
                        default is None or (isinstance(default, int) and default > budget)):
                    options[name] = budget
                    break
    return options


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str, np.generic)) or (
        isinstance(value, torch.Tensor) and value.numel() == 1)


def _scalar(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _as_array(value: Any) -> np.ndarray | None:
    """A 1-D numeric numpy array from a tensor, array or list of numbers; None otherwise."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, (list, tuple)):
        if not value or not all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in value):
            return None
        value = np.asarray(value)
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.size and (
            np.issubdtype(value.dtype, np.number) or value.dtype == bool):
        return value
    return None


def _is_index_set(array: np.ndarray) -> bool:
    """Sorted distinct non-negative integers: a set of unit or element indices."""
    return (np.issubdtype(array.dtype, np.integer) and (array.size == 1 or bool(np.all(np.diff(array) > 0)))
            and int(array.min()) >= 0)


def diagnostic_readouts(info: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The readable entries of a method's ``info``, sorted by key, as plain comparable values.

    Scalars are kept; short lists of numbers (one per layer or per round, say) become tuples;
    sets of indices (``kept`` units per layer ...) become their sizes; a dict (one entry per
    weight matrix, say) is read one level down, as ``"key name"``; timings (keys ``seconds`` /
    ``*_seconds``) and everything else are left out.

    >>> diagnostic_readouts({"per_layer": False, "lam": [0.5, None], "kept": [torch.arange(30)],
    ...                      "seconds": 1.2, "unit_scores": [torch.rand(40)], "delta_r": {"W": [2.5, 1.0]}})
    (('delta_r W', (2.5, 1.0)), ('kept', (30,)), ('lam', (0.5, None)), ('per_layer', False))
    """
    out = []
    for key, value in info.items():
        if key == "seconds" or key.endswith("_seconds"):
            continue
        entries = [(f"{key} {name}", v) for name, v in value.items()] if isinstance(value, Mapping) \
            else [(key, value)]
        for label, entry in entries:
            readable = _readable(entry)
            if readable is not None:
                out.append((label, readable))
    return tuple(sorted(out, key=lambda kv: kv[0]))


def _readable(value: Any) -> Any:
    """A scalar, a short tuple of numbers, or a tuple of index-set sizes; None when not readable."""
    if _is_scalar(value):
        return _scalar(value)
    items = [value] if isinstance(value, (torch.Tensor, np.ndarray)) else value
    if not isinstance(items, (list, tuple)) or not items:
        return None
    if all(_is_scalar(v) and not isinstance(_scalar(v), str) for v in items) and len(items) <= 8:
        return tuple(_scalar(v) for v in items)
    arrays = [_as_array(v) for v in items]
    if all(a is not None and _is_index_set(a) for a in arrays):
        return tuple(int(a.size) for a in arrays)
    return None


def mask_summary(pruned: SequenceClassifier, dense: SequenceClassifier) -> tuple[tuple[str, int, int], ...]:
    """``(name, nonzero weights kept, dense size)`` for every weight matrix of the dense model."""
    present = set(weight_names(pruned, "all"))
    rows = []
    for name in weight_names(dense, "all"):
        kept = int(torch.count_nonzero(get_weight(pruned, name)).item()) if name in present else 0
        rows.append((name, kept, int(get_weight(dense, name).numel())))
    return tuple(rows)


def _seq_len(data: Any) -> int:
    inputs = getattr(data, "inputs", None)
    if isinstance(inputs, torch.Tensor):
        return int(inputs.shape[1])
    return int(data[0][0].shape[0])


def _friendly(settings: LabSettings, error: Exception) -> str:
    return (f"{settings.method} could not prune at amount {settings.amount:.2f} "
            f"(scope {settings.scope}): {error}")


def compute_state(model: SequenceClassifier, data: Any, settings: LabSettings, *, train_data: Any = None,
                  finetune_data: Any = None, cache: LabCache | None = None, dense_accuracy: float | None = None,
                  device: str = "cpu", progress: Callable[[int, int], None] | None = None) -> LabState:
    """Prune ``model`` as ``settings`` say, evaluate on ``data``, measure; never raises for bad settings.

    Parameters
    ----------
    model : the dense model (never modified).
    data : the evaluation set (every sample is evaluated).
    settings : a :class:`LabSettings`.
    train_data : for methods that need data, and for fine-tuning (``settings.finetune_epochs``).
    finetune_data : what fine-tuning trains on, when not ``train_data`` (e.g. a subset of it).
    cache : a :class:`LabCache` for this ``(model, data)``; a cached state is returned as is.
    dense_accuracy : the dense model's accuracy on ``data`` if known (computed otherwise).
    device : where to evaluate and fine-tune.
    progress : called as ``progress(epoch, epochs)`` after each fine-tuning epoch.

    Returns
    -------
    LabState
        Accuracy (before and, with fine-tuning, after), measured sparsity over the scope,
        hidden units, nonzero parameters, FLOPs, kept weights per matrix, the method's readable
        diagnostics; or ``error`` in words (unknown or unsupported method, missing training
        data, invalid amount or option, a failure inside the method).

    Examples
    --------
    >>> from lattice_lab.data import load
    >>> from lattice_lab.models import build
    >>> model = build({"kind": "rnn", "input_size": 8, "hidden_size": 8, "num_classes": 10})
    >>> state = compute_state(model, load("digits", "test"), LabSettings("magnitude", 1.5))
    >>> state.accuracy is None, state.error.split(":")[0]
    (True, 'magnitude could not prune at amount 1.50 (scope recurrent)')
    """
    if cache is not None:
        cache.bind(model, data)
        hit = cache.get(settings)
        if hit is not None:
            return hit
    start = time.perf_counter()
    if dense_accuracy is None:
        dense_accuracy = train.evaluate(model, data, device=device, batch_size=EVAL_BATCH)["accuracy"]
    reason = unavailable_reason(settings.method, model, train_data is not None)
    if reason is None and settings.finetune_epochs and train_data is None:
        reason = "fine-tuning needs training data: create the lab with PruningLab(model, data, train_data=...)"
    if reason is not None:
        state = LabState(settings, dense_accuracy=dense_accuracy, error=reason)
    else:
        try:
            tune_on = train_data if finetune_data is None else finetune_data
            state = _measure(model, data, settings, train_data, tune_on, cache, dense_accuracy, device, progress)
        except _CAUGHT as error:
            state = LabState(settings, dense_accuracy=dense_accuracy, error=_friendly(settings, error))
    state = dataclasses.replace(state, seconds=time.perf_counter() - start)
    if cache is not None:
        cache.put(state)
    return state


def _measure(model, data, settings, train_data, finetune_data, cache, dense_accuracy, device, progress) -> LabState:
    base = cache.peek(settings.replace(finetune_epochs=0)) if (cache is not None and settings.finetune_epochs) \
        else None
    if base is not None and base.result is not None:
        result, accuracy = base.result, base.accuracy
    else:
        result = prune(model, settings.method, settings.amount, train_data, scope=settings.scope,
                       seed=settings.seed, **settings.options_dict)
        accuracy = train.evaluate(result.model, data, device=device, batch_size=EVAL_BATCH)["accuracy"]
    accuracy_finetuned = None
    if settings.finetune_epochs:
        tuned = clone(result.model)
        for epoch in range(settings.finetune_epochs):
            train.finetune(tuned, finetune_data, epochs=1, seed=settings.seed + epoch, device=device, progress=False)
            if progress is not None:
                progress(epoch + 1, settings.finetune_epochs)
        tuned.cpu().eval()
        accuracy_finetuned = train.evaluate(tuned, data, device=device, batch_size=EVAL_BATCH)["accuracy"]
        result = dataclasses.replace(result, model=tuned)
    seq_len = _seq_len(data)
    return LabState(
        settings, accuracy=accuracy, accuracy_finetuned=accuracy_finetuned, dense_accuracy=dense_accuracy,
        sparsity=result.sparsity, hidden_units=metrics.hidden_units(result.model),
        params_nonzero=metrics.params_nonzero(result.model), flops=metrics.flops(result.model, seq_len),
        flops_dense=metrics.flops(model, seq_len), kept=mask_summary(result.model, model),
        diagnostics=diagnostic_readouts(result.info), result=result)


# ==================================================================================== drawing

def new_figure(width: float = 5.0, height: float = 3.2):
    """A matplotlib Figure that belongs to no pyplot state (nothing to close, nothing leaks).

    Fixed margins instead of a layout engine: drawing stays well under 100 ms.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=FIG_DPI)
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.15, top=0.9, hspace=0.75)
    return fig


def figure_png(fig) -> bytes:
    """The figure rendered as PNG bytes (Agg)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIG_DPI, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def keep_pattern(dense: SequenceClassifier, result: PruneResult, name: str) -> np.ndarray:
    """:func:`lattice_lab.surgery.keep_pattern` of a :class:`PruneResult` (its model and kept units)."""
    return surgery_keep_pattern(dense, result.model, name, result.kept_units)


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
    colour = compare.method_colour(current.settings.method)
    if points:
        xs, ys = zip(*points)
        ax.plot(xs, [100 * y for y in ys], "o-", color=colour, ms=4, label=f"{current.settings.method} (visited)")
    if current.ok:
        ax.plot([current.settings.amount], [100 * current.accuracy], "*", color=colour, ms=16, mec="black",
                label="current")
    if current.dense_accuracy is not None:
        ax.axhline(100 * current.dense_accuracy, color="black", ls="--", lw=1, label="dense")
    ax.set_xlim(-0.02, 1.0)
    ax.set_xlabel("amount (fraction removed)", fontsize=8)
    ax.set_ylabel("test accuracy (%)", fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title("accuracy vs amount (move the slider to add points)", fontsize=9)


def dependency_poset(model: SequenceClassifier, quantile: float) -> Poset:
    """The poset of the model's neuron dependency graph, edges = weights above a ``quantile`` of ``|w|``.

    Strongly connected groups of neurons collapse into one element (drawn larger).
    """
    graph = graphs.dependency_graph(model, adjacency="binary", threshold=quantile)
    return Poset.from_adjacency(graph.adjacency)


def poset_readout(poset: Poset) -> dict[str, Any]:
    """Size, height, width and irreducibles of a poset, for readouts."""
    return {"elements": poset.size, "height": poset.height(), "width": poset.width(),
            "meet-irreducibles": int(len(poset.meet_irreducibles())),
            "largest component": int(max(len(c) for c in poset.components))}


mask_spectrum = spectral.mask_spectrum  # moved to lattice_lab.spectral; kept here for one release


def draw_spectrum(ax, info: Mapping[str, Any], title: str) -> None:
    """Singular values (the bipartite adjacency spectrum ±σ) and the Ramanujan bound."""
    values = info["values"]
    ax.plot(np.arange(1, len(values) + 1), values, ".", ms=4, color="tab:blue", label="σᵢ of the mask")
    if info["bound"] is not None:
        ax.axhline(info["bound"], color="tab:red", ls="--", lw=1, label="√(d̄_L−1)+√(d̄_R−1)")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_xlabel("index i", fontsize=8)
    ax.set_ylabel("singular value", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def diagnostic_series(value: Any, label: str = "") -> list[dict[str, Any]]:
    """Plottable series in a diagnostic value of any common shape (generic, by structure).

    * a 1-D sequence of numbers: ``y`` against its index (e.g. one value per layer or per round);
    * a set of indices (sorted distinct integers): a strip of marks (``kind="set"``);
    * a dict of exactly two equal-length numeric arrays: the second against the first (a curve);
    * a dict of numbers: one bar per key; other dicts and lists: their items, labelled by key or
      position (``None`` items skipped).

    >>> [s["label"] for s in diagnostic_series([{"lam": [1, 10], "dof": [5.0, 2.0]}, None])]
    ['[0]']
    >>> diagnostic_series(torch.tensor([1, 4, 9]))[0]["kind"]
    'set'
    """
    if value is None or _is_scalar(value):
        return []
    array = _as_array(value)
    if array is not None:
        if array.size > 1 and _is_index_set(array):
            return [{"label": label, "kind": "set", "x": array.astype(float), "y": None}]
        return [{"label": label, "kind": "line", "x": np.arange(array.size), "y": array.astype(float)}]
    if isinstance(value, Mapping):
        arrays = {k: _as_array(v) for k, v in value.items()}
        if len(arrays) == 2 and all(a is not None for a in arrays.values()) and \
                len({a.size for a in arrays.values()}) == 1:
            (kx, x), (ky, y) = arrays.items()
            return [{"label": label, "kind": "curve", "x": x.astype(float), "y": y.astype(float),
                     "xlabel": kx, "ylabel": ky}]
        if value and all(_is_scalar(v) and isinstance(_scalar(v), (int, float)) for v in value.values()):
            return [{"label": label, "kind": "bar", "x": [str(k) for k in value], "y":
                     np.array([float(_scalar(v)) for v in value.values()])}]
        return [s for k, v in value.items() for s in diagnostic_series(v, f"{label}{k}")]
    if isinstance(value, (list, tuple)):
        return [s for i, v in enumerate(value) for s in diagnostic_series(v, f"{label}[{i}]")]
    return []


def draw_diagnostic(ax, key: str, value: Any) -> bool:
    """Plot one diagnostic; False (nothing drawn) when the value holds no series."""
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
        ax.legend(fontsize=6)
    ax.set_title(DIAGNOSTIC_LABELS.get(key, key), fontsize=9)
    ax.grid(alpha=0.3)
    return True


def diagnostic_label(key: str) -> str:
    """The display name of a readout key: its first word through :data:`DIAGNOSTIC_LABELS`.

    >>> diagnostic_label("delta_r layers.0.weight_hh_l0"), diagnostic_label("per_layer")
    ('Δ_r layers.0.weight_hh_l0', 'per_layer')
    """
    head, _, rest = key.partition(" ")
    return DIAGNOSTIC_LABELS.get(head, head) + (f" {rest}" if rest else "")


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


def _table(pairs: Sequence[tuple[str, Any]]) -> str:
    cells = "".join(f"<tr><td style='padding-right:1em'>{html.escape(str(k))}</td>"
                    f"<td><b>{html.escape(format_value(v))}</b></td></tr>" for k, v in pairs)
    return f"<table style='font-size:90%'>{cells}</table>"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f}%"


# ==================================================================================== widgets

def _option_widget(name: str, default: Any, value: Any) -> W.Widget:
    """An input box for one method option, typed by its default."""
    style = {"description_width": "initial"}
    if isinstance(default, bool):
        return W.Checkbox(value=bool(value), description=name, indent=False)
    if isinstance(default, int) and isinstance(value, int) and not isinstance(value, bool):
        return W.IntText(value=value, description=name, style=style, layout=W.Layout(width="220px"))
    if isinstance(default, float) and isinstance(value, (int, float)) and not isinstance(value, bool) \
            and math.isfinite(value):  # JSON (the widget protocol) has no inf: those go to a text box
        return W.FloatText(value=float(value), description=name, style=style, layout=W.Layout(width="220px"))
    text = "" if value is None else (value if isinstance(value, str) else repr(value))
    return W.Text(value=text, placeholder="None", description=name, style=style, layout=W.Layout(width="260px"))


def parse_option_text(text: str) -> Any:
    """What a learner typed in an option box: '' or 'None' -> None, Python literals, else the string.

    >>> parse_option_text(""), parse_option_text("[1, 2]"), parse_option_text("binary"), parse_option_text("inf")
    (None, (1, 2), 'binary', inf)
    """
    text = text.strip()
    if text in ("", "None"):
        return None
    if text.lower() in ("inf", "+inf", "-inf"):
        return float(text)
    try:
        return _freeze(ast.literal_eval(text))
    except (ValueError, SyntaxError):
        return text


def _option_value(widget: W.Widget) -> Any:
    return parse_option_text(widget.value) if isinstance(widget, W.Text) else widget.value


class PruningLab:
    """Prune a trained model live: pick a method and an amount, see accuracy, structure, spectra.

    Parameters
    ----------
    model : the dense :class:`~lattice_lab.models.SequenceClassifier` (never modified).
    data : the evaluation set (every sample is evaluated at each change).
    train_data : for methods that need data (``spectral`` ...) and for fine-tuning.
    method, amount : the starting (and reset) settings; default method ``magnitude``.
    quick : shrink slow methods' budgets (:data:`FAST_BUDGETS`) and the compare-all grid;
        default: :func:`lattice_lab.settings.fast`.
    device : where to evaluate and fine-tune.
    finetune_samples : fine-tune on a seeded subset of this many training samples (default:
        all of them, 2000 in quick mode).
    card : the checkpoint card of ``model``, if it came from one (copied into exported cards).

    Attributes
    ----------
    controls : dict of the widgets by name: ``method``, ``amount``, ``scope``, ``seed``,
        ``finetune_epochs``, ``finetune``, ``reset``, ``compare``, ``compare_x``, ``matrix``,
        ``hasse_quantile``, ``export_path``, ``export_checkpoint``, ``masks_path``, ``export_masks``, ``tabs``,
        and ``option.<name>`` for each option of the current method.
    state : the :class:`LabState` shown now.
    messages : every status message shown, oldest first.
    errors : unexpected exceptions caught by the UI (shown as messages instead of tracebacks).
    widget : the root widget (a notebook cell that ends with the lab displays it).
    """

    TABS = ("weights", "accuracy", "poset", "spectrum", "diagnostics", "compare all")

    def __init__(self, model: SequenceClassifier, data: Any, *, train_data: Any = None, method: str | None = None,
                 amount: float = 0.5, quick: bool | None = None, device: str = "cpu",
                 finetune_samples: int | None = None, card: dict | None = None):
        if not isinstance(model, SequenceClassifier):
            raise TypeError(f"model must be a lattice_lab SequenceClassifier (lattice_lab.models.build), "
                            f"got {type(model).__name__}")
        if not REGISTRY:
            raise ValueError("no pruning methods are registered")
        self.model, self.data, self.device, self.card = model, data, device, card
        self.quick = fast_mode() if quick is None else bool(quick)
        if finetune_samples is None and self.quick:
            finetune_samples = 2000
        if train_data is not None and finetune_samples is not None and hasattr(train_data, "subset") \
                and len(train_data) > finetune_samples:
            self.finetune_data = train_data.subset(finetune_samples, seed=0)
        else:
            self.finetune_data = train_data
        self.train_data = train_data
        self.cache = LabCache()
        self.dense_accuracy = train.evaluate(model, data, device=device, batch_size=EVAL_BATCH)["accuracy"]
        self.options = {name: lab_options(name, self.quick) for name in REGISTRY}
        self.compare_rows: list[dict] | None = None
        self.messages: list[str] = []
        self.errors: list[str] = []
        self.state: LabState | None = None
        usable = [m for m in sorted(REGISTRY) if unavailable_reason(m, model, train_data is not None) is None]
        default_method = method or ("magnitude" if "magnitude" in usable else (usable or sorted(REGISTRY))[0])
        self.defaults = {"method": default_method, "amount": float(amount), "scope": "recurrent", "seed": 0}
        self._drawn: dict[int, Any] = {}
        self._version = 0
        self._quiet = False
        self._build()
        self.refresh()

    # ------------------------------------------------------------------ construction
    def _build(self) -> None:
        has_train = self.train_data is not None
        c: dict[str, W.Widget] = {}
        c["method"] = W.Dropdown(options=[(method_label(m, self.model, has_train), m) for m in sorted(REGISTRY)],
                                 value=self.defaults["method"], description="method")
        c["amount"] = W.FloatSlider(value=self.defaults["amount"], min=0.0, max=AMOUNT_MAX, step=AMOUNT_STEP,
                                    continuous_update=False, readout_format=".2f", description="amount")
        c["amount"].add_class("ll-amount")
        c["scope"] = W.Dropdown(options=list(SCOPES), value="recurrent", description="scope")
        c["seed"] = W.BoundedIntText(value=0, min=0, max=10**6, description="seed", layout=W.Layout(width="160px"))
        c["finetune_epochs"] = W.BoundedIntText(value=1, min=1, max=50, description="epochs",
                                                layout=W.Layout(width="150px"))
        c["finetune"] = W.Button(description="fine-tune", icon="graduation-cap",
                                 tooltip="fine-tune the pruned model on the training data" if has_train
                                 else "needs train_data: PruningLab(model, data, train_data=...)")
        c["reset"] = W.Button(description="reset", icon="undo", tooltip="back to the starting settings")
        c["compare"] = W.Button(description="compare all methods", icon="balance-scale",
                                tooltip="sweep every available method over a grid of amounts")
        c["compare_x"] = W.Dropdown(options=["sparsity", "flops", "hidden_units", "amount"], value="sparsity",
                                    description="x axis")
        names = weight_names(self.model, "all")
        recurrent = weight_names(self.model, "recurrent")
        c["matrix"] = W.Dropdown(options=names, value=recurrent[0] if recurrent else names[0], description="matrix")
        c["hasse_quantile"] = W.FloatSlider(value=0.98, min=0.0, max=0.999, step=0.001, readout_format=".3f",
                                            continuous_update=False, description="edges ≥ q",
                                            tooltip="draw only connections stronger than this quantile of |w|")
        c["export_path"] = W.Text(value="pruned.pt", description="checkpoint", layout=W.Layout(width="280px"))
        c["export_checkpoint"] = W.Button(description="save checkpoint", icon="save")
        c["masks_path"] = W.Text(value="pruned-masks.pt", description="masks", layout=W.Layout(width="280px"))
        c["export_masks"] = W.Button(description="save masks", icon="save")
        self.progress = W.IntProgress(value=0, min=0, max=1, description="fine-tune", layout=W.Layout(width="260px"))
        self.status = W.HTML().add_class("ll-status")
        self.accuracy_readout = W.HTML().add_class("ll-accuracy")
        self.readouts = W.HTML().add_class("ll-readouts")
        self.summary = W.HTML()
        self.options_box = W.VBox()
        self.images = [W.Image(format="png", layout=W.Layout(max_width="640px")) for _ in self.TABS]
        self.view_notes = [W.HTML() for _ in self.TABS]
        views = [W.VBox([c["matrix"], self.images[0], self.view_notes[0]]),
                 W.VBox([self.images[1], self.view_notes[1]]),
                 W.VBox([c["hasse_quantile"], self.images[2], self.view_notes[2]]),
                 W.VBox([self.images[3], self.view_notes[3]]),
                 W.VBox([self.images[4], self.view_notes[4]]),
                 W.VBox([W.HBox([c["compare"], c["compare_x"]]), self.images[5], self.view_notes[5]])]
        c["tabs"] = W.Tab(children=views, titles=self.TABS)
        self.controls = c
        self._option_names: list[str] = []
        self._rebuild_options()
        if not has_train:
            c["finetune"].disabled = True
        c["method"].observe(self._on_method, names="value")
        for name in ("amount", "scope", "seed"):
            c[name].observe(self._on_settings, names="value")
        for name in ("matrix", "hasse_quantile", "compare_x"):
            c[name].observe(self._on_view, names="value")
        c["tabs"].observe(self._on_view, names="selected_index")
        c["finetune"].on_click(lambda _: self._guard(self.finetune))
        c["reset"].on_click(lambda _: self._guard(self.reset))
        c["compare"].on_click(lambda _: self._guard(self.run_compare))
        c["export_masks"].on_click(lambda _: self._guard(lambda: self.export_masks(c["masks_path"].value)))
        c["export_checkpoint"].on_click(lambda _: self._guard(lambda: self.export_checkpoint(c["export_path"].value)))
        header = W.HTML(f"<b>PruningLab</b> — {self.model.kind} {self.model.config['hidden_size']} on "
                        f"{html.escape(str(getattr(self.data, 'name', 'data')))} ({len(self.data)} samples); "
                        f"dense accuracy <b>{_percent(self.dense_accuracy)}</b>")
        self.widget = W.VBox([
            header,
            W.HBox([c["method"], c["amount"]]),
            W.HBox([c["scope"], c["seed"], c["reset"]]),
            self.summary,
            W.Accordion(children=[self.options_box], titles=("method options",)),
            W.HBox([c["finetune_epochs"], c["finetune"], self.progress]),
            self.status,
            W.HBox([W.VBox([self.accuracy_readout, self.readouts]), c["tabs"]]),
            W.HBox([c["export_path"], c["export_checkpoint"], c["masks_path"], c["export_masks"]]),
        ]).add_class("ll-lab")

    def _rebuild_options(self) -> None:
        method = self.controls["method"].value
        for name in self._option_names:
            self.controls.pop(f"option.{name}", None)
        spec = REGISTRY[method]
        values = self.options[method]
        boxes = []
        for name, default in spec.options.items():
            box = _option_widget(name, default, values[name])
            box.observe(self._on_option, names="value")
            self.controls[f"option.{name}"] = box
            boxes.append(box)
        self._option_names = list(spec.options)
        self.options_box.children = boxes or [W.HTML("<i>this method has no options</i>")]
        needs = " Needs training data." if spec.needs_data else ""
        scope = (" Removes whole units, so the scope only sets what the sparsity is measured over."
                 if spec.level == "unit" else "")
        self.summary.value = (f"<span style='font-size:90%'><b>{html.escape(method)}</b> ({spec.level}-level): "
                              f"{html.escape(spec.summary)}.{needs}{scope}</span>")

    def _repr_mimebundle_(self, **kwargs: Any):
        return self.widget._repr_mimebundle_(**kwargs)

    # ------------------------------------------------------------------ settings and state
    @property
    def settings(self) -> LabSettings:
        """The :class:`LabSettings` the controls describe now (no fine-tuning)."""
        c = self.controls
        return LabSettings(c["method"].value, c["amount"].value, c["scope"].value, int(c["seed"].value),
                           self.options[c["method"].value])

    def refresh(self, settings: LabSettings | None = None,
                progress: Callable[[int, int], None] | None = None) -> LabState:
        """Compute (or fetch from the cache) the state of ``settings`` (default: the controls) and show it."""
        settings = self.settings if settings is None else settings
        hits = self.cache.hits
        with self._busy():
            self.state = compute_state(self.model, self.data, settings, train_data=self.train_data,
                                       finetune_data=self.finetune_data, cache=self.cache,
                                       dense_accuracy=self.dense_accuracy, device=self.device, progress=progress)
        self._version += 1
        self._show_state(from_cache=self.cache.hits > hits)
        self._draw_current()
        return self.state

    def finetune(self) -> LabState:
        """Fine-tune the current pruned model for ``controls['finetune_epochs']`` epochs and show it."""
        epochs = int(self.controls["finetune_epochs"].value)
        self.progress.max, self.progress.value = epochs, 0

        def step(epoch: int, total: int) -> None:
            self.progress.value = epoch

        state = self.refresh(self.settings.replace(finetune_epochs=epochs), progress=step)
        self.progress.value = epochs if state.ok else 0
        return state

    def reset(self) -> LabState:
        """Controls back to the starting settings (method options too); the model was never changed."""
        self._quiet = True
        try:
            self.options = {name: lab_options(name, self.quick) for name in REGISTRY}
            c = self.controls
            c["method"].value = self.defaults["method"]
            self._rebuild_options()
            c["amount"].value = self.defaults["amount"]
            c["scope"].value = self.defaults["scope"]
            c["seed"].value = self.defaults["seed"]
            self.progress.value = 0
        finally:
            self._quiet = False
        return self.refresh()

    # ------------------------------------------------------------------ events
    def _guard(self, action: Callable[[], Any]) -> None:
        """Run a UI action; anything unexpected becomes a message, never a traceback."""
        try:
            action()
        except Exception as error:  # noqa: BLE001 - the UI shows it instead of raising
            self.errors.append(f"{type(error).__name__}: {error}")
            self._message(f"something went wrong: {type(error).__name__}: {error}", error=True)

    def _on_method(self, change: dict) -> None:
        if self._quiet:
            return
        self._rebuild_options()
        self._guard(self.refresh)

    def _on_settings(self, change: dict) -> None:
        if not self._quiet:
            self._guard(self.refresh)

    def _on_option(self, change: dict) -> None:
        if self._quiet:
            return
        method = self.controls["method"].value
        self.options[method] = {name: _option_value(self.controls[f"option.{name}"]) for name in self._option_names}
        self._guard(self.refresh)

    def _on_view(self, change: dict) -> None:
        self._guard(self._draw_current)

    # ------------------------------------------------------------------ view
    @contextlib.contextmanager
    def _busy(self) -> Iterator[None]:
        """Show "computing…" and disable every control while the body runs."""
        self.status.value = "<span style='color:#b26b00'>computing…</span>"
        saved = {name: w.disabled for name, w in self.controls.items() if hasattr(w, "disabled")}
        for name in saved:
            self.controls[name].disabled = True
        try:
            yield
        finally:
            for name, disabled in saved.items():
                if name in self.controls:
                    self.controls[name].disabled = disabled

    def _message(self, text: str, error: bool = False) -> None:
        self.messages.append(text)
        colour = "#b00020" if error else "#2e7d32"
        self.status.value = f"<span style='color:{colour}'>{html.escape(text)}</span>"

    def _show_state(self, from_cache: bool = False) -> None:
        state = self.state
        if not state.ok:
            self._message(state.error, error=True)
            self.accuracy_readout.value = "accuracy <b>–</b>"
            self.readouts.value = ""
            return
        s = state.settings
        tuned = f" → <b>{_percent(state.accuracy_finetuned)}</b> after {s.finetune_epochs} epoch(s) fine-tuning" \
            if state.accuracy_finetuned is not None else ""
        self.accuracy_readout.value = (f"accuracy <b>{_percent(state.accuracy)}</b>{tuned} "
                                       f"<span style='color:gray'>(dense {_percent(state.dense_accuracy)})</span>")
        pairs = [("sparsity (" + s.scope + ")", _percent(state.sparsity)),
                 ("hidden units", f"{state.hidden_units} of {metrics.hidden_units(self.model)}"),
                 ("nonzero parameters", state.params_nonzero),
                 ("FLOPs / sequence", f"{state.flops:,} ({100 * state.flops / state.flops_dense:.0f}% of dense)")]
        known = [(k, v) for k, v in state.diagnostics if k.split(" ")[0] in DIAGNOSTIC_PLOTS]
        pairs += [(diagnostic_label(k), v) for k, v in known + [d for d in state.diagnostics if d not in known]]
        self.readouts.value = _table(pairs)
        timing = "from the cache" if from_cache else f"computed in {state.seconds:.2f} s"
        self._message(f"{s.method} at amount {s.amount:.2f}: {timing}")

    def _draw_current(self) -> None:
        index = self.controls["tabs"].selected_index or 0
        key = (self._version, self.controls["matrix"].value, self.controls["hasse_quantile"].value,
               self.controls["compare_x"].value, id(self.compare_rows))
        if self._drawn.get(index) == key:
            return
        self._drawn[index] = key
        draw = (self._draw_weights, self._draw_curve, self._draw_poset, self._draw_spectrum,
                self._draw_diagnostics, self._draw_compare)[index]
        draw(self.images[index], self.view_notes[index])

    def _draw_weights(self, image: W.Image, note: W.HTML) -> None:
        if not self.state.ok:
            note.value = "<i>no pruned model to show</i>"
            return
        fig = new_figure(5.0, 3.4)
        draw_weights(fig.add_subplot(), self.model, self.state.result, self.controls["matrix"].value)
        image.value = figure_png(fig)
        note.value = ""

    def _draw_curve(self, image: W.Image, note: W.HTML) -> None:
        fig = new_figure(5.0, 3.2)
        draw_amount_curve(fig.add_subplot(), self.cache.states(), self.state)
        image.value = figure_png(fig)

    def _draw_poset(self, image: W.Image, note: W.HTML) -> None:
        if not self.state.ok:
            note.value = "<i>no pruned model to show</i>"
            return
        posets = [v for v in self.state.result.info.values() if isinstance(v, Poset)]
        quantile = self.controls["hasse_quantile"].value
        poset = posets[0] if posets else dependency_poset(self.state.result.model, quantile)
        fig = new_figure(5.0, 3.6)
        ax = fig.add_subplot()
        draw_hasse(poset, ax, labels=poset.size <= 30, highlight=poset.meet_irreducibles())
        ax.set_title("dependency poset (red: meet-irreducible)", fontsize=9)
        image.value = figure_png(fig)
        source = "reported by the method" if posets else f"connections with |w| above the {quantile:.3f} quantile"
        note.value = f"<span style='font-size:90%'>{source}</span>" + _table(list(poset_readout(poset).items()))

    def _draw_spectrum(self, image: W.Image, note: W.HTML) -> None:
        if not self.state.ok:
            note.value = "<i>no pruned model to show</i>"
            return
        name = self.controls["matrix"].value
        info = mask_spectrum(keep_pattern(self.model, self.state.result, name))
        fig = new_figure(5.0, 3.2)
        draw_spectrum(fig.add_subplot(), info, f"spectrum of the mask of {name}")
        image.value = figure_png(fig)
        pairs = [("σ₁", info["values"][0]), ("μ̂ = σ₂", info["values"][1] if len(info["values"]) > 1 else None),
                 ("average degrees d̄_L, d̄_R", (info["d_left"], info["d_right"])), ("Ramanujan bound", info["bound"]),
                 ("Δ_r", info["delta_r"] if info["delta_r"] is not None else "undefined")]
        note.value = _table(pairs) + (f"<span style='font-size:85%;color:gray'>{html.escape(info['note'])}</span>"
                                      if info["note"] else "")

    def _draw_diagnostics(self, image: W.Image, note: W.HTML) -> None:
        info = self.state.result.info if self.state.ok else {}
        keys = [k for k in DIAGNOSTIC_PLOTS if k in info and diagnostic_series(info[k])]
        if not keys:
            image.value = b""
            note.value = (f"<i>{html.escape(self.state.settings.method)} reports no "
                          f"{', '.join(DIAGNOSTIC_LABELS[k] for k in DIAGNOSTIC_PLOTS)} to plot; its readouts "
                          "are listed on the left.</i>")
            return
        height = 2.4 * len(keys)
        fig = new_figure(5.0, height)
        fig.subplots_adjust(bottom=0.5 / height, top=1 - 0.3 / height, hspace=0.8)
        for i, key in enumerate(keys):
            draw_diagnostic(fig.add_subplot(len(keys), 1, i + 1), key, info[key])
        image.value = figure_png(fig)
        note.value = ""

    def _draw_compare(self, image: W.Image, note: W.HTML) -> None:
        if self.compare_rows is None:
            note.value = "<i>press “compare all methods” to sweep every available method</i>"
            return
        x = self.controls["compare_x"].value
        fig = new_figure(5.5, 3.6)
        ax = fig.add_subplot()
        compare.plot_accuracy(self.compare_rows, x, ax=ax)
        state = self.state
        if state.ok and x in ("sparsity", "flops", "hidden_units", "amount"):
            value = {"sparsity": state.sparsity, "flops": state.flops, "hidden_units": state.hidden_units,
                     "amount": state.settings.amount}[x]
            ax.plot([value], [100 * state.accuracy], "*", ms=16, mec="black",
                    color=compare.method_colour(state.settings.method), label="current")
        image.value = figure_png(fig)
        note.value = f"<pre style='font-size:80%'>{html.escape(compare.format_table(self.compare_rows))}</pre>"

    # ------------------------------------------------------------------ compare, export
    def compare_amounts(self) -> tuple[float, ...]:
        """The amounts of the compare-all sweep (fewer in quick mode)."""
        return (0.5, 0.9) if self.quick else (0.25, 0.5, 0.75, 0.9)

    def run_compare(self) -> list[dict]:
        """Sweep every available method over :meth:`compare_amounts` (cached) and show the overlay."""
        has_train = self.train_data is not None
        methods = [m for m in sorted(REGISTRY) if unavailable_reason(m, self.model, has_train) is None]
        settings = self.settings
        with self._busy():
            rows = compare.sweep(self.model, self.data, methods=methods, amounts=self.compare_amounts(),
                                 seeds=[settings.seed], train_data=self.train_data, scope=settings.scope,
                                 options={m: self.options[m] for m in methods}, device=self.device, progress=False)
        self.compare_rows = rows
        self.controls["tabs"].selected_index = self.TABS.index("compare all")
        self._draw_current()
        self._message(f"compared {len(methods)} methods at amounts {list(self.compare_amounts())}")
        return rows

    def _pruned(self) -> PruneResult:
        if self.state is None or not self.state.ok:
            raise ValueError("there is no pruned model to export: "
                             + (self.state.error if self.state is not None else "nothing computed yet"))
        return self.state.result

    def export_masks(self, path: str | Path) -> Path:
        """``torch.save`` the current masks, kept units and settings to ``path``; returns the path."""
        result = self._pruned()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"masks": {k: v.detach().cpu() for k, v in result.masks.items()},
                   "kept_units": None if result.kept_units is None else [k.cpu() for k in result.kept_units],
                   "settings": dataclasses.asdict(self.state.settings) | {"options": self.state.settings.options_dict},
                   "sparsity": self.state.sparsity}
        torch.save(payload, path)
        self._message(f"saved the masks to {path}")
        return path

    def export_checkpoint(self, path: str | Path) -> Path:
        """Save the current pruned model (masks attached) with a card that records the pruning."""
        result, state = self._pruned(), self.state
        s = state.settings
        pruned = {"method": s.method, "amount": s.amount, "scope": s.scope, "seed": s.seed,
                  "options": {k: v if isinstance(v, (bool, int, float, str, type(None))) else repr(v)
                              for k, v in s.options}, "finetune_epochs": s.finetune_epochs,
                  "sparsity": state.sparsity, "hidden_units": state.hidden_units, "accuracy": state.accuracy,
                  "accuracy_finetuned": state.accuracy_finetuned, "dense_accuracy": state.dense_accuracy}
        accuracy = state.accuracy_finetuned if state.accuracy_finetuned is not None else state.accuracy
        base = dict(self.card or {})
        card = checkpoints.make_card(
            dataset=base.get("dataset", getattr(self.data, "name", "unknown")), layout=base.get("layout", "rows"),
            n_train=base.get("n_train", len(self.train_data) if self.train_data is not None else 0),
            n_test=len(self.data), epochs=base.get("epochs", 0), seed=s.seed, device=self.device,
            test_accuracy=accuracy, command=f"PruningLab: prune({s.method!r}, amount={s.amount}, scope={s.scope!r})",
            config=result.model.config, pruned=pruned, dense_card={k: v for k, v in base.items() if k != "history"})
        written = checkpoints.save(path, result.model.cpu(), card)
        self._message(f"saved the pruned checkpoint to {written}")
        return written


# ==================================================================================== explorers

random_poset = posets.random_poset  # moved to lattice_lab.posets; kept here for one release


@dataclass(frozen=True)
class HasseState:
    """Readouts of :class:`HasseExplorer`; ``poset`` (for drawing) is left out of comparisons."""

    size: int = 0
    height: int = 0
    width: int = 0
    is_lattice: bool = False
    meet_irreducibles: tuple = ()
    join_irreducibles: tuple = ()
    error: str | None = None
    poset: Poset | None = field(default=None, compare=False, repr=False)


def hasse_state(poset: Poset, complete: bool = False) -> HasseState:
    """Size, height, width, lattice test and irreducibles of ``poset`` (or of its Dedekind–MacNeille completion).

    >>> s = hasse_state(random_poset(5, 0.0), complete=True)   # 5 incomparable elements + ⊥ + ⊤
    >>> s.size, s.height, s.is_lattice, len(s.meet_irreducibles)
    (7, 3, True, 5)
    """
    if not isinstance(poset, Poset):
        raise TypeError(f"poset must be a Poset, got {type(poset).__name__}")
    try:
        shown = dedekind_macneille(poset)[0] if complete else poset
    except ValueError as error:
        return HasseState(error=f"the completion is too large to draw: {error}")
    return HasseState(size=shown.size, height=shown.height(), width=shown.width(), is_lattice=shown.is_lattice(),
                      meet_irreducibles=tuple(int(i) for i in shown.meet_irreducibles()),
                      join_irreducibles=tuple(int(i) for i in shown.join_irreducibles()), poset=shown)


class _Explorer:
    """Shared plumbing: controls -> pure state -> one figure and a readout table."""

    def __init__(self) -> None:
        self.image = W.Image(format="png", layout=W.Layout(max_width="560px"))
        self.readout = W.HTML().add_class("ll-readouts")
        self.status = W.HTML().add_class("ll-status")

    def _watch(self) -> None:
        for widget in self.controls.values():
            widget.observe(lambda _: self._update(), names="value")

    def _update(self) -> None:
        try:
            self.refresh()
        except Exception as error:  # noqa: BLE001 - the UI shows it instead of raising
            self.status.value = f"<span style='color:#b00020'>{html.escape(f'{type(error).__name__}: {error}')}</span>"

    def _repr_mimebundle_(self, **kwargs: Any):
        return self.widget._repr_mimebundle_(**kwargs)


class HasseExplorer(_Explorer):
    """Random posets (or one given poset) drawn as Hasse diagrams, meet-irreducibles in red.

    Controls: ``n``, ``density``, ``seed`` (ignored when a poset is given) and ``complete``
    (show the Dedekind–MacNeille completion). ``state`` is a :class:`HasseState`.

    >>> explorer = HasseExplorer(n=6, density=0.4)
    >>> explorer.controls["complete"].value = True
    >>> explorer.state.is_lattice
    True
    """

    def __init__(self, poset: Poset | None = None, *, n: int = 8, density: float = 0.3, seed: int = 0):
        super().__init__()
        if poset is not None and not isinstance(poset, Poset):
            raise TypeError(f"poset must be a Poset or None, got {type(poset).__name__}")
        self.fixed = poset
        fixed = poset is not None
        self.controls = {
            "n": W.IntSlider(value=n, min=1, max=40, description="n", continuous_update=False, disabled=fixed),
            "density": W.FloatSlider(value=density, min=0.0, max=1.0, step=0.05, description="density",
                                     continuous_update=False, disabled=fixed),
            "seed": W.BoundedIntText(value=seed, min=0, max=10**6, description="seed", disabled=fixed,
                                     layout=W.Layout(width="160px")),
            "complete": W.Checkbox(value=False, description="Dedekind–MacNeille completion", indent=False),
        }
        self.state: HasseState | None = None
        self.widget = W.VBox([W.HBox([self.controls["n"], self.controls["density"], self.controls["seed"]]),
                              self.controls["complete"], self.status, W.HBox([self.image, self.readout])])
        self._watch()
        self.refresh()

    def poset(self) -> Poset:
        """The poset the controls describe (the given one, or a random one)."""
        if self.fixed is not None:
            return self.fixed
        c = self.controls
        return random_poset(int(c["n"].value), float(c["density"].value), int(c["seed"].value))

    def refresh(self) -> HasseState:
        """Recompute the state from the controls and redraw."""
        self.state = hasse_state(self.poset(), complete=self.controls["complete"].value)
        if self.state.error:
            self.status.value = f"<span style='color:#b00020'>{html.escape(self.state.error)}</span>"
            return self.state
        self.status.value = ""
        fig = new_figure(4.5, 3.6)
        ax = fig.add_subplot()
        draw_hasse(self.state.poset, ax, highlight=list(self.state.meet_irreducibles))
        ax.set_title("Hasse diagram (red: meet-irreducible)", fontsize=9)
        self.image.value = figure_png(fig)
        s = self.state
        self.readout.value = _table([("elements", s.size), ("height", s.height), ("width", s.width),
                                     ("lattice", s.is_lattice), ("meet-irreducibles", len(s.meet_irreducibles)),
                                     ("join-irreducibles", len(s.join_irreducibles))])
        return self.state


SPECTRAL_FAMILIES = {"random d-regular graph": "regular", "cycle": "cycle", "complete graph": "complete",
                     "random biregular mask": "biregular"}


@dataclass(frozen=True)
class SpectralState:
    """Readouts of :class:`SpectralGapExplorer`.

    ``values``: adjacency eigenvalues (graphs, descending) or singular values (masks);
    ``trivial``: the top one (d, or σ₁ = √(cd)); ``second``: ``max(|λ₂|, |λₙ|)`` or ``μ̂ = σ₂``;
    ``bound``: the Ramanujan bound (2√(d−1), or √(c−1)+√(d−1)); ``gap``: ``λ₁ − λ₂`` or ``σ₁ − σ₂``;
    ``delta_r``: Δ_r when the average degrees are ≥ 3, else None.
    """

    family: str
    values: tuple = ()
    trivial: float | None = None
    second: float | None = None
    bound: float | None = None
    gap: float | None = None
    delta_r: float | None = None
    ramanujan: bool | None = None
    degrees: tuple = ()
    error: str | None = None


def spectral_state(family: str, n: int, degree: int = 3, seed: int = 0, n_in: int | None = None) -> SpectralState:
    """Spectrum, gap and Ramanujan test of one graph or mask; bad combinations give ``error``, not an exception.

    Parameters
    ----------
    family : ``regular`` (random d-regular graph on n nodes), ``cycle``, ``complete``, or
        ``biregular`` (a random ``n x n_in`` mask with ``degree`` ones per row).
    n, degree, seed, n_in : sizes, degree (ignored by cycle and complete) and seed.

    >>> s = spectral_state("complete", 5)
    >>> round(s.trivial, 6), round(s.second, 6), s.ramanujan
    (4.0, 1.0, True)
    >>> spectral_state("regular", 5, 3).error
    'n * d must be even for a d-regular graph, got n=5, d=3'
    """
    import networkx as nx

    if family not in SPECTRAL_FAMILIES.values():
        raise ValueError(f"family must be one of {sorted(SPECTRAL_FAMILIES.values())}, got {family!r}")
    try:
        if family == "biregular":
            n_in = n if n_in is None else n_in
            mask = spectral.biregular_mask(n, n_in, degree, seed=seed)
            values = spectral.mask_singular_values(mask)
            ok, c, d = spectral.is_biregular(mask)
            bound = spectral.ramanujan_bound_biregular(c, d) if c >= 1 and d >= 1 else None
            return SpectralState(family, tuple(float(v) for v in values), float(values[0]),
                                 float(values[1]) if len(values) > 1 else 0.0, bound,
                                 float(values[0] - (values[1] if len(values) > 1 else 0.0)), _delta_r(mask),
                                 spectral.is_ramanujan_biregular(mask), (c, d))
        if family == "regular":
            adjacency = spectral.random_regular_mask(n, degree, seed=seed)
        elif family == "cycle":
            if n < 3:
                raise ValueError(f"a cycle needs n >= 3 nodes, got n={n}")
            adjacency = nx.to_numpy_array(nx.cycle_graph(n))
        else:
            if n < 2:
                raise ValueError(f"a complete graph needs n >= 2 nodes, got n={n}")
            adjacency = nx.to_numpy_array(nx.complete_graph(n))
        d = int(adjacency[0].sum())
        if d < 1:
            raise ValueError("the graph has no edges (degree 0): its spectrum is all zeros")
        values = spectral.adjacency_spectrum(adjacency)
        return SpectralState(family, tuple(float(v) for v in values), float(values[0]),
                             spectral.second_largest_abs_eigenvalue(adjacency), spectral.ramanujan_bound_regular(d),
                             spectral.spectral_gap(adjacency), _delta_r(adjacency),
                             spectral.is_ramanujan_regular(adjacency), (d,))
    except (ValueError, TypeError) as error:
        return SpectralState(family, error=str(error))


def _delta_r(mask: np.ndarray) -> float | None:
    try:
        return spectral.delta_r(mask)
    except ValueError:
        return None


class SpectralGapExplorer(_Explorer):
    """Spectra of regular graphs and biregular masks against the Ramanujan bound.

    Controls: ``family``, ``n``, ``degree``, ``n_in`` (biregular masks only), ``seed``.
    ``state`` is a :class:`SpectralState`.

    >>> explorer = SpectralGapExplorer()
    >>> explorer.controls["family"].value = "cycle"
    >>> round(explorer.state.trivial, 6)
    2.0
    """

    def __init__(self, family: str = "regular", *, n: int = 32, degree: int = 4, n_in: int = 32, seed: int = 0):
        super().__init__()
        self.controls = {
            "family": W.Dropdown(options=list(SPECTRAL_FAMILIES.items()), value=family, description="family"),
            "n": W.IntSlider(value=n, min=2, max=256, description="n (rows)", continuous_update=False),
            "degree": W.IntSlider(value=degree, min=1, max=64, description="degree", continuous_update=False),
            "n_in": W.IntSlider(value=n_in, min=2, max=256, description="n_in (cols)", continuous_update=False),
            "seed": W.BoundedIntText(value=seed, min=0, max=10**6, description="seed", layout=W.Layout(width="160px")),
        }
        self.state: SpectralState | None = None
        c = self.controls
        self.widget = W.VBox([W.HBox([c["family"], c["seed"]]), W.HBox([c["n"], c["degree"], c["n_in"]]),
                              self.status, W.HBox([self.image, self.readout])])
        self._watch()
        self.refresh()

    def refresh(self) -> SpectralState:
        """Recompute the state from the controls and redraw."""
        c = self.controls
        family = c["family"].value
        c["degree"].disabled = family in ("cycle", "complete")
        c["n_in"].disabled = family != "biregular"
        self.state = s = spectral_state(family, int(c["n"].value), int(c["degree"].value), int(c["seed"].value),
                                        int(c["n_in"].value))
        if s.error:
            self.status.value = f"<span style='color:#b00020'>{html.escape(s.error)}</span>"
            self.readout.value = ""
            return s
        self.status.value = ""
        fig = new_figure(4.8, 3.2)
        ax = fig.add_subplot()
        ax.plot(np.arange(1, len(s.values) + 1), s.values, ".", ms=5)
        if s.bound is not None:
            ax.axhline(s.bound, color="tab:red", ls="--", lw=1, label=f"Ramanujan bound {s.bound:.3g}")
            if family != "biregular":
                ax.axhline(-s.bound, color="tab:red", ls="--", lw=1)
        ax.set_xlabel("index", fontsize=8)
        ax.set_ylabel("singular value" if family == "biregular" else "adjacency eigenvalue", fontsize=8)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        self.image.value = figure_png(fig)
        second = "μ̂ = σ₂" if family == "biregular" else "max(|λ₂|, |λₙ|)"
        self.readout.value = _table([("degrees", s.degrees), ("trivial", s.trivial), (second, s.second),
                                     ("Ramanujan bound", s.bound), ("spectral gap", s.gap),
                                     ("Δ_r", s.delta_r), ("Ramanujan", s.ramanujan)])
        return s
