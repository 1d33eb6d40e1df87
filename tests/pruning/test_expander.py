"""Ramanujan-preserving IMP, plain IMP and random expander masks (lattice_lab.pruning.expander)."""
import math

import numpy as np
import pytest
import torch

import lattice_lab as ll
from lattice_lab import train
from lattice_lab.data import load
from lattice_lab.models import build, clone, get_weight, weight_names
from lattice_lab.pruning import expander as ex
from lattice_lab.surgery import apply_masks, get_masks

LSTM = {"kind": "lstm", "input_size": 8, "hidden_size": 16, "num_classes": 10}
TWO_LAYERS = {"kind": "lstm", "input_size": 8, "hidden_size": [16, 6], "num_classes": 10}
W_HH = "layers.0.weight_hh_l0"
FAST = {"batch_size": 32, "device": "cpu"}


@pytest.fixture(scope="module")
def data():
    return load("digits", subset=64, seed=1)


@pytest.fixture(scope="module")
def lstm():
    torch.manual_seed(0)
    return build(LSTM)


@pytest.fixture(scope="module")
def frozen_run(lstm, data):
    """95% of a 64 x 16 W_hh: the average row degree would fall below 3 (Δ_r undefined)."""
    return ll.prune(lstm, "ramanujan-imp", 0.95, data, rounds=4, **FAST)


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def _exact(model, amount, scope="recurrent"):
    total = sum(get_weight(model, n).numel() for n in weight_names(model, scope))
    return pytest.approx(round(amount * total) / total, abs=1e-12)


# --------------------------------------------------------------------------- IMP schedule

def test_imp_reaches_the_requested_sparsity_exactly_when_no_layer_freezes(lstm, data):
    result = ll.prune(lstm, "ramanujan-imp", 0.5, data, rounds=3, **FAST)
    info = result.info
    assert info["frozen"] == {W_HH: None} and not info["stopped_early"]
    assert result.sparsity == _exact(lstm, 0.5)
    assert info["rounds"] == 3
    assert len(info["sparsity_per_round"]) == len(info["delta_r"][W_HH]) == len(info["delta_r_blocks"][W_HH]) == 3
    assert all(len(blocks) == 4 for blocks in info["delta_r_blocks"][W_HH])  # LSTM gate blocks
    assert info["sparsity_per_round"] == sorted(info["sparsity_per_round"])
    assert info["sparsity_per_round"][-1] == result.sparsity


def test_imp_without_finetuning_equals_one_shot_magnitude_pruning(data):
    torch.manual_seed(1)
    model = build(TWO_LAYERS)
    for per_layer in (True, False):
        imp = ll.prune(model, "imp", 0.8, data, rounds=3, finetune_epochs=0, per_layer=per_layer, **FAST)
        one_shot = ll.prune(model, "magnitude", 0.8, per_layer=per_layer)
        assert imp.masks.keys() == one_shot.masks.keys()
        assert all(torch.equal(imp.masks[n], one_shot.masks[n]) for n in imp.masks)


def test_imp_name_is_ramanujan_imp_without_the_stopping_rule(lstm, data):
    plain = ll.prune(lstm, "imp", 0.95, data, rounds=4, finetune_epochs=0, **FAST)
    same = ll.prune(lstm, "ramanujan-imp", 0.95, data, rounds=4, finetune_epochs=0, preserve=False, **FAST)
    assert plain.info["preserve"] is False
    assert all(torch.equal(plain.masks[n], same.masks[n]) for n in plain.masks)


def test_stopping_rule_freezes_the_layer_before_delta_r_turns_negative_or_undefined(frozen_run):
    info = frozen_run.info
    round_frozen = info["frozen"][W_HH]
    assert round_frozen is not None
    rejected = info["rejected_delta_r"][W_HH]
    assert rejected is None or rejected < 0
    # every mask that was kept is Ramanujan, and the frozen mask never changes again
    assert all(d is not None and d >= 0 for d in info["delta_r"][W_HH])
    assert info["stopped_early"] and "frozen" in info["reason"]
    assert info["rounds"] == round_frozen - 1 < info["rounds_requested"] == 4
    assert frozen_run.sparsity == info["sparsity_per_round"][-1] < 0.95
    assert ex.layer_delta_r(frozen_run.masks[W_HH]) == pytest.approx(info["delta_r"][W_HH][-1], abs=1e-9)


