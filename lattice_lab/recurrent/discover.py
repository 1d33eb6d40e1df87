"""Finding a model's recurrent view once: :func:`view_of` traces it (:func:`~lattice_lab.recurrent.view.trace_view`),
probes a view found by hooks with an exact removal, and keeps it for the live model.

The probe lives here, above both the view and the removal, so neither imports the other's caller.

Must not import: widgets, cli, compare, pruning, train, data.

Examples
--------
>>> import torch
>>> from torch import nn
>>> class Model(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.gru, self.head = nn.GRU(2, 4), nn.Linear(4, 1)
...     def forward(self, x):
...         return self.head(self.gru(x)[0][-1])
>>> model, x = Model(), torch.zeros(3, 1, 2)
>>> view_of(model, x) is view_of(model, x)  # found once, kept while the model stays the same
True
"""
from __future__ import annotations

import weakref

import torch
from torch import nn

from .removal import check_removal_matches_masking
from .view import RecurrentView, trace_view


def view_of(model: nn.Module, *inputs: torch.Tensor, probe: bool | None = None) -> RecurrentView:
    """The recurrent view of ``model``, found on the example ``inputs`` (what ``model(*inputs)`` accepts).

    ``probe`` (default: only when the model did not trace with ``torch.fx``) checks on ``inputs``
    that removing half the units of every layer gives the outputs of masking them.

    The view of a live model is kept and returned again while the model's class, forward, modules,
    parameter names and shapes, and the example's shapes and dtypes stay the same (tracing is the
    costly part of pruning a small model; a forward patched on the instance is not seen).

    Raises
    ------
    UnsupportedModelError
        When a layer's units cannot be followed exactly; the sentence names the module and the operation.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> class Projected(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.lstm = nn.LSTM(2, 8, proj_size=4)
    ...     def forward(self, x):
    ...         return self.lstm(x)[0]
    >>> view_of(Projected(), torch.zeros(3, 1, 2))
    Traceback (most recent call last):
    ...
    lattice_lab.recurrent.view.UnsupportedModelError: module 'lstm' (nn.LSTM) has proj_size=4: its hidden \
state is projected, so a unit is not one row of each gate block and cannot be removed exactly.
    """
    key = _signature(model, inputs, probe) if isinstance(model, nn.Module) else None
    cached = _VIEWS.get(model) if key is not None else None
    if cached is not None and cached[0] == key:
        return cached[1]
    view = trace_view(model, *inputs)
    if probe or (probe is None and view.traced == "hooks"):
        check_removal_matches_masking(model, view, inputs)
    _VIEWS[model] = (key, view)
    return view


_VIEWS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""The last view found of each live model, with the signature it was found under (see :func:`view_of`)."""


def forget_view(model: nn.Module) -> None:
    """Drop the view kept for ``model``, so the next :func:`view_of` finds it afresh."""
    _VIEWS.pop(model, None)


def _signature(model: nn.Module, inputs: tuple, probe: bool | None) -> tuple:
    """What a view depends on: the model's class and forward, every module's type and every parameter's
    name and shape, the example's shapes and dtypes, and the probe setting."""
    modules = tuple((path, type(module)) for path, module in model.named_modules())
    parameters = tuple((name, tuple(p.shape)) for name, p in model.named_parameters())
    examples = tuple((tuple(x.shape), x.dtype) if isinstance(x, torch.Tensor) else repr(x) for x in inputs)
    return type(model), getattr(type(model).forward, "__code__", None), modules, parameters, examples, probe
