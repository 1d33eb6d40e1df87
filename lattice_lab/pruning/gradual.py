"""Gradual magnitude pruning during training (Zhu & Gupta 2017): the strong baseline at high sparsity.

Method: M. Zhu, S. Gupta, "To prune, or not to prune: exploring the efficacy of pruning for model
compression", arXiv 1710.01878 (2017). The network keeps training while its sparsity rises on the
cubic schedule ``s_t = s_f + (s_i − s_f)(1 − t / n)³`` from ``s_i`` (``initial_sparsity``) to
``s_f`` (``amount``) over the first ``n`` optimizer steps; every ``frequency`` steps the weights of
smallest magnitude in ``scope`` are masked (a global ranking, or per tensor with ``per_layer``),
and masked weights stay masked. Training then goes on with the final mask, and ``anneal_epochs``
at ``anneal_lr`` end it (the annealing phase the expander from scratch also uses).

Here the schedule starts from the model it is given (a trained model, by default: the usual use
as a pruning method) or, with ``from_scratch=True``, from a fresh seeded initialisation of the same
architecture. Budget: ``epochs + anneal_epochs`` passes over the training data.

Must not import: widgets, cli, compare.

Examples
--------
>>> from lattice_lab.data import load
>>> from lattice_lab.models import build
>>> from lattice_lab.pruning import prune
>>> model = build({"kind": "gru", "input_size": 8, "hidden_size": 16, "num_classes": 10})
>>> result = prune(model, "gradual-magnitude", 0.9, load("digits", subset=128), epochs=2, frequency=2)
>>> result.sparsity, len(result.info["sparsity_schedule"]) > 1
(0.9, True)
"""
from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch.utils.data import Dataset

from .. import train
from ..models import fresh, get_weight, split_name, weight_names
from ..surgery import apply_masks
from ..validation import check_bool, check_float, check_int, check_range
from .base import PruneResult, masks_from_scores, register
from .expander import finetune_subset


def cubic_sparsity(step: int, ramp_steps: int, final: float, initial: float = 0.0) -> float:
    """Zhu & Gupta's schedule: ``final + (initial − final)(1 − step / ramp_steps)³``, and ``final`` after the ramp.

    >>> [round(cubic_sparsity(t, 4, 0.8), 4) for t in (0, 1, 2, 4, 9)]
    [0.0, 0.4625, 0.7, 0.8, 0.8]
    """
    if step >= ramp_steps:
        return final
    return final + (initial - final) * (1.0 - step / ramp_steps) ** 3


class _GradualMasks:
    """The ``on_step`` callback of :func:`lattice_lab.train.fit`: raises the sparsity on the cubic schedule."""

    def __init__(self, model, names: list[str], final: float, initial: float, ramp_steps: int, frequency: int,
                 per_layer: bool, on_update: Callable | None = None):
        self.model, self.names, self.final, self.initial = model, names, final, initial
        self.ramp_steps, self.frequency, self.per_layer = ramp_steps, frequency, per_layer
        self.on_update = on_update
        self.schedule: list[tuple[int, float]] = []

    def __call__(self, step: int) -> None:
        reached = bool(self.schedule) and self.schedule[-1][1] >= self.final
        if reached or (step % self.frequency and step < self.ramp_steps):
            return
        self.tighten(step, cubic_sparsity(step, self.ramp_steps, self.final, self.initial))

    def finish(self, step: int) -> None:
        """Reach the final sparsity if training was too short for the schedule to get there."""
        if not self.schedule or self.schedule[-1][1] < self.final:
            self.tighten(step, self.final)

    def tighten(self, step: int, target: float) -> None:
        if self.schedule and target <= self.schedule[-1][1]:
            return
        scores = {name: get_weight(self.model, name).detach().abs() for name in self.names}
        masks = masks_from_scores(scores, target, per_layer=self.per_layer)
        for name, mask in masks.items():
            module_path, attr = split_name(name)
            buffer = getattr(self.model.get_submodule(module_path), attr + "_mask")
            buffer.mul_(mask.to(buffer.device, buffer.dtype))  # masked weights stay masked
        self.schedule.append((step, target))
        if self.on_update is not None:
            self.on_update(self.model)


@register("gradual-magnitude", level="weight", needs_data=True,
          summary="magnitude pruning while training, the sparsity rising on Zhu & Gupta's cubic schedule, then "
                  "annealed (from the given model, or from scratch)")
