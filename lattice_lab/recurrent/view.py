"""The recurrent view of any ``nn.Module``: its recurrent layers, their gate blocks and scopes, and
who consumes each layer's hidden units.

:func:`trace_view` finds every ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU`` in a model (any ``num_layers``,
``bidirectional``, ``batch_first`` either way, with or without bias) and follows each layer's
hidden units to the modules that read them: a ``Linear`` (on the last step, on every step, after
mean/max pooling over time, after a concatenation of ``h_n`` slices or of other features), a
``LayerNorm`` (whose output is followed further), another recurrent module, and, implicitly, the
next layer inside a multi-layer module. The model is traced with ``torch.fx`` where it traces
(every operation on the hidden states is then known); where it does not (data-dependent control
flow), forward hooks record the order of module calls and the width of their inputs, and
:func:`lattice_lab.recurrent.view_of` accepts such a view only if removing half the units of every
layer gives the outputs of masking them (a probe on the example inputs).

What cannot be followed exactly is refused with an :class:`UnsupportedModelError` whose one
sentence names the module and the operation: ``proj_size``, hidden states fed to an arbitrary
function (an addition, a sum over units, ``F.layer_norm`` ...), returned as the model's output, or
fed as another module's initial state, and a weight shared with another module (an embedding tied
to the head).

Why not Torch-Pruning's DependencyGraph: it does not prune ``nn.LSTM``/``nn.GRU`` units (its
issues #44, #276, #404), and the consumer patterns of a recurrent model are few enough to follow
here exactly.

Must not import: widgets, cli, compare, pruning, train, data.

Examples
--------
>>> import torch
>>> from torch import nn
>>> class Model(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.lstm = nn.LSTM(4, 8, num_layers=2, bidirectional=True)
...         self.norm = nn.LayerNorm(16)
...         self.head = nn.Linear(16, 3)
...     def forward(self, x):
...         out, _ = self.lstm(x)
...         return self.head(self.norm(out.mean(dim=0)))
>>> view = trace_view(Model(), torch.zeros(5, 2, 4))
>>> [(layer.name, layer.gates, layer.directions) for layer in view.layers]
[('lstm.l0', 4, 2), ('lstm.l1', 4, 2)]
>>> [(c.module, c.kind) for c in view.consumers], view.traced
([('norm', 'layernorm'), ('head', 'linear')], 'fx')
>>> view.scope_names("recurrent")[:2]
['lstm.weight_hh_l0', 'lstm.weight_hh_l0_reverse']
"""
from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass
from typing import Any

import torch
from torch import fx, nn

_KINDS = {nn.LSTM: "lstm", nn.GRU: "gru", nn.RNN: "rnn"}
_GATES = {"lstm": 4, "gru": 3, "rnn": 1}
SCOPES = ("recurrent", "input", "all")


class UnsupportedModelError(ValueError):
    """A model whose hidden units cannot be followed exactly; the message names the module and the operation."""


@dataclass(frozen=True)
class RecurrentLayer:
    """One layer ``index`` of the recurrent module at ``module`` (its parameters end in ``_l{index}``)."""

    module: str
    index: int
    kind: str
    hidden_size: int
    input_size: int
    directions: int
    bias: bool

    @property
    def name(self) -> str:
        return f"{self.module}.l{self.index}"

    @property
    def gates(self) -> int:
        return _GATES[self.kind]

    @property
    def suffixes(self) -> tuple[str, ...]:
        base = f"_l{self.index}"
        return (base, base + "_reverse") if self.directions == 2 else (base,)

    def parameter(self, prefix: str, direction: int) -> str:
        """Qualified name of a parameter, e.g. ``parameter("weight_hh", 1) == "lstm.weight_hh_l0_reverse"``."""
        return f"{self.module}.{prefix}{self.suffixes[direction]}" if self.module else prefix + self.suffixes[direction]


@dataclass(frozen=True)
class Block:
    """``width`` consecutive columns of a tensor: direction ``direction`` of view layer ``layer``, or
    (``layer`` None) columns that are no hidden units (kept whole). ``linear``: the columns read the
    units through linear operations only (indexing, mean or sum over time, concatenation, dropout,
    scaling), so a linear reconstruction of the units folds into them exactly; False after
    relu/tanh, max/min pooling or a LayerNorm, and for views found by hooks (operations unknown)."""

    layer: int | None
    direction: int
    width: int
    linear: bool = True


@dataclass(frozen=True)
class Consumer:
    """A module that reads hidden units: ``kind`` is ``linear``, ``layernorm`` or ``recurrent`` (its
    layer 0 input); ``layout`` says which layer's units (and which direction) each input column is."""

    module: str
    kind: str
    layout: tuple[Block, ...]


