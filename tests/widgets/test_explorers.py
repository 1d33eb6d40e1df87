"""The theory notebooks' explorers, headless: Hasse diagrams, spectral gaps, IMP round by round, the units spectral keeps."""
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from lattice_lab import spectral, widgets
from lattice_lab.models import get_weight
from lattice_lab.posets import Poset
from lattice_lab.pruning import prune, spectral_units
from lattice_lab.validation import InvalidParameterError


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


def test_explorers_refuse_what_their_controls_cannot_show_instead_of_clipping():
    with pytest.raises(InvalidParameterError, match="The 'n' parameter of HasseExplorer must be an int in "
                                                    r"\[1, 40\]. Got 41 instead."):
        widgets.HasseExplorer(n=41)
    with pytest.raises(InvalidParameterError, match="'density' parameter of HasseExplorer"):
        widgets.HasseExplorer(density=1.5)
    with pytest.raises(InvalidParameterError, match="'poset' parameter of HasseExplorer must be a Poset or None"):
        widgets.HasseExplorer([[0, 1]])
    with pytest.raises(InvalidParameterError, match="'family' parameter of SpectralGapExplorer must be one of"):
        widgets.SpectralGapExplorer("petersen")
    with pytest.raises(InvalidParameterError, match="'degree' parameter of SpectralGapExplorer"):
        widgets.SpectralGapExplorer(degree=0)
    with pytest.raises(InvalidParameterError, match="'family' parameter of spectral_state"):
        widgets.spectral_state("petersen", 8)
    assert widgets.spectral_state("cycle", 2).error == "a cycle needs n >= 3 nodes, got n=2"  # an error, not raised


# ------------------------------------------------------------------ IMP round by round

@pytest.fixture(scope="module")
def imp_result(model, digits):
    """Plain IMP on the shipped digits LSTM-64, 3 rounds to 90% of W_hh, no fine-tuning (deterministic)."""
    return prune(model, "imp", 0.9, digits[0], rounds=3, finetune_epochs=0, val_data=digits[1])


def test_imp_round_state_matches_the_rounds_the_method_recorded(imp_result):
    info, name = imp_result.info, "layers.0.weight_hh_l0"
    for r in range(1, info["rounds"] + 1):
        state = widgets.imp_round_state(imp_result, name, r)
        assert state.sparsity == pytest.approx(info["layer_sparsity"][name][r - 1], abs=1e-12)
        assert state.accuracy == info["accuracy_per_round"][r - 1]
        assert state.delta_r == (None if info["delta_r"][name][r - 1] is None
                                 else pytest.approx(info["delta_r"][name][r - 1], abs=1e-9))
    last = widgets.imp_round_state(imp_result, name)
    assert last.round == info["rounds"] == 3
    assert np.array_equal(last.mask, imp_result.masks[name].numpy())  # the last round is the result's mask
    before = widgets.imp_round_state(imp_result, name, 0)
    assert before.sparsity == 0.0 and before.accuracy == info["accuracy_initial"]
    assert before.delta_r == pytest.approx(info["delta_r_initial"][name])
    assert before.mu_hat == pytest.approx(0.0, abs=1e-9)  # the dense mask is complete bipartite: rank one


def test_imp_round_state_spectrum_is_the_masks_own(imp_result):
    state = widgets.imp_round_state(imp_result, round=2)
    sigma = np.linalg.svd(state.mask, compute_uv=False)
    assert np.allclose(state.values, sigma) and state.mu_hat == pytest.approx(sigma[1])
    d_left, d_right = spectral.average_degrees(state.mask)
    assert state.bound == pytest.approx(math.sqrt(d_left - 1) + math.sqrt(d_right - 1))
    assert state.lower_bound == pytest.approx(abs(math.sqrt(d_left - 1) - math.sqrt(d_right - 1)))
    if state.delta_r is not None:
        assert state.delta_r == pytest.approx(state.bound - state.mu_hat, abs=1e-9)


def test_imp_round_state_gate_block_view_is_that_block_of_the_stacked_mask(imp_result):
    name = "layers.0.weight_hh_l0"
    stacked = widgets.imp_round_state(imp_result, name, 1)
    block = widgets.imp_round_state(imp_result, name, 1, block=2)
    hidden = stacked.mask.shape[1]
    assert block.view == "gate block 2" and np.array_equal(block.mask, stacked.mask[2 * hidden:3 * hidden])
    recorded = imp_result.info["delta_r_blocks"][name][0][2]
    assert block.delta_r == (None if recorded is None else pytest.approx(recorded, abs=1e-9))


def test_imp_round_explorer_controls_move_the_state(imp_result):
    explorer = widgets.ImpRoundExplorer(imp_result, round=1)
    assert explorer.state.round == 1 and len(explorer.image.value) > 0
    explorer.controls["round"].value = 3
    assert explorer.state.sparsity == pytest.approx(0.9, abs=1e-3)
    explorer.controls["view"].value = 0
    assert explorer.state.view == "gate block 0" and explorer.state.mask.shape[0] == explorer.state.mask.shape[1]
    explorer.controls["tensor"].value = "layers.0.weight_hh_l0"
    assert "Δ_r" in explorer.readout.value


