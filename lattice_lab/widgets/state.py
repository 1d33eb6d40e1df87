"""The pruning lab's state: settings in, measurements out, no widgets and no figures.

:class:`LabSettings` (frozen: method, amount, scope, seed, options, fine-tune epochs) says what
to compute; :func:`compute_state` ``(model, data, settings) -> LabState`` prunes, evaluates and
measures, and never raises for bad settings: an impossible choice or a failing method becomes
``LabState.error``, in words. A :class:`LabCache` keeps the states of visited settings, so
revisiting a slider position is instant.

Every method in :data:`lattice_lab.pruning.REGISTRY` is served with no code of its own: its
options start from its keyword defaults (:func:`lab_options`, with :data:`FAST_BUDGETS` in quick
mode), its readable ``PruneResult.info`` entries become readouts (:func:`diagnostic_readouts`),
and its registry entry names the diagnostics that get a plot and their display names
(:func:`diagnostic_plots`, :func:`diagnostic_labels`).

This module imports neither ipywidgets nor matplotlib, nor any other module of
``lattice_lab.widgets`` (``tests/widgets/test_lab_state.py`` checks it), so the lab's logic runs
and is tested without a notebook.

Must not import: cli, compare.

Examples
--------
>>> from lattice_lab.data import load
>>> from lattice_lab.models import build
>>> test = load("digits", "test")
>>> model = build({"kind": "lstm", "input_size": 8, "hidden_size": 16, "num_classes": 10})
>>> state = compute_state(model, test, LabSettings("magnitude", 0.5))
>>> state.error is None, state.sparsity, state.hidden_units
(True, 0.5, 16)
>>> compute_state(model, test, LabSettings("magnitude-units", 0.75)).hidden_units
4
"""
from __future__ import annotations

import ast
import dataclasses
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .. import graphs, metrics, train
from ..models import SequenceClassifier, attached_view, clone, get_weight, weight_names
from ..recurrent.methods import mirror
from ..posets import Poset
from ..pruning import REGISTRY, PruneResult, prune
from ..surgery import keep_pattern as surgery_keep_pattern
from ..validation import check_bool, check_float, check_instance, check_int, check_range, fail

FAST_BUDGETS = (("epoch", 1), ("round", 2), ("iteration", 2), ("samples", 256), ("n_", 256))
"""In quick mode, a method option whose name matches one of these words (first match wins) and
whose default is None or larger starts at the word's budget in the lab (shown in its input box),
so slow methods stay quick. A word ending in ``_`` matches the start of a name (``n_finetune``),
any other word any part of it (``finetune_epochs``, ``rounds``, ``n_samples``, ``finetune_samples``)."""

EVAL_BATCH = 1_000  # sequences per forward pass: a 10k test set in ten chunks holds a tenth of one batch's
# activations (Binder gives a kernel 1 GB, and notebooks 04 and 06 open the lab late, with much else in memory:
# benchmarks.notebook_memory); the LSTM's forward pass is no slower per sequence at this size (benchmarks.live_budget)
_CAUGHT = (ValueError, TypeError, RuntimeError, ArithmeticError, IndexError, KeyError, NotImplementedError)


# ==================================================================================== settings

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
    method : a method name (an unregistered one gives a state with ``error``, not an exception).
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
        check_instance(self.method, "method", "LabSettings", str, "a str (a registered method name)")
        check_instance(self.scope, "scope", "LabSettings", str, "a str ('recurrent', 'input' or 'all')")
        amount = check_float(self.amount, "amount", "LabSettings")
        check_range(self.seed, "seed", "LabSettings", "seed")
        check_range(self.finetune_epochs, "finetune_epochs", "LabSettings", "epochs")
        check_instance(self.options, "options", "LabSettings", (Mapping, list, tuple),
                       "a dict or a list of (name, value) pairs")
        options = self.options.items() if isinstance(self.options, Mapping) else self.options
        object.__setattr__(self, "amount", round(amount, 6))
        object.__setattr__(self, "options", tuple(sorted((str(k), _freeze(v)) for k, v in options)))

    @property
    def options_dict(self) -> dict[str, Any]:
        """The options as a dict (the keyword arguments passed to the method)."""
        return dict(self.options)

    def replace(self, **changes: Any) -> LabSettings:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


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


# ==================================================================================== state and cache

