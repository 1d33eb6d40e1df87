"""The prune() contract and the random / magnitude baselines."""
import pytest
import torch

import lattice_lab as ll
from lattice_lab.models import build, get_weight, weight_names
from lattice_lab.pruning import REGISTRY, register

LSTM = {"kind": "lstm", "input_size": 6, "hidden_size": 20, "num_classes": 3}
FEEDBACK = {"kind": "feedback", "input_size": 6, "hidden_size": [10, 8], "num_classes": 3}


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def _same_state(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("method", ["random", "magnitude"])
@pytest.mark.parametrize("scope", ["recurrent", "input", "all"])
@pytest.mark.parametrize("amount", [0.0, 0.3, 0.75, 0.95])
def test_weight_level_methods_reach_the_amount_exactly(method, scope, amount):
    model = build(LSTM)
    result = ll.prune(model, method, amount, scope=scope)
    total = sum(get_weight(model, n).numel() for n in weight_names(model, scope))
    assert result.sparsity == pytest.approx(round(amount * total) / total, abs=1e-12)
    assert result.model.config == model.config


@pytest.mark.parametrize("method", sorted(REGISTRY))
def test_prune_never_changes_its_input_model(method):
    torch.manual_seed(0)
    # the feedback model has the most tensors to leave alone; a method that is for single recurrent
    # layers only (jacobian) gets an LSTM
    kind = "feedback" if "feedback" in REGISTRY[method].kinds else "lstm"
    model = build({**FEEDBACK, "kind": kind, "input_size": 8, "num_classes": 10,
                   **({} if kind == "feedback" else {"hidden_size": 10})})
    digits = ll.data.load("digits", "train", subset=64)
    before = _state(model)
    ll.prune(model, method, 0.5, digits if REGISTRY[method].needs_data else None)
    assert _same_state(before, _state(model))


def test_magnitude_removes_exactly_the_smallest_weights_globally():
    model = build(LSTM)
    result = ll.prune(model, "magnitude", 0.6, scope="all")
    kept, removed = [], []
    for name in weight_names(model, "all"):
        w, m = get_weight(model, name).detach().abs(), result.masks[name]
        kept.append(w[m == 1])
        removed.append(w[m == 0])
    assert torch.cat(removed).max() <= torch.cat(kept).min()


def test_per_layer_magnitude_prunes_each_tensor_by_the_same_fraction():
    model = build({**LSTM, "bidirectional": True})
    result = ll.prune(model, "magnitude", 0.4, per_layer=True)
    for name, mask in result.masks.items():
        assert (mask == 0).sum().item() == round(0.4 * mask.numel())


def test_random_pruning_is_seeded():
    model = build(LSTM)
    a = ll.prune(model, "random", 0.5, seed=3).masks
    b = ll.prune(model, "random", 0.5, seed=3).masks
    c = ll.prune(model, "random", 0.5, seed=4).masks
    assert all(torch.equal(a[n], b[n]) for n in a)
    assert any(not torch.equal(a[n], c[n]) for n in a)


@pytest.mark.parametrize("method", ["random-units", "magnitude-units"])
@pytest.mark.parametrize("config", [LSTM, FEEDBACK, {**LSTM, "hidden_size": [20, 10], "bidirectional": True}])
def test_unit_level_methods_shrink_every_layer_and_count_removed_weights(method, config):
    model = build(config)
    result = ll.prune(model, method, 0.5)
    assert result.model.config["hidden_size"] == [h // 2 for h in model.config["hidden_size"]]
    assert [len(k) for k in result.kept_units] == result.model.config["hidden_size"]
    kept = sum(get_weight(result.model, n).numel() for n in weight_names(result.model, "recurrent"))
    dense = sum(get_weight(model, n).numel() for n in weight_names(model, "recurrent"))
    assert result.sparsity == pytest.approx(1 - kept / dense)


def test_magnitude_units_keeps_the_units_with_the_largest_norm():
    model = build({"kind": "rnn", "input_size": 3, "hidden_size": 6, "num_classes": 2})
    with torch.no_grad():
        for name in ("weight_ih_l0", "weight_hh_l0"):
            getattr(model.layers[0], name).mul_(0.01)
        model.layers[0].weight_ih_l0[[1, 4]] = 5.0  # units 1 and 4 dominate
        model.readout.weight.mul_(0.01)
    result = ll.prune(model, "magnitude-units", 0.66)
    assert result.kept_units[0].tolist() == [1, 4]


@pytest.mark.parametrize("amount", [-0.1, 1.0, 1.5, float("nan"), "half", True])
def test_invalid_amount_is_rejected(amount):
    with pytest.raises(ValueError, match="amount"):
        ll.prune(build(LSTM), "magnitude", amount)


def test_unknown_method_scope_option_and_model_are_rejected():
    model = build(LSTM)
    with pytest.raises(ValueError, match="registered methods"):
        ll.prune(model, "no-such-method", 0.5)
    with pytest.raises(ValueError, match="scope"):
        ll.prune(model, "magnitude", 0.5, scope="readout")
    with pytest.raises(ValueError, match="no option"):
        ll.prune(model, "magnitude", 0.5, colour="red")
    with pytest.raises(ValueError, match="unsupported model"):
        ll.prune(torch.nn.LSTM(3, 4), "magnitude", 0.5)


def test_invalid_amount_gets_the_house_message():
    with pytest.raises(ValueError) as error:
        ll.prune(build(LSTM), "magnitude", 1.5)
    assert str(error.value) == "The 'amount' parameter of prune must be a float in [0, 1). Got 1.5 instead."
    assert isinstance(error.value, TypeError)  # InvalidParameterError is both


def _echo(model, amount, *, data=None, scope="recurrent", seed=0, new_name: int = 1):
    return ll.pruning.PruneResult(model=model, info={"new_name": new_name})


def test_a_renamed_option_still_works_under_its_old_name_with_a_deprecation_warning():
    register("echo-test", level="weight", summary="test", renamed_options={"old_name": "new_name"})(_echo)
    try:
        spec = REGISTRY["echo-test"]
        assert spec.options == {"new_name": 1} and spec.renamed_options == {"old_name": "new_name"}
        with pytest.warns(DeprecationWarning, match="'old_name' of method 'echo-test' is now called 'new_name'"):
            assert ll.prune(build(LSTM), "echo-test", 0.5, old_name=7).info == {"new_name": 7}
        with pytest.raises(ValueError, match="pass 'new_name' only"):
            ll.prune(build(LSTM), "echo-test", 0.5, old_name=7, new_name=8)
    finally:
        REGISTRY.pop("echo-test", None)


def test_renamed_options_must_point_at_an_option_the_method_has():
    with pytest.raises(ValueError, match="renamed_options"):
        register("stale-test", level="weight", summary="test", renamed_options={"old_name": "no_such"})(_echo)
    assert "stale-test" not in REGISTRY