def test_imp_round_explorer_refuses_what_it_cannot_show(imp_result):
    with pytest.raises(InvalidParameterError, match="'info' parameter of ImpRoundExplorer must be the info of a "
                                                    "ramanujan-imp or imp result"):
        widgets.ImpRoundExplorer({"delta_r": {}})
    with pytest.raises(InvalidParameterError, match=r"The 'round' parameter of imp_round_state must be an int in "
                                                    r"\[0, 3\]. Got 4 instead."):
        widgets.imp_round_state(imp_result, round=4)
    with pytest.raises(InvalidParameterError, match="'tensor' parameter of imp_round_state"):
        widgets.imp_round_state(imp_result, "readout.weight")
    with pytest.raises(InvalidParameterError, match="'block' parameter of imp_round_state"):
        widgets.imp_round_state(imp_result, block=4)  # an LSTM has gate blocks 0..3


def test_the_stopping_rule_never_accepts_a_round_the_explorer_shows_negative(model, digits):
    result = prune(model, "ramanujan-imp", 0.95, digits[0], rounds=4, finetune_epochs=0)
    series = widgets.imp_round_state(result).delta_r_series
    assert all(d is not None and d >= 0 for d in series)


# ------------------------------------------------------------------ the units spectral keeps

def _consumers(model):
    return np.concatenate([get_weight(model, "layers.0.weight_hh_l0").detach().double().numpy(),
                           get_weight(model, "readout.weight").detach().double().numpy()])


def test_spectral_keep_state_keeps_the_units_the_method_keeps(model, digits):
    train = digits[0]
    for theta in (0.0, 3.0):
        result = prune(model, "spectral", 0.5, train, n_samples=300, theta=theta)
        cov = spectral_units.hidden_covariance(model, train, n_samples=300)
        state = widgets.spectral_keep_state(cov, len(result.kept_units[0]), 1e-3, theta, _consumers(model))
        assert state.kept == tuple(result.kept_units[0].tolist())
        assert state.lam == pytest.approx(result.info["lam"][0])
        assert state.L_A_rel == pytest.approx(result.info["L_A_rel"][0])
        assert state.L_B == pytest.approx(result.info["L_B"][0])
        assert (state.theta_raw == 0.0) == (theta == 0.0)
        if theta == 0:
            assert state.changed_by_theta == ()


def test_spectral_keep_state_readouts_follow_their_definitions():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 12)) @ rng.standard_normal((12, 12))
    cov = X.T @ X / 400
    state = widgets.spectral_keep_state(cov, 5, lam_scale=0.1, theta=0.0)
    lam = 0.1 * np.trace(cov) / 12
    assert state.lam == pytest.approx(lam)
    eigenvalues = np.linalg.eigvalsh(cov)
    assert state.dof == pytest.approx(np.sum(eigenvalues / (eigenvalues + lam)))
    assert sum(state.leverage) == pytest.approx(state.dof)
    assert state.L_B is None and len(state.kept) == 5 and sorted(state.order) == list(state.kept)
    # more units never lose more of the state; a larger ridge never counts more directions
    assert widgets.spectral_keep_state(cov, 8, 0.1, 0.0).L_A_rel < state.L_A_rel
    assert widgets.spectral_keep_state(cov, 5, 1.0, 0.0).dof < state.dof


def test_spectral_keep_explorer_controls_move_the_state(model, digits):
    cov = spectral_units.hidden_covariance(model, digits[0], n_samples=200)
    explorer = widgets.SpectralKeepExplorer(cov, _consumers(model), units=16)
    assert len(explorer.state.kept) == 16 and len(explorer.image.value) > 0
    explorer.controls["units"].value = 40
    assert len(explorer.state.kept) == 40
    explorer.controls["log_lam"].value = 0.0
    assert explorer.state.lam == pytest.approx(np.trace(cov) / cov.shape[0])
    explorer.controls["theta"].value = 0.0
    assert explorer.state.theta_raw == 0.0 and explorer.state.changed_by_theta == ()
    no_z = widgets.SpectralKeepExplorer(cov)
    assert no_z.controls["theta"].disabled and no_z.state.error is None and no_z.state.L_B is None


def test_spectral_keep_explorer_refuses_bad_input():
    with pytest.raises(InvalidParameterError, match="'cov' parameter of SpectralKeepExplorer must be a finite square"):
        widgets.SpectralKeepExplorer(np.ones((3, 4)))
    with pytest.raises(InvalidParameterError, match="'Z' parameter of spectral_keep_state"):
        widgets.spectral_keep_state(np.eye(4), 2, Z=np.ones((3, 5)))
    with pytest.raises(InvalidParameterError, match=r"'units' parameter of spectral_keep_state must be an int in "
                                                    r"\[1, 4\]"):
        widgets.spectral_keep_state(np.eye(4), 5)
    assert widgets.spectral_keep_state(np.eye(4), 2, theta=1.0).error.startswith("θ > 0 needs Z")
