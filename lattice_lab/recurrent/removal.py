"""Removing hidden units from any model, exactly: the recurrent modules and every consumer, on a copy.

:func:`remove_units` physically removes units (one index list of kept units per layer of the
:class:`~lattice_lab.recurrent.view.RecurrentView`): the same rows in every gate block of
``weight_ih``/``weight_hh`` and of both biases, both directions, the next layer's input columns
inside a multi-layer module, and the columns of every consumer (a ``Linear``'s, a ``LayerNorm``'s
weight and bias, another recurrent module's input). It works on a deep copy: the user's model is
never modified, and the copy keeps its class and forward signature (only sizes change).

:func:`unit_masks` gives the matching 0/1 masks on the user's own parameter names: the removed
units' gate rows and biases zeroed, so they stay at zero at every step (LSTM: i = f = o = ½,
g = 0, so c = h = 0; GRU: n = 0, so h = ½·h_prev = 0; RNN: h = act(0) = 0) and feed nothing.
Masked and removed models then give the same outputs to float tolerance, except through a
``LayerNorm``: it normalises over the hidden units, and removal changes the mean and variance
it normalises by. :func:`masked_reference` is the reference for that case: the masked model whose
LayerNorms normalise over the kept units only (removed columns stay zero).

Must not import: widgets, cli, compare, pruning, train, data.

Examples
--------
>>> import torch
>>> from torch import nn
>>> from lattice_lab.recurrent import view_of
>>> class Model(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.gru = nn.GRU(3, 6, bidirectional=True, batch_first=True)
...         self.head = nn.Linear(12, 2)
...     def forward(self, x):
...         return self.head(self.gru(x)[0].mean(dim=1))
>>> model, x = Model(), torch.randn(4, 5, 3)
>>> view = view_of(model, x)
>>> small = remove_units(model, view, [[0, 2, 5]])
>>> small.gru.hidden_size, small.head.in_features, model.gru.hidden_size
(3, 6, 6)
>>> torch.allclose(small(x), masked_reference(model, view, [[0, 2, 5]])(x), atol=1e-6)
True
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from ..models import SequenceClassifier, clone
from .view import RecurrentView, UnsupportedModelError

_PREFIXES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def normalize_keep(view: RecurrentView, keep: Any, caller: str = "remove_units") -> list[torch.Tensor]:
    """``keep`` as one sorted tensor of distinct, in-range unit indices per layer of ``view``.

    The layers of one multi-layer module share one ``hidden_size``, so they must keep as many units.
    """
    if isinstance(keep, torch.Tensor) and keep.dim() == 1:
        keep = [keep]
    if isinstance(keep, (str, bytes)) or not isinstance(keep, Sequence) or len(keep) != len(view.layers):
        raise ValueError(f"The 'keep' parameter of {caller} must be one sequence of kept unit indices per layer "
                         f"({len(view.layers)} layers: {[layer.name for layer in view.layers]}). Got {keep!r} instead.")
    result = []
    for layer, entry in zip(view.layers, keep):
        indices = torch.as_tensor(entry).flatten()
        if indices.numel() == 0 or indices.dtype == torch.bool or indices.dtype.is_floating_point:
            raise ValueError(f"The 'keep' parameter of {caller} must give layer {layer.name} at least one integer unit "
                             f"index. Got {entry!r} instead.")
        indices = torch.unique(indices.long())
        if indices.numel() != len(torch.as_tensor(entry).flatten()) or indices.min() < 0 \
                or indices.max() >= layer.hidden_size:
            raise ValueError(f"The 'keep' parameter of {caller} must give layer {layer.name} distinct indices in "
                             f"[0, {layer.hidden_size}). Got {entry!r} instead.")
        result.append(indices)
    for module in view.modules():
        counts = {int(result[k].numel()) for k in view.layers_of(module)}
        if len(counts) > 1:
            raise ValueError(f"The 'keep' parameter of {caller} must keep as many units in every layer of module "
                             f"{module!r} (its layers share one hidden_size). Got counts {sorted(counts)} instead.")
    return result


def _gated(indices: torch.Tensor, size: int, gates: int) -> torch.Tensor:
    return torch.cat([g * size + indices for g in range(gates)])


def _columns(layout, keep: list[torch.Tensor]) -> torch.Tensor:
    columns, offset = [], 0
    for block in layout:
        kept = torch.arange(block.width) if block.layer is None else keep[block.layer]
        columns.append(offset + kept)
        offset += block.width
    return torch.cat(columns)


def index_plan(view: RecurrentView, keep: list[torch.Tensor]) -> dict[str, tuple[torch.Tensor | None, ...]]:
    """For every tensor touched: ``name -> (kept rows, kept columns)`` (None: all). Drives both
    removal and masking, so they cannot disagree."""
    plan: dict[str, tuple[torch.Tensor | None, torch.Tensor | None]] = {}
    for k, layer in enumerate(view.layers):
        rows = _gated(keep[k], layer.hidden_size, layer.gates)
        below = None
        if layer.index > 0:
            below = torch.cat([d * layer.hidden_size + keep[k - 1] for d in range(layer.directions)])
        for d in range(layer.directions):
            plan[layer.parameter("weight_ih", d)] = (rows, below)
            plan[layer.parameter("weight_hh", d)] = (rows, keep[k])
            if layer.bias:
                plan[layer.parameter("bias_ih", d)] = (rows, None)
                plan[layer.parameter("bias_hh", d)] = (rows, None)
    for consumer in view.consumers:
        columns = _columns(consumer.layout, keep)
        prefix = f"{consumer.module}." if consumer.module else ""
        if consumer.kind == "linear":
            plan[prefix + "weight"] = (None, columns)
        elif consumer.kind == "layernorm":
            plan[prefix + "weight"] = (columns, None)
            plan[prefix + "bias"] = (columns, None)
        else:  # a recurrent module is a layer of the view too: its rows are in the plan already
            first = view.layers[view.layers_of(consumer.module)[0]]
            for d in range(first.directions):
                name = first.parameter("weight_ih", d)
                plan[name] = (plan[name][0], columns)
    return plan


def kept_pattern(view: RecurrentView, keep: Any, name: str, shape: tuple[int, ...]):
    """0/1 array of ``shape`` (the dense weight ``name``): 1 on the rows and columns removal keeps."""
    import numpy as np

    rows, cols = index_plan(view, normalize_keep(view, keep, "kept_pattern")).get(name, (None, None))
    row_ok, col_ok = np.zeros(shape[0], dtype=bool), np.zeros(shape[1], dtype=bool)
    row_ok[slice(None) if rows is None else rows.numpy()] = True
    col_ok[slice(None) if cols is None else cols.numpy()] = True
    return (row_ok[:, None] & col_ok[None, :]).astype(np.float32)


def _select(tensor: torch.Tensor, rows, cols) -> torch.Tensor:
    if rows is not None:
        tensor = tensor.index_select(0, rows.to(tensor.device))
    if cols is not None:
        tensor = tensor.index_select(1, cols.to(tensor.device))
    return tensor


def _replace(module: nn.Module, attr: str, rows, cols) -> None:
    """Slice parameter ``attr`` of ``module`` (and its ``torch.nn.utils.prune`` mask, if any) in place."""
    if hasattr(module, attr + "_orig"):
        orig, mask = getattr(module, attr + "_orig"), getattr(module, attr + "_mask")
        new = nn.Parameter(_select(orig.detach(), rows, cols).clone(), requires_grad=orig.requires_grad)
        module._parameters[attr + "_orig"] = new
        module._buffers[attr + "_mask"] = _select(mask, rows, cols).clone()
        setattr(module, attr, new * module._buffers[attr + "_mask"])
        return
    old = getattr(module, attr, None)
    if old is None:
        return
    setattr(module, attr, nn.Parameter(_select(old.detach(), rows, cols).clone(), requires_grad=old.requires_grad))


def remove_units(model: nn.Module, view: RecurrentView, keep: Any) -> nn.Module:
    """A copy of ``model`` with only the hidden units ``keep`` (one index list per layer of ``view``).

    The copy is ``model``'s class; its recurrent modules' ``hidden_size``/``input_size``, its
    Linear consumers' ``in_features`` and LayerNorms' ``normalized_shape`` are updated; masks
    attached with ``torch.nn.utils.prune`` are sliced with their weights. A
    :class:`~lattice_lab.models.SequenceClassifier` also gets its ``config["hidden_size"]``.

    Examples
    --------
    >>> import torch
    >>> from lattice_lab.models import build
    >>> from lattice_lab.recurrent import view_of
    >>> model = build({"kind": "lstm", "input_size": 2, "hidden_size": [6, 4], "num_classes": 3})
    >>> view = view_of(model, torch.zeros(1, 3, 2))
    >>> remove_units(model, view, [[0, 1, 2], [3]]).config["hidden_size"]
    [3, 1]
    """
    keep = normalize_keep(view, keep)
    plan = index_plan(view, keep)
    small = clone(model)
    with torch.no_grad():
        for name, (rows, cols) in plan.items():
            path, _, attr = name.rpartition(".")
            _replace(small.get_submodule(path), attr, rows, cols)
    for module in view.modules():
        target = small.get_submodule(module)
        target.hidden_size = int(keep[view.layers_of(module)[0]].numel())
    for consumer in view.consumers:
        target = small.get_submodule(consumer.module)
        width = len(_columns(consumer.layout, keep))
        if consumer.kind == "linear":
            target.in_features = width
        elif consumer.kind == "layernorm":
            target.normalized_shape = (width,)
        else:
            target.input_size = width
    for module in view.modules():
        small.get_submodule(module)._init_flat_weights()
    if isinstance(small, SequenceClassifier):
        small.config = dict(small.config, hidden_size=[int(k.numel()) for k in keep])
    return small


def unit_masks(model: nn.Module, view: RecurrentView, keep: Any) -> dict[str, torch.Tensor]:
    """0/1 masks (by the user's parameter names) zeroing the removed units' gate rows and biases.

    >>> import torch
    >>> from torch import nn
    >>> from lattice_lab.recurrent import view_of
    >>> class Model(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.rnn, self.head = nn.RNN(2, 3), nn.Linear(3, 1)
    ...     def forward(self, x):
    ...         return self.head(self.rnn(x)[0][-1])
    >>> masks = unit_masks(Model(), view_of(Model(), torch.zeros(4, 1, 2)), [[0, 2]])
    >>> sorted(masks), masks["rnn.bias_hh_l0"].tolist()
    (['rnn.bias_hh_l0', 'rnn.bias_ih_l0', 'rnn.weight_hh_l0', 'rnn.weight_ih_l0'], [1.0, 0.0, 1.0])
    """
    keep = normalize_keep(view, keep, "unit_masks")
    masks = {}
    for k, layer in enumerate(view.layers):
        rows = _gated(keep[k], layer.hidden_size, layer.gates)
        for prefix in _PREFIXES:
            if prefix.startswith("bias") and not layer.bias:
                continue
            for d in range(layer.directions):
                name = layer.parameter(prefix, d)
                path, _, attr = name.rpartition(".")
                module = model.get_submodule(path)
                tensor = getattr(module, attr + "_orig", None)
                tensor = getattr(module, attr) if tensor is None else tensor
                mask = torch.zeros_like(tensor)
                mask[rows.to(tensor.device)] = 1
                masks[name] = mask
    return masks


def _apply(model: nn.Module, masks: dict[str, torch.Tensor]) -> nn.Module:
    target = clone(model)
    for name, mask in masks.items():
        path, _, attr = name.rpartition(".")
        torch_prune.custom_from_mask(target.get_submodule(path), attr, mask)
    return target


def _kept_layer_norm(columns: torch.Tensor):
    def hook(module: nn.LayerNorm, args, output):
        x = args[0]
        cols = columns.to(x.device)
        weight = None if module.weight is None else module.weight[cols]
        bias = None if module.bias is None else module.bias[cols]
        out = torch.zeros_like(output)
        out[..., cols] = nn.functional.layer_norm(x[..., cols], (len(cols),), weight, bias, module.eps)
        return out
    return hook


def masked_reference(model: nn.Module, view: RecurrentView, keep: Any) -> nn.Module:
    """The masked copy of ``model`` that removal must equal: :func:`unit_masks` applied with
    ``torch.nn.utils.prune``, and every LayerNorm consumer normalising over the kept units only
    (its removed columns set to zero). Without LayerNorm consumers it is the plain masked model."""
    keep = normalize_keep(view, keep, "masked_reference")
    reference = _apply(model, unit_masks(model, view, keep))
    for consumer in view.consumers:
        if consumer.kind == "layernorm":
            columns = _columns(consumer.layout, keep)
            reference.get_submodule(consumer.module).register_forward_hook(_kept_layer_norm(columns))
    return reference


def check_removal_matches_masking(model: nn.Module, view: RecurrentView, inputs: tuple) -> None:
    """Refuse a view under which removing the first half of every layer's units does not give the
    outputs of :func:`masked_reference` on ``inputs`` (the probe of the hooks fallback)."""
    keep = [torch.arange(max(1, layer.hidden_size // 2)) for layer in view.layers]
    try:
        with torch.no_grad():
            removed = remove_units(model, view, keep)(*inputs)
            masked = masked_reference(model, view, keep)(*inputs)
        same = all(torch.allclose(a, b, atol=1e-5, rtol=1e-4) for a, b in zip(_flat(removed), _flat(masked)))
    except RuntimeError as error:
        raise UnsupportedModelError(f"module {view.modules()[0]!r}: its hidden units could not be followed (the model "
                                    f"does not trace with torch.fx, and removing units failed: {error}).") from None
    if not same:
        raise UnsupportedModelError(f"module {view.modules()[0]!r}: its hidden units reach an operation lattice_lab "
                                    "cannot follow (the model does not trace with torch.fx, and removing units does "
                                    "not give the outputs of masking them).")


def _flat(value) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _flat(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _flat(item)]
    return []
