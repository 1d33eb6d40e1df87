"""Training, fine-tuning and evaluation of sequence classifiers, on the best device available.

:func:`fit` trains a model **in place** (it is the one function in the package that changes
its model: that is its job) with Adam, cross-entropy, gradient-norm clipping, optional mixed
precision on CUDA, progress bars and seeded determinism. :func:`finetune` is :func:`fit` with
fine-tuning defaults; both can distil from a teacher (the dense model a pruned one came from).
:func:`evaluate` and :func:`predict_logits` never change the model: they
put it back in the mode and on the device they found it in.

Masks attached with ``torch.nn.utils.prune`` (see :mod:`lattice_lab.surgery`) stay applied
while training: the effective weight is ``weight_orig * weight_mask``, recomputed before every
forward pass, so pruned weights stay exactly zero through every optimizer step.

In-memory datasets (anything with ``.inputs`` / ``.targets`` tensors, such as
:class:`lattice_lab.data.SequenceDataset`, or a two-tensor ``TensorDataset``) are batched by
slicing their tensors with a seeded permutation — no DataLoader, no per-sample collation; any
other dataset of ``(x, y)`` items goes through a seeded ``DataLoader``. Loss and accuracy are
accumulated on the device and read once per epoch, so the hot loop never waits for the device.

Bad inputs are refused before any computing, by every entry point: a model with NaN or infinite
weights, data with NaN or infinite values, data whose feature size is not the model's
``input_size`` (an InvalidParameterError, a ValueError, naming the expected and the given size).
A training that diverges (a loss becomes NaN) stops with :class:`NonFiniteLossError` and keeps the
last finite weights (see :func:`fit`).

The NaN policy: a NaN or an infinity is never taken for a number. Non-finite weights or data are
refused before any computing (above); a non-finite loss stops training; and an evaluation whose
outputs are not finite (finite weights whose activations overflow, such as a ReLU RNN with large
recurrent weights) raises :class:`NonFiniteOutputError` rather than report an accuracy counted from
NaN logits (every comparison with NaN is false, so argmax would pick class 0 for each sample).

Progress bars (``tqdm.auto``) are shown unless ``progress=False``, the environment variable
``LATTICE_LAB_QUIET=1`` is set, or the code runs under pytest. Devices are chosen by
:mod:`lattice_lab.devices`; ``select_device``, ``describe_device``, ``model_device``,
``to_device`` and ``DEVICES`` are re-exported here, where they used to live.

Must not import: data, checkpoints, pruning, graphs, compare, widgets, cli.

Examples
--------
>>> import torch
>>> from torch.utils.data import TensorDataset
>>> from lattice_lab.models import build
>>> _ = torch.manual_seed(0)
>>> x = torch.randn(64, 5, 3)
>>> data = TensorDataset(x, (x.sum(dim=(1, 2)) > 0).long())
>>> model = build({"kind": "gru", "input_size": 3, "hidden_size": 16, "num_classes": 2})
>>> history = fit(model, data, epochs=30, lr=1e-2, batch_size=16, device="cpu", progress=False)
>>> len(history), history[-1]["train_accuracy"] > 0.9
(30, True)
>>> evaluate(model, data, device="cpu")["accuracy"] > 0.9
True
"""
from __future__ import annotations

import contextlib
import math
import time
import warnings
from contextvars import ContextVar
from typing import Any, Callable, Iterator

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from .devices import (DEVICES, describe_device, model_device, refresh_pruned_weights, select_device,  # noqa: F401
                      to_device)  # DEVICES, describe_device: re-exported
from .memory import check_fits, release_freed_memory
from .models import check_finite_weights, check_inputs
from .progress import quiet
from .validation import InvalidParameterError, check_bool, check_float, check_instance, check_range, fail

FIT_LR = 1e-3
FINETUNE_LR = 1e-4
DISTILL_WEIGHT = 0.5  # distillation defaults (how they were chosen: docs/METHODS.md, "Measured in this project")
DISTILL_TEMPERATURE = 4.0


