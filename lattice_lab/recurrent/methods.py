"""The registered pruning methods on a model of the user's own, through its recurrent view.

:func:`prune_foreign` is what :func:`lattice_lab.pruning.prune` calls for any model that is not a
:class:`~lattice_lab.models.SequenceClassifier`. It finds the model's view on example inputs,
attaches it to the private copy the method prunes (:func:`lattice_lab.models.attached_view`;
taken off again before the copy is returned), and runs the registered method:

* weight-level methods attach their masks with ``torch.nn.utils.prune`` to the user's own
  parameters (``weight_hh_l0``, ``weight_ih_l1_reverse``, ...); ``scope`` means what it means for
  the course's models (``recurrent``: every ``weight_hh``, ``input``: every ``weight_ih``);
* unit-level methods remove units with :func:`lattice_lab.recurrent.removal.remove_units`;
* ``lattice`` reads the poset of a *mirror*: a :class:`SequenceClassifier` holding the same
  recurrent weights (it needs one chain of layers of one kind: each layer fed by the one before).

The methods that fine-tune or train (``imp``, ``ramanujan-imp``, ``expander``,
``gradual-magnitude``) use :mod:`lattice_lab.train` on the copy with the user's data (cross-entropy
on the model's output; a ``from_scratch`` start is :func:`lattice_lab.models.fresh`). ``sparsity``
is measured as for the course's models: the fraction of the dense model's weights in ``scope``
that are zero or removed. ``jacobian`` scores the mirror of the model's one recurrent layer, fed
what that layer receives (:mod:`lattice_lab.pruning.jacobian`). ``spectral`` collects each
layer's hidden states with a hook on the user's module and folds its reconstruction into the readers
that take it exactly (:mod:`lattice_lab.pruning.spectral_foreign`).

Must not import: widgets, cli, compare, pruning.

Examples
--------
>>> import torch
>>> from torch import nn
>>> class Model(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.lstm = nn.LSTM(3, 8, num_layers=2, batch_first=True)
...         self.head = nn.Linear(8, 2)
...     def forward(self, x):
...         return self.head(self.lstm(x)[0][:, -1])
>>> from lattice_lab import prune
>>> result = prune(Model(), "magnitude", 0.5, example=torch.zeros(1, 4, 3))
>>> result.sparsity, sorted(result.masks)
(0.5, ['lstm.weight_hh_l0', 'lstm.weight_hh_l1'])
>>> prune(Model(), "random-units", 0.5, example=torch.zeros(1, 4, 3)).model.lstm.hidden_size
4
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import torch
from torch import nn

from .. import metrics
from ..models import VIEW_ATTRIBUTE, SequenceClassifier, attached_view, build, check_finite_weights, clone, get_weight
from ..surgery import apply_masks
from . import data as user_data
from .removal import index_plan
from .discover import view_of
from .view import Block, RecurrentView

MIRRORED = ("lattice",)


def unit_norms(model: nn.Module, view: RecurrentView) -> list[torch.Tensor]:
    """Per layer, the L2 norm of every weight touching each unit: its rows in every gate block and
    direction (incoming) and its columns in ``weight_hh``, the next layer and every Linear or recurrent
    consumer (outgoing), as :func:`lattice_lab.pruning.baselines.unit_norms` for the course's models."""
    sizes = view.hidden_sizes()
    squares = [torch.zeros(size) for size in sizes]
    full = [torch.arange(size) for size in sizes]
    for name, (rows, cols) in index_plan(view, full).items():
        w = get_weight(model, name).detach().float().cpu()
        if w.dim() == 1:
            continue
        row_layer, col_layout = _axes(view, name)
        if row_layer is not None:
            squares[row_layer] += (w ** 2).sum(dim=1).view(-1, sizes[row_layer]).sum(dim=0)
        offset = 0
        for block in col_layout:
            if block.layer is not None:
                squares[block.layer] += (w[:, offset:offset + block.width] ** 2).sum(dim=0)
            offset += block.width
    return [s.sqrt() for s in squares]


def _axes(view: RecurrentView, name: str):
    """(layer whose units index the rows, or None; layout of the columns) of a weight in the plan."""
    for k, layer in enumerate(view.layers):
        for d in range(layer.directions):
            if name == layer.parameter("weight_hh", d):
                return k, (Block(k, 0, layer.hidden_size),)
            if name == layer.parameter("weight_ih", d):
                below = ()
                if layer.index > 0:
                    below = tuple(Block(k - 1, e, layer.hidden_size) for e in range(layer.directions))
                else:
                    below = next((c.layout for c in view.consumers
                                  if c.kind == "recurrent" and c.module == layer.module), ())
                return k, below
    consumer = next(c for c in view.consumers if name.rpartition(".")[0] == c.module)
    return None, consumer.layout


