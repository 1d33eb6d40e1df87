"""Expander-preserving pruning: Ramanujan-preserving iterative magnitude pruning and random
biregular (expander) masks.

Method: Kalra, Biswas, Mitra, Basu, "Graph Expansion in Pruned Recurrent Neural Network Layers
Preserve Performance", arXiv 2403.11100 (2024), following Pal et al., "A Study on the Ramanujan
Graph Property of Winning Lottery Tickets", ICML 2022. Only the abstracts were readable, so the
procedure below is **[reconstructed]** (see ``METHODS.md`` §3).

* **The layers.** Every weight in ``scope`` is one bipartite graph: its 0/1 mask ``M`` (out × in)
  is the biadjacency matrix. For LSTM/GRU the gate blocks stay **stacked** (``W_hh`` of an
  LSTM-128 is one 512 × 128 graph: each hidden unit feeds all four gates); Δ_r of every gate
  block on its own is reported too (``info["delta_r_blocks"]``). Δ_r is
  :func:`lattice_lab.spectral.delta_r` of the mask (isolated nodes removed first); it is
  ``None`` where undefined (an average degree below 3).
* **``ramanujan-imp``** (and ``imp``, the same schedule without the stopping rule): iterative
  magnitude pruning. Round r of R keeps ``round(K₀ (K_final / K₀)^(r/R))`` weights in scope (a geometric
  schedule; the last round is exact), removes the smallest ``|w|`` (per tensor in proportion to
  its surviving weights with ``per_layer=True``, else by a global ranking), then fine-tunes
  (optionally after rewinding the surviving weights to their values before pruning).
  **Stopping rule** (``preserve=True``): a tensor's candidate mask is accepted only if its
  Δ_r ≥ 0; otherwise the tensor is frozen at its current mask and pruned no further, and its
  share of the round's removals goes to the tensors still active, so the requested amount is
  still reached exactly whenever some tensor can absorb it. When every tensor has frozen,
  pruning stops early and ``info`` says so (``stopped_early``, ``reason``, measured sparsity).
* **``expander``**: a random (c, d)-biregular mask (:func:`lattice_lab.spectral.biregular_mask`)
  per tensor — per gate block by default, so every gate is an expander and the stacked mask
  is biregular too — with the out-degree c nearest to the requested density for which the
  column degree is an integer (so the achieved sparsity can differ slightly from ``amount``;
  it is reported). Applied to the trained weights then fine-tuned, or trained from scratch.

The three methods fine-tune on ``device="cpu"`` by default, like every method (the reason:
:mod:`lattice_lab.pruning.base`), on a seeded subset of ``finetune_samples`` training samples
(:func:`finetune_subset`; the old option name ``n_finetune`` works for one release). The plot of
their Δ_r trajectories is :func:`lattice_lab.pruning.expander_plot.plot_delta_r_trajectory`
(re-exported here). Measured results: ``docs/METHODS.md``, "Measured in this project".

Must not import: widgets, cli, compare, graphs.

Examples
--------
>>> from lattice_lab.data import load
>>> from lattice_lab.models import build
>>> from lattice_lab.pruning import prune
>>> model = build({"kind": "lstm", "input_size": 8, "hidden_size": 16, "num_classes": 10})
>>> data = load("digits", subset=64)
>>> result = prune(model, "ramanujan-imp", 0.5, data, rounds=2, finetune_epochs=0)
>>> result.sparsity, len(result.info["delta_r"]["layers.0.weight_hh_l0"])
(0.5, 2)
>>> result = prune(model, "expander", 0.75, data, finetune_epochs=0)
>>> result.info["degrees"]["layers.0.weight_hh_l0"], result.sparsity
([4, 4], 0.75)
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch
from torch.utils.data import Dataset, Subset, TensorDataset

from .. import train
from ..models import SequenceClassifier, attached_view, clone, fresh, gate_count, get_weight, split_name, weight_names
from ..settings import fast
from ..spectral import biregular_mask, delta_r, is_ramanujan_biregular
from ..spectral import delta_s as spectral_delta_s
from ..spectral import imdb as spectral_imdb
from ..surgery import apply_masks
from ..validation import (InvalidParameterError, check_bool, check_choice, check_float, check_instance, check_int,
                          check_range)
from .base import PruneResult, exact_lowest_mask, register
from .expander_plot import plot_delta_r_trajectory  # noqa: F401  (its old path, kept for one release)

DEFAULT_ROUNDS = 5
FAST_ROUNDS = 2
FAST_FINETUNE_SAMPLES = 512  # fine-tuning subset in fast mode (LATTICE_LAB_FAST=1)
DEFAULT_SCRATCH_EPOCHS = 10
MIN_DEGREE = 3  # Δ_r needs average degrees >= 3 (Pal et al. 2022)
RENAMED = {"n_finetune": "finetune_samples"}
"""Options renamed in this release (old name -> new); :func:`~lattice_lab.pruning.prune` still takes the old one."""
_IMP_LABELS = {"delta_r": "Δ_r", "delta_s": "ΔS", "imdb": "IMDB", "delta_r_initial": "Δ_r before pruning",
               "rejected_delta_r": "stopping measure of the rejected mask"}


# --------------------------------------------------------------------------- Δ_r of masks

def _as_mask_array(mask: Any, name: str = "mask") -> np.ndarray:
    if isinstance(mask, torch.Tensor):
        mask = mask.detach().cpu().numpy()
    array = np.asarray(mask, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (out, in), got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is an empty layer (shape {array.shape}); it has no bipartite graph")
    if not np.all((array == 0) | (array == 1)):
        bad = array[(array != 0) & (array != 1)].ravel()[0]
        raise ValueError(f"{name} must be 0/1 valued; found the value {bad!r}")
    return array


def layer_delta_r(mask: Any) -> float | None:
    """Δ_r of a 0/1 layer mask, or ``None`` where it is undefined.

    Undefined means: no edges, or an average row or column degree below 3 once isolated nodes
    are removed (:func:`lattice_lab.spectral.delta_r` raises there; trajectories record None).

    Parameters
    ----------
    mask : 0/1 tensor or array of shape ``(out, in)``; anything else is a ValueError.

    Examples
    --------
    >>> import torch
    >>> round(layer_delta_r(torch.ones(4, 4)), 6)   # K_{4,4}: 2√3 − 0
    3.464102
    >>> layer_delta_r(torch.eye(5)) is None   # degree 1
    True
    """
    array = _as_mask_array(mask)
    edges = array.sum()
    if edges == 0:
        return None
    rows, cols = np.count_nonzero(array.sum(axis=1)), np.count_nonzero(array.sum(axis=0))
    if edges / rows < MIN_DEGREE or edges / cols < MIN_DEGREE:
        return None
    return float(delta_r(array))


STOPPING_MEASURES = ("delta_r", "delta_s", "imdb")
"""What ``ramanujan-imp``'s stopping rule may ask to stay >= 0: Δ_r (Pal et al. 2022), ΔS or IMDB
(Hoang et al. 2023; see :func:`lattice_lab.spectral.delta_s` and :func:`lattice_lab.spectral.imdb`)."""


def layer_measure(mask: Any, measure: str = "delta_r") -> float | None:
    """A layer mask's expansion ``measure`` (one of :data:`STOPPING_MEASURES`), None where undefined.

    >>> import torch
    >>> layer_measure(torch.ones(4, 4), "delta_s") == layer_measure(torch.ones(4, 4))   # K_{4,4}: both 2√3
    True
    """
    if measure == "delta_r":
        return layer_delta_r(mask)
    function = {"delta_s": spectral_delta_s, "imdb": spectral_imdb}[measure]
    try:
        return float(function(_as_mask_array(mask)))
    except ValueError:
        return None


def gate_blocks(model: SequenceClassifier, name: str) -> int:
    """Number of gate blocks stacked along the rows of tensor ``name`` (W_td has one).

    >>> from lattice_lab.models import build
    >>> gate_blocks(build({"kind": "lstm", "input_size": 2, "hidden_size": 3, "num_classes": 2}),
    ...             "layers.0.weight_hh_l0")
    4
    """
    view = attached_view(model)
    if view is not None:  # a model of the user's own: its layer says
        return view.gates_of(name)
    attr = split_name(name)[1]
    return gate_count(model.kind) if attr.startswith(("weight_ih", "weight_hh")) else 1


def block_delta_r(mask: torch.Tensor, blocks: int) -> list[float | None]:
    """:func:`layer_delta_r` of each of the ``blocks`` equal row blocks of ``mask`` (gate blocks).

    >>> block_delta_r(torch.ones(8, 4), 2) == [layer_delta_r(torch.ones(4, 4))] * 2
    True
    """
    return [layer_delta_r(block) for block in torch.chunk(mask, blocks, dim=0)]


# --------------------------------------------------------------------------- schedules

def geometric_schedule(start: int, final: int, rounds: int) -> list[int]:
    """Weights remaining after each of ``rounds`` rounds, from ``start`` down to exactly ``final``.

    Every round removes (about) the same fraction of the remaining weights:
    ``round(start · (final / start)^(r / rounds))``, and the last entry is ``final``.

    Examples
    --------
    >>> geometric_schedule(1000, 50, 4)
    [473, 224, 106, 50]
    >>> geometric_schedule(10, 10, 3)
    [10, 10, 10]
    """
    if not 0 < final <= start:
        raise ValueError(f"need 0 < final <= start, got start={start}, final={final}")
    rounds = check_range(rounds, "rounds", "geometric_schedule", "rounds")
    ratio = final / start
    remaining = [int(round(start * ratio ** (r / rounds))) for r in range(1, rounds)]
    return remaining + [final]


def apportion(count: int, weights: dict[str, int]) -> dict[str, int]:
    """Split ``count`` into integers proportional to ``weights`` (largest remainders, exact sum).

    With ``count <= sum(weights)`` no share exceeds its weight.

    >>> apportion(10, {"a": 3, "b": 1, "c": 1})
    {'a': 6, 'b': 2, 'c': 2}
    >>> sum(apportion(7, {"a": 5, "b": 5, "c": 5}).values())
    7
    """
    total = sum(weights.values())
    if total == 0:
        return {name: 0 for name in weights}
    exact = {name: count * w / total for name, w in weights.items()}
    shares = {name: math.floor(value) for name, value in exact.items()}
    left = count - sum(shares.values())
    by_remainder = sorted(weights, key=lambda name: shares[name] - exact[name])  # stable: ties by order
    for name in by_remainder[:left]:
        shares[name] += 1
    return shares


# --------------------------------------------------------------------------- validation & data

def _check_dataset(data: Any, name: str, caller: str) -> Dataset:
    check_instance(data, name, caller, Dataset,
                   "a labelled torch Dataset of (x, y) items (e.g. lattice_lab.data.load(...))")
    if len(data) == 0:
        raise InvalidParameterError(f"The {name!r} parameter of {caller} must be a nonempty dataset. "
                                    f"Got an empty {type(data).__name__} instead.")
    return data


def finetune_subset(data: Dataset, finetune_samples: int | None, seed: int = 0) -> Dataset:
    """The training samples used for fine-tuning: a seeded subset of ``finetune_samples`` samples.

    ``None`` means every sample (at most 512 in fast mode, ``LATTICE_LAB_FAST=1``). In-memory
    datasets (``.inputs``/``.targets`` or a two-tensor ``TensorDataset``) give a ``TensorDataset``.
    The ``finetune_samples`` option of ``ramanujan-imp``, ``imp`` and ``expander`` is this count.

    >>> from lattice_lab.data import load
    >>> len(finetune_subset(load("digits"), 100))
    100
    """
    data = _check_dataset(data, "data", "finetune_subset")
    size = len(data)
    if finetune_samples is None:
        finetune_samples = min(size, FAST_FINETUNE_SAMPLES) if fast() else size
    finetune_samples = check_range(finetune_samples, "finetune_samples", "finetune_subset", "samples")
    if finetune_samples >= size:
        return data
    index = torch.randperm(size, generator=torch.Generator().manual_seed(seed))[:finetune_samples].sort().values
    inputs, targets = getattr(data, "inputs", None), getattr(data, "targets", None)
    if not (isinstance(inputs, torch.Tensor) and isinstance(targets, torch.Tensor)):
        inputs, targets = (getattr(data, "tensors", ()) + (None, None))[:2]
    if isinstance(inputs, torch.Tensor) and isinstance(targets, torch.Tensor):
        return TensorDataset(inputs[index.to(inputs.device)], targets[index.to(targets.device)])
    return Subset(data, index.tolist())


def _scope_names(model: SequenceClassifier, scope: str) -> list[str]:
    names = weight_names(model, scope)
    if not names:
        raise ValueError(f"the model has no weights in scope {scope!r}")
    return names


def _current_masks(model: SequenceClassifier, names: list[str]) -> dict[str, torch.Tensor]:
    """0/1 masks (CPU) of the nonzero entries of each tensor: a zero weight is no edge."""
    masks = {}
    for name in names:
        weight = get_weight(model, name).detach()
        if not torch.isfinite(weight).all():
            raise ValueError(f"tensor {name!r} has NaN or infinite weights; cannot rank them by magnitude")
        masks[name] = (weight != 0).float().cpu()
    return masks


# --------------------------------------------------------------------------- one IMP round

def _candidates(scores: dict[str, torch.Tensor], masks: dict[str, torch.Tensor], active: list[str],
                n_remove: int, per_layer: bool) -> dict[str, torch.Tensor]:
    """Masks of the ``active`` tensors after removing ``n_remove`` more of their smallest weights.

    ``scores`` are ``|w|`` with already-pruned entries at -1, so they stay pruned.
    """
    remaining = {name: int(masks[name].sum()) for name in active}
    n_remove = min(n_remove, sum(remaining.values()))
    if per_layer:
        counts = apportion(n_remove, remaining)
        return {name: exact_lowest_mask(scores[name], scores[name].numel() - remaining[name] + counts[name])
                for name in active}
    flat = torch.cat([scores[name].flatten() for name in active])
    zeros = flat.numel() - sum(remaining.values())
    mask = exact_lowest_mask(flat, zeros + n_remove)
    out, start = {}, 0
    for name in active:
        size = scores[name].numel()
        out[name] = mask[start:start + size].view_as(scores[name])
        start += size
    return out


def _prune_round(scores, masks, active, n_remove, per_layer, preserve, measure="delta_r"):
    """One round: returns (accepted new masks with their measure, rejected tensors with their measure).

    Under ``preserve``, a changed tensor whose candidate has a ``measure`` (Δ_r by default) < 0 or
    undefined is rejected and the removals are re-split over the others until every candidate is
    accepted.
    """
    trying, rejected = list(active), {}
    while trying:
        candidates = _candidates(scores, masks, trying, n_remove, per_layer)
        changed = {name: mask for name, mask in candidates.items() if not torch.equal(mask, masks[name])}
        deltas = {name: layer_measure(mask, measure) for name, mask in changed.items()}
        bad = [name for name, d in deltas.items() if preserve and (d is None or d < 0)]
        if not bad:
            return {name: (changed[name], deltas[name]) for name in changed}, rejected
        for name in bad:
            rejected[name] = deltas[name]
            trying.remove(name)
    return {}, rejected


# --------------------------------------------------------------------------- ramanujan-imp and imp

def _iterative_magnitude(model, amount, *, data, scope, seed, rounds, finetune_epochs, finetune_samples, rewind,
                         preserve, per_layer, lr, batch_size, device, val_data, caller: str,
                         measure: str = "delta_r", on_round: Callable | None = None) -> PruneResult:
    """The schedule ``ramanujan-imp`` (``preserve=True``) and ``imp`` (``preserve=False``) share.

    ``on_round(model, masks, active)`` is called after every round's fine-tuning, with the tensors
    still being pruned (:mod:`lattice_lab.pruning.schedules` keeps each round so).
    """
    measure = check_choice(measure, "measure", caller, STOPPING_MEASURES)
    rounds = (FAST_ROUNDS if fast() else DEFAULT_ROUNDS) if rounds is None else check_range(rounds, "rounds", caller,
                                                                                            "rounds")
    finetune_epochs = check_range(finetune_epochs, "finetune_epochs", caller, "epochs")
    lr, batch_size = check_range(lr, "lr", caller, "lr"), check_range(batch_size, "batch_size", caller, "batch_size")
    for flag, value in (("rewind", rewind), ("preserve", preserve), ("per_layer", per_layer)):
        check_bool(value, flag, caller)
    _check_dataset(data, "data", caller)
    if val_data is not None:
        _check_dataset(val_data, "val_data", caller)
    check_range(finetune_samples, "finetune_samples", caller, "samples", allow_none=True)
    subset = finetune_subset(data, finetune_samples, seed)
    names = _scope_names(model, scope)
    home = train.model_device(model)

    masks = _current_masks(model, names)
    apply_masks(model, masks, inplace=True)  # every tensor in scope carries a mask: zeros stay zero
    start = clone(model) if rewind else None
    total = sum(mask.numel() for mask in masks.values())
    remaining_start = int(sum(mask.sum() for mask in masks.values()))
    if remaining_start == 0:
        raise ValueError(f"every weight in scope {scope!r} is already zero: nothing to prune")
    remaining_final = min(remaining_start, total - int(round(amount * total)))
    if remaining_final == 0:
        raise ValueError(f"amount={amount} would remove all {total} weights in scope {scope!r}; use a smaller amount")
    schedule = geometric_schedule(remaining_start, remaining_final, rounds)

    current = {name: layer_measure(mask, measure) for name, mask in masks.items()}
    info: dict[str, Any] = {
        "tensors": names, "rounds_requested": rounds, "preserve": preserve, "measure": measure, "rewind": rewind,
        "per_layer": per_layer, "finetune_epochs": finetune_epochs, "finetune_samples": len(subset),
        "sparsity_initial": 1.0 - remaining_start / total,
        "delta_r_initial": {name: layer_delta_r(mask) for name, mask in masks.items()},
        "measure_initial": dict(current), "measure_per_round": {n: [] for n in names},
        "sparsity_per_round": [], "layer_sparsity": {n: [] for n in names}, "delta_r": {n: [] for n in names},
        "delta_r_blocks": {n: [] for n in names}, "frozen": {n: None for n in names}, "rejected_delta_r": {},
        "stopped_early": False, "reason": "", "mask_history": {n: [masks[n].bool()] for n in names},
    }
    if val_data is not None:
        info["accuracy_initial"] = train.evaluate(model, val_data, device=device)["accuracy"]
        info["accuracy_per_round"] = []
    active = list(names)
    for r, target in enumerate(schedule, start=1):
        remaining_now = int(sum(mask.sum() for mask in masks.values()))
        scores = {name: torch.where(masks[name] > 0, get_weight(model, name).detach().abs().float().cpu(),
                                    torch.tensor(-1.0)) for name in active}
        accepted, rejected = _prune_round(scores, masks, active, remaining_now - target, per_layer, preserve, measure)
        for name, d in rejected.items():
            info["frozen"][name], info["rejected_delta_r"][name] = r, d
            active.remove(name)
        if not active:
            info["stopped_early"] = True
            info["reason"] = (f"round {r}: every tensor in scope is frozen (pruning further would make "
                              f"{_IMP_LABELS.get(measure, measure)} negative or undefined); measured sparsity "
                              f"{1.0 - remaining_now / total:.4f} instead of the requested {amount}")
            break
        for name, (mask, d) in accepted.items():
            masks[name], current[name] = mask, d
        model = _masked_for_round(model, start, {n: masks[n] for n in (names if rewind else accepted)})
        train.finetune(model, subset, epochs=finetune_epochs, lr=lr, batch_size=batch_size, device=device,
                       seed=seed + r)
        _record_round(info, model, masks, current, total, val_data, device)
        if on_round is not None:
            on_round(model, masks, list(active))
    info["rounds"] = len(info["sparsity_per_round"])
    train.to_device(model, home)
    return PruneResult(model=model, masks={n: masks[n].clone() for n in names}, info=info)


def _masked_for_round(model, start, masks):
    """The model with the round's masks: the pruned model itself, or the rewound start copy."""
    if start is None:
        return apply_masks(model, masks, inplace=True)
    return apply_masks(clone(start), masks, inplace=True)


