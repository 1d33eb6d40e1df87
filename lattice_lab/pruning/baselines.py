"""The baselines every structural method must beat: random and magnitude pruning, at weight
level (``torch.nn.utils.prune``-style masks, global or per layer) and at unit level (whole
hidden units removed with :func:`lattice_lab.surgery.remove_units`).

Must not import: widgets, cli, compare.

Examples
--------
>>> from lattice_lab.models import build
>>> from lattice_lab.pruning import prune
>>> model = build({"kind": "gru", "input_size": 4, "hidden_size": 32, "num_classes": 3})
>>> prune(model, "magnitude-units", 0.5).model.config["hidden_size"]
[16]
"""
from __future__ import annotations

import torch

from ..models import get_weight, hidden_sizes, weight_names
from ..surgery import apply_masks, remove_units, unit_index_plan
from .base import PruneResult, masks_from_scores, register, units_to_keep


def _weight_level(model, amount, scope, per_layer, score) -> PruneResult:
    names = weight_names(model, scope)
    scores = {name: score(get_weight(model, name).detach()) for name in names}
    masks = masks_from_scores(scores, amount, per_layer=per_layer)
    return PruneResult(model=apply_masks(model, masks, inplace=True), masks=masks,
                       info={"per_layer": per_layer, "tensors": names})


@register("random", level="weight", summary="remove a uniformly random fraction of the weights in scope",
          colour="#9e9e9e")
def random_weights(model, amount, *, data=None, scope="recurrent", seed=0, per_layer: bool = False) -> PruneResult:
    generator = torch.Generator().manual_seed(seed)
    return _weight_level(model, amount, scope, per_layer,
                         lambda w: torch.rand(w.shape, generator=generator).to(w.device))


@register("magnitude", level="weight", summary="remove the weights of smallest |w| (global ranking by default)",
          colour="#1f77b4")
def magnitude_weights(model, amount, *, data=None, scope="recurrent", seed=0, per_layer: bool = False) -> PruneResult:
    return _weight_level(model, amount, scope, per_layer, torch.abs)


def unit_norms(model) -> list[torch.Tensor]:
    """Per layer, the L2 norm of every weight touching each hidden unit: its rows in every gate
    block of W_ih and W_hh (incoming) and its columns in the next consumers (outgoing: W_hh,
    the next layer's W_ih, the top-down W_td of the layer below, the readout)."""
    sizes = hidden_sizes(model)
    squares = [torch.zeros(size) for size in sizes]
    for name in unit_index_plan(model, [torch.arange(size) for size in sizes]):
        w = get_weight(model, name).detach().float().cpu()
        if w.dim() == 1:
            continue
        for k, axis in zip(_unit_layers(name, len(sizes)), (0, 1)):
            if k is not None:  # fold gate blocks / directions onto the layer's units
                squares[k] += (w ** 2).sum(dim=1 - axis).view(-1, sizes[k]).sum(dim=0)
    return [s.sqrt() for s in squares]


def _unit_layers(name: str, num_layers: int) -> tuple[int | None, int | None]:
    """The layers whose hidden units index a weight's rows and columns (None: not hidden units)."""
    if name == "readout.weight":
        return None, num_layers - 1
    _, k, attr = name.split(".")
    k = int(k)
    if attr.startswith("weight_ih"):
        return k, (k - 1 if k > 0 else None)
    if attr.startswith("weight_td"):
        return k, k + 1
    return k, k


def _unit_level(model, amount, scores: list[torch.Tensor]) -> PruneResult:
    keep = []
    for s in scores:
        count = units_to_keep(s.numel(), amount)
        keep.append(torch.sort(torch.argsort(s, descending=True, stable=True)[:count]).values)
    return PruneResult(model=remove_units(model, keep), kept_units=keep, info={"unit_scores": scores})


@register("random-units", level="unit", summary="remove a uniformly random fraction of each layer's hidden units",
          colour="#bdbdbd")
def random_units(model, amount, *, data=None, scope="recurrent", seed=0) -> PruneResult:
    generator = torch.Generator().manual_seed(seed)
    return _unit_level(model, amount, [torch.rand(size, generator=generator) for size in hidden_sizes(model)])


@register("magnitude-units", level="unit",
          summary="remove the hidden units whose incoming and outgoing weights have the smallest L2 norm",
          colour="#17becf")
def magnitude_units(model, amount, *, data=None, scope="recurrent", seed=0) -> PruneResult:
    return _unit_level(model, amount, unit_norms(model))
