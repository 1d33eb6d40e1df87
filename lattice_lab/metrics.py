"""What a pruned model costs: measured sparsity per scope, nonzero parameters, FLOPs, units.

Sparsity is always *measured* on the model (never taken from a method's request): the fraction
of the dense model's weights in a scope that are zero or physically removed.

Must not import anything from the package (except models and validation).

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
from torch import nn

from .models import (SCOPES, SequenceClassifier, attached_view, gate_count, get_weight, hidden_sizes, readout_names,
                     weight_names)
from .validation import check_choice, check_int


def nonzero_count(model: nn.Module, names: list[str]) -> int:
    """Nonzero entries of the named tensors (masks applied), of any model."""
    return int(sum(torch.count_nonzero(get_weight(model, n)).item() for n in names))


def weight_count(model: nn.Module, names: list[str]) -> int:
    """Entries of the named tensors, of any model."""
    return int(sum(get_weight(model, n).numel() for n in names))


def sparsity(model: SequenceClassifier, dense: SequenceClassifier, scope: str = "recurrent") -> float:
    """Fraction of ``dense``'s weights in ``scope`` that are zero or removed in ``model``.

    ``scope`` is ``"recurrent"`` (every ``W_hh`` and ``W_td``), ``"input"`` (every ``W_ih``) or
    ``"all"`` (both); see :func:`lattice_lab.models.weight_names`.
    """
    check_choice(scope, "scope", "sparsity", SCOPES)
    total = weight_count(dense, weight_names(dense, scope))
    if total == 0:
        raise ValueError(f"the dense model has no weights in scope {scope!r}")
    return 1.0 - nonzero_count(model, weight_names(model, scope)) / total


def params_nonzero(model: SequenceClassifier) -> int:
    """Nonzero entries over every parameter (masks applied), biases and readout included."""
    names = [n[: -len("_orig")] if n.endswith("_orig") else n for n, _ in model.named_parameters()]
    return nonzero_count(model, names)


def flops(model: SequenceClassifier, seq_len: int) -> int:
    """Floating-point operations of one sequence's forward pass, counting only nonzero weights.

    ``2 · (seq_len · Σ nnz(W) + nnz(W_out))``: every nonzero weight is one multiply and one add.
    The sum runs over the weights applied at every step, each layer's ``W_ih``, ``W_hh`` and
    (feedback models) ``W_td``, all gate blocks and both directions of a bidirectional layer;
    ``W_out`` is the readout, applied once. Biases and the element-wise gate arithmetic are
    left out (they are linear in the units and small next to the matrix products).

    >>> from lattice_lab.models import build
    >>> flops(build({"kind": "rnn", "input_size": 1, "hidden_size": 2, "num_classes": 3}), seq_len=10)
    132
    """
    seq_len = check_int(seq_len, "seq_len", "flops", low=1)
    step = nonzero_count(model, weight_names(model, "all"))
    return 2 * (seq_len * step + nonzero_count(model, readout_names(model)))


def hidden_units(model: SequenceClassifier) -> int:
    """Total hidden units over all layers (per direction: a bidirectional layer of 8 counts 8).

    >>> from lattice_lab.models import build
    >>> hidden_units(build({"kind": "gru", "input_size": 2, "hidden_size": [6, 3], "num_classes": 2}))
    9
    """
    return int(sum(hidden_sizes(model)))


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
        "gates": (gate_count(model.kind) if isinstance(model, SequenceClassifier)
                  else attached_view(model).layers[0].gates),
    }
