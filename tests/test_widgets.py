"""Headless widget tests: build the widgets, set values programmatically, check state and outputs."""
import math
import random

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch

from lattice_lab import checkpoints, spectral, train, widgets
from lattice_lab.data import load
from lattice_lab.models import build
from lattice_lab.posets import Poset
from lattice_lab.pruning import REGISTRY, MethodSpec, PruneResult, prune
from lattice_lab.pruning.base import units_to_keep
from lattice_lab.widgets import LabCache, LabSettings, PruningLab, compute_state


@pytest.fixture
def lab(model, digits):
    return PruningLab(model, digits[1], train_data=digits[0], quick=True, finetune_samples=300)


def snapshot(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def register_temporarily(monkeypatch, name, function, *, level="weight", needs_data=False, kinds=None, options=None):
    kinds = kinds or ("rnn", "irnn", "lstm", "gru", "feedback")
    monkeypatch.setitem(REGISTRY, name, MethodSpec(name, function, level, f"test method {name}", needs_data,
                                                   tuple(kinds), dict(options or {})))


# ------------------------------------------------------------------ pure core

def test_settings_are_normalized_and_hashable():
    a = LabSettings("magnitude", 0.30000000000000004, options={"per_layer": True})
    b = LabSettings("magnitude", 0.3, options=[("per_layer", True)])
    assert a == b and hash(a) == hash(b) and a.amount == 0.3
    assert LabSettings("x", 0.5, options={"keep": [1, 2]}).options == (("keep", (1, 2)),)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        LabSettings("magnitude", 0.5, seed=-1)
    with pytest.raises(TypeError, match="amount must be a number"):
        LabSettings("magnitude", "half")


def test_compute_state_measures_what_prune_and_evaluate_give(model, digits):
    state = compute_state(model, digits[1], LabSettings("magnitude-units", 0.5))
    reference = prune(model, "magnitude-units", 0.5)
    size = model.config["hidden_size"][0]
    assert state.ok and state.hidden_units == units_to_keep(size, 0.5)
    assert state.accuracy == train.evaluate(reference.model, digits[1], device="cpu")["accuracy"]
    assert state.dense_accuracy == train.evaluate(model, digits[1], device="cpu")["accuracy"]
    assert state.sparsity == reference.sparsity
    weight = compute_state(model, digits[1], LabSettings("magnitude", 0.5, scope="all"))
    assert weight.sparsity == 0.5 and weight.hidden_units == size
    kept = dict((name, (k, n)) for name, k, n in weight.kept)
    assert sum(k for k, _ in kept.values()) == sum(n for _, n in kept.values()) // 2


def test_lab_cache_serves_one_model_only(model, digits):
    cache = LabCache()
    compute_state(model, digits[1], LabSettings("random", 0.5), cache=cache)
    other = build(model.config)
    with pytest.raises(ValueError, match="another"):
        compute_state(other, digits[1], LabSettings("random", 0.5), cache=cache)


def test_fast_budgets_shrink_budget_options_generically(monkeypatch):
    def slow(model, amount, *, data=None, scope="recurrent", seed=0, n_samples=None, rounds=10,
             finetune_epochs=5, per_layer=False, lr=1e-3):
        return PruneResult(model=model)

    register_temporarily(monkeypatch, "slow-test", slow, options={"n_samples": None, "rounds": 10,
                                                                  "finetune_epochs": 5, "per_layer": False,
                                                                  "lr": 1e-3})
    assert widgets.lab_options("slow-test", quick=True) == {"n_samples": 256, "rounds": 2, "finetune_epochs": 1,
                                                            "per_layer": False, "lr": 1e-3}
    assert widgets.lab_options("slow-test", quick=False) == REGISTRY["slow-test"].options


def test_diagnostic_readouts_and_series_follow_the_shape_not_the_method():
    info = {"delta_r": [1.5, -0.25], "dof": [{"lam": np.logspace(-3, 1, 5), "dof": np.linspace(9, 1, 5)}, None],
            "meet_irreducibles": torch.tensor([0, 3, 7, 9, 11, 12, 20, 21, 30]), "per_layer": True,
            "seconds": 3.0, "name": "x"}
    readouts = dict(widgets.diagnostic_readouts(info))
    assert readouts == {"delta_r": (1.5, -0.25), "meet_irreducibles": (9,), "per_layer": True, "name": "x"}
    assert [s["kind"] for s in widgets.diagnostic_series(info["delta_r"])] == ["line"]
    (curve,) = widgets.diagnostic_series(info["dof"])
    assert curve["kind"] == "curve" and curve["xlabel"] == "lam" and list(curve["y"]) == list(info["dof"][0]["dof"])
    assert widgets.diagnostic_series(info["meet_irreducibles"])[0]["kind"] == "set"
    assert widgets.diagnostic_series({"a": 1.0, "b": 2.0})[0]["kind"] == "bar"
    assert widgets.diagnostic_series(3.0) == []


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
    real = widgets.prune
    monkeypatch.setattr(widgets, "prune", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
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


def test_a_method_for_other_model_kinds_is_labelled_and_explained(model, digits, monkeypatch):
    register_temporarily(monkeypatch, "gru-only", lambda m, a, *, data=None, scope="recurrent", seed=0:
                         PruneResult(model=m), kinds=("gru",))
    lab = PruningLab(model, digits[1], quick=True)
    labels = dict((value, label) for label, value in lab.controls["method"].options)
    assert labels["gru-only"] == "gru-only (not for lstm)"
    lab.controls["method"].value = "gru-only"
    assert not lab.state.ok and "does not work on lstm" in lab.state.error
    assert "does not work on lstm" in lab.status.value and "–" in lab.accuracy_readout.value
    assert lab.errors == []


def test_methods_that_need_data_are_explained_without_train_data(model, digits, monkeypatch):
    register_temporarily(monkeypatch, "data-hungry", lambda m, a, *, data=None, scope="recurrent", seed=0:
                         PruneResult(model=m), needs_data=True)
    lab = PruningLab(model, digits[1], quick=True)
    assert ("data-hungry (needs train_data)", "data-hungry") in lab.controls["method"].options
    lab.controls["method"].value = "data-hungry"
    assert "needs training data" in lab.state.error
    assert lab.controls["finetune"].disabled
    lab.controls["method"].value = "magnitude"
    lab.controls["finetune"].click()  # disabled in the UI; called anyway it explains, never raises
    assert "fine-tuning needs training data" in lab.state.error and lab.errors == []


def test_errors_from_a_method_and_bad_options_are_shown_not_raised(model, digits, monkeypatch):
    def picky(model, amount, *, data=None, scope="recurrent", seed=0, rank=3):
        if not isinstance(rank, int) or rank < 1:
            raise ValueError(f"rank must be a positive integer, got {rank!r}")
        if amount > 0.8:
            raise RuntimeError("singular matrix")
        return PruneResult(model=model)

    register_temporarily(monkeypatch, "picky", picky, options={"rank": 3})
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


def test_diagnostics_tab_plots_known_keys_whatever_the_method(model, digits, monkeypatch):
    def chatty(model, amount, *, data=None, scope="recurrent", seed=0):
        return PruneResult(model=model, info={
            "delta_r": [0.5, 0.25], "dof": [{"lam": [0.01, 0.1, 1.0], "dof": [9.0, 5.0, 1.0]}],
            "meet_irreducibles": torch.tensor([1, 4, 5]), "note": "hello"})

    register_temporarily(monkeypatch, "chatty", chatty)
    lab = PruningLab(model, digits[1], quick=True)
    lab.controls["method"].value = "chatty"
    lab.controls["tabs"].selected_index = lab.TABS.index("diagnostics")
    assert len(lab.images[4].value) > 0
    assert "Δ_r" in lab.readouts.value and "0.5, 0.25" in lab.readouts.value and "hello" in lab.readouts.value
    lab.controls["method"].value = "random"
    assert len(lab.images[4].value) == 0 and "reports no" in lab.view_notes[4].value


def test_compare_all_overlays_every_available_method(model, digits):
    lab = PruningLab(model, digits[1], quick=True)  # no train_data: only methods that need none
    rows = lab.run_compare()
    expected = sorted(m for m in REGISTRY if not REGISTRY[m].needs_data)
    assert sorted({r["method"] for r in rows}) == expected
    assert {r["amount"] for r in rows} == set(lab.compare_amounts())
    assert lab.controls["tabs"].selected_index == lab.TABS.index("compare all") and len(lab.images[5].value) > 0
    assert "magnitude" in lab.view_notes[5].value


# ------------------------------------------------------------------ explorers

def test_hasse_explorer_readouts_match_the_poset():
    explorer = widgets.HasseExplorer(n=9, density=0.3, seed=4)
    poset = widgets.random_poset(9, 0.3, 4)
    assert explorer.state.height == poset.height() and explorer.state.width == poset.width()
    assert explorer.state.meet_irreducibles == tuple(poset.meet_irreducibles().tolist())
    explorer.controls["density"].value = 1.0
    assert explorer.state.height == 9 and explorer.state.width == 1 and explorer.state.is_lattice
    explorer.controls["density"].value = 0.0
    explorer.controls["complete"].value = True
    assert explorer.state.size == 11 and explorer.state.is_lattice and len(explorer.state.meet_irreducibles) == 9
    assert len(explorer.image.value) > 0


def test_hasse_explorer_shows_a_given_poset_and_disables_the_random_controls():
    poset = Poset.from_divisors(12)
    explorer = widgets.HasseExplorer(poset)
    assert explorer.controls["n"].disabled and explorer.state.size == 6 and explorer.state.is_lattice
    assert explorer.state.height == poset.height()


def test_spectral_gap_explorer_computes_the_right_readouts():
    explorer = widgets.SpectralGapExplorer("regular", n=32, degree=4, seed=1)
    adjacency = spectral.random_regular_mask(32, 4, seed=1)
    assert explorer.state.trivial == pytest.approx(4.0)
    assert explorer.state.bound == pytest.approx(2 * math.sqrt(3))
    assert explorer.state.ramanujan == spectral.is_ramanujan_regular(adjacency)
    assert explorer.state.gap == pytest.approx(spectral.spectral_gap(adjacency))
    explorer.controls["family"].value = "biregular"
    explorer.controls["n_in"].value = 64
    explorer.controls["degree"].value = 16
    c, d = 16, 32 * 16 // 64
    assert explorer.state.degrees == (c, d) and explorer.state.trivial == pytest.approx(math.sqrt(c * d))
    assert explorer.state.bound == pytest.approx(math.sqrt(c - 1) + math.sqrt(d - 1))
    explorer.controls["family"].value = "regular"
    explorer.controls["n"].value = 33
    explorer.controls["degree"].value = 3
    assert "must be even" in explorer.state.error and "must be even" in explorer.status.value