# --------------------------------------------------------------------------- validation

class NonFiniteLossError(FloatingPointError):
    """Training diverged: a loss became NaN or infinite. :func:`fit` raises it at the end of that epoch.

    Attributes: ``step`` (the first step, counted from 1 over the whole run, whose loss was not
    finite), ``epoch`` and ``batch`` (where that step was), ``history`` (the completed epochs).
    """

    def __init__(self, message: str, *, step: int, epoch: int, batch: int, history: list[dict[str, float]]):
        super().__init__(message)
        self.step, self.epoch, self.batch, self.history = step, epoch, batch, history

    def __reduce__(self):  # picklable (errors cross process boundaries in parallel sweeps)
        return _rebuild_non_finite_loss_error, (str(self), self.step, self.epoch, self.batch, self.history)


def _rebuild_non_finite_loss_error(message: str, step: int, epoch: int, batch: int,
                                   history: list[dict[str, float]]) -> NonFiniteLossError:
    return NonFiniteLossError(message, step=step, epoch=epoch, batch=batch, history=history)


class NonFiniteOutputError(FloatingPointError):
    """An evaluation whose outputs (logits) were not finite, from finite weights and data (see the NaN policy)."""


def _check_finite_outputs(logits: torch.Tensor, caller: str) -> None:
    """Raise :class:`NonFiniteOutputError`, counting the samples, if any of ``logits`` is NaN or infinite."""
    bad = int((~torch.isfinite(logits)).any(dim=1).sum())
    if bad:
        raise NonFiniteOutputError(
            f"{caller}: the model's outputs (logits) were not finite (NaN or infinite) for {bad} of {logits.shape[0]} "
            "samples, although its weights and the data are finite: its activations overflow, so no accuracy or "
            "loss can be computed from them")


def _check_model(model: Any, caller: str) -> nn.Module:
    check_instance(model, "model", caller, nn.Module, "a torch.nn.Module")
    return check_finite_weights(model, caller)


def in_memory_inputs(data: Any) -> torch.Tensor | None:
    """The input tensor of data held in memory: a tensor itself, ``data.inputs``, or a ``TensorDataset``'s first.

    None for any other dataset (its items are read one by one).

    >>> from torch.utils.data import TensorDataset
    >>> in_memory_inputs(TensorDataset(torch.zeros(4, 3, 2), torch.zeros(4))).shape
    torch.Size([4, 3, 2])
    """
    if isinstance(data, torch.Tensor):
        return data
    tensors = data_arrays(data)
    return None if tensors is None else tensors[0]


def _check_data(model: nn.Module, data: Any, name: str, caller: str) -> Dataset:
    """``data`` if it is a nonempty Dataset whose inputs fit ``model`` (feature size, finite values).

    In-memory inputs are checked at once; another dataset's first item gives the feature size and
    each batch is checked for finite values as it is read (:func:`_batches`).
    """
    check_instance(data, name, caller, Dataset, "a torch Dataset of (x, y) items")
    if len(data) == 0:
        raise InvalidParameterError(f"The {name!r} parameter of {caller} must be a nonempty dataset. "
                                    f"Got an empty {type(data).__name__} instead.")
    inputs = in_memory_inputs(data)
    if inputs is not None:
        check_inputs(model, inputs, name, caller)
    else:
        first = data[0][0]
        if isinstance(first, torch.Tensor) and first.dim() == 2:
            check_inputs(model, first[None].nan_to_num(0.0), name, caller)  # the feature size (values: per batch)
    return data


def _show_progress(progress: bool | None, caller: str) -> bool:
    return not quiet() if progress is None else check_bool(progress, "progress", caller)


# --------------------------------------------------------------------------- batches