def test_plain_imp_goes_all_the_way_past_the_ramanujan_breakdown(lstm, data, frozen_run):
    result = ll.prune(lstm, "ramanujan-imp", 0.95, data, rounds=4, preserve=False, **FAST)
    trajectory = result.info["delta_r"][W_HH]
    assert result.sparsity == _exact(lstm, 0.95)
    assert len(trajectory) == 4 and not result.info["stopped_early"]
    assert any(d is None or d < 0 for d in trajectory)
    assert result.sparsity > frozen_run.sparsity


def test_a_frozen_layers_share_goes_to_the_layers_still_ramanujan(data):
    torch.manual_seed(2)
    model = build(TWO_LAYERS)
    result = ll.prune(model, "ramanujan-imp", 0.7, data, rounds=4, **FAST)
    info, small = result.info, "layers.1.weight_hh_l0"
    assert info["frozen"] == {W_HH: None, small: info["frozen"][small]} and info["frozen"][small] is not None
    assert result.sparsity == _exact(model, 0.7) and not info["stopped_early"]
    kept_from = info["frozen"][small] - 2  # index of the last round that pruned it
    assert len(set(info["layer_sparsity"][small][kept_from:])) == 1
    assert info["layer_sparsity"][W_HH][-1] > 0.7
    assert all(d is not None and d >= 0 for values in info["delta_r"].values() for d in values)


def test_pruned_weights_stay_exactly_zero_and_masks_stay_binary_after_finetuning(lstm, frozen_run):
    mask = frozen_run.masks[W_HH]
    assert torch.all((mask == 0) | (mask == 1))
    assert torch.equal(get_masks(frozen_run.model)[W_HH], mask)
    weight = get_weight(frozen_run.model, W_HH).detach()
    assert torch.count_nonzero(weight[mask == 0]) == 0
    kept = mask == 1
    assert not torch.equal(weight[kept], get_weight(lstm, W_HH).detach()[kept])  # fine-tuning happened


def test_rewind_fine_tunes_the_final_masks_from_the_weights_before_pruning(lstm, data):
    result = ll.prune(lstm, "ramanujan-imp", 0.6, data, rounds=2, rewind=True, finetune_samples=48, seed=3, **FAST)
    replay = apply_masks(lstm, result.masks)
    subset = ex.finetune_subset(data, 48, seed=3)
    train.finetune(replay, subset, epochs=1, batch_size=32, device="cpu", seed=3 + 2)  # round 2: seed + 2
    assert result.masks[W_HH].mean().item() < 1.0
    assert all(torch.equal(v, replay.state_dict()[k]) for k, v in result.model.state_dict().items())


def test_accuracy_is_recorded_after_every_round_with_val_data(lstm, data):
    result = ll.prune(lstm, "ramanujan-imp", 0.5, data, rounds=2, finetune_epochs=0, val_data=data, **FAST)
    accuracies = result.info["accuracy_per_round"]
    assert len(accuracies) == 2
    assert accuracies[-1] == train.evaluate(result.model, data, device="cpu")["accuracy"]


@pytest.mark.parametrize("method, options", [("ramanujan-imp", {"rounds": 2}), ("expander", {}),
                                             ("expander", {"from_scratch": True, "epochs": 1})])
def test_pruning_never_changes_the_input_model(lstm, data, method, options):
    before = _state(lstm)
    ll.prune(lstm, method, 0.75, data, **options, **FAST)
    after = lstm.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)


# --------------------------------------------------------------------------- expander masks

@pytest.mark.parametrize("n_out, n_in, density", [(128, 128, 0.05), (128, 28, 0.05), (64, 16, 0.3), (24, 6, 0.9),
                                                  (12, 100, 0.5)])
def test_feasible_out_degree_is_the_nearest_degree_with_an_integer_column_degree(n_out, n_in, density):
    c = ex.feasible_out_degree(n_out, n_in, density)
    feasible = [k for k in range(1, n_in + 1) if (n_out * k) % n_in == 0]
    assert c in feasible
    assert abs(c - density * n_in) == min(abs(k - density * n_in) for k in feasible)


@pytest.mark.parametrize("per_gate", [True, False])
def test_expander_masks_have_exact_degrees_and_the_reported_sparsity_is_measured(lstm, data, per_gate):
    result = ll.prune(lstm, "expander", 0.8, data, scope="all", per_gate=per_gate, finetune_epochs=0, **FAST)
    for name, (c, d) in result.info["degrees"].items():
        mask = result.masks[name]
        blocks = torch.chunk(mask, 4 if per_gate else 1, dim=0)
        assert all(torch.all(b.sum(dim=1) == c) and torch.all(b.sum(dim=0) == d) for b in blocks)
        assert torch.equal(get_masks(result.model)[name], mask)
    assert result.sparsity == result.info["achieved_sparsity"] == result.info["sparsity_per_round"][0]
    assert all(isinstance(v, bool) for v in result.info["ramanujan"].values())