def gradual_magnitude(model, amount, *, data=None, scope="recurrent", seed=0, epochs: int = 9, ramp: float = 2 / 3,
                      frequency: int = 50, lr: float = train.FIT_LR, anneal_epochs: int = 1,
                      anneal_lr: float = train.FINETUNE_LR, initial_sparsity: float = 0.0, per_layer: bool = False,
                      from_scratch: bool = False, finetune_samples: int | None = None, batch_size: int = 128,
                      device: str = "cpu", val_data: Dataset | None = None) -> PruneResult:
    """Gradual magnitude pruning (module docstring).

    Options
    -------
    epochs : passes over the training data while pruning and after it, at ``lr`` (default 9).
    ramp : the fraction of those steps over which the sparsity rises (default 2/3: six of nine epochs).
    frequency : optimizer steps between two mask updates (default 50; the last update of the ramp
        reaches ``amount`` exactly).
    lr : Adam's learning rate while pruning (default 1e-3).
    anneal_epochs, anneal_lr : the final epochs with the mask fixed (default one epoch at 1e-4).
    initial_sparsity : ``s_i`` of the schedule, in [0, amount].
    per_layer : False (default, like ``magnitude``): one global ranking of ``|w|`` over the scope;
        True: every tensor reaches the sparsity of the schedule.
    from_scratch : start from a fresh initialisation (:func:`lattice_lab.models.fresh` seeded with ``seed``)
        instead of the given weights.
    finetune_samples, batch_size, device : the training subset size (default: every sample) and
        settings; ``device`` defaults to ``"cpu"`` like every method.
    val_data : if given, the accuracy at the end (``info["accuracy"]``).

    ``info``: ``sparsity_schedule`` ([step, sparsity] of every mask update), ``epochs``,
    ``anneal_epochs``, ``ramp_steps``, ``finetune_samples`` and the options.

    References
    ----------
    Zhu & Gupta (2017), arXiv 1710.01878, eq. (1).

    See also
    --------
    magnitude : the one-shot version; imp : pruning in rounds with fine-tuning between them.
    """
    options = dict(locals())  # every parameter, for the one implementation below (first statement: nothing else)
    return gradual_run(**options)


def gradual_run(model, amount, *, data, scope, seed, epochs, ramp, frequency, lr, anneal_epochs, anneal_lr,
                initial_sparsity, per_layer, from_scratch, finetune_samples, batch_size, device, val_data,
                on_update: Callable | None = None) -> PruneResult:
    """:func:`gradual_magnitude`, calling ``on_update(model)`` after every mask update.

    :mod:`lattice_lab.pruning.schedules` keeps the masks and weights of each update so.
    """
    caller = "gradual-magnitude"
    epochs = check_range(epochs, "epochs", caller, "epochs", low=1)
    ramp = check_float(ramp, "ramp", caller, low=0, high=1, low_open=True)
    frequency = check_int(frequency, "frequency", caller, low=1)
    lr = check_range(lr, "lr", caller, "lr")
    anneal_epochs = check_range(anneal_epochs, "anneal_epochs", caller, "epochs")
    anneal_lr = check_range(anneal_lr, "anneal_lr", caller, "lr")
    batch_size = check_range(batch_size, "batch_size", caller, "batch_size")
    initial_sparsity = check_float(initial_sparsity, "initial_sparsity", caller, low=0, high=amount)
    check_bool(per_layer, "per_layer", caller)
    check_bool(from_scratch, "from_scratch", caller)
    subset = finetune_subset(data, finetune_samples, seed)
    home = train.model_device(model)
    if from_scratch:
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            model = fresh(model)
    names = weight_names(model, scope)
    apply_masks(model, {name: torch.ones_like(get_weight(model, name)) for name in names}, inplace=True)
    total_steps = epochs * math.ceil(len(subset) / batch_size)
    ramp_steps = max(1, min(total_steps - 1, int(round(ramp * total_steps))))
    schedule = _GradualMasks(model, names, amount, initial_sparsity, ramp_steps, frequency, per_layer, on_update)
    train.fit(model, subset, epochs=epochs, lr=lr, batch_size=batch_size, device=device, seed=seed,
              on_step=schedule, progress=False)
    schedule.finish(total_steps)
    if anneal_epochs:
        train.finetune(model, subset, epochs=anneal_epochs, lr=anneal_lr, batch_size=batch_size, device=device,
                       seed=seed + 1, progress=False)
    info: dict[str, Any] = {
        "tensors": names, "sparsity_schedule": [list(point) for point in schedule.schedule], "epochs": epochs,
        "anneal_epochs": anneal_epochs, "ramp_steps": ramp_steps, "frequency": frequency, "per_layer": per_layer,
        "from_scratch": from_scratch, "finetune_samples": len(subset),
    }
    if val_data is not None:
        info["accuracy"] = train.evaluate(model, val_data, device=device)["accuracy"]
    train.to_device(model, home)
    masks = {name: getattr(model.get_submodule(split_name(name)[0]), split_name(name)[1] + "_mask").detach().cpu()
             for name in names}
    return PruneResult(model=model, masks=masks, info=info)