@dataclass(frozen=True)
class RecurrentView:
    """Layers (in module order, then layer index), their consumers, and how they were found (``fx``, ``hooks``)."""

    layers: tuple[RecurrentLayer, ...]
    consumers: tuple[Consumer, ...]
    traced: str

    def modules(self) -> list[str]:
        """The recurrent modules, each once, in order."""
        return list(dict.fromkeys(layer.module for layer in self.layers))

    def layers_of(self, module: str) -> list[int]:
        """Indices (into ``layers``) of the layers of one recurrent module."""
        return [k for k, layer in enumerate(self.layers) if layer.module == module]

    def scope_names(self, scope: str = "recurrent") -> list[str]:
        """The weight matrices in a scope: ``recurrent`` every ``weight_hh``, ``input`` every
        ``weight_ih``, ``all`` both (per layer: input first, then recurrent). Consumers are in no scope."""
        if scope not in SCOPES:
            raise ValueError(f"The 'scope' parameter must be one of {list(SCOPES)}. Got {scope!r} instead.")
        prefixes = {"recurrent": ("weight_hh",), "input": ("weight_ih",), "all": ("weight_ih", "weight_hh")}[scope]
        return [layer.parameter(prefix, d) for layer in self.layers for prefix in prefixes
                for d in range(layer.directions)]

    def hidden_sizes(self) -> list[int]:
        return [layer.hidden_size for layer in self.layers]

    def resized(self, sizes: list[int]) -> RecurrentView:
        """The same view with new hidden sizes (one per layer), as of a model whose units were removed."""
        layers = []
        for k, (layer, size) in enumerate(zip(self.layers, sizes)):
            width = layer.input_size if layer.index == 0 else layer.directions * size
            layers.append(dataclasses.replace(layer, hidden_size=size, input_size=width))
        consumers = tuple(dataclasses.replace(c, layout=tuple(b if b.layer is None else dataclasses.replace(
            b, width=sizes[b.layer]) for b in c.layout)) for c in self.consumers)
        return RecurrentView(tuple(layers), consumers, self.traced)

    def readout_names(self) -> list[str]:
        """The weights of the Linear consumers (what reads the units out), for FLOP counts."""
        return [f"{c.module}.weight" if c.module else "weight" for c in self.consumers if c.kind == "linear"]

    def gates_of(self, name: str) -> int:
        """Gate blocks stacked along the rows of the layer weight or bias ``name``."""
        for layer in self.layers:
            if any(name == layer.parameter(prefix, d) for prefix in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
                   for d in range(layer.directions)):
                return layer.gates
        raise ValueError(f"{name!r} is no weight of a recurrent layer of this view")


def _refuse(module: str, model: nn.Module, sentence: str) -> UnsupportedModelError:
    kind = type(model.get_submodule(module)).__name__ if module else type(model).__name__
    return UnsupportedModelError(f"module {module!r} (nn.{kind}) {sentence}")


def _layers(model: nn.Module) -> list[RecurrentLayer]:
    layers = []
    for path, module in model.named_modules():
        kind = _KINDS.get(type(module))
        if kind is None:
            continue
        if getattr(module, "proj_size", 0):
            raise _refuse(path, model, f"has proj_size={module.proj_size}: its hidden state is projected, so a unit "
                                       "is not one row of each gate block and cannot be removed exactly.")
        directions = 2 if module.bidirectional else 1
        for index in range(module.num_layers):
            input_size = module.input_size if index == 0 else directions * module.hidden_size
            layers.append(RecurrentLayer(path, index, kind, module.hidden_size, input_size, directions, module.bias))
    if not layers:
        raise UnsupportedModelError(f"model {type(model).__name__} has no nn.RNN, nn.LSTM or nn.GRU module.")
    return layers


def _check_shared(model: nn.Module, touched: list[str]) -> None:
    """Refuse a parameter of a touched module that is also a parameter of another module."""
    owners: dict[int, list[str]] = {}
    for path, module in model.named_modules(remove_duplicate=False):
        for param in module.parameters(recurse=False):
            owners.setdefault(id(param), []).append(path)
    for path in touched:
        for param in model.get_submodule(path).parameters(recurse=False):
            others = [p for p in dict.fromkeys(owners[id(param)]) if p != path]
            if others:
                raise _refuse(path, model, f"shares a weight with {others[0]!r} "
                                           f"(nn.{type(model.get_submodule(others[0])).__name__}): removing units "
                                           "from it would change that module too.")


