"""Pruning at initialisation by the temporal Jacobian (Zhang & Stadie 2020, reconstructed)."""
import pytest
import torch

import lattice_lab as ll
from lattice_lab.data import load
from lattice_lab.models import build, get_weight
from lattice_lab.pruning import jacobian


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_the_objective_is_the_norm_of_the_jacobian_times_ones(kind):
    torch.manual_seed(0)
    model = build({"kind": kind, "input_size": 3, "hidden_size": 5, "num_classes": 2})
    x = torch.randn(4, 9, 3)
    layer = model.layers[0]
    with torch.no_grad():
        _, last = layer(x[:, :6])
    h0 = (last[0] if kind == "lstm" else last)[0]
    c0 = last[1][0] if kind == "lstm" else None

    def final_state(h):  # h_T from h_{T-3} through the module itself (not the unrolled cell of the method)
        state = (h[None], c0[None]) if kind == "lstm" else h[None]
        return layer(x[:, 6:], state)[0][:, -1]

    full = torch.autograd.functional.jacobian(final_state, h0)  # (batch, H, batch, H)
    expected = torch.stack([full[b, :, b, :] @ torch.ones(5) for b in range(4)]).norm(dim=1).mean()
    assert float(jacobian.jacobian_objective(model, x, steps=3).detach()) == pytest.approx(float(expected), rel=1e-5)


def test_scores_are_sensitivities_over_the_mean_gradient_of_each_gate_block():
    torch.manual_seed(1)
    model = build({"kind": "lstm", "input_size": 3, "hidden_size": 4, "num_classes": 2})
    x = torch.randn(6, 7, 3)
    name = "layers.0.weight_hh_l0"
    scores, objective = jacobian.jacobian_scores(model, x, [name], steps=2)
    weight = get_weight(model, name)
    grad = torch.autograd.grad(jacobian.jacobian_objective(model, x, steps=2), weight)[0]
    for block in range(4):
        rows = slice(4 * block, 4 * (block + 1))
        expected = (weight[rows] * grad[rows]).abs().detach() / grad[rows].abs().mean()
        assert torch.allclose(scores[name][rows], expected, rtol=1e-5)
    assert objective > 0


def test_jacobian_pruning_reaches_the_amount_on_a_fresh_initialisation():
    torch.manual_seed(2)
    data = load("digits", subset=128, seed=3)
    model = build({"kind": "gru", "input_size": 8, "hidden_size": 16, "num_classes": 10})
    result = ll.prune(model, "jacobian", 0.9, data, epochs=0, anneal_epochs=0, seed=5)
    weight = get_weight(result.model, "layers.0.weight_hh_l0")
    assert int((weight == 0).sum()) == round(0.9 * weight.numel())
    with torch.random.fork_rng():
        torch.manual_seed(5)
        init = build(model.config)
    kept = result.masks["layers.0.weight_hh_l0"].bool()
    assert torch.equal(weight[kept], get_weight(init, "layers.0.weight_hh_l0")[kept])  # untrained: the seeded init


def test_jacobian_refuses_models_it_cannot_unroll():
    data = load("digits", subset=64)
    two_layers = build({"kind": "lstm", "input_size": 8, "hidden_size": [8, 8], "num_classes": 10})
    with pytest.raises(ValueError, match="single-layer"):
        ll.prune(two_layers, "jacobian", 0.5, data, epochs=0, anneal_epochs=0)
    with pytest.raises(ValueError, match="supports model kinds"):
        ll.prune(build({"kind": "feedback", "input_size": 8, "hidden_size": [8, 8], "num_classes": 10}),
                 "jacobian", 0.5, data)