def data_arrays(data: Any) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(inputs, targets)`` of an in-memory dataset, else None (it must go through a DataLoader).

    In memory: ``.inputs`` and ``.targets`` tensors, or a two-tensor ``TensorDataset``. A sweep's
    cache hashes these arrays (:func:`lattice_lab.compare.specs.data_digest`).
    """
    inputs, targets = getattr(data, "inputs", None), getattr(data, "targets", None)
    if isinstance(inputs, torch.Tensor) and isinstance(targets, torch.Tensor):
        return inputs, targets
    tensors = getattr(data, "tensors", None)
    if isinstance(tensors, tuple) and len(tensors) == 2 and all(isinstance(t, torch.Tensor) for t in tensors):
        return tensors
    return None


def _batches(data: Dataset, batch_size: int, device: torch.device,
             generator: torch.Generator | None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Batches ``(x, y)`` on ``device``; shuffled with ``generator`` when one is given."""
    tensors = data_arrays(data)
    if tensors is None:
        loader = DataLoader(data, batch_size=batch_size, shuffle=generator is not None, generator=generator)
        for index, (x, y) in enumerate(loader):
            if x.is_floating_point() and not bool(torch.isfinite(x).all()):
                raise InvalidParameterError(f"The data must hold finite values. Got NaN or infinite values in batch "
                                            f"{index + 1} of {type(data).__name__} instead.")
            yield x.to(device, non_blocking=True), y.to(device, non_blocking=True).long()
        return
    inputs, targets = tensors
    n = inputs.shape[0]
    order = None if generator is None else torch.randperm(n, generator=generator).to(inputs.device)
    for start in range(0, n, batch_size):
        if order is None:
            x, y = inputs[start:start + batch_size], targets[start:start + batch_size]
        else:
            index = order[start:start + batch_size]
            x, y = inputs[index], targets[index]
        yield x.to(device, non_blocking=True), y.to(device, non_blocking=True).long()


def _on_device(data: Dataset, device: torch.device) -> Dataset:
    """An in-memory dataset's tensors moved once to the training device (views if already there)."""
    tensors = data_arrays(data)
    if tensors is None or tensors[0].device == device:
        return data
    return torch.utils.data.TensorDataset(tensors[0].to(device), tensors[1].to(device))


def _num_batches(data: Dataset, batch_size: int) -> int:
    return math.ceil(len(data) / batch_size)


# --------------------------------------------------------------------------- training

def _use_amp(amp: bool, device: torch.device) -> bool:
    """Whether to train under float16 autocast with a GradScaler (CUDA only; warns elsewhere)."""
    amp = check_bool(amp, "amp", "fit")
    if amp and device.type != "cuda":
        warnings.warn(f"amp=True needs a CUDA device; training on {device.type} in float32 instead",
                      RuntimeWarning, stacklevel=3)
        return False
    return amp


def _rng_devices(device: torch.device) -> list[int]:
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


