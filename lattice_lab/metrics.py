"""What a pruned model costs: measured sparsity per scope, nonzero parameters, FLOPs, units.

Sparsity is always *measured* on the model (never taken from a method's request): the fraction
of the dense model's weights in a scope that are zero or physically removed.

Must not import: data, train, pruning, graphs, widgets, cli.

Examples
--------
>>> import torch
>>> from lattice_lab.models import build
>>> from lattice_lab.surgery import remove_units
>>> dense = build({"kind": "rnn", "input_size": 2, "hidden_size": 4, "num_classes": 2})
>>> sparsity(remove_units(dense, [[0, 1]]), dense, "recurrent")   # 2x2 of 4x4 left
0.75
"""
from __future__ import annotations

import torch

from .models import SequenceClassifier, gate_count, get_weight, weight_names


def _nonzero(model: SequenceClassifier, names: list[str]) -> int:
    return int(sum(torch.count_nonzero(get_weight(model, n)).item() for n in names))


def _numel(model: SequenceClassifier, names: list[str]) -> int:
    return int(sum(get_weight(model, n).numel() for n in names))


def sparsity(model: SequenceClassifier, dense: SequenceClassifier, scope: str = "recurrent") -> float:
    """Fraction of ``dense``'s weights in ``scope`` that are zero or removed in ``model``."""
    total = _numel(dense, weight_names(dense, scope))
    if total == 0:
        raise ValueError(f"the dense model has no weights in scope {scope!r}")
    return 1.0 - _nonzero(model, weight_names(model, scope)) / total


def params_nonzero(model: SequenceClassifier) -> int:
    """Nonzero entries over every parameter (masks applied), biases and readout included."""
    names = [n[: -len("_orig")] if n.endswith("_orig") else n for n, _ in model.named_parameters()]
    return _nonzero(model, names)


def flops(model: SequenceClassifier, seq_len: int) -> int:
    """Multiply-adds ×2 of one sequence's forward pass, counting only nonzero weights.

    Per step and layer: the gate pre-activations ``W_ih x + W_hh h (+ W_td h_above)``; the
    element-wise gate arithmetic is left out (it is linear in the units and small next to the
    matrix products); plus the readout once.

    >>> from lattice_lab.models import build
    >>> flops(build({"kind": "rnn", "input_size": 1, "hidden_size": 2, "num_classes": 3}), seq_len=10)
    132
    """
    step = _nonzero(model, weight_names(model, "all"))
    return 2 * (seq_len * step + _nonzero(model, ["readout.weight"]))


def hidden_units(model: SequenceClassifier) -> int:
    """Total hidden units over all layers (per direction)."""
    return int(sum(model.config["hidden_size"]))


def summary(model: SequenceClassifier, dense: SequenceClassifier, seq_len: int) -> dict:
    """Every cost figure of ``model`` against ``dense`` in one dict (the columns of a result row)."""
    return {
        "sparsity_recurrent": sparsity(model, dense, "recurrent"),
        "sparsity_input": sparsity(model, dense, "input"),
        "sparsity_all": sparsity(model, dense, "all"),
        "hidden_units": hidden_units(model),
        "params_nonzero": params_nonzero(model),
        "flops": flops(model, seq_len),
        "flops_dense": flops(dense, seq_len),
        "gates": gate_count(model.kind),
    }
