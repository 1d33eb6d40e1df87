"""Spectral pruning of a model of the user's own: the ``spectral`` method through the recurrent view.

:func:`spectral_on_view` is what :func:`lattice_lab.pruning.spectral_units.spectral` runs when its
model carries a :class:`~lattice_lab.recurrent.RecurrentView` (a private copy made by
:func:`lattice_lab.pruning.prune`). The method is the course's (Σ̂ of each layer's hidden states over
every step, J chosen greedily on L_A + θ·L_B or by leverage, Â_J = Σ̂_{F,J}(Σ̂_{J,J} + λI)⁻¹ from
:mod:`lattice_lab.ridge`); what differs is where the states and the consumers come from:

- the states of a layer are what the user's recurrent module computes: a forward pre-hook takes the
  module's input (and initial state) on the user's data, and a copy of the module's first layers
  (``num_layers = index + 1``, the same weights) gives that layer's output at every step;
- every weight that reads the layer's units takes Â_J on its columns (``W♯ = W[rows kept] Â_J``):
  the layer's own ``weight_hh``, the next layer's ``weight_ih`` inside the module, and each Linear or
  recurrent consumer the view found on a *linear* path (indexing, mean/sum pooling, concatenation,
  dropout, scaling: :class:`~lattice_lab.recurrent.view.Block`'s ``linear``).
- a layer that any consumer reads through a non-linear step (a LayerNorm, relu/tanh, max pooling, or
  a view found by hooks, whose operations are unknown) has its units removed **without**
  reconstruction: Â_J cannot be folded into such a reader, and folding it into the others only would
  give neither the method nor plain removal. Such a layer's pruned model equals the masked model
  (:func:`lattice_lab.recurrent.removal.masked_reference`); ``info["reconstructed"]`` says, per
  layer, which was done.

Σ̂ of every layer is taken on the dense model (the course's models re-take it after compressing
the layers below), ``center`` is not offered (an affine reconstruction needs a bias in every reader),
and ``n_samples`` sequences are a seeded subset of the user's dataset.

Must not import: widgets, cli, compare, train.

Examples
--------
>>> import torch
>>> from torch import nn
>>> from lattice_lab import prune
>>> class Model(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.gru = nn.GRU(3, 8, batch_first=True)
...         self.head = nn.Linear(8, 2)
...     def forward(self, x):
...         return self.head(self.gru(x)[0].mean(dim=1))
>>> data = (torch.randn(40, 5, 3), torch.randint(0, 2, (40,)))
>>> result = prune(Model(), "spectral", 0.5, data)
>>> result.model.gru.hidden_size, result.model.head.in_features, result.info["reconstructed"]
(4, 4, [True])
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset, Subset

from ..models import get_weight
from ..recurrent.data import batches
from ..recurrent.removal import index_plan, normalize_keep, remove_units
from ..recurrent.view import Block, RecurrentView
from ..ridge import greedy_select, leverage_select, reconstruction_matrix
from ..settings import fast

_BUILD = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


def _first_layers(module: nn.RNNBase, count: int) -> nn.RNNBase:
    """A copy of the first ``count`` layers of ``module`` (same weights, eval mode)."""
    options = dict(bias=module.bias, batch_first=module.batch_first, bidirectional=module.bidirectional)
    if isinstance(module, nn.RNN):
        options["nonlinearity"] = module.nonlinearity
    part = type(module)(module.input_size, module.hidden_size, num_layers=count, **options)
    own = dict(module.named_parameters())
    part.load_state_dict({name: own[name].detach() for name, _ in part.named_parameters()})
    return part.to(next(module.parameters()).device).eval()


def _sliced_state(hx: Any, count: int, directions: int) -> Any:
    if hx is None:
        return None
    if isinstance(hx, tuple):
        return tuple(h[:count * directions] for h in hx)
    return hx[:count * directions]


def layer_states(model: nn.Module, view: RecurrentView, data: Dataset, k: int, batch_size: int = 256):
    """(D, N, H) float64 hidden states of view layer ``k`` at every step of every sequence in ``data``."""
    layer = view.layers[k]
    module = model.get_submodule(layer.module)
    part = _first_layers(module, layer.index + 1)
    seen: list[torch.Tensor] = []

    def hook(mod, args):
        hx = args[1] if len(args) > 1 else None
        out = part(args[0], _sliced_state(hx, layer.index + 1, layer.directions))[0]
        out = out.data if isinstance(out, nn.utils.rnn.PackedSequence) else out
        seen.append(out.detach().double().cpu().reshape(-1, layer.directions, layer.hidden_size))

    handle = module.register_forward_pre_hook(hook)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for inputs, _ in batches(data, batch_size):
                model(inputs)
    finally:
        handle.remove()
        model.train(was_training)
    states = torch.cat(seen).permute(1, 0, 2)
    if not torch.isfinite(states).all():
        raise ValueError(f"layer {layer.name} produced NaN or infinite hidden states; check the model's weights and "
                         "the input data")
    return states.numpy()


def sequences(data: Dataset, n_samples: int | None, seed: int = 0) -> Dataset:
    """``n_samples`` items of ``data`` (default 2000, 500 in fast mode): all if it has no more, else a
    seeded subset in order, as the course's models take their sequences."""
    n = (500 if fast() else 2000) if n_samples is None else n_samples
    if len(data) <= n:
        return data
    index = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:n]
    return Subset(data, torch.sort(index).values.tolist())