def fit(model: nn.Module, train_data: Dataset, *, epochs: int = 10, lr: float = FIT_LR,
        batch_size: int = 128, device: str | torch.device = "auto", amp: bool = False,
        clip: float | None = 1.0, seed: int = 0, val_data: Dataset | None = None,
        progress: bool | None = None, weight_decay: float = 0.0, teacher: nn.Module | None = None,
        distill_weight: float = DISTILL_WEIGHT, temperature: float = DISTILL_TEMPERATURE,
        on_step: Callable[[int], object] | None = None) -> list[dict[str, float]]:
    """Train ``model`` in place with Adam and cross-entropy; return the per-epoch history.

    This is the one function that changes its model: the weights are updated and the model
    ends up on the training device (in training mode after any epoch). Masks attached with
    ``torch.nn.utils.prune`` stay applied (pruned weights stay exactly zero).

    Parameters
    ----------
    model : the classifier, ``(batch, steps, features) -> logits``.
    train_data : a dataset of ``(x, y)`` items (``SequenceDataset``, ``TensorDataset``, ...).
    epochs : passes over the data, an integer >= 0 (0 trains nothing).
    lr : Adam's learning rate, > 0.
    batch_size : samples per step, >= 1.
    device : ``"auto"`` (CUDA, else MPS, else CPU), ``"cpu"``, ``"cuda"``, ``"mps"``; the model
        is moved there and stays there.
    amp : mixed precision: float16 autocast with a ``GradScaler``. float16 rather than bfloat16
        because cuDNN's RNN kernels run in float16 under autocast whatever dtype is asked for,
        so the loss scaling is needed anyway. CUDA only: on another device it warns
        (``RuntimeWarning``) and trains in float32.
    clip : maximal gradient norm (``clip_grad_norm_``); None disables clipping.
    seed : seeds the shuffling and every random draw made while training (the global RNG
        state is restored afterwards). Same seed, same data, same initial model → identical
        weights on the CPU; on CUDA, cuDNN kernels may differ in the last bits.
    val_data : optional dataset evaluated after every epoch (``val_accuracy``, ``val_loss``).
    progress : show tqdm progress bars; None: show unless ``LATTICE_LAB_QUIET=1`` or under pytest.
    weight_decay : Adam's L2 penalty, >= 0.
    teacher : optional model to distil from (Hinton et al. 2015), typically the dense model a
        pruned one came from. The loss becomes ``(1 - w)·CE(student, y) + w·T²·KL(p_teacher^T ‖
        p_student^T)`` with ``p^T = softmax(logits / T)``. The teacher must be another model
        with the same number of outputs; it is run in eval mode without gradients on its own
        device and is left as it was (weights, mode, device).
    distill_weight : w in [0, 1], the weight of the distillation term (used with ``teacher``).
    temperature : T > 0, the softening temperature (used with ``teacher``).
    on_step : called as ``on_step(step)`` before each optimizer step's forward pass, with the
        number of steps taken so far in this call (0, 1, ...); it may change the model's prune
        masks in place (gradual pruning, :mod:`lattice_lab.pruning.gradual`).

    Returns
    -------
    list of dict
        One per epoch: ``epoch`` (from 1), ``train_loss`` (cross-entropy, also with a teacher)
        and ``train_accuracy`` (averaged over the epoch's batches as they were trained),
        ``distill_loss`` (the T²·KL term, with a teacher), ``val_accuracy`` and ``val_loss``
        (with ``val_data``), ``seconds`` and ``samples_per_second`` (training only).

    Raises
    ------
    InvalidParameterError
        (a ValueError) for invalid arguments, and before any training for a model whose weights
        are not finite or data that are not (NaN or infinity anywhere in the inputs), or whose
        feature size is not the model's ``input_size``.
    MemoryLimitError
        before anything is moved, when the training state (four float32 numbers per weight:
        the weight, its gradient, Adam's two moments) cannot fit on ``device``.
    NonFiniteLossError
        when the training diverges: at the end of the first epoch in which a loss was NaN or
        infinite. The message names that step; the model keeps its weights from before it (the
        last finite weights), not the NaNs the step produced.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from lattice_lab.models import build
    >>> data = TensorDataset(torch.randn(32, 4, 2), torch.randint(0, 3, (32,)))
    >>> model = build({"kind": "lstm", "input_size": 2, "hidden_size": 8, "num_classes": 3})
    >>> history = fit(model, data, epochs=2, batch_size=8, device="cpu", progress=False)
    >>> sorted(history[0])
    ['epoch', 'samples_per_second', 'seconds', 'train_accuracy', 'train_loss']
    """
    _check_model(model, "fit")
    _check_data(model, train_data, "train_data", "fit")
    if val_data is not None:
        _check_data(model, val_data, "val_data", "fit")
    epochs = check_range(epochs, "epochs", "fit", "epochs")
    lr = check_range(lr, "lr", "fit", "lr")
    batch_size = check_range(batch_size, "batch_size", "fit", "batch_size")
    seed = check_range(seed, "seed", "fit", "seed")
    weight_decay = check_float(weight_decay, "weight_decay", "fit", low=0)
    clip = check_float(clip, "clip", "fit", low=0, low_open=True, allow_none=True)
    distill = _check_distillation(model, teacher, distill_weight, temperature)
    if on_step is not None and not callable(on_step):
        fail("on_step", "fit", "a callable or None", on_step)
    show = _show_progress(progress, "fit")
    device = select_device(device)
    use_amp = _use_amp(amp, device)
    _check_training_memory(model, device)

    to_device(model, device)
    data = _on_device(train_data, device)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay)
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    history = []
    guard = _FiniteLossGuard(model, device)
    teacher_was_training = teacher.training if teacher is not None else False
    try:
        if teacher is not None:
            teacher.eval()
        with torch.random.fork_rng(devices=_rng_devices(device)):
            torch.manual_seed(seed)
            generator = torch.Generator().manual_seed(seed)
            epoch_bar = tqdm(range(1, epochs + 1), desc="epochs", unit="epoch", disable=not show or epochs < 2)
            steps = _StepCounter(on_step)
            for epoch in epoch_bar:
                model.train()
                record = _train_epoch(model, data, optimizer, scaler, batch_size, device, generator,
                                      use_amp, clip, show, f"epoch {epoch}/{epochs}", distill, guard, steps)
                guard.stop_if_diverged(epoch, _num_batches(data, batch_size), history)
                record = {"epoch": epoch, **record}
                if val_data is not None:
                    scores = evaluate(model, val_data, device=device)
                    record["val_accuracy"], record["val_loss"] = scores["accuracy"], scores["loss"]
                    model.train()
                epoch_bar.set_postfix(loss=f"{record['train_loss']:.4f}", acc=f"{record['train_accuracy']:.4f}")
                history.append(record)
    finally:
        if teacher is not None:
            teacher.train(teacher_was_training)
        release_freed_memory()  # a notebook trains many times: keep its resident memory near what it holds
    return history


