"""Where tensors run: choosing a device (CUDA, then Apple's MPS, then the CPU), naming it for
cards and logs, and moving a model there with its pruned weights.

One idea: devices. :func:`select_device` turns ``"auto"`` (or an explicit name) into a
``torch.device``, :func:`describe_device` gives the readable name a checkpoint card records,
:func:`model_device` reads where a model lives and :func:`to_device` moves it, refreshing the
weights that ``torch.nn.utils.prune`` derives from ``weight_orig * weight_mask``. Training,
checkpoints and the CLI all take their devices from here (``lattice_lab.train`` re-exports
these names, so ``ll.train.select_device()`` keeps working).

Must not import: models, train, checkpoints, data, surgery, pruning, graphs, compare, widgets, cli.

Examples
--------
>>> select_device("cpu")
device(type='cpu')
>>> describe_device("cpu")
'cpu'
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from .validation import check_instance, fail

__all__ = ["DEVICES", "describe_device", "model_device", "mps_available", "select_device", "to_device"]

DEVICES = ("auto", "cpu", "cuda", "mps")
"""Device names :func:`select_device` accepts (``"cuda:1"`` and ``torch.device`` objects too)."""


def mps_available() -> bool:
    """Whether Apple's Metal (MPS) backend is usable here (False on builds without it).

    >>> isinstance(mps_available(), bool)
    True
    """
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def select_device(device: str | torch.device = "auto") -> torch.device:
    """The device to run on: ``"auto"`` picks CUDA if available, then MPS, then the CPU.

    Parameters
    ----------
    device : ``"auto"``, ``"cpu"``, ``"cuda"`` (or ``"cuda:1"``), ``"mps"``, or a ``torch.device``.
        An explicit device that is not available is a ValueError.

    Examples
    --------
    >>> select_device("cpu")
    device(type='cpu')
    >>> select_device("auto").type in ("cuda", "mps", "cpu")
    True
    >>> select_device("tpu")
    Traceback (most recent call last):
    ...
    lattice_lab.validation.InvalidParameterError: The 'device' parameter of select_device must be one of 'auto', \
'cpu', 'cuda', 'mps' (or a torch.device). Got 'tpu' instead.
    """
    allowed = "one of " + ", ".join(map(repr, DEVICES)) + " (or a torch.device)"
    check_instance(device, "device", "select_device", (str, torch.device), allowed)
    if isinstance(device, str) and device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if mps_available() else torch.device("cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError):
        fail("device", "select_device", allowed, device)
    if chosen.type not in DEVICES:
        fail("device", "select_device", allowed, device)
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} is not available here (no CUDA); use 'auto' or 'cpu'")
    if chosen.type == "mps" and not mps_available():
        raise ValueError(f"device {device!r} is not available here (no MPS); use 'auto' or 'cpu'")
    return chosen


def describe_device(device: str | torch.device = "auto") -> str:
    """A readable device name for cards and logs: ``"cpu"``, ``"cuda (NVIDIA H200)"``, ``"mps"``.

    >>> describe_device("cpu")
    'cpu'
    """
    device = select_device(device) if device == "auto" else torch.device(device)
    if device.type == "cuda" and torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type


def model_device(model: nn.Module) -> torch.device:
    """The device of a model's first parameter (CPU for a model without parameters).

    >>> model_device(nn.Linear(2, 3))
    device(type='cpu')
    """
    first = next(model.parameters(), None)
    return torch.device("cpu") if first is None else first.device


def to_device(model: nn.Module, device: torch.device) -> nn.Module:
    """Move ``model`` (in place) to ``device`` and refresh its pruned weights there.

    ``Module.to`` moves ``weight_orig`` and ``weight_mask`` but not the derived ``weight``
    attribute that ``torch.nn.utils.prune`` recomputes before each forward pass; this
    recomputes it at once, so every tensor of the model is on ``device``.

    Examples
    --------
    >>> layer = torch_prune.l1_unstructured(nn.Linear(4, 4), "weight", amount=0.5)
    >>> to_device(layer, torch.device("cpu")) is layer, layer.weight.device.type
    (True, 'cpu')
    """
    if model_device(model) == device:
        return model
    model.to(device)
    for module in model.modules():
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, torch_prune.BasePruningMethod):
                setattr(module, hook._tensor_name, hook.apply_mask(module))
    return model
