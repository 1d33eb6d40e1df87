"""Sequence classifiers built on ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``, the IRNN, and a
multi-layer RNN with top-down feedback.

Every model is a :class:`SequenceClassifier`: a stack of recurrent layers (``model.layers``,
one module per layer, so each layer may have its own hidden size after pruning) and a linear
``readout`` on the top layer's final hidden state. ``build(config)`` rebuilds any model from a
plain dict, which is what checkpoints store.

Parameter names are the same for every kind, so graphs and pruning code can treat them alike:
``layers.{k}.weight_ih_l0`` (input or bottom-up weights, gate blocks stacked along rows),
``layers.{k}.weight_hh_l0`` (recurrent weights), ``bias_ih_l0`` / ``bias_hh_l0``, the
``_reverse`` twins for bidirectional layers, and ``layers.{k}.weight_td_l0`` (top-down weights
from layer k+1, feedback models only).

A config is checked before anything is allocated: :class:`SequenceClassifier` counts the
parameters a config asks for on PyTorch's ``meta`` device (:func:`parameter_count`) and refuses,
with the estimate, a model that could not fit in the machine's memory
(:func:`lattice_lab.memory.check_fits`). What a model's inputs must be is checked by
:func:`check_inputs` (the model's feature size, finite values), its weights by
:func:`check_finite_weights`: every entry point that runs a model on data (``fit``, ``evaluate``,
``prune``) calls them.

Models sit near the bottom of the package: everything that touches a model imports them.
Must not import anything from the package (except memory and validation).

Examples
--------
>>> import torch
>>> model = build({"kind": "lstm", "input_size": 8, "hidden_size": 16, "num_classes": 10})
>>> model(torch.zeros(3, 8, 8)).shape
torch.Size([3, 10])
>>> build(model.config).config == model.config
True
"""
from __future__ import annotations

import copy
import math
import numbers
import weakref
from typing import Any

import torch
from torch import nn

from .memory import check_fits
from .validation import (InvalidParameterError, check_bool, check_choice, check_instance, check_int, check_list,
                         check_range, fail)

KINDS = ("rnn", "irnn", "lstm", "gru", "feedback")
NONLINEARITIES = ("tanh", "relu")
SCOPES = ("recurrent", "input", "all")
_GATES = {"rnn": 1, "irnn": 1, "lstm": 4, "gru": 3, "feedback": 1}


def gate_count(kind: str) -> int:
    """Number of gate blocks stacked along the rows of a layer's weights (LSTM 4, GRU 3, else 1).

    >>> gate_count("lstm"), gate_count("gru"), gate_count("rnn")
    (4, 3, 1)
    """
    return _GATES[check_choice(kind, "kind", "gate_count", KINDS)]


def _layer_sizes(config: dict, kind: str) -> tuple[int, list[int]]:
    """``(num_layers, hidden sizes)`` of a config whose ``hidden_size`` is an int or one int per layer."""
    hidden, what = config["hidden_size"], "an int >= 1 or a list of ints >= 1 (one per layer)"
    if isinstance(hidden, (list, tuple)):
        sizes = check_list(hidden, "hidden_size", "build", lambda h: check_int(h, "hidden_size", "build", low=1), what)
        num_layers = check_range(config.get("num_layers", len(sizes)), "num_layers", "build", "layers")
        if len(sizes) != num_layers:
            raise ValueError(f"hidden_size has {len(sizes)} entries but num_layers is {num_layers}")
    else:
        if isinstance(hidden, bool) or not isinstance(hidden, numbers.Integral) or hidden < 1:
            fail("hidden_size", "build", what, hidden)
        num_layers = check_range(config.get("num_layers", 2 if kind == "feedback" else 1), "num_layers", "build",
                                 "layers")
        sizes = [int(hidden)] * num_layers
    return num_layers, [check_range(size, "hidden_size", "build", "units") for size in sizes]


