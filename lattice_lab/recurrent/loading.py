"""Loading a model of the user's own for the command line: ``module.py:factory`` plus a weights file,
or a TorchScript file; and its data, an ``(inputs, targets)`` pair saved with ``torch.save``.

Everything is read onto the CPU (``map_location="cpu"``), so a checkpoint saved on a GPU (Colab's,
say) loads on a machine without one. Weights and data are read with ``weights_only=True``: a
file that holds anything but tensors and plain containers is refused, never executed. The
factory's module is the user's own code and runs as such (it is named on the command line).

A TorchScript file is compiled code: its modules are no ``nn.LSTM`` any more, so it can be
evaluated but not pruned (:func:`load_model` says so when ``prunable`` is asked for).

Must not import: widgets, cli, compare, pruning, train.

Examples
--------
>>> import tempfile, textwrap, torch
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "mine.py").write_text(textwrap.dedent('''
...     from torch import nn
...     def make():
...         return nn.Sequential(nn.Linear(2, 2))
... '''))
>>> model = load_model(f"{folder / 'mine.py'}:make")
>>> type(model).__name__
'Sequential'
"""
from __future__ import annotations

import importlib.util
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn


def _read(path: Path, what: str) -> Any:
    if not path.is_file():
        raise ValueError(f"The {what} file {str(path)!r} does not exist.")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"The {what} file {str(path)!r} could not be read as tensors saved with torch.save "
                         f"({first}).") from None


def _factory(spec: str):
    path_text, sep, name = spec.rpartition(":")
    if not sep or not path_text.endswith(".py") or not name.isidentifier():
        raise ValueError(f"The model {spec!r} must be 'module.py:factory' (a Python file and the name of a function "
                         "in it that returns the model), or a TorchScript file.")
    path = Path(path_text)
    if not path.is_file():
        raise ValueError(f"The model file {path_text!r} does not exist.")
    module_spec = importlib.util.spec_from_file_location(f"lattice_lab_user_{path.stem}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    factory = getattr(module, name, None)
    if not callable(factory):
        raise ValueError(f"The model file {path_text!r} has no function {name!r}.")
    return factory


def load_model(spec: str, weights: str | Path | None = None, *, prunable: bool = False) -> nn.Module:
    """The user's model: ``spec`` is ``module.py:factory`` (called with no arguments) or a TorchScript
    file; ``weights`` a state dict saved with ``torch.save`` (loaded strictly, onto the CPU).

    A ``.pt`` checkpoint holding ``{"state_dict": ...}`` or ``{"model_state_dict": ...}`` works too.
    """
    if ":" not in Path(str(spec)).name:
        path = Path(spec)
        if not path.is_file():
            raise ValueError(f"The model {str(spec)!r} must be 'module.py:factory' or a TorchScript file; no such "
                             "file.")
        if prunable:
            raise ValueError(f"The model {str(spec)!r} is a TorchScript file: its modules are compiled, so its units "
                             "cannot be removed; give the model as module.py:factory with a weights file instead.")
        try:
            return torch.jit.load(str(path), map_location="cpu")
        except RuntimeError as error:
            raise ValueError(f"The model {str(spec)!r} could not be read as a TorchScript file "
                             f"({str(error).strip().splitlines()[0]}).") from None
    model = _factory(str(spec))()
    if not isinstance(model, nn.Module):
        raise ValueError(f"The model factory {str(spec)!r} must return a torch.nn.Module. Got "
                         f"{type(model).__name__} instead.")
    if weights is not None:
        state = _read(Path(weights), "weights")
        if isinstance(state, dict):
            state = state.get("state_dict", state.get("model_state_dict", state))
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise ValueError(f"The weights file {str(weights)!r} must hold a state dict (parameter name -> tensor).")
        try:
            model.load_state_dict(state)
        except RuntimeError as error:
            raise ValueError(f"The weights file {str(weights)!r} does not fit the model of {str(spec)!r} "
                             f"({str(error).strip().splitlines()[0]}).") from None
    return model.eval()


def load_data(path: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    """``(inputs, targets)`` saved with ``torch.save`` (a pair, or a dict with those two keys)."""
    data = _read(Path(path), "data")
    if isinstance(data, dict) and {"inputs", "targets"} <= set(data):
        data = (data["inputs"], data["targets"])
    if not (isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data)):
        raise ValueError(f"The data file {str(path)!r} must hold an (inputs, targets) pair of tensors or a dict with "
                         "'inputs' and 'targets'.")
    return data[0], data[1]
