"""lattice_lab.models: configs, every kind of model, parameter names, weights, clones; bad configs refused."""
import json

import numpy as np
import pytest
import torch

from lattice_lab.models import (check_inputs, KINDS, SequenceClassifier, build, clone, gate_count, get_weight, hidden_sizes,
                                normalize_config, split_name, weight_names)
from lattice_lab.surgery import apply_masks

BASE = {"input_size": 3, "num_classes": 4}
CONFIGS = {
    "rnn": {"kind": "rnn", "hidden_size": 5, **BASE},
    "rnn-relu": {"kind": "rnn", "hidden_size": 5, "nonlinearity": "relu", **BASE},
    "irnn": {"kind": "irnn", "hidden_size": 5, **BASE},
    "lstm": {"kind": "lstm", "hidden_size": 5, **BASE},
    "gru": {"kind": "gru", "hidden_size": 5, **BASE},
    "lstm-2-layer": {"kind": "lstm", "hidden_size": [5, 4], **BASE},
    "gru-3-layer": {"kind": "gru", "hidden_size": 6, "num_layers": 3, **BASE},
    "rnn-bidirectional": {"kind": "rnn", "hidden_size": 5, "bidirectional": True, **BASE},
    "lstm-2-layer-bidirectional": {"kind": "lstm", "hidden_size": [5, 4], "bidirectional": True, **BASE},
    "feedback": {"kind": "feedback", "hidden_size": [5, 4, 3], **BASE},
}
GATES = {"rnn": 1, "irnn": 1, "lstm": 4, "gru": 3, "feedback": 1}


# ------------------------------------------------------------------------------ configs

def test_normalize_config_fills_every_default():
    assert normalize_config({"kind": "gru", "input_size": 4, "hidden_size": 8, "num_classes": 2}) == {
        "kind": "gru", "input_size": 4, "hidden_size": [8], "num_classes": 2, "num_layers": 1,
        "bidirectional": False, "nonlinearity": "tanh"}


def test_normalize_config_infers_the_layers_and_repeats_one_hidden_size():
    assert normalize_config({"kind": "lstm", "hidden_size": [6, 2], **BASE})["num_layers"] == 2
    assert normalize_config({"kind": "rnn", "hidden_size": 3, "num_layers": 3, **BASE})["hidden_size"] == [3, 3, 3]
    feedback = normalize_config({"kind": "feedback", "hidden_size": 4, **BASE})
    assert (feedback["num_layers"], feedback["hidden_size"]) == (2, [4, 4])  # feedback needs two layers


def test_irnn_is_always_a_relu_rnn():
    assert normalize_config({"kind": "irnn", "hidden_size": 2, **BASE})["nonlinearity"] == "relu"
    assert normalize_config({"kind": "irnn", "hidden_size": 2, "nonlinearity": "tanh", **BASE})["nonlinearity"] == "relu"


def test_normalize_config_returns_a_new_json_able_dict_of_plain_ints():
    config = {"kind": "lstm", "input_size": np.int64(3), "hidden_size": (np.int32(5), 4), "num_classes": 2,
              "bidirectional": np.bool_(True)}
    before = dict(config)
    normalized = normalize_config(config)
    assert config == before  # the input is not modified
    assert normalized["hidden_size"] == [5, 4] and normalized["bidirectional"] is True
    assert json.loads(json.dumps(normalized)) == normalized
    assert all(type(h) is int for h in normalized["hidden_size"]) and type(normalized["input_size"]) is int


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_a_config_rebuilds_the_same_architecture(name):
    model = build(CONFIGS[name])
    again = build(model.config)
    assert again.config == model.config and isinstance(again, SequenceClassifier)
    assert {k: v.shape for k, v in again.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}