_WATCHER: ContextVar[Callable[[], object] | None] = ContextVar("lattice_lab_train_watcher", default=None)


@contextlib.contextmanager
def watching(before_step: Callable[[], object]) -> Iterator[None]:
    """Call ``before_step()`` before every optimizer step of every :func:`fit` run inside the block.

    The hook of a background job (:mod:`lattice_lab.widgets.jobs`): it counts steps for a
    progress bar and raises to cancel, whichever method is training (a method's own
    ``on_step`` stays free). It holds for the current thread (a ``contextvars`` context) only, so a
    job's hook never fires in another thread's training.

    >>> from torch.utils.data import TensorDataset
    >>> from lattice_lab.models import build
    >>> data = TensorDataset(torch.randn(8, 3, 2), torch.randint(0, 2, (8,)))
    >>> model = build({"kind": "rnn", "input_size": 2, "hidden_size": 4, "num_classes": 2})
    >>> steps = []
    >>> with watching(lambda: steps.append(1)):
    ...     _ = fit(model, data, epochs=2, batch_size=4, device="cpu", progress=False)
    >>> len(steps)
    4
    """
    token = _WATCHER.set(before_step)
    try:
        yield
    finally:
        _WATCHER.reset(token)


class _StepCounter:
    """Counts optimizer steps across the epochs of one :func:`fit` call and calls ``on_step`` before each
    (and the :func:`watching` hook of the current thread, if any)."""

    def __init__(self, on_step: Callable[[int], object] | None):
        self.on_step, self.taken, self.watcher = on_step, 0, _WATCHER.get()

    def before_step(self) -> None:
        if self.watcher is not None:
            self.watcher()
        if self.on_step is not None:
            self.on_step(self.taken)
        self.taken += 1


