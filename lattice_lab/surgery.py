"""Changing the structure of a recurrent model: masks on weights, exact removal of units.

One idea in two forms that must agree: masking the weights of some hidden units and removing
those units give the same outputs.

Masks live where ``torch.nn.utils.prune`` puts them (``weight_orig`` and ``weight_mask`` next
to each other, saved in the state dict), so pruned models interoperate with the rest of
PyTorch and stay pruned through optimizer steps. :func:`remove_units` physically removes hidden
units — the same units in every gate block, the next layer's input columns, the top-down
columns of the layer below, both directions, and the readout — and returns a smaller model
whose outputs equal those of the model with the removed units masked out.

Must not import anything from the package (except models, validation and recurrent.removal).

Examples
--------
>>> import torch
>>> from lattice_lab.models import build
>>> model = build({"kind": "lstm", "input_size": 3, "hidden_size": 8, "num_classes": 4})
>>> small = remove_units(model, [torch.tensor([0, 2, 5])])
>>> small.config["hidden_size"]
[3]
>>> masked = apply_masks(model, unit_masks(model, [torch.tensor([0, 2, 5])]))
>>> x = torch.randn(2, 6, 3)
>>> torch.allclose(small(x), masked(x), atol=1e-6)
True
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from .models import SequenceClassifier, attached_view, build, clone, gate_count, get_weight, hidden_sizes, split_name, weight_names
from .validation import check_bool, check_instance, fail

KeepSpec = Sequence[Sequence[int] | torch.Tensor] | torch.Tensor


def apply_masks(model: nn.Module, masks: dict[str, torch.Tensor], *, inplace: bool = False) -> nn.Module:
    """Attach 0/1 masks (by qualified tensor name) with ``torch.nn.utils.prune.custom_from_mask``.

    Returns a masked copy unless ``inplace``. A tensor that already carries a mask gets the
    product of both (``torch.nn.utils.prune`` combines them), so masks only ever remove more.
    """
    check_instance(masks, "masks", "apply_masks", dict, "a dict of tensor name -> 0/1 mask")
    target = model if check_bool(inplace, "inplace", "apply_masks") else clone(model)
    for name, mask in masks.items():
        current = _maskable(target, name)
        if current is None:
            names = [n[: -len("_orig")] if n.endswith("_orig") else n for n, _ in target.named_parameters()]
            raise ValueError(f"a mask names {name!r}, which is no parameter of the model; its parameters: {names}")
        module_path, attr = split_name(name)
        module = target.get_submodule(module_path)
        if not isinstance(mask, (torch.Tensor, np.ndarray)):
            fail("masks", "apply_masks", "a dict of tensor name -> 0/1 mask (a tensor or an array)",
                 type(mask).__name__)
        mask = torch.as_tensor(mask)
        if mask.shape != current.shape:
            raise ValueError(f"mask for {name!r} has shape {tuple(mask.shape)}, expected {tuple(current.shape)}")
        if not torch.all((mask == 0) | (mask == 1)):
            raise ValueError(f"mask for {name!r} must be 0/1")
        torch_prune.custom_from_mask(module, attr, mask.to(dtype=current.dtype, device=current.device))
    return target


def _maskable(model: nn.Module, name: str) -> torch.Tensor | None:
    """The parameter called ``name`` (``weight_orig`` when it is already masked), or None if there is none."""
    if not isinstance(name, str):
        return None
    module_path, attr = split_name(name)
    try:
        module = model.get_submodule(module_path)
    except AttributeError:
        return None
    current = getattr(module, attr + "_orig", None)
    current = getattr(module, attr, None) if current is None else current
    return current if isinstance(current, nn.Parameter) else None


def get_masks(model: nn.Module) -> dict[str, torch.Tensor]:
    """The masks currently attached to ``model`` by qualified tensor name (copies)."""
    masks = {}
    for module_path, module in model.named_modules():
        for buffer_name, buffer in module.named_buffers(recurse=False):
            if buffer_name.endswith("_mask"):
                prefix = f"{module_path}." if module_path else ""
                masks[prefix + buffer_name[: -len("_mask")]] = buffer.detach().clone()
    return masks


def make_permanent(model: nn.Module, *, inplace: bool = False) -> nn.Module:
    """Fold every mask into its weight (``torch.nn.utils.prune.remove``): zeros stay, masks go."""
    target = model if check_bool(inplace, "inplace", "make_permanent") else clone(model)
    for name in get_masks(target):
        module_path, attr = split_name(name)
        torch_prune.remove(target.get_submodule(module_path), attr)
    return target


_KEEP = "one sequence of int unit indices per layer"


def _normalize_keep(model: SequenceClassifier, keep: KeepSpec, caller: str) -> list[torch.Tensor]:
    """``keep`` as one sorted int64 tensor of distinct, in-range unit indices per layer.

    Indices must be integers (ints, an integer array or tensor): ``0.7`` is not unit 0.
    """
    sizes = hidden_sizes(model)
    if isinstance(keep, torch.Tensor) and keep.dim() == 1 and len(sizes) == 1:
        keep = [keep]
    if isinstance(keep, (str, bytes)) or not isinstance(keep, (Sequence, torch.Tensor, np.ndarray)):
        fail("keep", caller, _KEEP, keep)
    if len(keep) != len(sizes):
        raise ValueError(f"keep needs one index list per layer ({len(sizes)} layers), got {len(keep)}")
    result = []
    for k, (entry, size) in enumerate(zip(keep, sizes)):
        if isinstance(entry, (str, bytes)):
            fail("keep", caller, _KEEP, keep)
        try:
            indices = torch.as_tensor(entry).flatten()
        except (TypeError, ValueError, RuntimeError):
            fail("keep", caller, _KEEP, keep)
        if indices.numel() == 0:
            raise ValueError(f"keep[{k}] is empty: every layer must keep at least one unit")
        if indices.dtype == torch.bool or indices.dtype.is_floating_point or indices.dtype.is_complex:
            fail("keep", caller, _KEEP, keep)
        indices = indices.long()
        if indices.min() < 0 or indices.max() >= size:
            raise ValueError(f"keep[{k}] has indices outside [0, {size}) for layer {k}")
        unique = torch.unique(indices)  # sorted
        if unique.numel() != indices.numel():
            raise ValueError(f"keep[{k}] has repeated indices")
        result.append(unique)
    return result


def _gated(indices: torch.Tensor, size: int, gates: int) -> torch.Tensor:
    """Row indices of the kept units in every gate block of a weight with ``gates`` blocks."""
    return torch.cat([g * size + indices for g in range(gates)])


def _directions(model: SequenceClassifier) -> list[str]:
    return ["_l0", "_l0_reverse"] if model.config["bidirectional"] else ["_l0"]


def unit_index_plan(model: SequenceClassifier, keep: KeepSpec) -> dict[str, tuple[torch.Tensor | None, torch.Tensor | None]]:
    """For every tensor touched by removing units: ``name -> (kept rows, kept columns)``.

    ``None`` means "all". This single plan drives both :func:`remove_units` (slicing) and
    :func:`unit_masks` (masking), so the two cannot disagree.
    """
    return _plan(model, _normalize_keep(model, keep, "unit_index_plan"))


def _plan(model: SequenceClassifier, keep: list[torch.Tensor]) -> dict[str, tuple[torch.Tensor | None, torch.Tensor | None]]:
    sizes, gates = hidden_sizes(model), gate_count(model.kind)
    directions = _directions(model)
    plan: dict[str, tuple[torch.Tensor | None, torch.Tensor | None]] = {}
    for k, indices in enumerate(keep):
        rows = _gated(indices, sizes[k], gates)
        below = None if k == 0 else torch.cat([d * sizes[k - 1] + keep[k - 1] for d in range(len(directions))])
        for suffix in directions:
            plan[f"layers.{k}.weight_ih{suffix}"] = (rows, below)
            plan[f"layers.{k}.weight_hh{suffix}"] = (rows, indices)
            plan[f"layers.{k}.bias_ih{suffix}"] = (rows, None)
            plan[f"layers.{k}.bias_hh{suffix}"] = (rows, None)
        if model.kind == "feedback" and k + 1 < len(keep):
            plan[f"layers.{k}.weight_td_l0"] = (indices, keep[k + 1])
    top = torch.cat([d * sizes[-1] + keep[-1] for d in range(len(directions))])
    plan["readout.weight"] = (None, top)
    return plan


def _raw(module: nn.Module, attr: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(underlying tensor, mask or None) of a possibly pruned tensor."""
    if hasattr(module, attr + "_orig"):
        return getattr(module, attr + "_orig"), getattr(module, attr + "_mask")
    return getattr(module, attr), None


