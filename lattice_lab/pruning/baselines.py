"""The baselines every structural method must beat: random and magnitude pruning, at weight
level (``torch.nn.utils.prune``-style masks, global or per layer) and at unit level (whole
hidden units removed with :func:`lattice_lab.surgery.remove_units`).

These four are also the template for a new method: a function of ``(model, amount, *, data,
scope, seed, **options)`` registered with :func:`~lattice_lab.pruning.base.register`, whose
keyword options have defaults (the lab, the CLI and ``compare`` read them off the signature),
that returns a :class:`~lattice_lab.pruning.base.PruneResult` and documents, numpy-style, what
it does, its Parameters, what ``info`` holds, References, See also and Examples.

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

from ..models import attached_view, get_weight, hidden_sizes, weight_names
from ..recurrent.methods import unit_norms as foreign_unit_norms
from ..surgery import apply_masks, remove_units, unit_index_plan
from .base import PruneResult, masks_from_scores, register, units_to_keep


def _weight_level(model, amount, scope, per_layer, score) -> PruneResult:
    names = weight_names(model, scope)
    scores = {name: score(get_weight(model, name).detach()) for name in names}
    masks = masks_from_scores(scores, amount, per_layer=per_layer)
    return PruneResult(model=apply_masks(model, masks, inplace=True), masks=masks,
                       info={"per_layer": per_layer, "tensors": names})


@register("random", level="weight", summary="remove a uniformly random fraction of the weights in scope")
def random_weights(model, amount, *, data=None, scope="recurrent", seed=0, per_layer: bool = False) -> PruneResult:
    """Random weight pruning: remove ``round(amount · n)`` of the n weights in ``scope``, uniformly at random.

    Every weight gets a seeded uniform score and the lowest-scored are removed
    (:func:`~lattice_lab.pruning.base.masks_from_scores`), so the amount is met exactly. The
    masks are attached with ``torch.nn.utils.prune``; the model keeps its shape. The floor any
    method must clear: on RNNs it is a strong one (Zhang & Stadie 2020).

    Parameters
    ----------
    model : the private copy :func:`~lattice_lab.pruning.prune` passes (masked in place).
    amount : fraction of the weights in ``scope`` removed, in [0, 1).
    data : unused (the method needs no data); part of the contract.
    scope : ``"recurrent"``, ``"input"`` or ``"all"``: which weight matrices are pruned.
    seed : seeds the random scores; the same seed gives the same masks.
    per_layer : False (default): one draw over the whole scope (each tensor loses about
        ``amount`` of its weights); True: exactly ``round(amount · numel)`` from each tensor.
        The default matches ``magnitude``'s, so the two differ only in the score.

    Returns
    -------
    PruneResult
        ``masks`` (0/1 per pruned tensor) and ``info``: ``per_layer`` (the option used) and
        ``tensors`` (the names of the pruned weight matrices).

    References
    ----------
    .. [1] D. Blalock, J. J. Gonzalez Ortiz, J. Frankle, J. Guttag, "What is the state of neural
       network pruning?", MLSys 2020 (random pruning as the control of every comparison).
    .. [2] M. S. Zhang, B. Stadie, "One-shot pruning of recurrent neural networks by Jacobian
       spectrum evaluation", ICLR 2020 (random pruning is competitive on RNNs).

    See also
    --------
    magnitude_weights : the same masks from ``|w|`` instead of random scores.
    random_units : random pruning of whole hidden units.

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> from lattice_lab.pruning import prune
    >>> model = build({"kind": "gru", "input_size": 4, "hidden_size": 8, "num_classes": 3})
    >>> result, again = prune(model, "random", 0.25, seed=2), prune(model, "random", 0.25, seed=2)
    >>> result.sparsity, result.info["tensors"]
    (0.25, ['layers.0.weight_hh_l0'])
    >>> torch.equal(result.masks["layers.0.weight_hh_l0"], again.masks["layers.0.weight_hh_l0"])
    True
    """
    generator = torch.Generator().manual_seed(seed)
    return _weight_level(model, amount, scope, per_layer,
                         lambda w: torch.rand(w.shape, generator=generator).to(w.device))


@register("magnitude", level="weight", summary="remove the weights of smallest |w| (global ranking by default)")
def magnitude_weights(model, amount, *, data=None, scope="recurrent", seed=0, per_layer: bool = False) -> PruneResult:
    """Magnitude pruning: remove the ``round(amount · n)`` weights of smallest ``|w|`` in ``scope``.

    Scores are ``|w|``; ties are broken by position, so the masks are deterministic and the
    amount is met exactly (:func:`~lattice_lab.pruning.base.masks_from_scores`). The masks are
    attached with ``torch.nn.utils.prune``; the model keeps its shape.

    Parameters
    ----------
    model : the private copy :func:`~lattice_lab.pruning.prune` passes (masked in place).
    amount : fraction of the weights in ``scope`` removed, in [0, 1).
    data : unused (the method needs no data); part of the contract.
    scope : ``"recurrent"``, ``"input"`` or ``"all"``: which weight matrices are pruned.
    seed : unused (the method is deterministic); part of the contract.
    per_layer : False (default): one global ranking of ``|w|`` over the scope, the usual
        magnitude baseline (a tensor of large weights keeps more of them); True: each tensor
        loses exactly ``round(amount · numel)`` of its own smallest weights. ``ramanujan-imp``
        and ``imp`` default to True for a reason of their own (see their docstring).

    Returns
    -------
    PruneResult
        ``masks`` (0/1 per pruned tensor) and ``info``: ``per_layer`` (the option used) and
        ``tensors`` (the names of the pruned weight matrices).

    References
    ----------
    .. [1] S. Han, J. Pool, J. Tran, W. J. Dally, "Learning both weights and connections for
       efficient neural networks", NeurIPS 2015.
    .. [2] D. Blalock, J. J. Gonzalez Ortiz, J. Frankle, J. Guttag, "What is the state of neural
       network pruning?", MLSys 2020 (global and layer-wise magnitude pruning compared).

    See also
    --------
    random_weights : the same masks from random scores.
    magnitude_units : magnitude pruning of whole hidden units.
    lattice_lab.pruning.expander.imp : magnitude pruning in rounds, with fine-tuning between them.

    Examples
    --------
    >>> from lattice_lab.models import build, get_weight
    >>> from lattice_lab.pruning import prune
    >>> model = build({"kind": "rnn", "input_size": 2, "hidden_size": 4, "num_classes": 2})
    >>> result = prune(model, "magnitude", 0.5)
    >>> w, mask = get_weight(model, "layers.0.weight_hh_l0").abs(), result.masks["layers.0.weight_hh_l0"]
    >>> result.sparsity, bool(w[mask == 0].max() <= w[mask == 1].min())
    (0.5, True)
    """
    return _weight_level(model, amount, scope, per_layer, torch.abs)


def unit_norms(model) -> list[torch.Tensor]:
    """Per layer, the L2 norm of every weight touching each hidden unit: its rows in every gate
    block of W_ih and W_hh (incoming) and its columns in the next consumers (outgoing: W_hh,
    the next layer's W_ih, the top-down W_td of the layer below, the readout). A model of the user's
    own is scored through its view (:func:`lattice_lab.recurrent.methods.unit_norms`)."""
    view = attached_view(model)
    if view is not None:
        return foreign_unit_norms(model, view)
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


@register("random-units", level="unit", summary="remove a uniformly random fraction of each layer's hidden units")
def random_units(model, amount, *, data=None, scope="recurrent", seed=0) -> PruneResult:
    """Random unit pruning: remove a uniformly random ``amount`` of each layer's hidden units.

    Each layer keeps ``units_to_keep(H, amount)`` units (at least one) drawn with a seeded
    generator, and :func:`~lattice_lab.surgery.remove_units` cuts the others out of every weight
    that touches them (all gate blocks, both directions, the next layer, the readout): the
    result is a smaller dense model, not a masked one.

    Parameters
    ----------
    model : the private copy :func:`~lattice_lab.pruning.prune` passes.
    amount : fraction of the hidden units removed from every layer, in [0, 1).
    data : unused (the method needs no data); part of the contract.
    scope : unused (a unit is removed from every weight that touches it); part of the contract.
    seed : seeds the draw; the same seed keeps the same units.

    Returns
    -------
    PruneResult
        The smaller model, ``kept_units`` (per layer, the sorted indices of the kept units) and
        ``info``: ``unit_scores`` (per layer, the random score of every unit; the highest are kept).

    References
    ----------
    .. [1] D. Blalock, J. J. Gonzalez Ortiz, J. Frankle, J. Guttag, "What is the state of neural
       network pruning?", MLSys 2020 (random pruning as the control of every comparison).

    See also
    --------
    magnitude_units : keep the units with the largest weights instead.
    random_weights : random pruning of single weights.

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> from lattice_lab.pruning import prune
    >>> model = build({"kind": "lstm", "input_size": 3, "hidden_size": [8, 6], "num_classes": 2})
    >>> result = prune(model, "random-units", 0.5, seed=0)
    >>> result.model.config["hidden_size"], [len(kept) for kept in result.kept_units]
    ([4, 3], [4, 3])
    """
    generator = torch.Generator().manual_seed(seed)
    return _unit_level(model, amount, [torch.rand(size, generator=generator) for size in hidden_sizes(model)])


@register("magnitude-units", level="unit",
          summary="remove the hidden units whose incoming and outgoing weights have the smallest L2 norm")
def magnitude_units(model, amount, *, data=None, scope="recurrent", seed=0) -> PruneResult:
    """Unit-norm pruning: keep, in each layer, the hidden units whose weights have the largest L2 norm.

    A unit's score is the L2 norm of every weight touching it, incoming and outgoing
    (:func:`unit_norms`); each layer keeps its ``units_to_keep(H, amount)`` highest-scored units
    (ties by position) and :func:`~lattice_lab.surgery.remove_units` cuts out the rest, so the
    result is a smaller dense model.

    Parameters
    ----------
    model : the private copy :func:`~lattice_lab.pruning.prune` passes.
    amount : fraction of the hidden units removed from every layer, in [0, 1).
    data : unused (the method needs no data); part of the contract.
    scope : unused (a unit is removed from every weight that touches it); part of the contract.
    seed : unused (the method is deterministic); part of the contract.

    Returns
    -------
    PruneResult
        The smaller model, ``kept_units`` (per layer, the sorted indices of the kept units) and
        ``info``: ``unit_scores`` (per layer, every unit's norm).

    References
    ----------
    .. [1] H. Li, A. Kadav, I. Durdanovic, H. Samet, H. P. Graf, "Pruning filters for efficient
       ConvNets", ICLR 2017 (the norm of a structure's weights as its score).
    .. [2] W. Wen et al., "Learning intrinsic sparse structures within long short-term memory",
       ICLR 2018 (a hidden unit of an LSTM is one structure across all its gates).

    See also
    --------
    unit_norms : the scores.
    random_units : the random control.
    lattice_lab.pruning.spectral_units.spectral : chooses units by how well they reconstruct the rest.

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> from lattice_lab.pruning import prune
    >>> model = build({"kind": "gru", "input_size": 4, "hidden_size": 32, "num_classes": 3})
    >>> result = prune(model, "magnitude-units", 0.5)
    >>> result.model.config["hidden_size"], len(result.info["unit_scores"][0])
    ([16], 32)
    """
    return _unit_level(model, amount, unit_norms(model))
