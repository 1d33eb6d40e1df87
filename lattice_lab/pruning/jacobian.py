"""One-shot pruning at initialisation by the temporal Jacobian (Zhang & Stadie, ICLR 2020), reconstructed.

Method: M. S. Zhang, B. C. Stadie, "One-shot pruning of recurrent neural networks by Jacobian
spectrum evaluation", ICLR 2020 (arXiv 1912.00120). What the paper states **[paper]**: prune a
recurrent network once, at initialisation, keeping the weights that most affect the spectrum of
the recurrent Jacobian; 64 training sequences suffice; the score is a first-order (Taylor)
sensitivity normalised by the expected magnitude of the parameter's gradient, computed with two
backward passes; the K weights of largest score are kept; the sparse network is then trained.
Its evaluation section computes "the ℓ2 norm of J·1" on one minibatch of 64 samples using "only the
last 4 steps of the sequence". The rest is **[reconstructed]**:

- At a fresh seeded initialisation, 64 training sequences run ``T − k`` steps from a zero state;
  ``h₀ = h_{T−k}`` (and, for an LSTM, the cell state) is taken as the starting point of the last
  ``k = steps`` steps, unrolled with the layer's own cell equations; ``J = ∂h_T / ∂h₀``.
- The objective is ``χ(θ) = mean over the batch of ‖J·1‖₂``, with ``J·1`` computed exactly by the
  double-backward identity ``J·u = ∂/∂v [(Jᵀv)·u]`` (the "two backward passes").
- The sensitivity of weight ``θ_j`` is ``|θ_j ∂χ/∂θ_j|``, divided by the mean ``|∂χ/∂θ|`` of its
  gate block — the normalisation by the expected gradient magnitude, per gate so that every gate
  keeps weights (the paper's point that pruned RNNs should not concentrate in a few gates).
- The ``1 − amount`` fraction of largest scores over the scope is kept (a global ranking of the
  normalised scores); the masked network is trained for ``epochs`` at ``lr`` and annealed for
  ``anneal_epochs`` at ``anneal_lr``.

Single-layer, one-directional RNN / IRNN / LSTM / GRU models.

Must not import: widgets, cli, compare.

Examples
--------
>>> from lattice_lab.data import load
>>> from lattice_lab.models import build
>>> from lattice_lab.pruning import prune
>>> model = build({"kind": "lstm", "input_size": 8, "hidden_size": 16, "num_classes": 10})
>>> result = prune(model, "jacobian", 0.9, load("digits", subset=128), epochs=1, anneal_epochs=0)
>>> result.sparsity, result.info["objective"] > 0
(0.9, True)
"""
from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset

from .. import train
from ..models import SequenceClassifier, attached_view, fresh, gate_count, get_weight, split_name, weight_names
from ..recurrent.methods import mirror
from ..surgery import apply_masks
from ..validation import check_int, check_range, fail
from .base import PruneResult, masks_from_scores, register
from .expander import finetune_subset


def _cell(kind: str, x: torch.Tensor, state: tuple[torch.Tensor, ...], w: dict[str, torch.Tensor],
          nonlinearity: str) -> tuple[torch.Tensor, ...]:
    """One step of PyTorch's RNN / LSTM / GRU cell (gate order as in ``torch.nn``), from the layer's weights."""
    h = state[0]
    gi = x @ w["weight_ih_l0"].T + w["bias_ih_l0"]
    gh = h @ w["weight_hh_l0"].T + w["bias_hh_l0"]
    if kind == "lstm":
        i, f, g, o = (gi + gh).chunk(4, dim=1)
        c = torch.sigmoid(f) * state[1] + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
    if kind == "gru":
        ir, iz, i_n = gi.chunk(3, dim=1)
        hr, hz, h_n = gh.chunk(3, dim=1)
        r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
        return ((1 - z) * torch.tanh(i_n + r * h_n) + z * h,)
    act = torch.tanh if nonlinearity == "tanh" else torch.relu
    return (act(gi + gh),)


