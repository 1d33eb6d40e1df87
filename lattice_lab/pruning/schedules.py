"""Schedules: one run of an iterative method to its largest amount, served at every amount it passes.

Gradual magnitude, ``imp`` and ``ramanujan-imp`` reach their final sparsity through a sequence of
masks (the cubic schedule's mask updates; the rounds), so one run to the largest amount passes every
smaller one. :func:`run_schedule` runs the method once and keeps a :class:`Stop` at each point it
passes: the bool masks and the weights at that moment (after the round's fine-tuning for the IMP
family, at the mask update for gradual magnitude, and at the end of the run, after training and
annealing). :meth:`Schedule.result` serves any amount up to the run's from the last stop at or below
it, removing the rest as the run's next step would (the smallest magnitudes of the stop's weights,
under the Δ_r rule for ``ramanujan-imp``) with no further training: the amount ``a`` of a schedule
is "the run to the largest amount, as it passed ``a``", not a separate run to ``a`` (its ``info``
says which stop served it). Serving is a copy of the dense model and one ranking: well under the
lab's one-second budget (``benchmarks/live_budget.py``).

Must not import: widgets, cli, compare.

Examples
--------
>>> from lattice_lab.data import load
>>> from lattice_lab.models import build
>>> model = build({"kind": "gru", "input_size": 8, "hidden_size": 12, "num_classes": 10})
>>> schedule = run_schedule(model, "imp", 0.9, load("digits", subset=64), options={"rounds": 3})
>>> [round(stop.sparsity, 2) for stop in schedule.stops]
[0.0, 0.54, 0.78, 0.9]
>>> served = schedule.result(0.6)
>>> round(served.sparsity, 2), served.info["served_from"]
(0.6, 'round 1 (sparsity 0.54), then magnitude')
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from .. import metrics
from ..models import SequenceClassifier, clone, get_weight, weight_names
from ..surgery import apply_masks
from .base import PruneResult, _renamed_options, check_amount, get_method, masks_from_scores
from .expander import _iterative_magnitude, _prune_round  # the IMP family's own round, so a served step is one
from .gradual import gradual_run

SCHEDULED = ("gradual-magnitude", "imp", "ramanujan-imp")
"""The methods whose one run passes every smaller amount (served by :class:`Schedule`)."""


@dataclass(frozen=True)
class Stop:
    """One point a schedule passed: its sparsity over the scope, masks (bool) and weights (by parameter name)."""

    sparsity: float
    label: str
    masks: dict[str, torch.Tensor]
    weights: dict[str, torch.Tensor]
    active: tuple[str, ...] = ()


@dataclass
class Schedule:
    """The stops of one run of ``method`` to ``amount`` on ``dense``; :meth:`result` serves smaller amounts."""

    method: str
    amount: float
    scope: str
    seed: int
    options: dict[str, Any]
    dense: SequenceClassifier
    stops: list[Stop] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def keep(self, model: SequenceClassifier, names: list[str], label: str, active: tuple[str, ...] = ()) -> None:
        """Record the stop ``model`` is at now (masks of ``names`` as bool, every effective weight)."""
        masks = {name: get_weight(model, name).detach().ne(0).cpu() for name in names}
        weights = {name: get_weight(model, name).detach().cpu().clone() for name, _ in self.dense.named_parameters()}
        total = sum(mask.numel() for mask in masks.values())
        sparsity = 1.0 - sum(int(mask.sum()) for mask in masks.values()) / total
        self.stops.append(Stop(sparsity, f"{label} (sparsity {sparsity:.2f})", masks, weights, active or tuple(names)))

    def removed_at(self, amount: float) -> int:
        """How many weights the method removes at ``amount`` (its own rounding: per tensor or over the scope)."""
        sizes = [mask.numel() for mask in self.stops[0].masks.values()]
        if self.method == "gradual-magnitude" and self.options.get("per_layer", False):
            return sum(int(round(amount * size)) for size in sizes)
        return int(round(amount * sum(sizes)))

    def stop_for(self, amount: float) -> Stop:
        """The last stop that removed no more weights than ``amount`` does (stops come in rising sparsity)."""
        amount = check_amount(amount)
        limit = self.removed_at(amount)
        if limit > self.removed_at(self.amount):
            raise ValueError(f"this {self.method} schedule ran to amount {self.amount}; it cannot serve {amount}")
        below = [stop for stop in self.stops if sum(int((~mask).sum()) for mask in stop.masks.values()) <= limit]
        return below[-1] if below else self.stops[0]

    def result(self, amount: float) -> PruneResult:
        """The pruned model at ``amount``: the stop below it, pruned to ``amount`` as the run's next step would."""
        stop = self.stop_for(amount)
        masks = self._step(stop, amount)
        model = clone(self.dense)
        with torch.no_grad():
            for name, weight in stop.weights.items():
                get_weight(model, name).copy_(weight)
        apply_masks(model, {name: mask.float() for name, mask in masks.items()}, inplace=True)
        changed = any(not torch.equal(masks[name], stop.masks[name]) for name in masks)
        info = {**self.info, "served_from": stop.label + (", then magnitude" if changed else ""),
                "schedule_amount": self.amount}
        return PruneResult(model=model, masks=masks, sparsity=metrics.sparsity(model, self.dense, self.scope),
                           info=info, method=self.method, amount=amount, scope=self.scope)

    def _step(self, stop: Stop, amount: float) -> dict[str, torch.Tensor]:
        """The stop's masks after removing the smallest surviving weights down to ``amount`` (bool)."""
        scores = {name: torch.where(mask, stop.weights[name].abs().float(), torch.tensor(-1.0))
                  for name, mask in stop.masks.items()}
        per_layer = bool(self.options.get("per_layer", False))
        if self.method == "gradual-magnitude":
            return {name: mask.bool() for name, mask in masks_from_scores(scores, amount, per_layer=per_layer).items()}
        total = sum(mask.numel() for mask in stop.masks.values())
        remaining = sum(int(mask.sum()) for mask in stop.masks.values())
        n_remove = remaining - (total - int(round(amount * total)))
        masks = dict(stop.masks)
        if n_remove <= 0:
            return masks
        float_masks = {name: mask.float() for name, mask in masks.items()}
        accepted, _ = _prune_round(scores, float_masks, list(stop.active), n_remove, per_layer,
                                   bool(self.options.get("preserve", False)), self.options.get("measure", "delta_r"))
        return masks | {name: mask.bool() for name, (mask, _) in accepted.items()}

    def nbytes(self) -> int:
        """Bytes the stops hold (masks and weights)."""
        return sum(t.numel() * t.element_size() for stop in self.stops
                   for t in list(stop.masks.values()) + list(stop.weights.values()))