def _record_round(info, model, masks, current, total, val_data, device) -> None:
    remaining = int(sum(mask.sum() for mask in masks.values()))
    info["sparsity_per_round"].append(1.0 - remaining / total)
    for name, mask in masks.items():
        info["layer_sparsity"][name].append(1.0 - float(mask.mean()))
        info["measure_per_round"][name].append(current[name])
        info["delta_r"][name].append(current[name] if info["measure"] == "delta_r" else layer_delta_r(mask))
        info["delta_r_blocks"][name].append(block_delta_r(mask, gate_blocks(model, name)))
        info["mask_history"][name].append(mask.bool())
    if val_data is not None:
        info["accuracy_per_round"].append(train.evaluate(model, val_data, device=device)["accuracy"])


@register("ramanujan-imp", level="weight", needs_data=True,
          summary="iterative magnitude pruning with fine-tuning; a layer stops being pruned when its "
                  "Ramanujan gap Δ_r would turn negative",
          diagnostic_labels=_IMP_LABELS, diagnostic_plots=("delta_r",), renamed_options=RENAMED)
def ramanujan_imp(model, amount, *, data=None, scope="recurrent", seed=0, rounds: int | None = None,
                  finetune_epochs: int = 1, finetune_samples: int | None = None, rewind: bool = False,
                  preserve: bool = True, per_layer: bool = True, lr: float = train.FINETUNE_LR,
                  batch_size: int = 128, device: str = "cpu", val_data: Dataset | None = None,
                  measure: str = "delta_r") -> PruneResult:
    """Iterative magnitude pruning, Ramanujan-preserving with ``preserve=True`` (module docstring).

    Options
    -------
    rounds : pruning rounds (default 5; 2 in fast mode); the last one reaches ``amount`` exactly.
    finetune_epochs, finetune_samples, lr, batch_size, device : fine-tuning after every round, on
        a seeded subset of ``finetune_samples`` training samples (:func:`finetune_subset`); round r
        fine-tunes with ``seed + r``. ``device`` defaults to ``"cpu"`` like every method (see
        :mod:`lattice_lab.pruning.base`); ``"auto"`` fine-tunes on a GPU when there is one.
        ``n_finetune``, the old name of ``finetune_samples``, works for one release.
    rewind : before fine-tuning, reset the surviving weights (and every other parameter) to their
        values before pruning began.
    preserve : apply the Δ_r stopping rule (False: plain IMP, the method ``imp``).
    per_layer : True (default, unlike ``magnitude``'s global ranking): each tensor loses the same
        fraction of its surviving weights per round. The stopping rule judges every tensor by
        itself, so each tensor's density falls by the same factor per round and a tensor freezes
        close to where its own Δ_r turns negative; one global ranking of ``|w|`` (False) can take
        a tensor of small weights far past that point in a single round.
    val_data : if given, accuracy after every round (``info["accuracy_per_round"]``).
    measure : what the stopping rule asks to stay >= 0 (:data:`STOPPING_MEASURES`): ``"delta_r"``
        (Pal et al.'s Δ_r, the default), ``"delta_s"`` (ΔS = 2√(λ₁−1) − μ̂) or ``"imdb"`` (the mean
        Δ_r over the degree classes of the inputs), both from Hoang et al. (ICLR 2023).

    ``info``: ``tensors``, ``rounds`` (rounds run), ``rounds_requested``, ``sparsity_initial``,
    ``sparsity_per_round``, ``layer_sparsity`` {tensor: [per round]}, ``delta_r_initial``
    {tensor: Δ_r}, ``delta_r`` {tensor: [Δ_r after each round, None where undefined]},
    ``delta_r_blocks`` {tensor: [[per gate block] per round]}, ``frozen`` {tensor: the round whose
    candidate was rejected (the tensor keeps its mask of the round before), or None},
    ``rejected_delta_r`` {tensor: the stopping measure of the rejected candidate (Δ_r by default)},
    ``measure`` and ``measure_per_round`` {tensor: [its value after each round]}, ``mask_history`` {tensor: [the
    bool mask before pruning, then after each round]} (what :class:`lattice_lab.widgets.ImpRoundExplorer`
    shows round by round), ``stopped_early``, ``reason``,
    ``accuracy_initial`` and ``accuracy_per_round`` (with ``val_data``), ``finetune_samples`` (the
    size of the fine-tuning subset) and the options.
    """
    return _iterative_magnitude(model, amount, data=data, scope=scope, seed=seed, rounds=rounds,
                                finetune_epochs=finetune_epochs, finetune_samples=finetune_samples, rewind=rewind,
                                preserve=preserve, per_layer=per_layer, lr=lr, batch_size=batch_size, device=device,
                                val_data=val_data, caller="ramanujan-imp", measure=measure)