class _Distillation:
    """The teacher's half of the distillation loss: its softened log-probabilities, and the mix."""

    def __init__(self, teacher: nn.Module, weight: float, temperature: float):
        self.teacher, self.weight, self.temperature = teacher, weight, temperature

    def teacher_log_probs(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            logits = self.teacher(x.to(model_device(self.teacher))).float().to(x.device)
        return torch.log_softmax(logits / self.temperature, dim=1)

    def term(self, logits: torch.Tensor, teacher_log_probs: torch.Tensor) -> torch.Tensor:
        """T²·KL(p_teacher^T ‖ p_student^T), averaged over the batch."""
        if teacher_log_probs.shape != logits.shape:
            raise ValueError(f"the teacher gives logits of shape {tuple(teacher_log_probs.shape)}, the model "
                             f"{tuple(logits.shape)}: distil only between models with the same outputs")
        student = torch.log_softmax(logits / self.temperature, dim=1)
        kl = nn.functional.kl_div(student, teacher_log_probs, log_target=True, reduction="batchmean")
        return kl * self.temperature ** 2


def _check_distillation(model: nn.Module, teacher: Any, weight: Any, temperature: Any) -> _Distillation | None:
    weight = check_float(weight, "distill_weight", "fit", low=0, high=1)
    temperature = check_float(temperature, "temperature", "fit", low=0, low_open=True)
    if teacher is None:
        return None
    check_instance(teacher, "teacher", "fit", nn.Module, "a torch.nn.Module (e.g. the dense model) or None")
    if teacher is model:
        raise ValueError("teacher is the model being trained; pass a separate model, e.g. the dense model "
                         "before pruning")
    return _Distillation(teacher, weight, temperature)


def _check_training_memory(model: nn.Module, device: torch.device) -> None:
    """Refuse, before anything is moved, a model whose training state cannot fit on ``device``.

    Adam keeps, for every weight, the weight, its gradient and two moments: four float32 numbers.
    """
    count = sum(p.numel() for p in model.parameters() if p.requires_grad)
    check_fits(16 * count, f"training {count:,} parameters with Adam (each: the weight, its gradient and two "
                           "moments)", device)


class _FiniteLossGuard:
    """Watches the training loss on the device, without waiting for it, and keeps the last finite weights.

    Before each optimizer step, while every loss so far was finite, the weights are copied into a
    snapshot (a copy selected on the device with ``torch.where``, so the loop never synchronizes);
    the first non-finite loss freezes the snapshot at the weights from before that step.
    :meth:`stop_if_diverged`, called once per epoch, puts the snapshot back and raises
    :class:`NonFiniteLossError`.
    """

    def __init__(self, model: nn.Module, device: torch.device):
        self.parameters = [p for p in model.parameters() if p.requires_grad]
        self.model = model
        self.snapshot: list[torch.Tensor] | None = None
        self.finite = torch.ones((), dtype=torch.bool, device=device)
        self.finite_steps = torch.zeros((), dtype=torch.long, device=device)

    def before_step(self, loss: torch.Tensor) -> None:
        """Record the weights as they are (if all losses so far were finite), then this step's loss."""
        with torch.no_grad():
            if self.snapshot is None:
                self.snapshot = [p.detach().clone() for p in self.parameters]
            else:
                for kept, parameter in zip(self.snapshot, self.parameters):
                    kept.copy_(torch.where(self.finite, parameter, kept))
            self.finite &= torch.isfinite(loss.detach()).all()
            self.finite_steps += self.finite

    def stop_if_diverged(self, epoch: int, batches_per_epoch: int, history: list[dict[str, float]]) -> None:
        if bool(self.finite):
            return
        with torch.no_grad():
            for kept, parameter in zip(self.snapshot, self.parameters):
                parameter.copy_(kept)
        refresh_pruned_weights(self.model)
        step = int(self.finite_steps) + 1
        batch = step - (epoch - 1) * batches_per_epoch
        raise NonFiniteLossError(
            f"fit stopped: the training loss was not finite (NaN or infinite) at step {step} (epoch {epoch}, "
            f"batch {batch}); the model keeps its weights from before that step. The data and weights were "
            "finite when training started, so the training diverged: lower lr, or keep clip on",
            step=step, epoch=epoch, batch=batch, history=list(history))


def per_sample(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(logits, targets)`` with one row per scored sample: an output per time step
    (``(N, T, C)`` against ``(N, T)`` targets, a model of the user's own) is flattened to
    ``(N·T, C)`` against ``(N·T,)``; the course's ``(N, C)`` logits are returned as they are.

    >>> [tuple(t.shape) for t in per_sample(torch.zeros(2, 5, 3), torch.zeros(2, 5))]
    [(10, 3), (10,)]
    """
    if logits.dim() == 3 and targets.dim() == 2:
        return logits.flatten(0, 1), targets.flatten()
    return logits, targets


def _train_epoch(model: nn.Module, data: Dataset, optimizer: torch.optim.Optimizer,
                 scaler: torch.amp.GradScaler, batch_size: int, device: torch.device,
                 generator: torch.Generator, use_amp: bool, clip: float | None,
                 show: bool, desc: str, distill: _Distillation | None = None,
                 guard: _FiniteLossGuard | None = None, steps: _StepCounter | None = None) -> dict[str, float]:
    """One pass over ``data``; loss and accuracy are summed on the device and read once."""
    loss_sum = torch.zeros((), device=device)
    distill_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    seen = 0
    start = time.perf_counter()
    batches = _batches(data, batch_size, device, generator)
    for x, y in tqdm(batches, total=_num_batches(data, batch_size), desc=desc, unit="batch",
                     leave=False, disable=not show):
        if steps is not None:
            steps.before_step()
        teacher_log_probs = distill.teacher_log_probs(x) if distill is not None else None
        with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
            logits, y = per_sample(model(x), y)
            loss = nn.functional.cross_entropy(logits.float(), y)
        objective = loss
        if distill is not None:
            term = distill.term(logits.float(), teacher_log_probs)
            objective = (1 - distill.weight) * loss + distill.weight * term
            distill_sum += term.detach() * y.shape[0]
        if guard is not None:
            guard.before_step(objective)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(objective).backward()
        if clip is not None:
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        scaler.step(optimizer)
        scaler.update()
        loss_sum += loss.detach() * y.shape[0]
        correct += (logits.detach().argmax(dim=1) == y).sum()
        seen += y.shape[0]
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    record = {"train_loss": float(loss_sum) / seen, "train_accuracy": int(correct) / seen}
    if distill is not None:
        record["distill_loss"] = float(distill_sum) / seen
    return dict(record, seconds=seconds, samples_per_second=seen / seconds if seconds > 0 else float("inf"))


def finetune(model: nn.Module, train_data: Dataset, *, epochs: int = 1, lr: float = FINETUNE_LR,
             **fit_kwargs: Any) -> list[dict[str, float]]:
    """Fine-tune a (pruned) model in place: :func:`fit` with one epoch and ``lr=1e-4`` by default.

    The small learning rate adjusts the surviving weights without undoing what the dense
    training learned; prune masks stay applied, so the pruned weights stay exactly zero.
    Call it on the pruned copy (``PruneResult.model``), never on the dense original.
    ``fit_kwargs`` go to :func:`fit` (``batch_size``, ``device``, ``seed``, ``val_data`` ...),
    among them ``teacher``: pass the dense model to distil from it while fine-tuning (what that
    gains after spectral pruning, measured: ``docs/METHODS.md``, "Measured in this project").

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from lattice_lab import prune
    >>> from lattice_lab.models import build, get_weight
    >>> data = TensorDataset(torch.randn(32, 4, 2), torch.randint(0, 3, (32,)))
    >>> pruned = prune(build({"kind": "rnn", "input_size": 2, "hidden_size": 8, "num_classes": 3}),
    ...                "magnitude", 0.5).model
    >>> _ = finetune(pruned, data, device="cpu", progress=False)
    >>> int((get_weight(pruned, "layers.0.weight_hh_l0") == 0).sum())
    32
    """
    return fit(model, train_data, epochs=epochs, lr=lr, **fit_kwargs)


# --------------------------------------------------------------------------- evaluation

def _noise_generator(noise_std: float, seed: int, caller: str) -> torch.Generator | None:
    noise_std = check_float(noise_std, "noise_std", caller, low=0)
    check_range(seed, "seed", caller, "seed")
    return torch.Generator().manual_seed(seed) if noise_std > 0 else None


def _logits_and_targets(model: nn.Module, data: Dataset, device: torch.device, batch_size: int,
                        noise_std: float, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits and targets over ``data`` in order (on ``device``); restores the model's mode and device."""
    was_training, home = model.training, model_device(model)
    to_device(model, device)
    model.eval()
    logits, targets = [], []
    try:
        with torch.no_grad():
            for x, y in _batches(data, batch_size, device, None):
                if generator is not None:
                    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
                    x = x + noise_std * noise.to(device)
                logits.append(model(x).float())
                targets.append(y)
    finally:
        model.train(was_training)
        to_device(model, home)
    return torch.cat(logits), torch.cat(targets)


def predict_logits(model: nn.Module, data: Dataset, *, device: str | torch.device = "auto",
                   batch_size: int = 1024, noise_std: float = 0.0, seed: int = 0) -> torch.Tensor:
    """Logits ``(N, classes)`` on the CPU for every sample of ``data``, in order.

    The model is used in eval mode under ``torch.no_grad`` and left in the mode and on the
    device it was in. ``noise_std`` adds Gaussian noise of that standard deviation to the
    inputs, drawn from a generator seeded with ``seed`` (same seed and batch size → same noise).

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from lattice_lab.models import build
    >>> model = build({"kind": "gru", "input_size": 2, "hidden_size": 4, "num_classes": 3})
    >>> predict_logits(model, TensorDataset(torch.randn(5, 6, 2), torch.zeros(5, dtype=torch.long))).shape
    torch.Size([5, 3])
    """
    _check_model(model, "predict_logits")
    _check_data(model, data, "data", "predict_logits")
    batch_size = check_range(batch_size, "batch_size", "predict_logits", "batch_size")
    generator = _noise_generator(noise_std, seed, "predict_logits")
    logits, _ = _logits_and_targets(model, data, select_device(device), batch_size, noise_std, generator)
    return logits.cpu()


def evaluate(model: nn.Module, data: Dataset, *, device: str | torch.device = "auto",
             batch_size: int = 1024, noise_std: float = 0.0, seed: int = 0) -> dict[str, float]:
    """Accuracy and mean cross-entropy of ``model`` on ``data``; the model is not changed.

    Runs in eval mode under ``torch.no_grad`` and restores the model's mode (``.training``) and
    device afterwards. ``noise_std > 0`` adds seeded Gaussian noise to the inputs (the
    noise-robustness experiments); results are deterministic for a given ``seed``.

    Returns
    -------
    dict
        ``accuracy`` (in [0, 1]), ``loss`` (mean cross-entropy), ``n_samples``.

    Raises
    ------
    NonFiniteOutputError
        when any sample's logits are NaN or infinite (the NaN policy, in the module docstring).

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from lattice_lab.models import build
    >>> model = build({"kind": "lstm", "input_size": 2, "hidden_size": 4, "num_classes": 3})
    >>> scores = evaluate(model, TensorDataset(torch.randn(10, 6, 2), torch.zeros(10, dtype=torch.long)))
    >>> sorted(scores), scores["n_samples"], 0.0 <= scores["accuracy"] <= 1.0
    (['accuracy', 'loss', 'n_samples'], 10, True)
    """
    _check_model(model, "evaluate")
    _check_data(model, data, "data", "evaluate")
    batch_size = check_range(batch_size, "batch_size", "evaluate", "batch_size")
    generator = _noise_generator(noise_std, seed, "evaluate")
    logits, targets = _logits_and_targets(model, data, select_device(device), batch_size, noise_std, generator)
    _check_finite_outputs(logits, "evaluate")
    logits, targets = per_sample(logits, targets)
    loss = nn.functional.cross_entropy(logits, targets, reduction="sum")
    correct = (logits.argmax(dim=1) == targets).sum()
    n = int(targets.shape[0])
    return {"accuracy": int(correct) / n, "loss": float(loss) / n, "n_samples": n}
