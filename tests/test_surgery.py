"""Exact structural surgery: removing units equals masking them, for every model kind."""
import pytest
import torch

from lattice_lab.models import build, get_weight, weight_names
from lattice_lab.surgery import apply_masks, get_masks, make_permanent, remove_units, unit_masks

CONFIGS = {
    "rnn-tanh": {"kind": "rnn", "input_size": 5, "hidden_size": 12, "num_classes": 4},
    "rnn-relu": {"kind": "rnn", "input_size": 5, "hidden_size": 12, "num_classes": 4, "nonlinearity": "relu"},
    "irnn": {"kind": "irnn", "input_size": 5, "hidden_size": 12, "num_classes": 4},
    "lstm": {"kind": "lstm", "input_size": 5, "hidden_size": 12, "num_classes": 4},
    "gru": {"kind": "gru", "input_size": 5, "hidden_size": 12, "num_classes": 4},
    "lstm-2-layer": {"kind": "lstm", "input_size": 5, "hidden_size": [12, 9], "num_classes": 4},
    "gru-bidirectional": {"kind": "gru", "input_size": 5, "hidden_size": 10, "num_classes": 4, "bidirectional": True},
    "lstm-2-layer-bidirectional": {"kind": "lstm", "input_size": 5, "hidden_size": [10, 8], "num_classes": 4,
                                   "bidirectional": True},
    "feedback": {"kind": "feedback", "input_size": 5, "hidden_size": [12, 9, 7], "num_classes": 4},
}


def _random_keep(model, seed):
    generator = torch.Generator().manual_seed(seed)
    keep = []
    for size in model.config["hidden_size"]:
        count = int(torch.randint(1, size, (1,), generator=generator))
        keep.append(torch.randperm(size, generator=generator)[:count])
    return keep