def mirror(model: nn.Module, view: RecurrentView) -> tuple[SequenceClassifier, dict[str, str]]:
    """A :class:`SequenceClassifier` with the recurrent weights of ``model`` (masks applied), and the
    map from its parameter names to the user's. Needs one chain of layers of one kind and direction
    count, each fed by the one before; a ValueError says which condition fails."""
    layers = view.layers
    kinds = {(layer.kind, layer.directions) for layer in layers}
    if len(kinds) > 1:
        raise ValueError(f"method 'lattice' needs recurrent layers of one kind and direction count; this model has "
                         f"{sorted(kinds)}.")
    for k in range(1, len(layers)):
        fed = layers[k].index > 0 or any(c.kind == "recurrent" and c.module == layers[k].module and
                                         [b.layer for b in c.layout] == [k - 1] * layers[k].directions
                                         for c in view.consumers)
        if not fed:
            raise ValueError(f"method 'lattice' needs each recurrent layer fed by the one before; {layers[k].name} "
                             f"is not fed by {layers[k - 1].name} alone.")
    nonlinearity = getattr(model.get_submodule(layers[0].module), "nonlinearity", "tanh")
    config = {"kind": layers[0].kind, "input_size": layers[0].input_size, "hidden_size": view.hidden_sizes(),
              "num_classes": 1, "bidirectional": layers[0].directions == 2, "nonlinearity": nonlinearity}
    course = build(config)
    names = {}
    with torch.no_grad():
        for k, layer in enumerate(layers):
            target = course.layers[k]
            for prefix in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                for d, suffix in enumerate(("_l0", "_l0_reverse")[:layer.directions]):
                    mine = getattr(target, prefix + suffix)
                    if prefix.startswith("bias") and not layer.bias:
                        mine.zero_()
                        continue
                    mine.copy_(get_weight(model, layer.parameter(prefix, d)))
                    names[f"layers.{k}.{prefix}{suffix}"] = layer.parameter(prefix, d)
    return course, names


def _mirrored(function, copy: nn.Module, view: RecurrentView, amount, scope, seed, options):
    """Run ``function`` (the registry's ``lattice``) on the mirror; its masks, renamed, go on ``copy``."""
    course, names = mirror(copy, view)
    result = function(course, amount, data=None, scope=scope, seed=seed, **options)
    masks = {names[name]: mask for name, mask in result.masks.items()}
    return dataclasses.replace(result, model=apply_masks(copy, masks, inplace=True), masks=masks)


def held_copy(model: nn.Module, example: Any) -> nn.Module:
    """A private copy of ``model`` carrying its view (found on ``example``): what the lab holds, so
    that every measure of the course (names, sizes, FLOPs, kept patterns) reads it through the view."""
    check_model(model, "PruningLab")
    view = view_of(model, *(example if isinstance(example, tuple) else (example,)))
    copy = clone(model)
    setattr(copy, VIEW_ATTRIBUTE, view)
    return copy


def check_model(model: Any, caller: str = "prune") -> nn.Module:
    """``model`` if it is an ``nn.Module`` with finite weights; else a ValueError naming the parameter."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"The 'model' parameter of {caller} must be a torch.nn.Module. Got {type(model).__name__} "
                         "instead.")
    return check_finite_weights(model, caller)


def prune_foreign(model: nn.Module, spec, amount: float, data: Any = None, *, scope: str = "recurrent",
                  seed: int = 0, example: Any = None, score: Callable | None = None, **options):
    """Prune a copy of a model of the user's own with the registered method ``spec`` (a
    :class:`~lattice_lab.pruning.MethodSpec`, passed down by :func:`lattice_lab.pruning.prune`: this
    module sits below the registry); ``model`` is never modified.

    ``example`` is what ``model`` takes (default: the first inputs of ``data``); with ``data``,
    ``info["score"]`` is ``score(pruned, data)`` (default: argmax accuracy).
    """
    method = spec.name
    check_model(model, "prune")
    held = attached_view(model)  # a lab's private copy carries its view already
    given = data  # what the user's score reads, in the form the user gave it
    if data is not None:
        data = user_data.as_dataset(user_data.check_data(data, "prune"))
    if example is None and held is None:
        if data is None:
            raise ValueError(f"unsupported model {type(model).__name__} without example inputs: prune needs "
                             "example=... or data to find its recurrent layers and what reads them.")
        example = user_data.example_inputs(data)
    view = held or view_of(model, *(example if isinstance(example, tuple) else (example,)))
    copy = clone(model)
    setattr(copy, VIEW_ATTRIBUTE, view)
    try:
        if method in MIRRORED:
            result = _mirrored(spec.function, copy, view, amount, scope, seed, options)
        else:
            result = spec.function(copy, amount, data=data, scope=scope, seed=seed, **options)
    finally:
        copy.__dict__.pop(VIEW_ATTRIBUTE, None)
    result.model.__dict__.pop(VIEW_ATTRIBUTE, None)
    if held is not None:  # the lab measures the pruned copy through its view too
        sizes = [result.model.get_submodule(layer.module).hidden_size for layer in view.layers]
        setattr(result.model, VIEW_ATTRIBUTE, view.resized(sizes))
    result.sparsity = sparsity(result.model, model, view, scope)
    result.method, result.amount, result.scope = method, amount, scope
    if data is not None:
        result.info["score"] = user_data.score_of(result.model, given, score)
    return result


def sparsity(pruned: nn.Module, dense: nn.Module, view: RecurrentView, scope: str) -> float:
    """Fraction of ``dense``'s weights in ``scope`` (the view's names) that are zero or removed in ``pruned``."""
    names = view.scope_names(scope)
    return 1.0 - metrics.nonzero_count(pruned, names) / metrics.weight_count(dense, names)