def _readers(view: RecurrentView) -> dict[str, tuple[Block, ...]]:
    """Every weight matrix that reads hidden units, with the layout of its columns (direction-aware)."""
    layouts: dict[str, tuple[Block, ...]] = {}
    for k, layer in enumerate(view.layers):
        for d in range(layer.directions):
            layouts[layer.parameter("weight_hh", d)] = (Block(k, d, layer.hidden_size),)
            if layer.index > 0:
                layouts[layer.parameter("weight_ih", d)] = tuple(Block(k - 1, e, layer.hidden_size)
                                                                 for e in range(layer.directions))
    for consumer in view.consumers:
        if consumer.kind == "linear":
            layouts[f"{consumer.module}.weight" if consumer.module else "weight"] = consumer.layout
        elif consumer.kind == "recurrent":
            first = view.layers[view.layers_of(consumer.module)[0]]
            for d in range(first.directions):
                layouts[first.parameter("weight_ih", d)] = consumer.layout
    return layouts


def reconstructable(view: RecurrentView) -> list[bool]:
    """Per layer: whether every reader of its units reads them linearly (so Â_J folds in exactly)."""
    ok = [True] * len(view.layers)
    for consumer in view.consumers:
        for block in consumer.layout:
            if block.layer is not None and (consumer.kind == "layernorm" or not block.linear):
                ok[block.layer] = False
    return ok


def _fold(dense: nn.Module, small: nn.Module, view: RecurrentView, keep: list[torch.Tensor],
          recon: dict[tuple[int, int], np.ndarray]) -> None:
    """Set each reader's columns of a reconstructed (layer, direction) to ``W[rows kept][:, block] Â``."""
    plan = index_plan(view, keep)
    with torch.no_grad():
        for name, layout in _readers(view).items():
            rows = plan[name][0]
            w = get_weight(dense, name).detach()
            w = w if rows is None else w[rows.to(w.device)]
            target = get_weight(small, name)
            offset = new_offset = 0
            for block in layout:
                new_width = block.width if block.layer is None else len(keep[block.layer])
                a = None if block.layer is None else recon.get((block.layer, block.direction))
                if a is not None:
                    part = w[:, offset:offset + block.width].double().cpu() @ torch.from_numpy(a)
                    target[:, new_offset:new_offset + new_width] = part.to(target)
                offset, new_offset = offset + block.width, new_offset + new_width


def spectral_on_view(model: nn.Module, view: RecurrentView, data: Dataset, counts: list[int], *, lam: float | None,
                     lam_scale: float, theta: float, selection: str, reconstruct: bool, n_samples: int | None,
                     batch_size: int, seed: int, raw_theta, layer_report) -> tuple[nn.Module, dict[str, Any]]:
    """The pruned copy and the method's ``info`` (as the course's, plus ``reconstructed`` per layer).

    ``raw_theta`` and ``layer_report`` are the course method's own (passed in: that module imports this one).
    """
    data = sequences(data, n_samples, seed)
    folds = reconstructable(view)
    readers = _readers(view)
    keys = ("lam", "L_A", "L_A_rel", "L_B", "eigenvalues", "dof", "bound")
    info: dict[str, Any] = {key: [] for key in ("kept", "theta_raw", "reconstructed") + keys}
    recon: dict[tuple[int, int], np.ndarray] = {}
    n_states = 0
    for k, (layer, count) in enumerate(zip(view.layers, counts)):
        if count == layer.hidden_size:  # nothing removed: the layer stays exactly as it is
            info["kept"].append(torch.arange(count))
            info["reconstructed"].append(False)
            for key in ("theta_raw",) + keys:
                info[key].append(None)
            continue
        states = layer_states(model, view, data, k, batch_size)
        n_states = states.shape[1]
        covs = np.einsum("dni,dnj->dij", states, states) / n_states
        layer_lam = lam if lam is not None else lam_scale * float(np.trace(covs.sum(axis=0))) / (
            covs.shape[0] * covs.shape[1])
        if layer_lam <= 0:
            raise ValueError(f"layer {layer.name}'s hidden states are all zero on the data (Tr Σ̂ = 0): nothing to "
                             "select by; pass lam explicitly or check the model")
        Zs = [np.concatenate([get_weight(model, name).detach().double().cpu().numpy()[:, _span(layout, k, d)]
                              for name, layout in readers.items() if _span(layout, k, d) is not None], axis=0)
              for d in range(layer.directions)]
        if selection == "greedy":
            raw = raw_theta(theta, Zs)
            info["theta_raw"].append(raw)
            chosen = greedy_select(covs, count, layer_lam, raw, Zs if raw > 0 else None)
        else:
            info["theta_raw"].append(None)
            chosen = leverage_select(covs, count, layer_lam, seed)
        J = np.sort(chosen)
        folded = reconstruct and folds[k]
        if folded:
            for d, c in enumerate(covs):
                recon[(k, d)] = reconstruction_matrix(c, J, layer_lam)
        report = layer_report(covs, J, layer_lam, Zs, len(data))
        info["kept"].append(torch.from_numpy(J))
        info["reconstructed"].append(folded)
        for key in keys:
            info[key].append(report[key])
    keep = normalize_keep(view, info["kept"], "spectral")
    small = remove_units(model, view, keep)
    _fold(model, small, view, keep, recon)
    info.update(n_samples=len(data), n_states=n_states, reconstruct=reconstruct, selection=selection, theta=theta,
                center=False)
    return small, info


def _span(layout: tuple[Block, ...], k: int, d: int) -> slice | None:
    """The columns of ``layout`` that hold direction ``d`` of layer ``k``, or None."""
    offset = 0
    for block in layout:
        if block.layer == k and block.direction == d:
            return slice(offset, offset + block.width)
        offset += block.width
    return None