@dataclass(frozen=True)
class LabState:
    """What the lab shows for one :class:`LabSettings`; plain values, comparable with ``==``.

    ``result`` (the :class:`~lattice_lab.pruning.PruneResult`, for drawing and export),
    ``seconds`` (compute time) and ``source`` (where the numbers come from, in words: "computed
    now", a schedule's stop, a committed run) are left out of comparisons. When the settings are
    impossible or the method fails, ``error`` says why in words and the measurements are None; a
    state from a committed run has numbers but no ``result`` (nothing was pruned here).

    >>> LabState(LabSettings("magnitude", 0.5), error="no").ok
    False
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
    source: str = field(default="computed now", compare=False)

    @property
    def ok(self) -> bool:
        """True when the state holds measurements (no error)."""
        return self.error is None

    def diagnostic(self, key: str, default: Any = None) -> Any:
        """One readout value from :attr:`diagnostics` by key."""
        return dict(self.diagnostics).get(key, default)


class LabCache:
    """A least-recently-used cache of :class:`LabState` by :class:`LabSettings`.

    A cache serves one ``(model, data)`` pair; using it with another is a ValueError. It holds at
    most ``maxsize`` states (each with its pruned model), stored light: no ``.grad`` on their
    models, masks as bool. Forty lab settings on full MNIST stay under Binder's 1 GiB so
    (``benchmarks/lab_memory.py``; a 64-state cache of full models did not).

    >>> cache = LabCache(maxsize=2)
    >>> len(cache), cache.hits, cache.misses
    (0, 0, 0)
    """

    def __init__(self, maxsize: int = 16):
        self.maxsize = check_int(maxsize, "maxsize", "LabCache", low=1)
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
        """Store ``state`` (made light: :func:`lighten`) under its settings, evicting the least recently used
        beyond ``maxsize``."""
        state = lighten(state)
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


def lighten(state: LabState) -> LabState:
    """``state`` with its pruned model's gradients dropped and its masks stored as bool (what a cache keeps).

    >>> from lattice_lab.models import build
    >>> result = prune(build({"kind": "rnn", "input_size": 2, "hidden_size": 4, "num_classes": 2}), "magnitude", 0.5)
    >>> lighten(LabState(LabSettings("magnitude", 0.5), result=result)).result.masks["layers.0.weight_hh_l0"].dtype
    torch.bool
    """
    result = state.result
    if result is None:
        return state
    for parameter in result.model.parameters():
        parameter.grad = None
    masks = {name: mask if mask.dtype == torch.bool else mask.ne(0) for name, mask in result.masks.items()}
    return dataclasses.replace(state, result=dataclasses.replace(result, masks=masks))


# ==================================================================================== methods in the lab

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
    if not isinstance(model, SequenceClassifier):
        return None
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
    if spec is not None and isinstance(model, SequenceClassifier) and model.kind not in spec.kinds:
        return f"{method} (not for {model.kind})"
    if spec is not None and spec.needs_data and not has_train_data:
        return f"{method} (needs train_data)"
    return method


def _budgeted(name: str, word: str) -> bool:
    return name.startswith(word) if word.endswith("_") else word in name


def lab_options(method: str, quick: bool) -> dict[str, Any]:
    """A method's options as the lab starts them: the defaults, with :data:`FAST_BUDGETS` when ``quick``.

    >>> lab_options("magnitude", quick=True)
    {'per_layer': False}
    """
    options = dict(REGISTRY[method].options)
    if quick:
        for name, default in options.items():
            for word, budget in FAST_BUDGETS:
                if _budgeted(name, word) and not isinstance(default, bool) and (
                        default is None or (isinstance(default, int) and default > budget)):
                    options[name] = budget
                    break
    return options


def diagnostic_plots(method: str | None = None) -> tuple[str, ...]:
    """The ``info`` keys that get a plot of their own: the method's registry entry says.

    Without ``method``: the keys of every registered method (sorted, each once).

    >>> diagnostic_plots("lattice"), diagnostic_plots("magnitude")
    (('meet_irreducibles',), ())
    """
    if method is not None:
        spec = REGISTRY.get(method)
        return () if spec is None else tuple(spec.diagnostic_plots)
    return tuple(sorted({key for spec in REGISTRY.values() for key in spec.diagnostic_plots}))


def diagnostic_labels(method: str | None = None) -> dict[str, str]:
    """Display names of ``info`` keys (``"delta_r" -> "Δ_r"``): the method's registry entry says.

    Without ``method``: the labels of every registered method together (in name order, the
    first method to label a key wins).

    >>> diagnostic_labels("spectral")["dof"], diagnostic_labels("magnitude")
    ('N̂(λ)', {})
    """
    if method is not None:
        spec = REGISTRY.get(method)
        return {} if spec is None else dict(spec.diagnostic_labels)
    labels: dict[str, str] = {}
    for name in sorted(REGISTRY):
        for key, label in REGISTRY[name].diagnostic_labels.items():
            labels.setdefault(key, label)
    return labels


# Kept importable for one release; the lab and the plots read each method's registry entry instead.
# Derived from the registry (the union over the methods registered when this module is imported).
DIAGNOSTIC_PLOTS = diagnostic_plots()
"""``info`` keys that some registered method plots (deprecated: use :func:`diagnostic_plots`)."""
DIAGNOSTIC_LABELS = diagnostic_labels()
"""Display names of every registered method's diagnostics (deprecated: use :func:`diagnostic_labels`)."""