def normalize_config(config: dict) -> dict:
    """Validate a model config and fill in defaults; returns a new plain dict.

    Keys: ``kind`` (one of :data:`KINDS`), ``input_size``, ``hidden_size`` (an int, or a list
    with one int per layer), ``num_classes``, ``num_layers`` (default 1; at least 2 for
    ``feedback``), ``bidirectional`` (default False; not for ``feedback``), ``nonlinearity``
    (``"tanh"`` or ``"relu"``; ``irnn`` is always ``"relu"``).

    >>> normalize_config({"kind": "gru", "input_size": 4, "hidden_size": 8, "num_classes": 2})["hidden_size"]
    [8]
    """
    check_instance(config, "config", "build", dict, "a dict")
    allowed = {"kind", "input_size", "hidden_size", "num_classes", "num_layers", "bidirectional", "nonlinearity"}
    unknown = set(config) - allowed
    if unknown:
        raise ValueError(f"unknown config keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    for key in ("kind", "input_size", "hidden_size", "num_classes"):
        if key not in config:
            raise ValueError(f"config is missing {key!r}; required: kind, input_size, hidden_size, num_classes")
    kind = check_choice(config["kind"], "kind", "build", KINDS)
    num_layers, hidden = _layer_sizes(config, kind)
    bidirectional = check_bool(config.get("bidirectional", False), "bidirectional", "build")
    nonlinearity = check_choice(config.get("nonlinearity", "tanh"), "nonlinearity", "build", NONLINEARITIES)
    if kind == "irnn":
        nonlinearity = "relu"  # the IRNN is a ReLU RNN (Le, Jaitly & Hinton 2015), whatever was asked
    if kind == "feedback":
        if num_layers < 2:
            raise ValueError("a feedback model needs num_layers >= 2 (top-down weights go from layer l+1 to layer l)")
        if bidirectional:
            raise ValueError("a feedback model cannot be bidirectional")
    return {
        "kind": kind,
        "input_size": check_range(config["input_size"], "input_size", "build", "units"),
        "hidden_size": hidden,
        "num_classes": check_range(config["num_classes"], "num_classes", "build", "units"),
        "num_layers": num_layers,
        "bidirectional": bidirectional,
        "nonlinearity": nonlinearity,
    }


class FeedbackLayer(nn.Module):
    """Parameters of one layer of :class:`SequenceClassifier` of kind ``feedback``.

    Layer l at step t receives layer l-1 at t (``weight_ih_l0``), itself at t-1
    (``weight_hh_l0``) and layer l+1 at t-1 (``weight_td_l0``, absent on the top layer).
    The recurrence itself runs in :meth:`SequenceClassifier.forward`, since layers interact.
    """

    def __init__(self, input_size: int, hidden_size: int, top_down_size: int | None):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        bound = 1.0 / math.sqrt(hidden_size)
        self.weight_ih_l0 = nn.Parameter(torch.empty(hidden_size, input_size).uniform_(-bound, bound))
        self.weight_hh_l0 = nn.Parameter(torch.empty(hidden_size, hidden_size).uniform_(-bound, bound))
        self.bias_ih_l0 = nn.Parameter(torch.empty(hidden_size).uniform_(-bound, bound))
        self.bias_hh_l0 = nn.Parameter(torch.empty(hidden_size).uniform_(-bound, bound))
        if top_down_size is not None:
            self.weight_td_l0 = nn.Parameter(torch.empty(hidden_size, top_down_size).uniform_(-bound, bound))

    def forward(self) -> dict[str, torch.Tensor]:
        """The layer's current tensors by name. Calling the module (rather than reading the
        attributes) runs forward pre-hooks, so ``torch.nn.utils.prune`` masks are applied."""
        names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_td_l0")
        return {name: getattr(self, name) for name in names if hasattr(self, name)}


_RECURRENT_MODULES = {"rnn": nn.RNN, "irnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _make_layer(config: dict, index: int) -> nn.Module:
    kind, hidden = config["kind"], config["hidden_size"]
    directions = 2 if config["bidirectional"] else 1
    input_size = config["input_size"] if index == 0 else directions * hidden[index - 1]
    if kind == "feedback":
        top_down = hidden[index + 1] if index + 1 < config["num_layers"] else None
        return FeedbackLayer(input_size, hidden[index], top_down)
    extra = {"nonlinearity": config["nonlinearity"]} if kind in ("rnn", "irnn") else {}
    layer = _RECURRENT_MODULES[kind](input_size, hidden[index], batch_first=True,
                                     bidirectional=config["bidirectional"], **extra)
    if kind == "irnn":  # Le, Jaitly & Hinton (2015): identity recurrence, zero bias, small input weights
        with torch.no_grad():
            for name, param in layer.named_parameters():
                if name.startswith("weight_hh"):
                    param.copy_(torch.eye(hidden[index]))
                elif name.startswith("weight_ih"):
                    param.normal_(0.0, 0.001)
                else:
                    param.zero_()
    return layer


class SequenceClassifier(nn.Module):
    """A recurrent sequence classifier: inputs ``(batch, steps, features)`` → logits ``(batch, classes)``.

    Parameters
    ----------
    config : dict
        See :func:`normalize_config`; kept (normalized) as ``self.config``.

    Examples
    --------
    >>> import torch
    >>> model = SequenceClassifier({"kind": "feedback", "input_size": 3, "hidden_size": [5, 4],
    ...                             "num_classes": 2})
    >>> logits, states = model(torch.randn(2, 7, 3), return_states=True)
    >>> logits.shape, [tuple(s.shape) for s in states]
    (torch.Size([2, 2]), [(2, 7, 5), (2, 7, 4)])
    """

    def __init__(self, config: dict):
        super().__init__()
        self.config = normalize_config(config)
        device = torch.get_default_device()
        if device.type != "meta":  # counting happens on the meta device (parameter_count)
            check_model_fits(self.config, f"a model of kind {self.config['kind']!r} with hidden_size "
                                          f"{self.config['hidden_size']} (", device)
        self.layers = nn.ModuleList(_make_layer(self.config, k) for k in range(self.config["num_layers"]))
        directions = 2 if self.config["bidirectional"] else 1
        self.readout = nn.Linear(directions * self.config["hidden_size"][-1], self.config["num_classes"])

    @property
    def kind(self) -> str:
        return self.config["kind"]

    def forward(self, x: torch.Tensor, return_states: bool = False):
        """Logits from the top layer's final hidden state; with ``return_states`` also every
        layer's hidden-state sequence (``(batch, steps, directions*hidden)``; LSTM: h, not c)."""
        if x.dim() != 3:
            raise ValueError(f"inputs must have shape (batch, steps, features), got {tuple(x.shape)}")
        states = self._feedback_states(x) if self.kind == "feedback" else self._stacked_states(x)
        top = states[-1]
        if self.config["bidirectional"]:
            hidden = self.config["hidden_size"][-1]
            final = torch.cat([top[:, -1, :hidden], top[:, 0, hidden:]], dim=1)
        else:
            final = top[:, -1, :]
        logits = self.readout(final)
        return (logits, states) if return_states else logits

    def _stacked_states(self, x: torch.Tensor) -> list[torch.Tensor]:
        states = []
        for layer in self.layers:
            x, _ = layer(x)
            states.append(x)
        return states

    def _feedback_states(self, x: torch.Tensor) -> list[torch.Tensor]:
        act = torch.tanh if self.config["nonlinearity"] == "tanh" else torch.relu
        batch, steps, _ = x.shape
        weights = [layer() for layer in self.layers]
        hidden = [x.new_zeros(batch, layer.hidden_size) for layer in self.layers]
        outputs: list[list[torch.Tensor]] = [[] for _ in self.layers]
        last = len(self.layers) - 1
        for t in range(steps):
            below = x[:, t, :]
            new_hidden = []
            for k, w in enumerate(weights):
                pre = (below @ w["weight_ih_l0"].T + w["bias_ih_l0"]
                       + hidden[k] @ w["weight_hh_l0"].T + w["bias_hh_l0"])
                if k < last:
                    pre = pre + hidden[k + 1] @ w["weight_td_l0"].T
                below = act(pre)
                new_hidden.append(below)
                outputs[k].append(below)
            hidden = new_hidden
        return [torch.stack(seq, dim=1) for seq in outputs]


def build(config: dict) -> SequenceClassifier:
    """Build a fresh model from a plain config dict (see :func:`normalize_config`).

    >>> build({"kind": "irnn", "input_size": 1, "hidden_size": 4, "num_classes": 10}).config["nonlinearity"]
    'relu'
    """
    return SequenceClassifier(config)


def parameter_count(config: dict) -> int:
    """Number of parameters of the model ``config`` describes, counted without allocating them.

    The layers are built on PyTorch's ``meta`` device, which records shapes and holds no data.

    >>> parameter_count({"kind": "rnn", "input_size": 2, "hidden_size": 3, "num_classes": 2})  # 3x2 + 3x3 + 3 + 3 + 2x3 + 2
    29
    >>> parameter_count({"kind": "lstm", "input_size": 28, "hidden_size": 200000, "num_classes": 10})
    160026000010
    """
    with torch.device("meta"):
        return sum(p.numel() for p in SequenceClassifier(config).parameters())


LAYER_BYTES = 16_000  # what one layer's modules cost beyond its weights (Python objects; measured: 10-15 kB)


def check_model_fits(config: dict, what: str, device: Any = "cpu") -> int:
    """The parameter count of the (normalized) ``config``, once its model is known to fit ``device``.

    The estimate is four bytes per float32 parameter plus :data:`LAYER_BYTES` per layer and
    direction, so a model of 100 one-unit layers is costed by its layers, not by its few weights;
    :func:`lattice_lab.memory.check_fits` refuses what cannot fit, naming ``what`` (which opens a
    parenthesis that the parameter count closes; the normalized ``hidden_size`` in it shows the layers).

    >>> check_model_fits({"kind": "lstm", "input_size": 28, "hidden_size": [200000], "num_classes": 10,
    ...                   "num_layers": 1, "bidirectional": False, "nonlinearity": "tanh"}, "a big LSTM (")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lattice_lab.memory.MemoryLimitError: a big LSTM (160,026,000,010 float32 parameters) would need about 640.1 GB \
of memory, ...
    """
    count = parameter_count(config)
    layers = config["num_layers"] * (2 if config["bidirectional"] else 1)
    check_fits(4 * count + LAYER_BYTES * layers,
               f"{what}{count:,} float32 parameters)", device)
    return count


def check_finite_weights(model: nn.Module, caller: str) -> nn.Module:
    """``model`` if every parameter and buffer is finite; else an InvalidParameterError naming the tensor.

    >>> model = build({"kind": "rnn", "input_size": 2, "hidden_size": 3, "num_classes": 2})
    >>> with torch.no_grad():
    ...     model.readout.bias[0] = float("nan")
    >>> check_finite_weights(model, "prune")
    Traceback (most recent call last):
    ...
    lattice_lab.validation.InvalidParameterError: The 'model' parameter of prune must have finite weights (no NaN or \
infinite values). Got 1 NaN and 0 infinite values in readout.bias instead.
    """
    tensors = list(model.named_parameters()) + list(model.named_buffers())
    for name, tensor in tensors:
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            nan = int(torch.isnan(tensor).sum())
            infinite = int(torch.isinf(tensor).sum())
            raise InvalidParameterError(f"The 'model' parameter of {caller} must have finite weights (no NaN or "
                                        f"infinite values). Got {nan} NaN and {infinite} infinite values in {name} "
                                        "instead.")
    return model


def check_inputs(model: nn.Module, inputs: torch.Tensor, name: str, caller: str) -> torch.Tensor:
    """``inputs`` if they fit ``model``: shape ``(N, T, F)`` with the model's ``F``, every value finite.

    The feature size is checked for a :class:`SequenceClassifier` (its ``input_size``); the shape
    and the values for any model (a model of the user's own, inside pruning: the values only). A mismatch is an InvalidParameterError (a ValueError) naming the
    expected and the given size, not the RuntimeError PyTorch raises deep inside the layer.

    >>> model = build({"kind": "gru", "input_size": 8, "hidden_size": 4, "num_classes": 2})
    >>> check_inputs(model, torch.zeros(5, 28, 28), "data", "evaluate")
    Traceback (most recent call last):
    ...
    lattice_lab.validation.InvalidParameterError: The 'data' parameter of evaluate must have 8 features per step \
(the model's input_size). Got inputs of shape (5, 28, 28), with 28 features, instead.
    """
    if inputs.dim() != 3 and attached_view(model) is None:  # a user's model may take token ids (N, T)
        raise InvalidParameterError(f"The {name!r} parameter of {caller} must hold sequences of shape (N, T, F). "
                                    f"Got inputs of shape {tuple(inputs.shape)} instead.")
    expected = model.config["input_size"] if isinstance(model, SequenceClassifier) else None
    if expected is not None and inputs.shape[2] != expected:
        raise InvalidParameterError(f"The {name!r} parameter of {caller} must have {expected} features per step "
                                    f"(the model's input_size). Got inputs of shape {tuple(inputs.shape)}, with "
                                    f"{inputs.shape[2]} features, instead.")
    if inputs.is_floating_point() and not _known_finite(inputs):
        if not bool(torch.isfinite(inputs).all()):
            nan, infinite = int(torch.isnan(inputs).sum()), int(torch.isinf(inputs).sum())
            raise InvalidParameterError(f"The {name!r} parameter of {caller} must hold finite values. Got {nan} NaN "
                                        f"and {infinite} infinite values instead.")
        _FINITE[id(inputs)] = (weakref.ref(inputs, lambda _, key=id(inputs): _FINITE.pop(key, None)), inputs._version)
    return inputs


_FINITE: dict[int, tuple[weakref.ref, int]] = {}
"""Tensors found finite, with their version counter then: scanning MNIST's 47 million training values
takes seconds, and the lab prunes with the same training set at every move. Any in-place change
bumps ``_version``, so a changed tensor is scanned again."""


def _known_finite(tensor: torch.Tensor) -> bool:
    entry = _FINITE.get(id(tensor))
    return entry is not None and entry[0]() is tensor and entry[1] == tensor._version


def weight_names(model: SequenceClassifier, scope: str = "recurrent") -> list[str]:
    """Qualified names of the weight matrices in a scope, e.g. ``"layers.0.weight_hh_l0"``.

    ``recurrent``: every layer's W_hh (both directions) and, in feedback models, the top-down
    W_td — the connections between hidden units. ``input``: every layer's W_ih (the input and
    bottom-up weights). ``all``: both. The readout is in no scope. Names stay valid after
    ``torch.nn.utils.prune`` reparametrizes a weight (read it with :func:`get_weight`). A model of
    the user's own carrying its recurrent view (:func:`attached_view`) gives the view's names.

    >>> model = build({"kind": "rnn", "input_size": 2, "hidden_size": 3, "num_classes": 2, "bidirectional": True})
    >>> weight_names(model, "recurrent")
    ['layers.0.weight_hh_l0', 'layers.0.weight_hh_l0_reverse']
    """
    check_choice(scope, "scope", "weight_names", SCOPES)
    view = attached_view(model)
    if view is not None:
        return view.scope_names(scope)
    prefixes = {"recurrent": ("weight_hh", "weight_td"), "input": ("weight_ih",),
                "all": ("weight_ih", "weight_hh", "weight_td")}[scope]
    suffixes = ("_l0", "_l0_reverse") if model.config["bidirectional"] else ("_l0",)
    names = []
    for k, layer in enumerate(model.layers):
        for prefix in prefixes:
            for suffix in suffixes:
                attr = prefix + suffix
                if hasattr(layer, attr) or hasattr(layer, attr + "_orig"):
                    names.append(f"layers.{k}.{attr}")
    return names


def split_name(name: str) -> tuple[str, str]:
    """Split a qualified tensor name into (module path, attribute)."""
    module_path, _, attr = name.rpartition(".")
    return module_path, attr


def get_weight(model: nn.Module, name: str) -> torch.Tensor:
    """The effective tensor called ``name`` (masked when pruned with ``torch.nn.utils.prune``)."""
    module_path, attr = split_name(name)
    module = model.get_submodule(module_path)
    if hasattr(module, attr + "_orig"):
        return getattr(module, attr + "_orig") * getattr(module, attr + "_mask")
    return getattr(module, attr)


def hidden_sizes(model: SequenceClassifier) -> list[int]:
    """Hidden units per layer (per direction).

    >>> hidden_sizes(build({"kind": "gru", "input_size": 2, "hidden_size": [6, 3], "num_classes": 2}))
    [6, 3]
    """
    view = attached_view(model)
    return list(model.config["hidden_size"]) if view is None else view.hidden_sizes()


def readout_names(model: nn.Module) -> list[str]:
    """The weights that read the top layer's units out: ``["readout.weight"]``, or a model of the
    user's own's Linear consumers (through its attached view).

    >>> readout_names(build({"kind": "gru", "input_size": 2, "hidden_size": 3, "num_classes": 2}))
    ['readout.weight']
    """
    view = attached_view(model)
    return ["readout.weight"] if view is None else view.readout_names()


VIEW_ATTRIBUTE = "_lattice_lab_view"


def attached_view(model: nn.Module):
    """The recurrent view (:mod:`lattice_lab.recurrent`) that pruning attached to its private copy of a
    model of the user's own, or None (a :class:`SequenceClassifier` needs none: its names are fixed).

    The names and sizes :func:`weight_names` and :func:`hidden_sizes` give come from it, so the
    methods run unchanged on any model. Duck-typed here: models sit below ``recurrent``.
    """
    return None if isinstance(model, SequenceClassifier) else model.__dict__.get(VIEW_ATTRIBUTE)


def fresh(model: nn.Module) -> nn.Module:
    """A fresh initialisation of ``model``'s architecture, from the global RNG (seed it first).

    A :class:`SequenceClassifier` is rebuilt from its config (so an IRNN gets its identity
    recurrence); any other model is a copy whose every module with ``reset_parameters`` is reset
    (PyTorch's default initialisation).

    >>> torch.manual_seed(0) is not None and isinstance(fresh(nn.GRU(2, 3)), nn.GRU)
    True
    """
    if isinstance(model, SequenceClassifier):
        return build(model.config)
    copy = clone(model)
    for module in copy.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return copy


def clone(model: nn.Module) -> nn.Module:
    """A deep copy, so callers' models are never modified.

    Works for models pruned with ``torch.nn.utils.prune``, whose masked weights are computed
    (non-leaf) tensors that ``copy.deepcopy`` refuses: those are copied detached, and the
    pruning hooks recompute them at the next forward pass.
    """
    memo: dict[int, Any] = {}
    for tensor in (v for module in model.modules() for v in module.__dict__.values()):
        if isinstance(tensor, torch.Tensor) and not tensor.is_leaf:
            memo[id(tensor)] = tensor.detach().clone()
    return copy.deepcopy(model, memo)
