"""The lab's pure core (lattice_lab.widgets.state, and the shape-reading of widgets.plots): no widgets needed."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from lattice_lab import train, widgets
from lattice_lab.models import build
from lattice_lab.pruning import REGISTRY, PruneResult, prune
from lattice_lab.pruning.base import units_to_keep
from lattice_lab.validation import InvalidParameterError
from lattice_lab.widgets import LabCache, LabSettings, compute_state


def test_state_imports_neither_ipywidgets_nor_matplotlib_and_plots_no_ipywidgets():
    script = """
import json, sys
import lattice_lab.widgets.state
after_state = sorted(m for m in ("ipywidgets", "matplotlib", "lattice_lab.widgets.plots", "lattice_lab.widgets.lab",
                                 "lattice_lab.widgets.explorers") if m in sys.modules)
import lattice_lab.widgets.plots
after_plots = sorted(m for m in ("ipywidgets", "lattice_lab.widgets.lab", "lattice_lab.widgets.explorers")
                     if m in sys.modules)
print(json.dumps([after_state, after_plots]))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    after_state, after_plots = json.loads(done.stdout)
    assert after_state == [], f"import lattice_lab.widgets.state imported {after_state}"
    assert after_plots == [], f"import lattice_lab.widgets.plots imported {after_plots}"


def test_every_old_public_name_of_widgets_still_resolves():
    names = ["DIAGNOSTIC_PLOTS", "DIAGNOSTIC_LABELS", "FAST_BUDGETS", "EVAL_BATCH", "FIG_DPI", "AMOUNT_STEP",
             "AMOUNT_MAX", "LabSettings", "LabState", "LabCache", "unavailable_reason", "method_label", "lab_options",
             "diagnostic_readouts", "mask_summary", "compute_state", "new_figure", "figure_png", "keep_pattern",
             "draw_weights", "draw_amount_curve", "dependency_poset", "poset_readout", "mask_spectrum",
             "draw_spectrum", "diagnostic_series", "draw_diagnostic", "diagnostic_label", "format_value",
             "parse_option_text", "PruningLab", "random_poset", "HasseState", "hasse_state", "HasseExplorer",
             "SPECTRAL_FAMILIES", "SpectralState", "spectral_state", "SpectralGapExplorer"]
    missing = [name for name in names if not hasattr(widgets, name)]
    assert missing == []
    assert set(names) <= set(dir(widgets)) and set(names) <= set(widgets.__all__)
    from lattice_lab import posets, spectral
    assert widgets.random_poset is posets.random_poset and widgets.mask_spectrum is spectral.mask_spectrum
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        widgets.no_such_name


def test_settings_are_normalized_and_hashable():
    a = LabSettings("magnitude", 0.30000000000000004, options={"per_layer": True})
    b = LabSettings("magnitude", 0.3, options=[("per_layer", True)])
    assert a == b and hash(a) == hash(b) and a.amount == 0.3
    assert LabSettings("x", 0.5, options={"keep": [1, 2]}).options == (("keep", (1, 2)),)
    with pytest.raises(ValueError, match="The 'seed' parameter of LabSettings must be an int >= 0. Got -1 instead."):
        LabSettings("magnitude", 0.5, seed=-1)
    with pytest.raises(TypeError, match="The 'amount' parameter of LabSettings must be a float"):
        LabSettings("magnitude", "half")
    with pytest.raises(InvalidParameterError, match="'finetune_epochs' parameter of LabSettings"):
        LabSettings("magnitude", 0.5, finetune_epochs=1.0)
    with pytest.raises(InvalidParameterError, match="'options' parameter of LabSettings"):
        LabSettings("magnitude", 0.5, options="per_layer")


def test_lab_cache_refuses_a_size_below_one():
    with pytest.raises(InvalidParameterError, match="The 'maxsize' parameter of LabCache must be an int >= 1"):
        LabCache(maxsize=0)


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


