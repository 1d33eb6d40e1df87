"""The pruning contract and the method registry.

``prune(model, method, amount, data=None, **options) -> PruneResult``: every method receives a
private copy of the model and returns a :class:`PruneResult`; the caller's model is never
modified. A method is a function registered with :func:`register`; the CLI, the widgets and
``compare`` list :data:`REGISTRY`, so a new method appears everywhere once registered. The
baselines in :mod:`lattice_lab.pruning.baselines` are the template a new method copies.

Conventions every method keeps, so that an option means the same thing everywhere:

- ``device`` (methods that train while pruning: ``ramanujan-imp``, ``imp``, ``expander``)
  defaults to ``"cpu"``, as every caller of :func:`prune` does (``compare.sweep``, the CLI, the
  lab): a pruning then depends on its inputs and seed only, not on the machine it ran on (a
  GPU's kernels differ from the CPU's in the last bits, which is enough to change which weights
  are the smallest). Pass ``device="auto"`` to fine-tune on a GPU when there is one.
- ``per_layer`` (weight-level methods) says whether each tensor loses the same fraction
  (True) or one ranking runs over the whole scope (False); each method's docstring says why its
  default is what it is.
- ``finetune_samples`` is the size of the fine-tuning subset; ``progress`` is a bool (None:
  automatic) and a callback, where there is one, is a parameter of its own.
- An option that was renamed stays accepted for one release under its old name
  (``MethodSpec.renamed_options``): :func:`prune` warns (``DeprecationWarning``) and passes it
  on under the new name, which is the only one the registry lists.

Must not import: widgets, cli, compare.

Examples
--------
>>> from lattice_lab.models import build
>>> model = build({"kind": "lstm", "input_size": 8, "hidden_size": 16, "num_classes": 10})
>>> result = prune(model, "magnitude", 0.5)
>>> round(result.sparsity, 3)
0.5
>>> "magnitude" in REGISTRY and REGISTRY["magnitude"].level
'weight'
"""
from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

from .. import metrics
from ..models import SCOPES, SequenceClassifier, check_finite_weights, check_inputs, clone
from ..recurrent.methods import prune_foreign
from ..train import in_memory_inputs
from ..validation import check_bool, check_choice, check_float, check_int, check_range, fail
from .styles import METHOD_STYLES, derived_style


@dataclass
class PruneResult:
    """What a pruning method returns.

    Attributes
    ----------
    model : the pruned copy (masks attached via ``torch.nn.utils.prune``, or physically smaller).
    masks : 0/1 masks by qualified tensor name (empty for purely structural methods).
    kept_units : per layer, the indices of the kept hidden units (structured methods), else None.
    sparsity : measured fraction of the scope's dense weights that are zero or removed.
    info : method-specific diagnostics.
    """

    model: SequenceClassifier
    masks: dict[str, torch.Tensor] = field(default_factory=dict)
    kept_units: list[torch.Tensor] | None = None
    sparsity: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    method: str = ""
    amount: float = 0.0
    scope: str = "recurrent"


@dataclass(frozen=True)
class MethodSpec:
    """A registered pruning method: its function and what the UI needs to know about it.

    ``colour`` and ``line_style`` are how every plot of the course draws the method (from
    :data:`~lattice_lab.pruning.styles.METHOD_STYLES`: Paul Tol's colour-blind-safe colours, solid
    for weight level, dashed for unit level); ``diagnostic_labels`` maps
    keys of its ``PruneResult.info`` to display names (``"delta_r" -> "Δ_r"``) and
    ``diagnostic_plots`` names the keys that get a plot of their own in the lab.
    ``renamed_options`` maps an option's old name to its new one: :func:`prune` still accepts
    the old name for one release (with a ``DeprecationWarning``); ``options`` lists new names only.
    """

    name: str
    function: Callable[..., PruneResult]
    level: str  # "weight" or "unit"
    summary: str
    needs_data: bool
    kinds: tuple[str, ...]
    options: dict[str, Any]  # option name -> default
    colour: str = ""
    diagnostic_labels: dict[str, str] = field(default_factory=dict)
    diagnostic_plots: tuple[str, ...] = ()
    renamed_options: dict[str, str] = field(default_factory=dict)
    line_style: str = "-"