def test_expander_from_scratch_reinitializes_trains_and_is_seeded(lstm, data):
    options = dict(from_scratch=True, epochs=1, seed=4, **FAST)
    first = ll.prune(lstm, "expander", 0.75, data, **options)
    second = ll.prune(lstm, "expander", 0.75, data, **options)
    mask = first.masks[W_HH]
    fresh = apply_masks(clone(lstm), first.masks)
    weight = get_weight(first.model, W_HH).detach()
    assert torch.count_nonzero(weight[mask == 0]) == 0
    assert not torch.equal(weight, get_weight(fresh, W_HH).detach())  # not the trained weights
    assert all(torch.equal(v, second.model.state_dict()[k]) for k, v in first.model.state_dict().items())


def test_expander_from_scratch_anneals_with_finetune_epochs_at_the_finetuning_rate(lstm, data):
    options = dict(from_scratch=True, epochs=1, seed=2, **FAST)
    plain = ll.prune(lstm, "expander", 0.75, data, finetune_epochs=0, **options)
    annealed = ll.prune(lstm, "expander", 0.75, data, finetune_epochs=1, **options)
    assert (plain.info["epochs"], plain.info["finetune_epochs"], annealed.info["finetune_epochs"]) == (1, 0, 1)
    replay = clone(plain.model)  # the annealed model is the plain one plus one epoch at lr 1e-4
    train.finetune(replay, data, epochs=1, lr=train.FINETUNE_LR, batch_size=32, device="cpu", seed=3)
    assert all(torch.equal(v, replay.state_dict()[k]) for k, v in annealed.model.state_dict().items())
    assert not torch.equal(get_weight(plain.model, W_HH), get_weight(annealed.model, W_HH))


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("mask, message", [(torch.tensor([[0.0, 0.5], [1.0, 1.0]]), "0/1"),
                                           (torch.zeros(0, 3), "empty"), (torch.ones(3), "2-D")])
def test_layer_delta_r_rejects_bad_masks_with_a_clear_message(mask, message):
    with pytest.raises(ValueError, match=message):
        ex.layer_delta_r(mask)


def test_layer_delta_r_is_none_not_nan_where_degrees_are_too_low():
    assert ex.layer_delta_r(torch.zeros(4, 4)) is None
    assert ex.layer_delta_r(torch.eye(6)) is None
    value = ex.layer_delta_r(torch.from_numpy(ex.biregular_mask(32, 32, 4, seed=0)))
    assert value is not None and math.isfinite(value)


def test_bad_options_and_data_raise_clear_errors(lstm, data):
    with pytest.raises(ValueError, match="needs data"):
        ll.prune(lstm, "ramanujan-imp", 0.5)
    with pytest.raises(TypeError, match="labelled torch Dataset"):
        ll.prune(lstm, "ramanujan-imp", 0.5, torch.randn(4, 8, 8))
    with pytest.raises(ValueError, match="rounds"):
        ll.prune(lstm, "ramanujan-imp", 0.5, data, rounds=0)
    with pytest.raises(ValueError, match="preserve"):
        ll.prune(lstm, "ramanujan-imp", 0.5, data, preserve="yes")
    with pytest.raises(ValueError, match="remove all"):
        ll.prune(build({"kind": "rnn", "input_size": 8, "hidden_size": 2, "num_classes": 10}), "imp", 0.9, data)


def test_imp_on_a_scope_with_no_nonzero_weight_says_so(data):
    model = build({"kind": "rnn", "input_size": 8, "hidden_size": 4, "num_classes": 10})
    zeroed = apply_masks(model, {"layers.0.weight_hh_l0": torch.zeros(4, 4)})
    with pytest.raises(ValueError, match="already zero"):
        ll.prune(zeroed, "ramanujan-imp", 0.5, data)


def test_geometric_schedule_removes_a_fixed_fraction_and_ends_exactly():
    kept = ex.geometric_schedule(10_000, 500, 5)
    assert kept[-1] == 500 and kept == sorted(kept, reverse=True)
    ratios = np.array(kept[1:]) / np.array(kept[:-1])
    assert np.allclose(ratios, (500 / 10_000) ** (1 / 5), rtol=1e-2)


def test_plot_marks_the_round_a_layer_froze(frozen_run):
    import matplotlib
    matplotlib.use("Agg")
    ax = ex.plot_delta_r_trajectory(frozen_run.info)
    labels = [line.get_label() for line in ax.get_lines()]
    assert any("frozen" in label for label in labels)