def method_options(method: str, options: dict[str, Any] | None) -> dict[str, Any]:
    """Every option of ``method``: its defaults updated by ``options`` (old names accepted, unknown refused).

    >>> method_options("imp", {"rounds": 3})["rounds"], method_options("imp", None)["finetune_epochs"]
    (3, 1)
    """
    spec = get_method(method)
    options = _renamed_options(spec, dict(options or {}))
    unknown = set(options) - set(spec.options)
    if unknown:
        raise ValueError(f"method {method!r} has no option(s) {sorted(unknown)}; its options: {spec.options}")
    return {**spec.options, **options}


def planned_steps(method: str, n_train: int, options: dict[str, Any] | None = None) -> int:
    """Optimizer steps a run of ``method`` takes on ``n_train`` training samples (for a progress bar).

    >>> planned_steps("imp", 1000, {"rounds": 3, "finetune_samples": 256})
    6
    """
    opts = method_options(method, options)
    samples = n_train if opts.get("finetune_samples") is None else min(n_train, opts["finetune_samples"])
    batches = math.ceil(samples / opts.get("batch_size", 128))
    if "rounds" in opts:
        rounds = opts["rounds"] if opts["rounds"] is not None else 5
        return rounds * opts.get("finetune_epochs", 1) * batches
    return (opts.get("epochs", 0) + opts.get("anneal_epochs", 0)) * batches


def run_schedule(model: SequenceClassifier, method: str, amount: float, data: Any, *, scope: str = "recurrent",
                 seed: int = 0, options: dict[str, Any] | None = None) -> Schedule:
    """Run ``method`` (one of :data:`SCHEDULED`) once to ``amount`` on a copy of ``model``, keeping every stop.

    ``model`` is never modified. Cancel from another thread with :func:`lattice_lab.train.watching`
    (the run trains through :func:`lattice_lab.train.fit`).
    """
    if method not in SCHEDULED:
        raise ValueError(f"{method!r} is not a scheduled method; scheduled: {list(SCHEDULED)}")
    amount = check_amount(amount)
    opts = method_options(method, options)
    names = weight_names(model, scope)
    schedule = Schedule(method, amount, scope, seed, opts, model)
    if method == "gradual-magnitude":
        updates = [0]

        def on_update(current: SequenceClassifier) -> None:
            updates[0] += 1
            schedule.keep(current, names, f"mask update {updates[0]}")

        result = gradual_run(clone(model), amount, data=data, scope=scope, seed=seed, on_update=on_update, **opts)
        schedule.keep(result.model, names, "the end of the run")
    else:
        schedule.keep(model, names, "the dense model")
        opts_run = {"preserve": False, **opts}

        def on_round(current: SequenceClassifier, masks: dict, active: list[str]) -> None:
            schedule.keep(current, names, f"round {len(schedule.stops)}", tuple(active))

        result = _iterative_magnitude(clone(model), amount, data=data, scope=scope, seed=seed, caller=method,
                                      on_round=on_round, **opts_run)
    schedule.info = result.info
    return schedule


__all__ = ["SCHEDULED", "Schedule", "Stop", "method_options", "planned_steps", "run_schedule"]