def _select(tensor: torch.Tensor, rows: torch.Tensor | None, cols: torch.Tensor | None) -> torch.Tensor:
    if rows is not None:
        tensor = tensor.index_select(0, rows.to(tensor.device))
    if cols is not None:
        tensor = tensor.index_select(1, cols.to(tensor.device))
    return tensor


def remove_units(model: SequenceClassifier, keep: KeepSpec) -> SequenceClassifier:
    """A new, smaller model that keeps only the hidden units ``keep`` (one index list per layer).

    Gate-consistent (the same units in every gate block), multi-layer (the next layer's input
    columns), bidirectional (the same units in both directions), feedback-aware (top-down
    columns) and readout-aware. Masks on kept weights are carried over, sliced. The input model
    is not modified.

    Examples
    --------
    >>> import torch
    >>> from lattice_lab.models import build
    >>> model = build({"kind": "gru", "input_size": 2, "hidden_size": [6, 5], "num_classes": 3})
    >>> remove_units(model, [[0, 1, 2], [4]]).config["hidden_size"]
    [3, 1]
    """
    view = attached_view(model)
    if view is not None:  # a model of the user's own, inside pruning: its view knows the consumers
        from .recurrent.removal import remove_units as remove_through_view

        return remove_through_view(model, view, keep)
    check_instance(model, "model", "remove_units", SequenceClassifier, "a lattice_lab SequenceClassifier")
    keep = _normalize_keep(model, keep, "remove_units")
    plan = _plan(model, keep)
    config = dict(model.config, hidden_size=[int(k.numel()) for k in keep])
    small = build(config).to(next(model.parameters()).device)
    masks = {}
    with torch.no_grad():
        for module_path, module in model.named_modules():
            for attr, _ in list(module.named_parameters(recurse=False)):
                attr = attr[: -len("_orig")] if attr.endswith("_orig") else attr
                name = f"{module_path}.{attr}" if module_path else attr
                rows, cols = plan.get(name, (None, None))
                tensor, mask = _raw(module, attr)
                getattr(small.get_submodule(module_path), attr).copy_(_select(tensor, rows, cols))
                if mask is not None:
                    masks[name] = _select(mask, rows, cols)
    return apply_masks(small, masks, inplace=True) if masks else small