# ==================================================================================== readable values

def is_scalar(value: Any) -> bool:
    """True for None, a bool, number or string, a numpy scalar and a one-element tensor.

    >>> is_scalar(3), is_scalar(torch.tensor([2.0])), is_scalar([1, 2])
    (True, True, False)
    """
    return value is None or isinstance(value, (bool, int, float, str, np.generic)) or (
        isinstance(value, torch.Tensor) and value.numel() == 1)


def as_scalar(value: Any) -> Any:
    """A scalar (see :func:`is_scalar`) as a plain Python value.

    >>> as_scalar(torch.tensor(2)), as_scalar(np.float64(0.5))
    (2, 0.5)
    """
    if isinstance(value, (torch.Tensor, np.generic)):
        return value.item()
    return value


def as_vector(value: Any) -> np.ndarray | None:
    """A 1-D numeric numpy array from a tensor, array or list of numbers; None otherwise.

    >>> as_vector([1, 2.5]).tolist(), as_vector(["a"]), as_vector(torch.zeros(2, 2))
    ([1.0, 2.5], None, None)
    """
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


def is_index_set(array: np.ndarray) -> bool:
    """Sorted distinct non-negative integers: a set of unit or element indices.

    >>> is_index_set(np.array([0, 3, 7])), is_index_set(np.array([3, 1]))
    (True, False)
    """
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
    if is_scalar(value):
        return as_scalar(value)
    items = [value] if isinstance(value, (torch.Tensor, np.ndarray)) else value
    if not isinstance(items, (list, tuple)) or not items:
        return None
    if all(is_scalar(v) and not isinstance(as_scalar(v), str) for v in items) and len(items) <= 8:
        return tuple(as_scalar(v) for v in items)
    arrays = [as_vector(v) for v in items]
    if all(a is not None and is_index_set(a) for a in arrays):
        return tuple(int(a.size) for a in arrays)
    return None


# ==================================================================================== structure readouts

def mask_summary(pruned: SequenceClassifier, dense: SequenceClassifier) -> tuple[tuple[str, int, int], ...]:
    """``(name, nonzero weights kept, dense size)`` for every weight matrix of the dense model.

    >>> from lattice_lab.models import build
    >>> dense = build({"kind": "rnn", "input_size": 2, "hidden_size": 3, "num_classes": 2})
    >>> mask_summary(prune(dense, "magnitude", 0.5).model, dense)[1]
    ('layers.0.weight_hh_l0', 5, 9)
    """
    present = set(weight_names(pruned, "all"))
    rows = []
    for name in weight_names(dense, "all"):
        kept = int(torch.count_nonzero(get_weight(pruned, name)).item()) if name in present else 0
        rows.append((name, kept, int(get_weight(dense, name).numel())))
    return tuple(rows)


def keep_pattern(dense: SequenceClassifier, result: PruneResult, name: str) -> np.ndarray:
    """:func:`lattice_lab.surgery.keep_pattern` of a :class:`PruneResult` (its model and kept units).

    >>> from lattice_lab.models import build
    >>> dense = build({"kind": "rnn", "input_size": 2, "hidden_size": 4, "num_classes": 2})
    >>> int(keep_pattern(dense, prune(dense, "magnitude-units", 0.5), "layers.0.weight_hh_l0").sum())
    4
    """
    return surgery_keep_pattern(dense, result.model, name, result.kept_units)


def dependency_poset(model: SequenceClassifier, quantile: float) -> Poset:
    """The poset of the model's unit dependency graph, edges = weights above a ``quantile`` of ``|w|``.

    Strongly connected groups of units collapse into one element (drawn larger).

    >>> from lattice_lab.models import build
    >>> model = build({"kind": "rnn", "input_size": 2, "hidden_size": 6, "num_classes": 2})
    >>> isinstance(dependency_poset(model, 0.9), Poset)
    True
    """
    view = attached_view(model)
    if view is not None:  # a model of the user's own: the poset of its mirror's recurrent weights
        model = mirror(model, view)[0]
    graph = graphs.dependency_graph(model, adjacency="binary", threshold=quantile)
    return Poset.from_adjacency(graph.adjacency)


