"""Exporting a pruned model of the user's own: TorchScript (always) and ONNX (when ``onnx`` is installed).

Masks attached with ``torch.nn.utils.prune`` are folded into the weights first
(:func:`lattice_lab.surgery.make_permanent`), so the exported file holds plain tensors; a
unit-pruned model is exported at its smaller size. The TorchScript file is traced on an example
(``torch.jit.trace``: users' models need not be scriptable), so it is valid for inputs of that
rank and dtype.

Must not import: widgets, cli, compare, pruning, train.

Examples
--------
>>> import tempfile, torch
>>> from pathlib import Path
>>> from torch import nn
>>> model, x = nn.GRU(3, 4, batch_first=True), torch.zeros(2, 5, 3)
>>> path = to_torchscript(model, x, Path(tempfile.mkdtemp()) / "gru.pt")
>>> torch.allclose(torch.jit.load(str(path))(x)[0], model(x)[0])
True
"""
from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..atomic import atomic_write
from ..surgery import make_permanent


def _plain(model: nn.Module) -> nn.Module:
    return make_permanent(model).eval()


def to_torchscript(model: nn.Module, example: Any, path: str | Path) -> Path:
    """Trace ``model`` (masks folded in) on ``example`` and save it as a TorchScript file; returns the path."""
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(_plain(model), example, check_trace=False)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, lambda file: torch.jit.save(traced, file))


def onnx_available() -> bool:
    """Whether the ``onnx`` package (which ``torch.onnx.export`` needs) is installed."""
    return importlib.util.find_spec("onnx") is not None


def to_onnx(model: nn.Module, example: Any, path: str | Path) -> Path:
    """Export ``model`` (masks folded in) to ONNX; an ImportError names the missing package."""
    if not onnx_available():
        raise ImportError("ONNX export needs the onnx package: pip install onnx")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(_plain(model), (example,), str(path), dynamo=False)
    return path