def test_on_epoch_is_called_after_each_finetuning_epoch_and_progress_callable_is_its_deprecated_name(model,
                                                                                                     digits):
    train_data = digits[0].subset(200, seed=0)
    settings = LabSettings("magnitude", 0.5, finetune_epochs=2)
    calls = []
    state = compute_state(model, digits[1], settings, train_data=train_data,
                          on_epoch=lambda epoch, total: calls.append((epoch, total)))
    assert calls == [(1, 2), (2, 2)] and state.accuracy_finetuned is not None
    old = []
    with pytest.warns(DeprecationWarning, match="on_epoch"):
        again = compute_state(model, digits[1], settings, train_data=train_data,
                              progress=lambda epoch, total: old.append((epoch, total)))
    assert old == calls and again == state
    with pytest.raises(InvalidParameterError, match="The 'progress' parameter of compute_state must be True"):
        compute_state(model, digits[1], settings, train_data=train_data, progress="yes")


def test_fast_budgets_shrink_budget_options_generically(register):
    def slow(model, amount, *, data=None, scope="recurrent", seed=0, n_samples=None, rounds=10,
             finetune_epochs=5, per_layer=False, lr=1e-3):
        return PruneResult(model=model)

    defaults = {"n_samples": None, "rounds": 10, "finetune_epochs": 5, "per_layer": False, "lr": 1e-3}
    register("slow-test", slow, options=defaults)
    quick = widgets.lab_options("slow-test", quick=True)
    assert quick == {"n_samples": 256, "rounds": 2, "finetune_epochs": 1, "per_layer": False, "lr": 1e-3}
    full = widgets.lab_options("slow-test", quick=False)
    assert full == defaults and full != quick  # quick=False: the method's own defaults, no budget applied
    full["rounds"] = 99
    assert REGISTRY["slow-test"].options["rounds"] == 10  # a copy: the lab never edits the registry
    for method in ("ramanujan-imp", "spectral"):  # real methods with budgeted options
        assert widgets.lab_options(method, quick=False) == REGISTRY[method].options
        assert widgets.lab_options(method, quick=False) != widgets.lab_options(method, quick=True)


def test_fast_budgets_cover_both_names_of_the_finetuning_subset(register):
    def tuned(model, amount, *, data=None, scope="recurrent", seed=0, n_finetune=None, finetune_samples=None,
              hidden_units=None):
        return PruneResult(model=model)

    register("subset-test", tuned, options={"n_finetune": None, "finetune_samples": None, "hidden_units": None})
    assert widgets.lab_options("subset-test", quick=True) == {"n_finetune": 256, "finetune_samples": 256,
                                                              "hidden_units": None}


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


def test_which_diagnostics_get_a_plot_and_their_names_come_from_the_registry(register):
    register("labelled", lambda m, a, *, data=None, scope="recurrent", seed=0: PruneResult(model=m),
             diagnostic_labels={"gap": "spectral gap γ"}, diagnostic_plots=("gap",))
    assert widgets.diagnostic_plots("labelled") == ("gap",)
    assert widgets.diagnostic_label("gap layer 0", "labelled") == "spectral gap γ layer 0"
    assert widgets.diagnostic_label("gap", "magnitude") == "gap"  # another method does not name it
    assert widgets.diagnostic_plots("magnitude") == () and widgets.diagnostic_plots("no-such-method") == ()
    assert widgets.diagnostic_labels("spectral") == REGISTRY["spectral"].diagnostic_labels
    assert "gap" in widgets.diagnostic_plots() and widgets.diagnostic_labels()["gap"] == "spectral gap γ"


def test_the_old_diagnostic_tables_are_the_union_of_the_registry_entries():
    from lattice_lab.widgets import state

    registered = {m: REGISTRY[m] for m in sorted(REGISTRY) if not m.endswith("-test")}
    assert set(state.DIAGNOSTIC_PLOTS) == {k for spec in registered.values() for k in spec.diagnostic_plots}
    assert {"delta_r", "dof", "meet_irreducibles"} <= set(state.DIAGNOSTIC_PLOTS)
    for spec in registered.values():
        for key, label in spec.diagnostic_labels.items():
            assert state.DIAGNOSTIC_LABELS[key] == label, (spec.name, key)