def unit_masks(model: SequenceClassifier, keep: KeepSpec) -> dict[str, torch.Tensor]:
    """0/1 masks that zero the incoming and outgoing weights (and biases) of removed units.

    Applied with :func:`apply_masks`, they give a model whose outputs equal
    ``remove_units(model, keep)`` — the removed units stay at zero and feed nothing.
    """
    plan = _plan(model, _normalize_keep(model, keep, "unit_masks"))
    masks = {}
    for name, (rows, cols) in plan.items():
        module_path, attr = split_name(name)
        tensor, _ = _raw(model.get_submodule(module_path), attr)
        mask = torch.zeros_like(tensor)
        if tensor.dim() == 1:
            mask[rows] = 1
        else:
            row_ok = torch.zeros(tensor.shape[0], dtype=torch.bool, device=tensor.device)
            col_ok = torch.zeros(tensor.shape[1], dtype=torch.bool, device=tensor.device)
            row_ok[slice(None) if rows is None else rows] = True
            col_ok[slice(None) if cols is None else cols] = True
            mask[row_ok[:, None] & col_ok[None, :]] = 1
        masks[name] = mask
    return masks


def keep_pattern(dense: SequenceClassifier, pruned: nn.Module, name: str,
                 kept_units: Sequence[torch.Tensor] | None = None) -> np.ndarray:
    """0/1 array of the dense shape of weight ``name``: 1 where ``pruned`` keeps a nonzero weight.

    A weight of the dense shape (weight-level pruning): its nonzeros. A smaller model
    (unit-level pruning): the rows and columns of the ``kept_units`` of each layer. Neither:
    everything is kept.

    >>> from lattice_lab.models import build
    >>> model = build({"kind": "rnn", "input_size": 2, "hidden_size": 4, "num_classes": 2})
    >>> keep = [torch.tensor([0, 3])]
    >>> keep_pattern(model, remove_units(model, keep), "layers.0.weight_hh_l0", keep).tolist()
    [[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 1.0]]
    """
    shape = tuple(get_weight(dense, name).shape)
    if name in weight_names(pruned, "all"):
        weight = get_weight(pruned, name).detach()
        if tuple(weight.shape) == shape:
            return (weight != 0).float().cpu().numpy()
    if kept_units is not None:
        view = attached_view(dense)
        if view is not None:  # a model of the user's own: the rows and columns its view's removal keeps
            from .recurrent.removal import kept_pattern

            return kept_pattern(view, kept_units, name, shape)
        return unit_masks(dense, kept_units)[name].detach().float().cpu().numpy()
    return np.ones(shape, dtype=np.float32)
