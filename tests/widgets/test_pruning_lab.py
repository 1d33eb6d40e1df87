"""The PruningLab, headless: set control values programmatically, check the settings, the state and the outputs."""
import random

import matplotlib

matplotlib.use("Agg")

import pytest
import torch

from lattice_lab import checkpoints, train, widgets
from lattice_lab.pruning import REGISTRY, PruneResult, prune
from lattice_lab.pruning.base import units_to_keep
from lattice_lab.validation import InvalidParameterError
from lattice_lab.widgets import LabSettings, PruningLab, compute_state
from lattice_lab.widgets import lab as lab_module
from lattice_lab.widgets import state as state_module


@pytest.fixture
def lab(model, digits):
    return PruningLab(model, digits[1], train_data=digits[0], quick=True, finetune_samples=300)


def snapshot(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def count_computations(monkeypatch):
    """A list that grows by the settings of every compute_state call the lab makes."""
    calls = []
    real = lab_module.compute_state
    monkeypatch.setattr(lab_module, "compute_state", lambda model, data, settings, **kw:
                        calls.append(settings) or real(model, data, settings, **kw))
    return calls


# ------------------------------------------------------------------ the lab, headless

def test_setting_controls_updates_the_state(lab, model, digits):
    assert lab.state.settings == LabSettings("magnitude", 0.5, options={"per_layer": False})
    size = model.config["hidden_size"][0]
    assert lab.state.sparsity == 0.5 and lab.state.hidden_units == size
    lab.controls["method"].value = "magnitude-units"
    lab.controls["amount"].value = 0.75
    assert lab.state.hidden_units == units_to_keep(size, 0.75) < size // 2
    expected = train.evaluate(prune(model, "magnitude-units", 0.75).model, digits[1], device="cpu")["accuracy"]
    assert lab.state.accuracy == expected
    assert f"{100 * expected:.2f}%" in lab.accuracy_readout.value
    assert f"{units_to_keep(size, 0.75)} of {size}" in lab.readouts.value
    lab.controls["method"].value = "magnitude"
    lab.controls["scope"].value = "input"
    assert lab.state.settings.scope == "input" and lab.state.sparsity == 0.75
    assert not any(w.disabled for name, w in lab.controls.items() if name != "finetune" and hasattr(w, "disabled"))
    assert len(lab.images[0].value) > 0  # the weights heatmap was drawn


def test_revisiting_a_slider_position_is_served_from_the_cache(lab, monkeypatch):
    calls = []
    real = state_module.prune
    monkeypatch.setattr(state_module, "prune", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    lab.controls["amount"].value = 0.6
    lab.controls["amount"].value = 0.5
    lab.controls["amount"].value = 0.6
    assert calls == ["magnitude"]  # 0.5 was computed when the lab opened
    assert "from the cache" in lab.status.value


def test_two_hundred_random_changes_end_in_the_state_of_a_fresh_computation(lab, model, digits):
    rng = random.Random(0)
    lab.controls["tabs"].selected_index = lab.TABS.index("compare all")  # nothing to redraw: keep it quick
    methods = sorted(REGISTRY)
    slow = {m for m in methods if REGISTRY[m].needs_data}
    slow_budget = 2
    amounts = [round(k * widgets.AMOUNT_STEP, 2) for k in range(int(round(widgets.AMOUNT_MAX / widgets.AMOUNT_STEP)) + 1)]
    for _ in range(200):
        what = rng.choice(["method", "amount", "amount", "scope", "seed", "option"])
        if what == "method":
            choice = rng.choice(methods)
            if choice in slow:
                if slow_budget == 0:
                    choice = rng.choice(sorted(set(methods) - slow))
                else:
                    slow_budget -= 1
            lab.controls["method"].value = choice
        elif what == "amount":
            lab.controls["amount"].value = rng.choice(amounts)
        elif what == "scope":
            lab.controls["scope"].value = rng.choice(["recurrent", "input", "all"])
        elif what == "seed":
            lab.controls["seed"].value = rng.randrange(3)
        else:
            checkboxes = [w for n, w in lab.controls.items() if n.startswith("option.") and
                          isinstance(w.value, bool)]
            if checkboxes:
                box = rng.choice(checkboxes)
                box.value = not box.value
        assert lab.state.settings == lab.settings
    if lab.state.settings.method in slow:  # end on a quick method so the fresh computation stays quick
        lab.controls["method"].value = "random"
    fresh = compute_state(model, digits[1], lab.settings, train_data=digits[0])
    assert lab.state == fresh
    assert lab.errors == []


def test_a_method_for_other_model_kinds_is_labelled_and_explained(model, digits, register):
    register("gru-only", lambda m, a, *, data=None, scope="recurrent", seed=0: PruneResult(model=m), kinds=("gru",))
    lab = PruningLab(model, digits[1], quick=True)
    labels = dict((value, label) for label, value in lab.controls["method"].options)
    assert labels["gru-only"] == "gru-only (not for lstm)"
    lab.controls["method"].value = "gru-only"
    assert not lab.state.ok and "does not work on lstm" in lab.state.error
    assert "does not work on lstm" in lab.status.value and "–" in lab.accuracy_readout.value
    assert lab.errors == []


def test_methods_that_need_data_are_explained_without_train_data(model, digits, register):
    register("data-hungry", lambda m, a, *, data=None, scope="recurrent", seed=0: PruneResult(model=m),
             needs_data=True)
    lab = PruningLab(model, digits[1], quick=True)
    assert ("data-hungry (needs train_data)", "data-hungry") in lab.controls["method"].options
    lab.controls["method"].value = "data-hungry"
    assert "needs training data" in lab.state.error
    assert lab.controls["finetune"].disabled
    lab.controls["method"].value = "magnitude"
    lab.controls["finetune"].click()  # disabled in the UI; called anyway it explains, never raises
    assert "fine-tuning needs training data" in lab.state.error and lab.errors == []


def test_errors_from_a_method_and_bad_options_are_shown_not_raised(model, digits, register):
    def picky(model, amount, *, data=None, scope="recurrent", seed=0, rank=3):
        if not isinstance(rank, int) or rank < 1:
            raise ValueError(f"rank must be a positive integer, got {rank!r}")
        if amount > 0.8:
            raise RuntimeError("singular matrix")
        return PruneResult(model=model)

    register("picky", picky, options={"rank": 3})
    lab = PruningLab(model, digits[1], quick=True)
    lab.controls["method"].value = "picky"
    assert lab.state.ok
    lab.controls["option.rank"].value = -2
    assert "rank must be a positive integer, got -2" in lab.state.error
    assert "rank must be a positive integer" in lab.status.value
    lab.controls["option.rank"].value = 2
    lab.controls["amount"].value = 0.9
    assert "singular matrix" in lab.state.error
    for tab in range(len(lab.TABS)):
        lab.controls["tabs"].selected_index = tab
    assert lab.errors == []


def test_reset_restores_the_start_and_the_model_is_never_modified(lab, model):
    before = snapshot(model)
    start = lab.state
    lab.controls["method"].value = "magnitude-units"
    lab.controls["amount"].value = 0.9
    lab.controls["seed"].value = 2
    lab.controls["finetune"].click()
    lab.controls["reset"].click()
    assert lab.settings == start.settings and lab.state == start
    assert lab.controls["amount"].value == 0.5 and lab.controls["method"].value == "magnitude"
    assert same_weights(before, model.state_dict())


def test_finetune_button_fills_progress_and_keeps_pruned_weights_zero(lab):
    lab.controls["finetune_epochs"].value = 2
    lab.controls["finetune"].click()
    state = lab.state
    assert state.settings.finetune_epochs == 2 and 0.0 <= state.accuracy_finetuned <= 1.0
    assert lab.progress.value == lab.progress.max == 2
    assert "after 2 epoch(s) fine-tuning" in lab.accuracy_readout.value
    tuned = state.result.model
    assert (tuned.layers[0].weight_hh_l0 == 0).float().mean().item() == pytest.approx(0.5)
    lab.controls["amount"].value = 0.55  # moving on leaves fine-tuning behind
    assert lab.state.settings.finetune_epochs == 0 and lab.state.accuracy_finetuned is None


def test_export_masks_and_checkpoint_round_trip(lab, digits, tmp_path):
    lab.controls["amount"].value = 0.7
    masks_path = lab.export_masks(tmp_path / "masks.pt")
    saved = torch.load(masks_path, weights_only=True)
    assert saved["settings"]["method"] == "magnitude" and saved["settings"]["amount"] == 0.7
    assert saved["masks"].keys() == lab.state.result.masks.keys()
    assert all(torch.equal(saved["masks"][k], lab.state.result.masks[k]) for k in saved["masks"])
    loaded, card = checkpoints.load(lab.export_checkpoint(tmp_path / "pruned.pt"))
    assert card["pruned"]["method"] == "magnitude" and card["pruned"]["sparsity"] == lab.state.sparsity
    assert train.evaluate(loaded, digits[1], device="cpu")["accuracy"] == lab.state.accuracy
    lab.controls["export_path"].value = str(tmp_path / "via-button.pt")
    lab.controls["export_checkpoint"].click()
    assert (tmp_path / "via-button.pt").is_file() and "saved the pruned checkpoint" in lab.status.value
    lab.controls["masks_path"].value = str(tmp_path / "masks-via-button.pt")
    lab.controls["export_masks"].click()
    assert (tmp_path / "masks-via-button.pt").is_file() and "saved the masks" in lab.status.value


def test_every_view_draws_for_weight_and_unit_level_methods(lab):
    for method in ("magnitude", "magnitude-units"):
        lab.controls["method"].value = method
        for tab, name in enumerate(lab.TABS[:4]):
            lab.controls["tabs"].selected_index = tab
            assert len(lab.images[tab].value) > 0, (method, name)
    assert "Δ_r" in lab.view_notes[3].value and "height" in lab.view_notes[2].value
    assert lab.errors == []


def test_diagnostics_tab_plots_what_the_registry_entry_names_whatever_the_shape(model, digits, register):
    def chatty(model, amount, *, data=None, scope="recurrent", seed=0):
        return PruneResult(model=model, info={
            "delta_r": [0.5, 0.25], "dof": [{"lam": [0.01, 0.1, 1.0], "dof": [9.0, 5.0, 1.0]}],
            "meet_irreducibles": torch.tensor([1, 4, 5]), "note": "hello"})

    labels = {"delta_r": "Δ_r", "dof": "N̂(λ)", "meet_irreducibles": "meet-irreducibles"}
    register("chatty", chatty, diagnostic_labels=labels, diagnostic_plots=tuple(labels))
    register("terse", chatty, diagnostic_labels={"delta_r": "gap"}, diagnostic_plots=("meet_irreducibles",))
    lab = PruningLab(model, digits[1], quick=True)
    lab.controls["method"].value = "chatty"
    lab.controls["tabs"].selected_index = lab.TABS.index("diagnostics")
    assert len(lab.images[4].value) > 0
    assert "Δ_r" in lab.readouts.value and "0.5, 0.25" in lab.readouts.value and "hello" in lab.readouts.value
    lab.controls["method"].value = "random"
    assert len(lab.images[4].value) == 0 and "reports no" in lab.view_notes[4].value
    lab.controls["method"].value = "terse"  # the same info, but its entry plots one key and names another
    chatty_png = lab.images[4].value
    assert len(chatty_png) > 0 and "gap" in lab.readouts.value and "Δ_r" not in lab.readouts.value
    lab.controls["method"].value = "chatty"
    assert len(lab.images[4].value) > len(chatty_png)  # three plots are taller than one
    assert lab.errors == []


def test_compare_all_overlays_every_available_method(model, digits):
    lab = PruningLab(model, digits[1], quick=True)  # no train_data: only methods that need none
    rows = lab.run_compare()
    expected = sorted(m for m in REGISTRY if not REGISTRY[m].needs_data)
    assert sorted({r["method"] for r in rows}) == expected
    assert {r["amount"] for r in rows} == set(lab.compare_amounts())
    assert lab.controls["tabs"].selected_index == lab.TABS.index("compare all") and len(lab.images[5].value) > 0
    assert "magnitude" in lab.view_notes[5].value


def test_a_control_value_that_gives_the_current_settings_computes_nothing(model, digits, register, monkeypatch):
    register("boxy", lambda m, a, *, data=None, scope="recurrent", seed=0, note=None: PruneResult(model=m),
             options={"note": None})
    lab = PruningLab(model, digits[1], method="boxy", quick=True)
    calls = count_computations(monkeypatch)
    before = lab.state
    lab.controls["amount"].value = 0.5 + 1e-9  # LabSettings rounds the amount to 6 decimals: the same settings
    lab.controls["option.note"].value = "None"  # '' and 'None' both mean None
    assert calls == [] and lab.state is before
    lab.controls["option.note"].value = "'x'"
    assert calls == [lab.settings] and lab.settings.options_dict == {"note": "x"} and lab.state.ok


def test_reset_writes_the_defaults_into_the_controls_and_computes_once(lab, monkeypatch):
    lab.controls["method"].value = "spectral"
    lab.controls["option.theta"].value = 2.0
    lab.controls["amount"].value = 0.3
    lab.controls["scope"].value = "all"
    lab.controls["seed"].value = 1
    calls = count_computations(monkeypatch)
    lab.reset()
    assert calls == [lab.defaults] and lab.settings == lab.defaults and lab.state.settings == lab.defaults
    c = lab.controls
    assert (c["method"].value, c["amount"].value, c["scope"].value, c["seed"].value) == ("magnitude", 0.5,
                                                                                         "recurrent", 0)
    assert c["option.per_layer"].value is False and "option.theta" not in c
    lab.controls["method"].value = "spectral"  # the reset also restored every method's starting options
    assert lab.controls["option.theta"].value == REGISTRY["spectral"].options["theta"]


def test_switching_back_to_a_method_finds_its_options_again(lab):
    lab.controls["option.per_layer"].value = True
    lab.controls["method"].value = "magnitude-units"
    assert lab.settings.options == ()
    lab.controls["method"].value = "magnitude"
    assert lab.settings.options_dict == {"per_layer": True} and lab.controls["option.per_layer"].value is True
    assert lab.state.settings == lab.settings


def test_a_box_of_a_method_no_longer_shown_changes_nothing(lab, monkeypatch):
    old_box = lab.controls["option.per_layer"]
    lab.controls["method"].value = "magnitude-units"
    calls = count_computations(monkeypatch)
    old_box.value = True
    assert calls == [] and lab.settings.method == "magnitude-units"


def test_refresh_takes_on_epoch_and_warns_for_the_old_progress_name(lab):
    seen = []
    lab.refresh(lab.settings.replace(finetune_epochs=1), on_epoch=lambda epoch, total: seen.append(epoch))
    with pytest.warns(DeprecationWarning, match="PruningLab.refresh"):
        lab.refresh(lab.settings.replace(finetune_epochs=2), progress=lambda epoch, total: seen.append(epoch))
    assert seen == [1, 1, 2]


def test_the_lab_validates_its_parameters(model, digits):
    with pytest.raises(InvalidParameterError, match="The 'amount' parameter of PruningLab must be a float in "
                                                    r"\[0, 0.95\]. Got 1.2 instead."):
        PruningLab(model, digits[1], amount=1.2)
    with pytest.raises(InvalidParameterError, match="The 'method' parameter of PruningLab must be one of"):
        PruningLab(model, digits[1], method="no-such-method")
    with pytest.raises(TypeError, match="The 'model' parameter of PruningLab must be a lattice_lab "
                                        "SequenceClassifier"):
        PruningLab(torch.nn.Linear(2, 2), digits[1])
    with pytest.raises(InvalidParameterError, match="'finetune_samples' parameter of PruningLab"):
        PruningLab(model, digits[1], finetune_samples=0)
