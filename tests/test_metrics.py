"""lattice_lab.metrics: measured sparsity, nonzero parameters, hidden units, and the FLOPs formula pinned.

The FLOPs docstring defines ``flops = 2 · (T · Σ nnz(W) + nnz(W_out))``, the sum over every
layer's ``W_ih``, ``W_hh`` and ``W_td`` (all gate blocks, both directions). The expected counts
below are worked out by hand from that definition, not by calling :func:`flops`.
"""
import pytest
import torch

from lattice_lab.metrics import flops, hidden_units, params_nonzero, sparsity, summary
from lattice_lab.models import build
from lattice_lab.surgery import apply_masks, remove_units

F, C, T = 3, 2, 5  # input features, classes, steps


def _model(kind, hidden, **extra):
    torch.manual_seed(0)
    return build({"kind": kind, "input_size": F, "hidden_size": hidden, "num_classes": C, **extra})


def _half_of_w_hh(model):
    """The model with the first half of the rows of layer 0's W_hh masked out."""
    w = model.layers[0].weight_hh_l0
    mask = torch.ones_like(w)
    mask[: w.shape[0] // 2] = 0
    return apply_masks(model, {"layers.0.weight_hh_l0": mask})


# ------------------------------------------------------------------------------ FLOPs, by hand

@pytest.mark.parametrize("kind, hidden, extra, expected", [
    # W_ih 4x3 = 12, W_hh 4x4 = 16: 28 per step; readout 2x4 = 8.            2 (5·28 + 8)
    ("rnn", 4, {}, 2 * (5 * 28 + 8)),
    # four gate blocks: W_ih 16x3 = 48, W_hh 16x4 = 64: 112; readout 8.        2 (5·112 + 8)
    ("lstm", 4, {}, 2 * (5 * 112 + 8)),
    # three gate blocks: W_ih 12x3 = 36, W_hh 12x4 = 48: 84; readout 8.         2 (5·84 + 8)
    ("gru", 4, {}, 2 * (5 * 84 + 8)),
    # layer 0: W_ih 4x3 = 12, W_hh 16, W_td 4x2 = 8; layer 1: W_ih 2x4 = 8, W_hh 4: 48; readout 2x2 = 4.
    ("feedback", [4, 2], {}, 2 * (5 * 48 + 4)),
    # both directions: 2 x 84 = 168; the readout reads both: 2x8 = 16.          2 (5·168 + 16)
    ("gru", 4, {"bidirectional": True}, 2 * (5 * 168 + 16)),
    # layer 0: 112; layer 1 (input 4, hidden 3): W_ih 12x4 = 48, W_hh 12x3 = 36: 84; readout 2x3 = 6.
    ("lstm", [4, 3], {}, 2 * (5 * (112 + 84) + 6)),
    # layer 0: 2 x 112; layer 1 reads both directions of layer 0 (8 inputs): W_ih 12x8 = 96,
    # W_hh 36, twice: 264; readout 2x6 = 12.
    ("lstm", [4, 3], {"bidirectional": True}, 2 * (5 * (224 + 264) + 12)),
])
def test_flops_of_dense_models_follow_the_documented_formula(kind, hidden, extra, expected):
    assert flops(_model(kind, hidden, **extra), seq_len=T) == expected


def test_flops_count_only_nonzero_weights():
    # IRNN: W_hh is the identity (3 nonzeros of 9); W_ih 3x1 = 3; readout 2x3 = 6.
    irnn = build({"kind": "irnn", "input_size": 1, "hidden_size": 3, "num_classes": 2})
    assert flops(irnn, seq_len=4) == 2 * (4 * (3 + 3) + 6)
    # A mask removing half of the RNN's W_hh: 12 + 8 per step.
    assert flops(_half_of_w_hh(_model("rnn", 4)), seq_len=T) == 2 * (5 * (12 + 8) + 8)
    # Keeping 2 of 4 units: W_ih 2x3 = 6, W_hh 2x2 = 4; readout 2x2 = 4.
    assert flops(remove_units(_model("rnn", 4), [[0, 3]]), seq_len=T) == 2 * (5 * (6 + 4) + 4)


@pytest.mark.parametrize("seq_len", [0, 2.0, True, None])
def test_flops_needs_a_whole_number_of_steps(seq_len):
    with pytest.raises(ValueError, match="The 'seq_len' parameter of flops must be an int >= 1"):
        flops(_model("rnn", 4), seq_len)


# ------------------------------------------------------------------------------ sparsity, parameters, units

def test_sparsity_is_measured_per_scope_for_masks_and_removed_units():
    dense = _model("rnn", 4)  # W_ih 12, W_hh 16
    masked = _half_of_w_hh(dense)
    assert sparsity(masked, dense, "recurrent") == 0.5
    assert sparsity(masked, dense, "input") == 0.0
    assert sparsity(masked, dense, "all") == pytest.approx(8 / 28)
    small = remove_units(dense, [[0, 3]])  # W_ih 6 of 12, W_hh 4 of 16
    assert sparsity(small, dense, "recurrent") == 0.75
    assert sparsity(small, dense, "input") == 0.5
    assert sparsity(small, dense, "all") == pytest.approx(1 - 10 / 28)
    assert sparsity(dense, dense) == 0.0


def test_sparsity_of_feedback_models_counts_the_top_down_weights_as_recurrent():
    dense = _model("feedback", [4, 2])  # W_hh 16 + 4, W_td 8
    masks = {"layers.0.weight_td_l0": torch.zeros(4, 2)}
    assert sparsity(apply_masks(dense, masks), dense, "recurrent") == pytest.approx(8 / 28)


def test_sparsity_refuses_unknown_scopes():
    dense = _model("rnn", 4)
    with pytest.raises(ValueError, match="The 'scope' parameter of sparsity must be one of 'recurrent', 'input', 'all'"):
        sparsity(dense, dense, "both")


def test_params_nonzero_counts_every_parameter_with_masks_applied():
    dense = _model("rnn", 4)  # W_ih 12, W_hh 16, two biases of 4, readout 8 + 2
    assert params_nonzero(dense) == 12 + 16 + 4 + 4 + 8 + 2
    assert params_nonzero(_half_of_w_hh(dense)) == 12 + 8 + 4 + 4 + 8 + 2
    irnn = build({"kind": "irnn", "input_size": 1, "hidden_size": 3, "num_classes": 2})  # zero biases
    assert params_nonzero(irnn) == 3 + 3 + 0 + 0 + 6 + 2


def test_hidden_units_sum_the_layers_per_direction():
    assert hidden_units(_model("lstm", [4, 3])) == 7
    assert hidden_units(_model("gru", 4, bidirectional=True)) == 4
    assert hidden_units(remove_units(_model("lstm", [4, 3]), [[1], [0, 2]])) == 3


def test_summary_holds_every_cost_figure_of_a_result_row():
    dense = _model("gru", 4)
    small = remove_units(dense, [[0, 1]])
    row = summary(small, dense, seq_len=T)
    assert row == {
        "sparsity_recurrent": sparsity(small, dense, "recurrent"),
        "sparsity_input": sparsity(small, dense, "input"),
        "sparsity_all": sparsity(small, dense, "all"),
        "hidden_units": 2,
        "params_nonzero": params_nonzero(small),
        "flops": 2 * (5 * (6 * 3 + 6 * 2) + 2 * 2),  # W_ih 6x3, W_hh 6x2, readout 2x2
        "flops_dense": 2 * (5 * 84 + 8),
        "gates": 3,
    }