# ------------------------------------------------------------------------------------------------
# Following hidden units through an fx graph
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Call:  # output of a recurrent module: (output, h_n) or (output, (h_n, c_n))
    module: str


@dataclass(frozen=True)
class _States:  # (h_n, c_n) of an LSTM
    module: str


@dataclass(frozen=True)
class _Stack:  # h_n or c_n: (num_layers * directions, batch, hidden)
    module: str


@dataclass(frozen=True)
class _Pair:  # (values, indices) of max/min over a dim
    layout: tuple[Block, ...]


_PASS_MODULES = (nn.Dropout, nn.ReLU, nn.Tanh, nn.Identity)  # f(0) = 0 elementwise: masked units stay 0
_PASS_FUNCTIONS = {torch.relu, torch.tanh, nn.functional.relu, nn.functional.tanh, nn.functional.dropout,
                   torch.flatten}
_PASS_METHODS = {"relu", "tanh", "contiguous", "clone", "detach", "float", "to"}
_POOL = {"mean", "sum", "amax", "amin", "max", "min"}
_NONLINEAR = {nn.ReLU, nn.Tanh, torch.relu, torch.tanh, nn.functional.relu, nn.functional.tanh, "relu", "tanh",
              "amax", "amin", "max", "min"}  # what a linear reconstruction of the units does not pass through


def _nonlinear(layout: tuple[Block, ...]) -> tuple[Block, ...]:
    return tuple(dataclasses.replace(b, linear=False) if b.layer is not None else b for b in layout)