def poset_readout(poset: Poset) -> dict[str, Any]:
    """Size, height, width and irreducibles of a poset, for readouts.

    >>> poset_readout(Poset.from_divisors(12))["elements"]
    6
    """
    return {"elements": poset.size, "height": poset.height(), "width": poset.width(),
            "meet-irreducibles": int(len(poset.meet_irreducibles())),
            "largest component": int(max(len(c) for c in poset.components))}


# ==================================================================================== compute

def _seq_len(data: Any) -> int:
    inputs = getattr(data, "inputs", None)
    if isinstance(inputs, torch.Tensor):
        return int(inputs.shape[1])
    return int(data[0][0].shape[0])


def _friendly(settings: LabSettings, error: Exception) -> str:
    return (f"{settings.method} could not prune at amount {settings.amount:.2f} "
            f"(scope {settings.scope}): {error}")


def epoch_callback(progress: Any, on_epoch: Callable[[int, int], None] | None,
                   caller: str) -> tuple[bool | None, Callable[[int, int], None] | None]:
    """``(progress, on_epoch)`` checked, accepting the old ``progress=<callable>`` for one release.

    ``progress`` is a bool (None: automatic) everywhere in the package; a callback given as
    ``progress`` warns (DeprecationWarning) and is used as ``on_epoch``.

    >>> epoch_callback(False, None, "compute_state")
    (False, None)
    """
    if callable(progress):
        warnings.warn(f"{caller}(progress=<callable>) is deprecated and will be removed: pass the callback as "
                      "on_epoch=...; progress is a bool (show progress bars)", DeprecationWarning, stacklevel=3)
        if on_epoch is not None:
            fail("progress", caller, "True, False or None when on_epoch is given", progress)
        return False, progress
    if progress is not None:
        check_bool(progress, "progress", caller)
    if on_epoch is not None and not callable(on_epoch):
        fail("on_epoch", caller, "a callable on_epoch(epoch, epochs) or None", on_epoch)
    return progress, on_epoch


def compute_state(model: SequenceClassifier, data: Any, settings: LabSettings, *, train_data: Any = None,
                  finetune_data: Any = None, cache: LabCache | None = None, dense_accuracy: float | None = None,
                  device: str = "cpu", progress: bool | None = False,
                  on_epoch: Callable[[int, int], None] | None = None,
                  prune_with: Callable[[LabSettings], PruneResult] | None = None,
                  source: str = "computed now") -> LabState:
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
    progress : show fine-tuning progress bars (None: unless ``LATTICE_LAB_QUIET=1`` or under
        pytest). A callable here is the old name of ``on_epoch`` (deprecated, warns).
    on_epoch : called as ``on_epoch(epoch, epochs)`` after each fine-tuning epoch.
    prune_with : how the pruned model is had (default: :func:`lattice_lab.pruning.prune` with the
        settings); the lab passes a schedule's :meth:`~lattice_lab.pruning.schedules.Schedule.result`.
    source : where the numbers come from, in words (``LabState.source``).

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
    check_instance(settings, "settings", "compute_state", LabSettings, "a LabSettings")
    progress, on_epoch = epoch_callback(progress, on_epoch, "compute_state")
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
            state = _measure(model, data, settings, train_data, tune_on, cache, dense_accuracy, device, progress,
                             on_epoch, prune_with)
        except _CAUGHT as error:
            state = LabState(settings, dense_accuracy=dense_accuracy, error=_friendly(settings, error))
    state = dataclasses.replace(state, seconds=time.perf_counter() - start, source=source)
    if cache is not None:
        cache.put(state)
    return state


def _measure(model, data, settings, train_data, finetune_data, cache, dense_accuracy, device, progress,
             on_epoch, prune_with) -> LabState:
    base = cache.peek(settings.replace(finetune_epochs=0)) if (cache is not None and settings.finetune_epochs) \
        else None
    if base is not None and base.result is not None:
        result, accuracy = base.result, base.accuracy
    else:
        result = prune(model, settings.method, settings.amount, train_data, scope=settings.scope,
                       seed=settings.seed, **settings.options_dict) if prune_with is None else prune_with(settings)
        accuracy = train.evaluate(result.model, data, device=device, batch_size=EVAL_BATCH)["accuracy"]
    accuracy_finetuned = None
    if settings.finetune_epochs:
        tuned = clone(result.model)
        for epoch in range(settings.finetune_epochs):
            train.finetune(tuned, finetune_data, epochs=1, seed=settings.seed + epoch, device=device,
                           progress=progress)
            if on_epoch is not None:
                on_epoch(epoch + 1, settings.finetune_epochs)
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