@pytest.mark.parametrize("change, message", [
    ({"bidirectional": "no"}, "The 'bidirectional' parameter of build must be True or False. Got 'no' instead"),
    ({"bidirectional": 1}, "The 'bidirectional' parameter of build must be True or False. Got 1 instead"),
    ({"kind": "transformer"}, "The 'kind' parameter of build must be one of 'rnn', 'irnn', 'lstm', 'gru', 'feedback'"),
    ({"hidden_size": 0}, r"The 'hidden_size' parameter of build must be an int >= 1 or a list of ints >= 1 \(one per "
                         r"layer\). Got 0 instead"),
    ({"hidden_size": 4.0}, "The 'hidden_size' parameter of build must be an int >= 1 or a list"),
    ({"hidden_size": True}, "The 'hidden_size' parameter of build must be an int >= 1 or a list"),
    ({"hidden_size": [4, 0]}, r"The 'hidden_size' parameter of build must be .*Got \[4, 0\] instead"),
    ({"hidden_size": []}, "The 'hidden_size' parameter of build must be"),
    ({"hidden_size": "8"}, "The 'hidden_size' parameter of build must be"),
    ({"hidden_size": [4, 4], "num_layers": 3}, "hidden_size has 2 entries but num_layers is 3"),
    ({"num_layers": 0}, "The 'num_layers' parameter of build must be an int >= 1. Got 0 instead"),
    ({"input_size": 2.0}, "The 'input_size' parameter of build must be an int >= 1. Got 2.0 instead"),
    ({"num_classes": -1}, "The 'num_classes' parameter of build must be an int >= 1"),
    ({"nonlinearity": "sigmoid"}, "The 'nonlinearity' parameter of build must be one of 'tanh', 'relu'"),
    ({"dropout": 0.1}, "unknown config keys"),
])
def test_bad_configs_are_refused_with_a_message_naming_the_key(change, message):
    with pytest.raises(ValueError, match=message):
        build({**CONFIGS["lstm"], **change})


def test_feedback_needs_two_unidirectional_layers_and_a_config_needs_its_required_keys():
    with pytest.raises(ValueError, match="feedback model needs num_layers >= 2"):
        build({"kind": "feedback", "hidden_size": 4, "num_layers": 1, **BASE})
    with pytest.raises(ValueError, match="feedback model cannot be bidirectional"):
        build({**CONFIGS["feedback"], "bidirectional": True})
    with pytest.raises(ValueError, match="config is missing 'hidden_size'"):
        build({"kind": "rnn", **BASE})
    with pytest.raises(TypeError, match="The 'config' parameter of build must be a dict. Got 'list' instead"):
        build([("kind", "rnn")])


# ------------------------------------------------------------------------------ models

@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_kind_maps_sequences_to_logits_and_states(name):
    model = build(CONFIGS[name])
    directions = 2 if model.config["bidirectional"] else 1
    logits, states = model(torch.randn(2, 7, 3), return_states=True)
    assert logits.shape == (2, 4)
    assert [tuple(s.shape) for s in states] == [(2, 7, directions * h) for h in model.config["hidden_size"]]
    assert torch.equal(model(torch.zeros(2, 7, 3)), model(torch.zeros(2, 7, 3)))


def test_inputs_must_be_batch_steps_features():
    with pytest.raises(ValueError, match=r"inputs must have shape \(batch, steps, features\)"):
        build(CONFIGS["gru"])(torch.zeros(7, 3))


def test_irnn_starts_at_the_identity_with_zero_bias():
    layer = build(CONFIGS["irnn"]).layers[0]
    assert torch.equal(layer.weight_hh_l0, torch.eye(5))
    assert not layer.bias_hh_l0.any() and not layer.bias_ih_l0.any()
    assert layer.nonlinearity == "relu" and layer.weight_ih_l0.abs().max() < 0.01


def test_a_bidirectional_model_reads_the_last_step_forward_and_the_first_step_backward():
    model = build(CONFIGS["rnn-bidirectional"])
    x = torch.randn(3, 6, 3)
    logits, (top,) = model(x, return_states=True)
    final = torch.cat([top[:, -1, :5], top[:, 0, 5:]], dim=1)
    torch.testing.assert_close(logits, model.readout(final))


def test_feedback_layers_see_the_layer_above_one_step_late():
    torch.manual_seed(0)
    model = build({"kind": "feedback", "hidden_size": [2, 2], **BASE})
    x = torch.randn(1, 3, 3)
    _, states = model(x, return_states=True)
    w0, w1 = model.layers[0](), model.layers[1]()
    h1_step0 = torch.tanh(states[0][:, 0] @ w1["weight_ih_l0"].T + w1["bias_ih_l0"] + w1["bias_hh_l0"])
    torch.testing.assert_close(states[1][:, 0], h1_step0)
    h0_step1 = torch.tanh(x[:, 1] @ w0["weight_ih_l0"].T + w0["bias_ih_l0"] + states[0][:, 0] @ w0["weight_hh_l0"].T
                          + w0["bias_hh_l0"] + states[1][:, 0] @ w0["weight_td_l0"].T)
    torch.testing.assert_close(states[0][:, 1], h0_step1)


# ------------------------------------------------------------------------------ names and weights