@register("imp", level="weight", needs_data=True,
          summary="plain iterative magnitude pruning with fine-tuning between rounds (no Δ_r stopping rule)",
          diagnostic_labels=_IMP_LABELS, diagnostic_plots=("delta_r",), renamed_options=RENAMED)
def imp(model, amount, *, data=None, scope="recurrent", seed=0, rounds: int | None = None, finetune_epochs: int = 1,
        finetune_samples: int | None = None, rewind: bool = False, per_layer: bool = True,
        lr: float = train.FINETUNE_LR, batch_size: int = 128, device: str = "cpu",
        val_data: Dataset | None = None) -> PruneResult:
    """Iterative magnitude pruning (Han et al. 2015; Frankle & Carbin 2019 with ``rewind``): the
    schedule of :func:`ramanujan_imp` without its Δ_r stopping rule, so it always reaches ``amount``.

    Options
    -------
    rounds, finetune_epochs, finetune_samples, lr, batch_size, device, rewind, val_data : as for
        :func:`ramanujan_imp` (``n_finetune``, the old name of ``finetune_samples``, works for one
        release).
    per_layer : True (default) as for :func:`ramanujan_imp`, so that the two methods differ only
        by the stopping rule; False: one global ranking of ``|w|`` over the scope.

    ``info``: as for :func:`ramanujan_imp`, with ``preserve`` False; Δ_r is still recorded round
    by round, which shows where the stopping rule would have fired.

    Examples
    --------
    >>> from lattice_lab.data import load
    >>> from lattice_lab.models import build
    >>> from lattice_lab.pruning import prune
    >>> model = build({"kind": "gru", "input_size": 8, "hidden_size": 12, "num_classes": 10})
    >>> result = prune(model, "imp", 0.8, load("digits", subset=64), rounds=2, finetune_epochs=0)
    >>> result.sparsity == prune(model, "magnitude", 0.8, per_layer=True).sparsity, result.info["preserve"]
    (True, False)
    """
    return _iterative_magnitude(model, amount, data=data, scope=scope, seed=seed, rounds=rounds,
                                finetune_epochs=finetune_epochs, finetune_samples=finetune_samples, rewind=rewind,
                                preserve=False, per_layer=per_layer, lr=lr, batch_size=batch_size, device=device,
                                val_data=val_data, caller="imp")