def _perturbed(config, seed):
    """A model with non-trivial weights everywhere (IRNN starts at identity / zero bias)."""
    torch.manual_seed(seed)
    model = build(config)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.3 * torch.randn_like(param))
    return model


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_remove_units_matches_masked_model(name, seed):
    model = _perturbed(CONFIGS[name], seed)
    keep = _random_keep(model, seed)
    small = remove_units(model, keep)
    masked = apply_masks(model, unit_masks(model, keep))
    assert small.config["hidden_size"] == [len(k) for k in keep]
    x = torch.randn(6, 11, 5, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        torch.testing.assert_close(small(x), masked(x), atol=1e-5, rtol=1e-5)
        # Removing units changes the function (every layer loses some), so the equality above is
        # not the trivial one of a surgery that changed nothing.
        assert not torch.allclose(small(x), model(x), atol=1e-3)
    # The readout keeps exactly the columns of the kept top-layer units, in every direction, unchanged.
    top = model.config["hidden_size"][-1]
    directions = 2 if model.config["bidirectional"] else 1
    columns = torch.cat([d * top + torch.sort(keep[-1]).values for d in range(directions)])
    assert torch.equal(small.readout.weight, model.readout.weight[:, columns])
    assert torch.equal(small.readout.bias, model.readout.bias)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_keeping_every_unit_reproduces_the_model(name):
    model = _perturbed(CONFIGS[name], 0)
    every = [torch.arange(size) for size in model.config["hidden_size"]]
    x = torch.randn(3, 7, 5)
    with torch.no_grad():
        torch.testing.assert_close(remove_units(model, every)(x), model(x), atol=0, rtol=0)


def test_removed_units_hidden_states_stay_zero_in_masked_lstm():
    model = _perturbed(CONFIGS["lstm"], 3)
    keep = [torch.tensor([0, 3, 4, 8])]
    masked = apply_masks(model, unit_masks(model, keep))
    _, states = masked(torch.randn(4, 9, 5), return_states=True)
    removed = sorted(set(range(12)) - {0, 3, 4, 8})
    assert torch.count_nonzero(states[0][:, :, removed]) == 0


def test_remove_units_does_not_modify_input_and_carries_masks():
    model = _perturbed(CONFIGS["gru"], 0)
    mask = (torch.rand_like(model.layers[0].weight_hh_l0) > 0.5).float()
    masked = apply_masks(model, {"layers.0.weight_hh_l0": mask})
    before = {k: v.clone() for k, v in masked.state_dict().items()}
    keep = [torch.tensor([1, 2, 5, 7])]
    small = remove_units(masked, keep)
    after = masked.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    rows = torch.cat([g * 12 + keep[0] for g in range(3)])
    torch.testing.assert_close(get_masks(small)["layers.0.weight_hh_l0"], mask[rows][:, keep[0]])
    x = torch.randn(2, 5, 5)
    torch.testing.assert_close(small(x), apply_masks(masked, unit_masks(masked, keep))(x), atol=1e-5, rtol=1e-5)


def test_masks_round_trip_and_make_permanent_keeps_zeros():
    model = _perturbed(CONFIGS["lstm"], 1)
    masks = {n: (torch.rand_like(get_weight(model, n)) > 0.3).float() for n in weight_names(model, "all")}
    masked = apply_masks(model, masks)
    assert set(get_masks(masked)) == set(masks)
    assert not get_masks(model)  # the input model stays unmasked
    permanent = make_permanent(masked)
    assert not get_masks(permanent)
    for name, mask in masks.items():
        assert torch.all(get_weight(permanent, name)[mask == 0] == 0)
    x = torch.randn(2, 4, 5)
    torch.testing.assert_close(permanent(x), masked(x))


@pytest.mark.parametrize("keep, message", [
    ([torch.tensor([], dtype=torch.long)], "at least one unit"),
    ([torch.tensor([0, 12])], "outside"),
    ([torch.tensor([1, 1])], "repeated"),
    ([torch.tensor([0]), torch.tensor([1])], "one index list per layer"),
    ([[0.7, 1.2]], "The 'keep' parameter of remove_units must be one sequence of int unit indices per layer"),
    ([torch.tensor([0.0, 1.0])], "The 'keep' parameter of remove_units must be one sequence of int unit indices"),
    ([[True, False]], "The 'keep' parameter of remove_units must be one sequence of int unit indices"),
    (["01"], "The 'keep' parameter of remove_units must be one sequence of int unit indices"),
    (3, "The 'keep' parameter of remove_units must be one sequence of int unit indices per layer. Got 3 instead"),
])
def test_remove_units_rejects_bad_keep(keep, message):
    with pytest.raises(ValueError, match=message):
        remove_units(build(CONFIGS["lstm"]), keep)


def test_apply_masks_rejects_non_binary_and_misshapen_masks():
    model = build(CONFIGS["rnn-tanh"])
    with pytest.raises(ValueError, match="0/1"):
        apply_masks(model, {"layers.0.weight_hh_l0": torch.full((12, 12), 0.5)})
    with pytest.raises(ValueError, match="shape"):
        apply_masks(model, {"layers.0.weight_hh_l0": torch.ones(3, 3)})


def test_remove_units_takes_lists_numpy_arrays_and_tensors_of_ints_alike():
    import numpy as np

    model = _perturbed(CONFIGS["lstm-2-layer"], 4)
    x = torch.randn(2, 5, 5)
    reference = remove_units(model, [torch.tensor([1, 4, 7]), torch.tensor([0, 8])])
    for keep in ([[7, 1, 4], [8, 0]], [np.array([1, 4, 7]), np.array([0, 8], dtype=np.int32)],
                 (range(1, 8, 3), (0, 8))):
        small = remove_units(model, keep)
        assert small.config["hidden_size"] == [3, 2]
        torch.testing.assert_close(small(x), reference(x), atol=0, rtol=0)


def test_mask_functions_refuse_non_boolean_inplace_and_other_models():
    model = build(CONFIGS["rnn-tanh"])
    with pytest.raises(ValueError, match="The 'inplace' parameter of apply_masks must be True or False"):
        apply_masks(model, {}, inplace="no")
    with pytest.raises(TypeError, match="The 'masks' parameter of apply_masks must be a dict of tensor name -> 0/1"):
        apply_masks(model, [torch.ones(12, 12)])
    with pytest.raises(ValueError, match="The 'inplace' parameter of make_permanent must be True or False"):
        make_permanent(model, inplace=1)
    with pytest.raises(TypeError, match="The 'model' parameter of remove_units must be a lattice_lab "
                                        "SequenceClassifier. Got 'LSTM' instead"):
        remove_units(torch.nn.LSTM(3, 4), [[0]])
    with pytest.raises(ValueError, match="The 'keep' parameter of unit_masks must be"):
        unit_masks(model, [[0.5]])
