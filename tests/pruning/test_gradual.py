"""Gradual magnitude pruning (Zhu & Gupta 2017): the cubic schedule, exact final sparsity, masks that only grow."""
import pytest
import torch

import lattice_lab as ll
from lattice_lab.data import load
from lattice_lab.models import build, get_weight
from lattice_lab.pruning import gradual

GRU = {"kind": "gru", "input_size": 8, "hidden_size": 16, "num_classes": 10}


@pytest.fixture(scope="module")
def data():
    return load("digits", subset=256, seed=2)


def test_the_cubic_schedule_starts_at_the_initial_sparsity_and_ends_at_the_final_one():
    values = [gradual.cubic_sparsity(t, 100, 0.9, 0.1) for t in range(0, 121, 10)]
    assert values[0] == pytest.approx(0.1) and values[10:] == [0.9, 0.9, 0.9]
    assert all(a < b for a, b in zip(values[:10], values[1:11]))  # rising, fastest at the start
    assert values[1] - values[0] > values[9] - values[8]
    assert gradual.cubic_sparsity(50, 100, 0.8) == pytest.approx(0.8 * (1 - 0.5 ** 3))


def test_gradual_pruning_reaches_the_amount_exactly_and_leaves_the_input_alone(data):
    torch.manual_seed(0)
    model = build(GRU)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = ll.prune(model, "gradual-magnitude", 0.85, data, epochs=3, frequency=3)
    weight = get_weight(result.model, "layers.0.weight_hh_l0")
    assert result.sparsity == pytest.approx(round(0.85 * weight.numel()) / weight.numel())
    assert int((weight == 0).sum()) == round(0.85 * weight.numel())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    schedule = result.info["sparsity_schedule"]
    assert [s for _, s in schedule] == sorted(s for _, s in schedule) and schedule[-1][1] == 0.85
    assert schedule[-1][0] == result.info["ramp_steps"]


def test_pruned_weights_stay_pruned_through_the_annealing_epoch(data):
    torch.manual_seed(1)
    result = ll.prune(build(GRU), "gradual-magnitude", 0.7, data, epochs=2, frequency=2, anneal_epochs=1)
    mask = result.masks["layers.0.weight_hh_l0"]
    assert torch.equal(get_weight(result.model, "layers.0.weight_hh_l0") != 0, mask.bool())


def test_per_layer_prunes_every_tensor_to_the_amount(data):
    torch.manual_seed(2)
    result = ll.prune(build(GRU), "gradual-magnitude", 0.6, data, scope="all", per_layer=True, epochs=2, frequency=4)
    for name, mask in result.masks.items():
        assert int((mask == 0).sum()) == round(0.6 * mask.numel()), name


def test_from_scratch_starts_from_a_fresh_seeded_initialisation(data):
    torch.manual_seed(3)
    model = build(GRU)
    a = ll.prune(model, "gradual-magnitude", 0.5, data, epochs=1, from_scratch=True, seed=4, anneal_epochs=0)
    b = ll.prune(build(GRU), "gradual-magnitude", 0.5, data, epochs=1, from_scratch=True, seed=4, anneal_epochs=0)
    assert torch.equal(a.masks["layers.0.weight_hh_l0"], b.masks["layers.0.weight_hh_l0"])  # the weights do not matter
    assert torch.equal(get_weight(a.model, "layers.0.weight_ih_l0"), get_weight(b.model, "layers.0.weight_ih_l0"))


@pytest.mark.parametrize("options, message", [({"ramp": 0.0}, "ramp"), ({"frequency": 0}, "frequency"),
                                              ({"initial_sparsity": 0.9}, "initial_sparsity"),
                                              ({"per_layer": "yes"}, "per_layer")])
def test_bad_options_are_refused_by_name(data, options, message):
    with pytest.raises(ValueError, match=message):
        ll.prune(build(GRU), "gradual-magnitude", 0.5, data, epochs=1, **options)