# --------------------------------------------------------------------------- expander masks

def feasible_out_degree(n_out: int, n_in: int, density: float) -> int:
    """The out-degree c nearest to ``density · n_in`` for which a (c, d)-biregular ``n_out × n_in``
    mask exists (``d = n_out · c / n_in`` an integer, ``1 <= c <= n_in``); ties go to the sparser.

    >>> feasible_out_degree(128, 128, 0.05)     # 6.4 → 6
    6
    >>> feasible_out_degree(128, 28, 0.05)      # c must be a multiple of 7
    7
    """
    n_out = check_int(n_out, "n_out", "feasible_out_degree", low=1)
    n_in = check_int(n_in, "n_in", "feasible_out_degree", low=1)
    density = check_float(density, "density", "feasible_out_degree", low=0, high=1, low_open=True)
    step = n_in // math.gcd(n_out, n_in)
    degrees = range(step, n_in + 1, step)
    return min(degrees, key=lambda c: (abs(c - density * n_in), c))


def expander_masks(model: SequenceClassifier, amount: float, *, scope: str = "recurrent", seed: int = 0,
                   per_gate: bool = True) -> tuple[dict[str, torch.Tensor], dict[str, list[int]]]:
    """Random biregular masks at density ``1 - amount`` for every tensor in ``scope``.

    Returns ``(masks, degrees)`` with ``degrees[name] = [c, d]``: every row of the tensor has c
    ones and every column d ones per gate block (``per_gate``; the whole stacked tensor has
    column degree ``gates · d``), or over the whole tensor (``per_gate=False``).

    >>> from lattice_lab.models import build
    >>> model = build({"kind": "gru", "input_size": 4, "hidden_size": 8, "num_classes": 2})
    >>> masks, degrees = expander_masks(model, 0.5)
    >>> degrees, masks["layers.0.weight_hh_l0"].sum(dim=0).tolist()
    ({'layers.0.weight_hh_l0': [4, 4]}, [12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0])
    """
    check_bool(per_gate, "per_gate", "expander_masks")
    masks, degrees = {}, {}
    for index, name in enumerate(_scope_names(model, scope)):
        n_out, n_in = get_weight(model, name).shape
        blocks = gate_blocks(model, name) if per_gate else 1
        rows = n_out // blocks
        c = feasible_out_degree(rows, n_in, 1.0 - amount)
        parts = []
        for block in range(blocks):
            block_seed = int(np.random.SeedSequence([seed, index, block]).generate_state(1)[0])
            parts.append(torch.from_numpy(biregular_mask(rows, n_in, c, seed=block_seed)).float())
        masks[name] = torch.cat(parts, dim=0)
        degrees[name] = [c, rows * c // n_in]
    return masks, degrees


@register("expander", level="weight", needs_data=True,
          summary="random biregular (expander) masks at the requested density, fine-tuned or trained from scratch",
          diagnostic_labels=_IMP_LABELS, diagnostic_plots=("delta_r",), renamed_options=RENAMED)
def expander(model, amount, *, data=None, scope="recurrent", seed=0, per_gate: bool = True,
             from_scratch: bool = False, epochs: int | None = None, finetune_epochs: int = 1,
             finetune_samples: int | None = None, lr: float | None = None, batch_size: int = 128,
             device: str = "cpu", val_data: Dataset | None = None) -> PruneResult:
    """Random expander masks (:func:`expander_masks`), then fine-tuning or training from scratch.

    Options
    -------
    per_gate : one biregular mask per gate block (default) or one for the stacked tensor.
    from_scratch : re-initialize the model (:func:`lattice_lab.models.fresh` seeded with ``seed``), apply
        the masks, train ``epochs`` epochs (default 10; 1 in fast mode) with ``lr`` (default
        1e-3), then ``finetune_epochs`` more at the fine-tuning rate 1e-4 (an annealing phase;
        what it gains: ``docs/METHODS.md``, "Measured in this project"); otherwise mask the
        trained weights and fine-tune ``finetune_epochs`` with ``lr`` (default 1e-4).
    finetune_samples, batch_size, device : the size of the seeded training subset
        (:func:`finetune_subset`; ``n_finetune``, its old name, works for one release) and the
        training settings; ``device`` defaults to ``"cpu"`` like every method.
    val_data : if given, the accuracy after training (``info["accuracy_per_round"]``).

    On a model that is already pruned the masks combine (the product), so the degrees are exact
    only on a dense model. ``info``: ``degrees`` {tensor: [c, d]}, ``achieved_sparsity`` (of the
    masks), ``ramanujan`` {tensor: bool, stacked mask}, ``delta_r``/``delta_r_blocks`` (one round,
    as for ``ramanujan-imp``), ``sparsity_per_round``, ``rounds`` = 1, the options.
    """
    check_bool(from_scratch, "from_scratch", "expander")
    finetune_epochs = check_range(finetune_epochs, "finetune_epochs", "expander", "epochs")
    if epochs is None:
        epochs = 1 if fast() else DEFAULT_SCRATCH_EPOCHS
    epochs = check_range(epochs, "epochs", "expander", "epochs")
    lr = check_range(lr, "lr", "expander", "lr", allow_none=True)
    batch_size = check_range(batch_size, "batch_size", "expander", "batch_size")
    _check_dataset(data, "data", "expander")
    if val_data is not None:
        _check_dataset(val_data, "val_data", "expander")
    check_range(finetune_samples, "finetune_samples", "expander", "samples", allow_none=True)
    subset = finetune_subset(data, finetune_samples, seed)
    masks, degrees = expander_masks(model, amount, scope=scope, seed=seed, per_gate=per_gate)
    home = train.model_device(model)
    if from_scratch:
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            model = fresh(model)
        apply_masks(model, masks, inplace=True)
        train.fit(model, subset, epochs=epochs, lr=train.FIT_LR if lr is None else lr, batch_size=batch_size,
                  device=device, seed=seed)
        train.finetune(model, subset, epochs=finetune_epochs, batch_size=batch_size, device=device, seed=seed + 1)
    else:
        apply_masks(model, masks, inplace=True)
        train.finetune(model, subset, epochs=finetune_epochs, lr=train.FINETUNE_LR if lr is None else lr,
                       batch_size=batch_size, device=device, seed=seed)
    total = sum(mask.numel() for mask in masks.values())
    achieved = 1.0 - float(sum(mask.sum() for mask in masks.values())) / total
    info: dict[str, Any] = {
        "tensors": list(masks), "per_gate": per_gate, "from_scratch": from_scratch, "degrees": degrees,
        "achieved_sparsity": achieved, "rounds": 1, "sparsity_per_round": [achieved],
        "layer_sparsity": {n: [1.0 - float(m.mean())] for n, m in masks.items()},
        "delta_r": {n: [layer_delta_r(m)] for n, m in masks.items()},
        "delta_r_blocks": {n: [block_delta_r(m, gate_blocks(model, n) if per_gate else 1)] for n, m in masks.items()},
        "ramanujan": {n: is_ramanujan_biregular(m.numpy()) for n, m in masks.items()},
        "finetune_samples": len(subset), "epochs": epochs if from_scratch else 0, "finetune_epochs": finetune_epochs,
    }
    if val_data is not None:
        info["accuracy_per_round"] = [train.evaluate(model, val_data, device=device)["accuracy"]]
    train.to_device(model, home)
    return PruneResult(model=model, masks=masks, info=info)