REGISTRY: dict[str, MethodSpec] = {}
_RESERVED = ("model", "amount", "data", "scope", "seed")
ALL_KINDS = ("rnn", "irnn", "lstm", "gru", "feedback")


def register(name: str, *, level: str, summary: str, needs_data: bool = False,
             kinds: tuple[str, ...] = ALL_KINDS, colour: str = "", line_style: str = "",
             diagnostic_labels: dict[str, str] | None = None,
             diagnostic_plots: tuple[str, ...] = (), renamed_options: dict[str, str] | None = None) -> Callable:
    """Decorator that adds a method to :data:`REGISTRY`.

    The function is called as ``function(model, amount, *, data, scope, seed, **options)`` on a
    private copy and returns a :class:`PruneResult` (``sparsity`` and the bookkeeping fields are
    filled in by :func:`prune`). Its other keyword arguments, with defaults, are its options.
    ``colour`` (a hex colour) and ``line_style`` (a matplotlib one) default to the method's entry
    of :data:`~lattice_lab.pruning.styles.METHOD_STYLES`, else a style derived from the name;
    ``diagnostic_labels`` and
    ``diagnostic_plots`` are what plots and the lab show for it (see :class:`MethodSpec`);
    ``renamed_options`` (old name -> new name) keeps old option names working for one release.
    """
    check_choice(level, "level", "register", ("weight", "unit"))
    labels = dict(diagnostic_labels or {})
    unlabelled = [key for key in diagnostic_plots if key not in labels]
    if unlabelled:
        raise ValueError(f"method {name!r}: the plotted diagnostics {unlabelled} need a label in diagnostic_labels")

    def decorator(function: Callable[..., PruneResult]) -> Callable[..., PruneResult]:
        params = inspect.signature(function).parameters
        missing = [p for p in _RESERVED if p not in params]
        if missing:
            raise TypeError(f"method {name!r} must accept {missing}")
        options = {p.name: p.default for p in params.values()
                   if p.name not in _RESERVED and p.kind is inspect.Parameter.KEYWORD_ONLY}
        renamed = dict(renamed_options or {})
        stale = {old: new for old, new in renamed.items() if new not in options or old in options}
        if stale:
            raise ValueError(f"method {name!r}: renamed_options {stale} must map old names to options it has")
        style = METHOD_STYLES.get(name) or derived_style(name)
        REGISTRY[name] = MethodSpec(name, function, level, summary, needs_data, tuple(kinds), options,
                                    colour or style.colour, labels, tuple(diagnostic_plots), renamed,
                                    line_style or style.line_style)
        return function

    return decorator


def foreign_methods() -> list[str]:
    """The registered methods that run on a model of the user's own: every one, through its recurrent view.

    >>> "magnitude-units" in foreign_methods() and "spectral" in foreign_methods()
    True
    """
    return list(REGISTRY)


def get_method(name: str) -> MethodSpec:
    """The registered method called ``name``; a ValueError lists the registered names.

    >>> get_method(["magnitude"])
    Traceback (most recent call last):
    ...
    lattice_lab.validation.InvalidParameterError: The 'method' parameter of prune must be the name of a registered method (a str; compare.sweep takes a list of them). Got ['magnitude'] instead.
    """
    if not isinstance(name, str):
        fail("method", "prune", "the name of a registered method (a str; compare.sweep takes a list of them)", name)
    if name not in REGISTRY:
        raise ValueError(f"unknown method {name!r}; registered methods: {sorted(REGISTRY)}")
    return REGISTRY[name]