class _Tracer:
    def __init__(self, model: nn.Module, graph: fx.Graph, layers: list[RecurrentLayer], shapes: dict[str, Any]):
        self.model, self.graph, self.layers, self.shapes = model, graph, layers, shapes
        self.state: dict[fx.Node, Any] = {}
        self.consumers: dict[str, Consumer] = {}

    def top(self, module: str) -> list[int]:
        return [k for k, layer in enumerate(self.layers) if layer.module == module]

    def layout(self, k: int) -> tuple[Block, ...]:
        layer = self.layers[k]
        return tuple(Block(k, d, layer.hidden_size) for d in range(layer.directions))

    def origin(self, value: Any) -> str:
        if isinstance(value, (_Call, _States, _Stack)):
            return value.module
        blocks = value.layout if isinstance(value, _Pair) else value
        return next(self.layers[b.layer].module for b in blocks if b.layer is not None)

    def fail(self, value: Any, node: fx.Node, what: str) -> UnsupportedModelError:
        return _refuse(self.origin(value), self.model, f"feeds its hidden states {what} ({node.format_node()}); "
                                                       "lattice_lab cannot follow that operation exactly.")

    def ndim(self, node: fx.Node) -> int | None:
        meta = self.shapes.get(node.name)
        return None if meta is None else len(meta)

    def run(self) -> tuple[Consumer, ...]:
        for node in self.graph.nodes:
            tracked = [a for a in node.all_input_nodes if a in self.state]
            if node.op == "call_module" and type(self.model.get_submodule(node.target)) in _KINDS:
                if tracked:
                    self.recurrent_input(node, tracked)
                self.state[node] = _Call(node.target)
            elif tracked:
                result = self.step(node, tracked)
                if result is not None:
                    self.state[node] = result
        return tuple(self.consumers.values())

    def consume(self, node: fx.Node, kind: str, layout: tuple[Block, ...]) -> None:
        known = self.consumers.get(node.target)
        if known is not None and known.layout != layout:
            raise _refuse(node.target, self.model, "reads hidden units in two different layouts.")
        self.consumers[node.target] = Consumer(node.target, kind, layout)

    def recurrent_input(self, node: fx.Node, tracked: list[fx.Node]) -> None:
        value = self.state[tracked[0]]
        if len(tracked) > 1 or node.args[0] is not tracked[0] or not isinstance(value, tuple):
            raise self.fail(value, node, "into another module as its initial state")
        self.consume(node, "recurrent", value)

    def step(self, node: fx.Node, tracked: list[fx.Node]) -> Any:
        value = self.state[tracked[0]]
        if node.op == "output":
            raise self.fail(value, node, "out of the model as its output (removing units would change its shape)")
        if len(tracked) > 1 and node.target is not torch.cat:
            raise self.fail(value, node, "into an operation with a second hidden-state operand")
        if isinstance(value, (_Call, _States, _Stack, _Pair)):
            return self.structured(node, value)
        if node.op == "call_module":
            return self.module(node, value)
        if node.target is torch.cat:
            return self.concatenate(node)
        return self.tensor_op(node, value)

    def structured(self, node: fx.Node, value: Any) -> Any:
        index = node.args[1] if node.target is operator.getitem and len(node.args) > 1 else None
        if node.target is getattr and isinstance(value, _Pair) and node.args[1] == "values":
            index = 0
        if isinstance(value, _Call) and index in (0, 1):
            if index == 0:
                return self.layout(self.top(value.module)[-1])
            kind = self.layers[self.top(value.module)[0]].kind
            return _States(value.module) if kind == "lstm" else _Stack(value.module)
        if isinstance(value, _States) and index in (0, 1):
            return _Stack(value.module)
        if isinstance(value, _Pair) and index == 0:
            return value.layout
        if isinstance(value, _Stack):
            return self.stack_item(node, value)
        raise self.fail(value, node, "into an operation on its state tuple")

    def stack_item(self, node: fx.Node, value: _Stack) -> tuple[Block, ...]:
        layers = self.top(value.module)
        directions = self.layers[layers[0]].directions
        count = len(layers) * directions
        index = node.args[1] if node.target is operator.getitem else None
        if node.op == "call_method" and node.target == "squeeze" and count == 1:
            index = 0
        if isinstance(index, int) and -count <= index < count:
            index %= count
            k = layers[index // directions]
            return (Block(k, index % directions, self.layers[k].hidden_size),)
        raise self.fail(value, node, "(h_n or c_n) into an operation other than taking one layer's slice")

    def module(self, node: fx.Node, value: tuple[Block, ...]) -> Any:
        module = self.model.get_submodule(node.target)
        if isinstance(module, nn.Linear):
            self.consume(node, "linear", value)
            return None
        if isinstance(module, nn.LayerNorm) and len(module.normalized_shape) == 1:
            self.consume(node, "layernorm", value)
            return _nonlinear(value)
        if isinstance(module, _PASS_MODULES):
            return _nonlinear(value) if type(module) in _NONLINEAR else value
        raise self.fail(value, node, f"into nn.{type(module).__name__}")

    def last_dim(self, node: fx.Node, dim: Any) -> bool:
        ndim = self.ndim(node.args[0])
        if not isinstance(dim, int) or ndim is None:
            return True  # unknown: treat as touching the units
        return dim % ndim == ndim - 1

    def tensor_op(self, node: fx.Node, value: tuple[Block, ...]) -> Any:
        target = node.target
        name = target if node.op == "call_method" else getattr(target, "__name__", str(target))
        if node.op == "call_function" and target is operator.getitem:
            return self.item(node, value)
        if target in _PASS_FUNCTIONS or (node.op == "call_method" and target in _PASS_METHODS):
            if target is torch.flatten and self.last_dim(node, node.kwargs.get("end_dim", node.args[2]
                                                                               if len(node.args) > 2 else -1)) \
                    and node.kwargs.get("start_dim", node.args[1] if len(node.args) > 1 else 0) != \
                    node.kwargs.get("end_dim", node.args[2] if len(node.args) > 2 else -1):
                raise self.fail(value, node, "into a flatten over the unit dimension")
            return _nonlinear(value) if target in _NONLINEAR else value
        if target in (operator.mul, operator.truediv, torch.mul) and isinstance(node.args[1], (int, float)) \
                and node.args[0] in self.state:
            return value
        if name in _POOL:
            dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
            dims = dim if isinstance(dim, (tuple, list)) else (dim,)
            if dim is None or any(self.last_dim(node, d) for d in dims):
                raise self.fail(value, node, f"into a {name} over the unit dimension")
            value = _nonlinear(value) if name in _NONLINEAR else value
            return _Pair(value) if name in ("max", "min") else value
        if name in ("transpose", "permute", "squeeze", "unsqueeze", "flip"):
            before, after = self.shapes.get(node.args[0].name), self.shapes.get(node.name)
            if before is not None and after is not None and before[-1] == after[-1] and name != "permute" \
                    or name == "permute" and tuple(node.args[1:])[-1] in (-1, len(before or ()) - 1):
                return value
        raise self.fail(value, node, f"into {name}")

    def item(self, node: fx.Node, value: tuple[Block, ...]) -> Any:
        index = node.args[1] if isinstance(node.args[1], tuple) else (node.args[1],)
        ndim = self.ndim(node.args[0])
        if Ellipsis in index:
            last = index[-1] if index[-1] is not Ellipsis else slice(None)
        elif ndim is not None and len([i for i in index if i is not None]) == ndim:
            last = index[-1]
        else:
            last = slice(None)
        if last == slice(None):
            return value
        raise self.fail(value, node, "into an index or slice over the unit dimension (fixed positions that removing "
                                     "units would move)")

    def concatenate(self, node: fx.Node) -> tuple[Block, ...]:
        parts = node.args[0]
        dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
        first = next(p for p in parts if p in self.state)
        ndim = self.ndim(node)
        if ndim is None or dim % ndim != ndim - 1:
            raise self.fail(self.state[first], node, "into a concatenation along another dimension than the units")
        layout: list[Block] = []
        for part in parts:
            value = self.state.get(part)
            if value is None:
                layout.append(Block(None, 0, int(self.shapes[part.name][-1])))
            elif isinstance(value, tuple):
                layout.extend(value)
            else:
                raise self.fail(value, node, "into a concatenation of state tuples")
        return tuple(layout)


def _shapes(graph_module: fx.GraphModule, inputs: tuple) -> dict[str, Any]:
    from torch.fx.passes.shape_prop import ShapeProp

    ShapeProp(graph_module).propagate(*inputs)
    shapes = {}
    for node in graph_module.graph.nodes:
        meta = node.meta.get("tensor_meta")
        if hasattr(meta, "shape"):
            shapes[node.name] = tuple(meta.shape)
    return shapes


def _trace(model: nn.Module, layers: list[RecurrentLayer], inputs: tuple) -> tuple[Consumer, ...] | None:
    """Consumers found by ``torch.fx``; None when the model does not trace."""
    try:
        graph_module = fx.symbolic_trace(model)
    except Exception:  # noqa: BLE001 -- any tracing failure (control flow on values, ...) means: use hooks
        return None
    with torch.no_grad():
        shapes = _shapes(graph_module, inputs)
    return _Tracer(model, graph_module.graph, layers, shapes).run()


def _hooked(model: nn.Module, layers: list[RecurrentLayer], inputs: tuple) -> tuple[Consumer, ...]:
    """Consumers found by forward hooks: after a recurrent module, the next Linear, LayerNorm or
    recurrent module whose input is as wide as its output (or one direction of it) reads its units."""
    calls: list[tuple[str, int]] = []
    handles = []
    for path, module in model.named_modules():
        if isinstance(module, (nn.Linear, nn.LayerNorm, *_KINDS)) and path:
            def hook(mod, args, output, path=path):
                width = args[0].shape[-1] if args and isinstance(args[0], torch.Tensor) else -1
                calls.append((path, int(width)))
            handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    consumers: dict[str, Consumer] = {}
    tops = {layer.module: k for k, layer in enumerate(layers)}  # the last layer of each module wins
    pending: tuple[Block, ...] | None = None
    for path, width in calls:
        module = model.get_submodule(path)
        if pending is not None and width == sum(b.width for b in pending):
            kind = ("recurrent" if type(module) in _KINDS else "layernorm" if isinstance(module, nn.LayerNorm)
                    else "linear")
            consumers[path] = Consumer(path, kind, pending)
            pending = pending if kind == "layernorm" else None
        if type(module) in _KINDS:
            k = tops[path]
            pending = tuple(Block(k, d, layers[k].hidden_size, linear=False) for d in range(layers[k].directions))
    return tuple(consumers.values())


def trace_view(model: nn.Module, *inputs: torch.Tensor) -> RecurrentView:
    """The recurrent view of ``model`` traced on the example ``inputs`` (what ``model(*inputs)`` accepts):
    by ``torch.fx``, else by forward hooks. No probe and nothing kept: :func:`lattice_lab.recurrent.view_of`
    adds both.

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
    >>> trace_view(Projected(), torch.zeros(3, 1, 2))
    Traceback (most recent call last):
    ...
    lattice_lab.recurrent.view.UnsupportedModelError: module 'lstm' (nn.LSTM) has proj_size=4: its hidden \
state is projected, so a unit is not one row of each gate block and cannot be removed exactly.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"The 'model' parameter of view_of must be a torch.nn.Module. Got {type(model).__name__} "
                         "instead.")
    if not inputs:
        raise ValueError("view_of needs example inputs (what model(*inputs) accepts) to follow the hidden units.")
    layers = _layers(model)
    consumers = _trace(model, layers, inputs)
    traced = "fx"
    if consumers is None:
        consumers, traced = _hooked(model, layers, inputs), "hooks"
    _check_shared(model, list(dict.fromkeys([layer.module for layer in layers] + [c.module for c in consumers])))
    return RecurrentView(tuple(layers), consumers, traced)
