"""Spectral pruning (lattice_lab.pruning.spectral_units): the streamed covariance, and the compressed
networks (lossless on states that live in a k-dimensional subspace, exact copy when nothing is removed,
every model kind); the old import path lattice_lab.pruning.spectral. The linear algebra: tests/test_ridge.py."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lattice_lab import ridge
from lattice_lab.models import build, gate_count
from lattice_lab.pruning import REGISTRY, prune, spectral_units
from lattice_lab.pruning.spectral_units import diagnostics, hidden_covariance, hidden_moments
from lattice_lab.ridge import degrees_of_freedom, input_loss
from lattice_lab.surgery import remove_units


def model_and_data(config: dict, n: int = 64, steps: int = 6, seed: int = 0):
    torch.manual_seed(seed)
    model = build(config)
    return model, torch.randn(n, steps, config["input_size"])


def duplicated(config: dict, base: int) -> torch.nn.Module:
    """A model whose units base..2*base-1 copy units 0..base-1 in every layer and direction:
    every row block of every tensor feeding them is copied, so the copies equal the originals
    at every step and the hidden states live in a base-dimensional subspace."""
    torch.manual_seed(1)
    model = build(config)
    gates, size = gate_count(model.kind), 2 * base
    with torch.no_grad():
        for layer in model.layers:
            for name, param in layer.named_parameters():
                for g in range(gates):
                    param[g * size + base:g * size + size] = param[g * size:g * size + base]
    return model


# --------------------------------------------------------------------------- covariance

def test_hidden_covariance_streams_to_the_direct_second_moment():
    model, x = model_and_data({"kind": "lstm", "input_size": 3, "hidden_size": 5, "num_classes": 2,
                               "num_layers": 2})
    with torch.no_grad():
        states = model(x, return_states=True)[1][1].reshape(-1, 5).double()
    direct = (states.T @ states / states.shape[0]).numpy()
    np.testing.assert_allclose(hidden_covariance(model, x, layer=1, batch_size=7), direct, atol=1e-10)
    centred = direct - np.outer(states.mean(0).numpy(), states.mean(0).numpy())
    np.testing.assert_allclose(hidden_covariance(model, x, layer=1, center=True), centred, atol=1e-10)


def test_hidden_covariance_of_a_bidirectional_layer_is_block_diagonal():
    model, x = model_and_data({"kind": "gru", "input_size": 3, "hidden_size": 4, "num_classes": 2,
                               "bidirectional": True})
    cov = hidden_covariance(model, x)
    assert cov.shape == (8, 8) and np.all(cov[:4, 4:] == 0) and np.all(np.diag(cov) > 0)


def test_diagnostics_report_the_losses_of_the_given_units():
    model, x = model_and_data({"kind": "gru", "input_size": 3, "hidden_size": 6, "num_classes": 2})
    cov = hidden_covariance(model, x)
    report = diagnostics(model, x, kept=[1, 4], lam=0.01)
    assert report["L_A"] == pytest.approx(input_loss(cov, [1, 4], 0.01))
    np.testing.assert_allclose(report["eigenvalues"], np.sort(np.linalg.eigvalsh(cov))[::-1], atol=1e-12)
    assert report["dof"]["dof"] == pytest.approx(degrees_of_freedom(report["eigenvalues"], report["dof"]["lam"]))


def test_nan_hidden_states_are_an_error():
    model, x = model_and_data({"kind": "rnn", "input_size": 3, "hidden_size": 4, "num_classes": 2})
    with torch.no_grad():
        model.layers[0].weight_hh_l0[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        hidden_moments(model, x)
    with pytest.raises(ValueError, match="NaN"):
        prune(model, "spectral", 0.5, data=x)


def test_too_few_samples_warn_with_the_number_needed():
    model, x = model_and_data({"kind": "rnn", "input_size": 3, "hidden_size": 16, "num_classes": 2},
                              n=4, steps=5)
    with pytest.warns(UserWarning, match="n_samples >= 32"):
        prune(model, "spectral", 0.5, data=x)


# --------------------------------------------------------------------------- compressed networks

def test_registered_as_unit_level_method_needing_data():
    spec = REGISTRY["spectral"]
    assert spec.level == "unit" and spec.needs_data
    assert {"lam", "lam_scale", "theta", "selection", "reconstruct", "n_samples"} <= set(spec.options)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_keeping_all_units_returns_an_exact_copy(kind):
    model, x = model_and_data({"kind": kind, "input_size": 3, "hidden_size": 6, "num_classes": 4,
                               "num_layers": 2})
    result = prune(model, "spectral", 0.0, data=x)
    assert torch.equal(result.model(x), model(x))
    assert all(torch.equal(result.model.state_dict()[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("config", [
    {"kind": "rnn"},
    {"kind": "irnn"},
    {"kind": "lstm"},
    {"kind": "gru"},
    {"kind": "lstm", "num_layers": 2},
    {"kind": "gru", "num_layers": 2, "bidirectional": True},
    {"kind": "feedback", "num_layers": 2},
], ids=lambda c: "-".join(str(v) for v in c.values()))
def test_states_in_a_k_dimensional_subspace_prune_to_k_units_losslessly(config):
    config = dict(config, input_size=3, hidden_size=6, num_classes=4)
    model = duplicated(config, base=3)
    x = torch.randn(128, 8, 3, generator=torch.Generator().manual_seed(0))
    result = prune(model, "spectral", 0.5, data=x, lam_scale=1e-9)
    assert result.model.config["hidden_size"] == [3] * model.config["num_layers"]
    assert all(sorted(k % 3 for k in kept.tolist()) == [0, 1, 2] for kept in result.kept_units)
    with torch.no_grad():
        dense, pruned = model(x), result.model(x)
    assert (dense - pruned).abs().max() <= 1e-3 * dense.abs().max()
    assert torch.equal(dense.argmax(1), pruned.argmax(1))
    assert all(value < 1e-6 for value in result.info["L_A_rel"])


def test_without_reconstruction_the_same_units_are_only_sliced():
    model, x = model_and_data({"kind": "lstm", "input_size": 3, "hidden_size": 8, "num_classes": 4})
    result = prune(model, "spectral", 0.5, data=x, reconstruct=False)
    rebuilt = remove_units(model, result.kept_units)
    assert torch.equal(result.model(x), rebuilt(x))
    assert result.kept_units[0].tolist() == prune(model, "spectral", 0.5, data=x).kept_units[0].tolist()


def test_reconstruction_beats_slicing_on_correlated_units():
    model = duplicated({"kind": "rnn", "input_size": 3, "hidden_size": 6, "num_classes": 4}, base=3)
    x = torch.randn(64, 8, 3, generator=torch.Generator().manual_seed(1))
    error = {flag: (prune(model, "spectral", 0.5, data=x, reconstruct=flag, lam_scale=1e-9).model(x)
                    - model(x)).abs().max()
             for flag in (True, False)}
    assert error[True] < 1e-4 < error[False]


@pytest.mark.parametrize("config,sizes", [
    ({"kind": "lstm", "hidden_size": 10}, [5]),
    ({"kind": "gru", "hidden_size": 10}, [5]),
    ({"kind": "lstm", "hidden_size": [10, 8], "num_layers": 2}, [5, 4]),
    ({"kind": "lstm", "hidden_size": 10, "bidirectional": True}, [5]),
    ({"kind": "rnn", "hidden_size": [10, 8], "num_layers": 2, "bidirectional": True}, [5, 4]),
    ({"kind": "feedback", "hidden_size": [10, 8], "num_layers": 2}, [5, 4]),
], ids=lambda v: str(v))
def test_every_model_kind_prunes_to_the_right_shapes_with_diagnostics(config, sizes):
    config = dict(config, input_size=3, num_classes=4)
    model, x = model_and_data(config, n=120)
    for options in ({}, {"theta": 0.5}, {"selection": "leverage"}, {"center": True}):
        result = prune(model, "spectral", 0.5, data=x, **options)
        assert result.model.config["hidden_size"] == sizes
        assert result.model(x).shape == (120, 4)
        assert [len(k) for k in result.kept_units] == sizes
    info = result.info
    assert len(info["eigenvalues"]) == len(sizes) and info["n_samples"] == 120
    directions = 2 if config.get("bidirectional") else 1
    for k, eig in enumerate(info["eigenvalues"]):
        assert np.all(np.diff(eig) <= 0) and len(eig) == directions * model.config["hidden_size"][k]
        assert info["L_A"][k] >= 0 and info["L_B"][k] >= 0 and info["lam"][k] > 0
        assert set(info["bound"][k]) >= {"bias", "variance", "feasible", "m_sharp", "lam"}


def test_hidden_units_overrides_amount_and_is_validated():
    model, x = model_and_data({"kind": "gru", "input_size": 3, "hidden_size": [8, 6], "num_classes": 2,
                               "num_layers": 2})
    assert prune(model, "spectral", 0.0, data=x, hidden_units=[3, 5]).model.config["hidden_size"] == [3, 5]
    for bad in (0, 8, [3, 6], [3], -1):
        with pytest.raises(ValueError, match="hidden_units"):
            prune(model, "spectral", 0.5, data=x, hidden_units=bad)


@pytest.mark.parametrize("options", [{"lam": 0.0}, {"lam": -1.0}, {"lam_scale": 0.0}, {"theta": -1.0},
                                     {"selection": "best"}, {"n_samples": 0}])
def test_bad_options_are_value_errors(options):
    model, x = model_and_data({"kind": "rnn", "input_size": 3, "hidden_size": 6, "num_classes": 2})
    with pytest.raises(ValueError):
        prune(model, "spectral", 0.5, data=x, **options)


def test_bad_amount_and_missing_data_are_value_errors():
    model, x = model_and_data({"kind": "rnn", "input_size": 3, "hidden_size": 6, "num_classes": 2})
    for amount in (1.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="amount"):
            prune(model, "spectral", amount, data=x)
    with pytest.raises(ValueError, match="data"):
        prune(model, "spectral", 0.5)


def test_never_modifies_the_input_model():
    model, x = model_and_data({"kind": "lstm", "input_size": 3, "hidden_size": 8, "num_classes": 2,
                               "num_layers": 2})
    before = {k: v.clone() for k, v in model.state_dict().items()}
    prune(model, "spectral", 0.5, data=x, center=True, theta=0.3)
    after = model.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)


# --------------------------------------------------------------------------- the old import path

def test_the_old_module_re_exports_every_name_it_had():
    from lattice_lab.pruning import spectral as old

    names = {"MIN_STATES_PER_UNIT", "SELECTIONS", "bound_terms", "degrees_of_freedom", "diagnostics", "greedy_select",
             "hidden_covariance", "hidden_moments", "input_loss", "leverage_scores", "leverage_select",
             "output_loss", "reconstruction_matrix", "residual_matrix", "spectral"}
    assert set(old.__all__) == names
    for name in names:
        home = ridge if hasattr(ridge, name) else spectral_units
        assert getattr(old, name) is getattr(home, name), name
    assert REGISTRY["spectral"].function is spectral_units.spectral


def test_hidden_units_error_names_the_layer_sizes():
    model, x = model_and_data({"kind": "gru", "input_size": 3, "hidden_size": [8, 6], "num_classes": 2,
                               "num_layers": 2})
    with pytest.raises(ValueError, match=r"The 'hidden_units' parameter of spectral must be .* \[8, 6\]\)\. "
                                         r"Got \[3, 6\] instead\."):
        prune(model, "spectral", 0.5, data=x, hidden_units=[3, 6])