def check_amount(amount: float) -> float:
    """``amount`` (the fraction removed) as a float in [0, 1); anything else is an
    :class:`~lattice_lab.validation.InvalidParameterError` (a ValueError).

    >>> check_amount(1)
    Traceback (most recent call last):
    ...
    lattice_lab.validation.InvalidParameterError: The 'amount' parameter of prune must be a float in [0, 1). \
Got 1 instead.
    """
    return check_float(amount, "amount", "prune", low=0, high=1, high_open=True)


def _renamed_options(spec: MethodSpec, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with every old option name of ``spec`` replaced by its new name (with a warning)."""
    options = dict(options)
    for old, new in spec.renamed_options.items():
        if old not in options:
            continue
        if new in options:
            raise ValueError(f"method {spec.name!r}: {old!r} is the old name of {new!r}; pass {new!r} only")
        warnings.warn(f"The option {old!r} of method {spec.name!r} is now called {new!r}; the old name is "
                      "kept for one release.", DeprecationWarning, stacklevel=3)
        options[new] = options.pop(old)
    return options


def _checked_options(spec: MethodSpec, method: str, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` under their current names, every name known and every switch a bool."""
    options = _renamed_options(spec, options)
    unknown = set(options) - set(spec.options)
    if unknown:
        raise ValueError(f"method {method!r} has no option(s) {sorted(unknown)}; its options: {spec.options}")
    for name, value in options.items():
        if isinstance(spec.options[name], bool):  # a switch is True or False, never "yes" or 1
            check_bool(value, name, method)
    return options


def prune(model: nn.Module, method: str, amount: float, data=None, *,
          scope: str = "recurrent", seed: int = 0, example: Any = None, score: Callable | None = None,
          **options) -> PruneResult:
    """Prune a copy of ``model`` with a registered method; the input model is never modified.

    Parameters
    ----------
    model : a :class:`~lattice_lab.models.SequenceClassifier`, or any ``nn.Module`` with
        ``nn.RNN``/``nn.LSTM``/``nn.GRU`` layers (see :mod:`lattice_lab.recurrent.methods`: the
        structural methods and ``lattice``; its data is a Dataset, a DataLoader or an
        ``(inputs, targets)`` pair).
    method : a name in :data:`REGISTRY` (``random``, ``magnitude``, ``random-units``, ...).
    amount : fraction removed, in [0, 1): of the weights in ``scope`` for weight-level methods,
        of the hidden units (per layer) for unit-level methods.
    data : a dataset, for methods that need activations (``spectral``) or fine-tuning.
    scope : ``recurrent`` (every W_hh, and W_td in feedback models), ``input`` (W_ih) or ``all``;
        what weight-level methods prune and what ``sparsity`` is measured over.
    seed : for every random choice a method makes.
    example : a model of the user's own only: what it takes (default: the first inputs of ``data``).
    score : a model of the user's own only: ``score(model, data) -> float``, higher is better
        (default: argmax accuracy); with ``data``, ``info["score"]`` is the pruned model's.
    **options : method options (see ``REGISTRY[method].options``).

    Checked here for every method, before it runs: the amount, scope and seed; option names, and
    every option whose default is a bool is exactly True or False; a model with NaN or infinite
    weights, and data (held in memory) with NaN or infinite values or another feature size than the
    model's ``input_size``, are refused (an InvalidParameterError, a ValueError, naming them).

    Returns
    -------
    PruneResult
        The pruned copy with its masks, ``kept_units`` (unit-level methods), the measured
        ``sparsity`` and the method's ``info``.

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> model = build({"kind": "lstm", "input_size": 8, "hidden_size": 16, "num_classes": 10})
    >>> weights = prune(model, "magnitude", 0.75, per_layer=True)
    >>> weights.sparsity, sorted(weights.masks)
    (0.75, ['layers.0.weight_hh_l0'])
    >>> units = prune(model, "random-units", 0.5, seed=1)
    >>> units.model.config["hidden_size"], len(units.kept_units[0]), model.config["hidden_size"]
    ([8], 8, [16])
    >>> prune(model, "magnitude", 1.5)
    Traceback (most recent call last):
    ...
    lattice_lab.validation.InvalidParameterError: The 'amount' parameter of prune must be a float in [0, 1). \
Got 1.5 instead.
    """
    spec = get_method(method)
    amount = check_amount(amount)
    if not isinstance(model, SequenceClassifier):
        check_choice(scope, "scope", "prune", SCOPES)
        check_range(seed, "seed", "prune", "seed")
        return prune_foreign(model, spec, amount, data, scope=scope, seed=seed, example=example, score=score,
                             **_checked_options(spec, method, options))
    if example is not None or score is not None:
        raise ValueError("example and score are for models of the user's own; a SequenceClassifier needs neither")
    if model.kind not in spec.kinds:
        raise ValueError(f"method {method!r} supports model kinds {spec.kinds}, not {model.kind!r}")
    check_choice(scope, "scope", "prune", SCOPES)
    check_range(seed, "seed", "prune", "seed")
    options = _checked_options(spec, method, options)
    if spec.needs_data and data is None:
        raise ValueError(f"method {method!r} needs data (a dataset from lattice_lab.data.load)")
    check_finite_weights(model, "prune")
    inputs = None if data is None else in_memory_inputs(data)
    if inputs is not None:
        check_inputs(model, inputs, "data", "prune")
    result = spec.function(clone(model), amount, data=data, scope=scope, seed=seed, **options)
    result.sparsity = metrics.sparsity(result.model, model, scope)
    result.method, result.amount, result.scope = method, amount, scope
    return result


def exact_lowest_mask(scores: torch.Tensor, count: int) -> torch.Tensor:
    """A 0/1 mask (shape of ``scores``) with exactly ``count`` zeros at the lowest scores.

    Ties are broken by position (stable sort), so the result is deterministic.

    >>> exact_lowest_mask(torch.tensor([[3., 1.], [2., 1.]]), 2)
    tensor([[1., 0.],
            [1., 0.]])
    """
    flat = scores.flatten()
    count = check_int(count, "count", "exact_lowest_mask", low=0, high=flat.numel())
    order = torch.sort(flat, stable=True).indices
    mask = torch.ones_like(flat, dtype=torch.float32)
    mask[order[:count]] = 0.0
    return mask.view_as(scores)


def units_to_keep(size: int, amount: float) -> int:
    """Hidden units kept in a layer of ``size`` when removing the fraction ``amount`` (≥ 1).

    >>> units_to_keep(128, 0.5), units_to_keep(128, 0.625), units_to_keep(3, 0.99)
    (64, 48, 1)
    """
    return max(1, int(round(size * (1.0 - amount))))


def masks_from_scores(scores: dict[str, torch.Tensor], amount: float, *, per_layer: bool = False) -> dict[str, torch.Tensor]:
    """Masks removing exactly ``round(amount * total)`` entries with the lowest scores.

    Global ranking across all tensors by default; ``per_layer`` removes ``round(amount * numel)``
    from each tensor instead. Every weight-level method reduces to scores plus this function.

    >>> m = masks_from_scores({"a": torch.tensor([1., 2.]), "b": torch.tensor([3., 0.5])}, 0.5)
    >>> m["a"].tolist(), m["b"].tolist()
    ([0.0, 1.0], [1.0, 0.0])
    """
    amount = check_amount(amount)
    if per_layer:
        return {name: exact_lowest_mask(s, int(round(amount * s.numel()))) for name, s in scores.items()}
    flat = torch.cat([s.detach().flatten().float().cpu() for s in scores.values()])
    mask = exact_lowest_mask(flat, int(round(amount * flat.numel())))
    masks, start = {}, 0
    for name, s in scores.items():
        masks[name] = mask[start:start + s.numel()].view_as(s).to(s.device)
        start += s.numel()
    return masks