@pytest.mark.parametrize("config", [
    {"kind": "feedback", "input_size": 8, "hidden_size": [10, 8], "num_classes": 10},
    {"kind": "gru", "input_size": 8, "hidden_size": 12, "num_classes": 10, "bidirectional": True},
])
def test_both_methods_prune_every_tensor_in_scope_of_other_model_kinds(data, config):
    torch.manual_seed(3)
    model = build(config)
    names = weight_names(model, "recurrent")
    imp = ll.prune(model, "imp", 0.6, data, rounds=2, **FAST)
    assert set(imp.masks) == set(imp.info["delta_r"]) == set(names)
    assert imp.sparsity == _exact(model, 0.6)
    graph = ll.prune(model, "expander", 0.6, data, finetune_epochs=0, **FAST)
    assert set(graph.masks) == set(names)
    assert graph.sparsity == pytest.approx(graph.info["achieved_sparsity"], abs=1e-12)


# --------------------------------------------------------------------------- registry entries and renamed options

def test_imp_is_a_method_of_its_own_without_a_preserve_option(lstm, data):
    spec = ll.pruning.REGISTRY["imp"]
    assert spec.function is ex.imp and callable(ex.imp) and not hasattr(spec.function, "func")  # not a partial
    assert "preserve" not in spec.options
    # imp is ramanujan-imp without its stopping rule: no preserve, and no measure for the rule to use
    assert set(spec.options) == set(ll.pruning.REGISTRY["ramanujan-imp"].options) - {"preserve", "measure"}
    with pytest.raises(ValueError, match="no option"):
        ll.prune(lstm, "imp", 0.5, data, preserve=True, **FAST)


@pytest.mark.parametrize("method", ["ramanujan-imp", "imp", "expander"])
def test_the_fine_tuning_subset_option_is_finetune_samples_and_defaults_are_shared(method):
    options = ll.pruning.REGISTRY[method].options
    assert "finetune_samples" in options and "n_finetune" not in options
    assert options["device"] == "cpu"
    assert ll.pruning.REGISTRY[method].renamed_options == {"n_finetune": "finetune_samples"}


@pytest.mark.parametrize("method, options", [("ramanujan-imp", {"rounds": 2}), ("imp", {"rounds": 2}),
                                             ("expander", {})])
def test_the_old_option_name_n_finetune_warns_and_gives_the_same_result(lstm, data, method, options):
    new = ll.prune(lstm, method, 0.6, data, finetune_samples=40, seed=1, **options, **FAST)
    with pytest.warns(DeprecationWarning, match="'n_finetune' of method .* is now called 'finetune_samples'"):
        old = ll.prune(lstm, method, 0.6, data, n_finetune=40, seed=1, **options, **FAST)
    assert old.info["finetune_samples"] == new.info["finetune_samples"] == 40
    assert old.masks.keys() == new.masks.keys() and all(torch.equal(old.masks[n], new.masks[n]) for n in old.masks)
    assert all(torch.equal(v, new.model.state_dict()[k]) for k, v in old.model.state_dict().items())


def test_parameter_errors_name_the_method_in_the_house_message(lstm, data):
    with pytest.raises(ValueError) as error:
        ll.prune(lstm, "imp", 0.5, data, rounds=0)
    assert str(error.value) == "The 'rounds' parameter of imp must be an int >= 1. Got 0 instead."
    with pytest.raises(ValueError, match="The 'finetune_samples' parameter of expander must be an int >= 1"):
        ll.prune(lstm, "expander", 0.5, data, finetune_samples=0)


def test_the_plot_has_a_module_of_its_own_and_the_old_name_still_works():
    from lattice_lab.pruning import expander_plot

    assert ex.plot_delta_r_trajectory is expander_plot.plot_delta_r_trajectory


@pytest.mark.parametrize("measure", ["delta_s", "imdb"])
def test_the_stopping_rule_can_use_another_expansion_measure(lstm, data, measure):
    result = ll.prune(lstm, "ramanujan-imp", 0.9, data, measure=measure, **FAST)
    info = result.info
    assert info["measure"] == measure
    for name, values in info["measure_per_round"].items():
        masks = [result.masks[name]] if values else []
        assert all(v is not None and v >= 0 for v in values)  # every accepted mask keeps the measure >= 0
        if masks:
            assert values[-1] == pytest.approx(ex.layer_measure(masks[0], measure))
    with pytest.raises(ValueError, match="The 'measure' parameter of ramanujan-imp must be one of"):
        ll.prune(lstm, "ramanujan-imp", 0.5, data, measure="cheeger", **FAST)