@pytest.mark.parametrize("kind", KINDS)
def test_gate_count_of_every_kind(kind):
    assert gate_count(kind) == GATES[kind]
    model = build({"kind": kind, "hidden_size": [5, 5], **BASE})
    assert get_weight(model, "layers.0.weight_hh_l0").shape == (GATES[kind] * 5, 5)


def test_gate_count_refuses_unknown_kinds():
    with pytest.raises(ValueError, match="The 'kind' parameter of gate_count must be one of"):
        gate_count("transformer")


def test_weight_names_per_scope_for_multilayer_bidirectional_and_feedback_models():
    bi = build(CONFIGS["lstm-2-layer-bidirectional"])
    assert weight_names(bi, "recurrent") == ["layers.0.weight_hh_l0", "layers.0.weight_hh_l0_reverse",
                                             "layers.1.weight_hh_l0", "layers.1.weight_hh_l0_reverse"]
    assert weight_names(bi, "input") == ["layers.0.weight_ih_l0", "layers.0.weight_ih_l0_reverse",
                                         "layers.1.weight_ih_l0", "layers.1.weight_ih_l0_reverse"]
    feedback = build(CONFIGS["feedback"])
    assert weight_names(feedback) == ["layers.0.weight_hh_l0", "layers.0.weight_td_l0", "layers.1.weight_hh_l0",
                                      "layers.1.weight_td_l0", "layers.2.weight_hh_l0"]
    assert weight_names(feedback, "all") == [
        "layers.0.weight_ih_l0", "layers.0.weight_hh_l0", "layers.0.weight_td_l0",
        "layers.1.weight_ih_l0", "layers.1.weight_hh_l0", "layers.1.weight_td_l0",
        "layers.2.weight_ih_l0", "layers.2.weight_hh_l0"]
    assert "readout.weight" not in weight_names(feedback, "all")
    with pytest.raises(ValueError, match="The 'scope' parameter of weight_names must be one of 'recurrent', 'input', "
                                         "'all'. Got 'both' instead"):
        weight_names(feedback, "both")


def test_names_and_weights_stay_valid_after_pruning_reparametrizes_a_weight():
    model = build(CONFIGS["gru"])
    mask = (torch.rand(15, 5) > 0.5).float()
    masked = apply_masks(model, {"layers.0.weight_hh_l0": mask})
    assert weight_names(masked, "all") == weight_names(model, "all")
    assert torch.equal(get_weight(masked, "layers.0.weight_hh_l0"), model.layers[0].weight_hh_l0 * mask)
    assert get_weight(model, "readout.weight") is model.readout.weight


def test_split_name_separates_the_module_path_from_the_attribute():
    assert split_name("layers.1.weight_hh_l0_reverse") == ("layers.1", "weight_hh_l0_reverse")
    assert split_name("readout.weight") == ("readout", "weight")


def test_hidden_sizes_are_a_copy_per_layer_and_per_direction():
    model = build(CONFIGS["lstm-2-layer-bidirectional"])
    sizes = hidden_sizes(model)
    assert sizes == [5, 4]
    sizes.append(9)
    assert model.config["hidden_size"] == [5, 4]


def test_clone_is_independent_and_copies_pruned_models_too():
    model = build(CONFIGS["lstm"])
    copy = clone(model)
    with torch.no_grad():
        copy.layers[0].weight_hh_l0.add_(1.0)
    assert not torch.equal(copy.layers[0].weight_hh_l0, model.layers[0].weight_hh_l0)
    masked = apply_masks(model, {"layers.0.weight_hh_l0": torch.zeros(20, 5)})
    twin = clone(masked)
    x = torch.randn(2, 4, 3)
    torch.testing.assert_close(twin(x), masked(x), atol=0, rtol=0)
    assert twin.layers[0].weight_hh_l0_mask.data_ptr() != masked.layers[0].weight_hh_l0_mask.data_ptr()
    assert not get_weight(twin, "layers.0.weight_hh_l0").any()


def test_check_inputs_scans_a_tensor_once_and_again_after_an_in_place_change():
    model = build({"kind": "gru", "input_size": 3, "hidden_size": 4, "num_classes": 2})
    inputs = torch.zeros(4, 5, 3)
    assert check_inputs(model, inputs, "data", "test") is inputs  # scanned, remembered as finite
    inputs[1, 2, 0] = float("nan")  # bumps the version counter: scanned again, refused
    with pytest.raises(ValueError, match="must hold finite values. Got 1 NaN"):
        check_inputs(model, inputs, "data", "test")