def jacobian_objective(model: SequenceClassifier, inputs: torch.Tensor, steps: int = 4) -> torch.Tensor:
    """``χ = mean_b ‖J_b·1‖₂`` with ``J = ∂h_T / ∂h_{T−steps}`` of the model's recurrent layer (differentiable).

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> rnn = build({"kind": "rnn", "input_size": 1, "hidden_size": 2, "num_classes": 2, "nonlinearity": "relu"})
    >>> with torch.no_grad():
    ...     _ = rnn.layers[0].weight_hh_l0.copy_(torch.eye(2)); _ = rnn.layers[0].bias_hh_l0.zero_()
    ...     _ = rnn.layers[0].bias_ih_l0.fill_(1.0); _ = rnn.layers[0].weight_ih_l0.zero_()
    >>> round(float(jacobian_objective(rnn, torch.zeros(3, 6, 1), steps=4).detach()), 6)   # J = I: ‖1‖ = √2
    1.414214
    """
    layer = model.layers[0]
    kind, steps = model.kind, check_int(steps, "steps", "jacobian_objective", low=1, high=inputs.shape[1])
    w = {name: getattr(layer, name) for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")}
    cell_kind = "rnn" if kind == "irnn" else kind
    with torch.no_grad():
        _, last = layer(inputs[:, : inputs.shape[1] - steps]) if inputs.shape[1] > steps else (None, None)
    batch, hidden = inputs.shape[0], layer.hidden_size
    zeros = inputs.new_zeros(batch, hidden)
    if last is None:
        state = (zeros, zeros) if kind == "lstm" else (zeros,)
    else:
        state = (last[0][0], last[1][0]) if kind == "lstm" else (last[0],)
    h0 = state[0].detach().requires_grad_(True)
    state = (h0,) + tuple(s.detach() for s in state[1:])
    for t in range(inputs.shape[1] - steps, inputs.shape[1]):
        state = _cell(cell_kind, inputs[:, t], state, w, model.config["nonlinearity"])
    h_final = state[0]
    v = torch.zeros_like(h_final, requires_grad=True)
    transposed = torch.autograd.grad(h_final, h0, grad_outputs=v, create_graph=True)[0]  # Jᵀ v
    forward = torch.autograd.grad(transposed, v, grad_outputs=torch.ones_like(transposed), create_graph=True)[0]
    return forward.norm(dim=1).mean()  # J·1 per sequence


def jacobian_scores(model: SequenceClassifier, inputs: torch.Tensor, names: list[str], steps: int = 4
                    ) -> tuple[dict[str, torch.Tensor], float]:
    """Per weight of ``names``: ``|θ ∂χ/∂θ|`` divided by the mean ``|∂χ/∂θ|`` of its gate block; and ``χ``."""
    objective = jacobian_objective(model, inputs, steps)
    params = [get_weight(model, name) for name in names]
    grads = torch.autograd.grad(objective, params, allow_unused=True)
    scores = {}
    for name, param, grad in zip(names, params, grads):
        grad = torch.zeros_like(param) if grad is None else grad
        blocks = gate_count(model.kind) if split_name(name)[1].startswith(("weight_ih", "weight_hh")) else 1
        sensitivity = (param.detach() * grad).abs()
        scale = grad.abs().reshape(blocks, -1).mean(dim=1).clamp_min(torch.finfo(grad.dtype).tiny)
        scores[name] = (sensitivity.reshape(blocks, -1) / scale[:, None]).reshape(param.shape)
    return scores, float(objective.detach())


def _scores_through_mirror(model, view, inputs: torch.Tensor, names: list[str], steps: int
                           ) -> tuple[dict[str, torch.Tensor], float]:
    """:func:`jacobian_scores` of a user's model: on the mirror of its one recurrent layer
    (:func:`lattice_lab.recurrent.methods.mirror`), fed what that layer receives from the model's
    front end (an embedding, say) on ``inputs``, the scores renamed back to the user's parameters."""
    layer = view.layers[0]
    module = model.get_submodule(layer.module)
    received: list[torch.Tensor] = []
    handle = module.register_forward_pre_hook(lambda _, args: received.append(args[0].detach()))
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        handle.remove()
    layer_inputs = received[0] if module.batch_first else received[0].transpose(0, 1)
    course, renamed = mirror(model, view)
    mine = {theirs: ours for ours, theirs in renamed.items()}
    scores, objective = jacobian_scores(course, layer_inputs.float(), [mine[name] for name in names], steps)
    return {renamed[name]: score for name, score in scores.items()}, objective


@register("jacobian", level="weight", needs_data=True, kinds=("rnn", "irnn", "lstm", "gru"),
          summary="prune at initialisation by each weight's effect on the temporal Jacobian (Zhang & Stadie "
                  "2020, reconstructed), then train the sparse network")
def jacobian(model, amount, *, data=None, scope="recurrent", seed=0, samples: int = 64, steps: int = 4,
             epochs: int = 9, lr: float = 2e-3, anneal_epochs: int = 1, anneal_lr: float = train.FINETUNE_LR,
             finetune_samples: int | None = None, batch_size: int = 128, device: str = "cpu",
             val_data: Dataset | None = None) -> PruneResult:
    """Prune a fresh initialisation of ``model``'s architecture by Jacobian sensitivity, then train it (module docstring).

    Options
    -------
    samples : training sequences the scores are computed on (default 64, as in the paper).
    steps : the last ``steps`` time steps the Jacobian spans (default 4, as in the paper).
    epochs, lr : training of the pruned network from its initialisation (default 9 epochs at 2e-3).
    anneal_epochs, anneal_lr : then this many epochs at this rate (default one at 1e-4).
    finetune_samples, batch_size, device : the training subset (default: every sample) and settings.
    val_data : if given, the accuracy at the end (``info["accuracy"]``).

    ``info``: ``objective`` (χ at initialisation), ``samples``, ``steps``, ``epochs``,
    ``anneal_epochs``, ``finetune_samples``, ``tensors``.

    See also
    --------
    expander : random expander masks trained from scratch; random : uniform masks.
    """
    caller = "jacobian"
    view = attached_view(model)  # a model of the user's own: its one recurrent layer, through the mirror
    if view is not None and (len(view.layers) != 1 or view.layers[0].directions != 1):
        fail("model", caller, "a model with one single-layer, one-directional nn.RNN, nn.LSTM or nn.GRU",
             f"{len(view.layers)} recurrent layer(s), directions {[layer.directions for layer in view.layers]}")
    if view is None and (model.config["num_layers"] != 1 or model.config["bidirectional"]):
        fail("model", caller, "a single-layer, one-directional RNN, IRNN, LSTM or GRU",
             f"{model.config['num_layers']} layer(s), bidirectional={model.config['bidirectional']}")
    samples = check_range(samples, "samples", caller, "samples")
    epochs = check_range(epochs, "epochs", caller, "epochs")
    lr = check_range(lr, "lr", caller, "lr")
    anneal_epochs = check_range(anneal_epochs, "anneal_epochs", caller, "epochs")
    anneal_lr = check_range(anneal_lr, "anneal_lr", caller, "lr")
    batch_size = check_range(batch_size, "batch_size", caller, "batch_size")
    subset = finetune_subset(data, finetune_samples, seed)
    inputs = torch.stack([data[i][0] for i in
                          torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:samples].tolist()])
    home = train.model_device(model)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = fresh(model)
    names = weight_names(model, scope)
    if view is None:
        scores, objective = jacobian_scores(model, inputs.float(), names, steps)
    else:
        scores, objective = _scores_through_mirror(model, view, inputs, names, steps)
    masks = masks_from_scores(scores, amount)
    apply_masks(model, masks, inplace=True)
    if epochs:
        train.fit(model, subset, epochs=epochs, lr=lr, batch_size=batch_size, device=device, seed=seed, progress=False)
    if anneal_epochs:
        train.finetune(model, subset, epochs=anneal_epochs, lr=anneal_lr, batch_size=batch_size, device=device,
                       seed=seed + 1, progress=False)
    info: dict[str, Any] = {"tensors": names, "objective": objective, "samples": len(inputs), "steps": steps,
                            "epochs": epochs, "anneal_epochs": anneal_epochs, "finetune_samples": len(subset)}
    if val_data is not None:
        info["accuracy"] = train.evaluate(model, val_data, device=device)["accuracy"]
    train.to_device(model, home)
    return PruneResult(model=model, masks=masks, info=info)
