"""lattice_lab.ridge: the linear algebra of spectral pruning on plain arrays (exact incremental greedy,
losses, leverage scores, degrees of freedom, bound terms) and its validation."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from lattice_lab.ridge import (bound_terms, degrees_of_freedom, greedy_select, input_loss, leverage_scores,
                               leverage_select, output_loss, reconstruction_matrix, residual_matrix)
from lattice_lab.validation import InvalidParameterError


def random_cov(m: int, seed: int, rank: int | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((4 * m, rank or m)) @ rng.standard_normal((rank or m, m))
    return X.T @ X / (4 * m)


def objective(cov, J, lam, theta=0.0, Z=None) -> float:
    value = input_loss(cov, J, lam)
    return value + theta * output_loss(cov, J, lam, Z) if theta else value


# --------------------------------------------------------------------------- linear algebra

def test_residual_update_adding_one_unit_is_exact_schur_step():
    cov, lam = random_cov(7, 0), 0.3
    J = [1, 4]
    before = residual_matrix(cov, J, lam)
    for j in (0, 2, 6):
        r = before[:, j]
        expected = before - np.outer(r, r) / (before[j, j] + lam)
        np.testing.assert_allclose(residual_matrix(cov, J + [j], lam), expected, atol=1e-12)


def test_reconstruction_matrix_is_the_ridge_minimizer_of_the_input_loss():
    cov, lam, J = random_cov(6, 1), 0.2, [0, 3, 5]
    A = reconstruction_matrix(cov, J, lam)
    E = np.eye(6)[J]  # h_J = E h

    def ridge_loss(B):
        return np.trace(cov - 2 * B @ E @ cov + B @ E @ cov @ E.T @ B.T) + lam * np.sum(B ** 2)

    assert ridge_loss(A) == pytest.approx(input_loss(cov, J, lam), abs=1e-10)
    rng = np.random.default_rng(0)
    for _ in range(5):
        assert ridge_loss(A + 1e-3 * rng.standard_normal(A.shape)) > ridge_loss(A)


@pytest.mark.parametrize("theta", [0.0, 0.7])
def test_greedy_picks_the_exhaustive_argmin_at_every_step(theta):
    m, lam = 8, 0.05
    cov = random_cov(m, 2)
    Z = np.random.default_rng(3).standard_normal((5, m))
    order = greedy_select(cov, m, lam, theta, Z if theta else None).tolist()
    for step in range(m):
        candidates = [j for j in range(m) if j not in order[:step]]
        values = [objective(cov, order[:step] + [j], lam, theta, Z) for j in candidates]
        assert order[step] == candidates[int(np.argmin(values))]


@pytest.mark.parametrize("seed", range(5))
def test_greedy_single_unit_is_the_global_optimum(seed):
    m = 6
    cov, lam = random_cov(m, seed), 0.1
    best = min(range(m), key=lambda j: input_loss(cov, [j], lam))
    assert greedy_select(cov, 1, lam).tolist() == [best]


def test_greedy_finds_the_optimal_subset_on_duplicated_units():
    base = random_cov(3, 4)
    cov = np.block([[base, base], [base, base]])  # units 3..5 copy units 0..2
    lam = 1e-6
    chosen = greedy_select(cov, 3, lam)
    best = min(input_loss(cov, J, lam) for J in itertools.combinations(range(6), 3))
    assert sorted(j % 3 for j in chosen) == [0, 1, 2]
    assert input_loss(cov, chosen, lam) == pytest.approx(best, abs=1e-9)


def test_input_loss_never_increases_as_more_units_are_kept():
    cov, lam = random_cov(12, 5), 0.01
    order = greedy_select(cov, 12, lam)
    losses = [input_loss(cov, order[:k], lam) for k in range(1, 13)]
    assert all(b <= a + 1e-12 for a, b in zip(losses, losses[1:]))
    assert losses[0] > losses[-1]


def test_greedy_on_a_stack_adds_the_blocks_losses():
    covs = np.stack([random_cov(6, 6), random_cov(6, 7)])
    lam = 0.05
    order = greedy_select(covs, 3, lam).tolist()
    for step in range(3):
        candidates = [j for j in range(6) if j not in order[:step]]
        values = [sum(input_loss(c, order[:step] + [j], lam) for c in covs) for j in candidates]
        assert order[step] == candidates[int(np.argmin(values))]


def test_degrees_of_freedom_and_leverage_scores_match_the_trace_formula():
    cov, lam = random_cov(9, 8), 0.4
    direct = np.trace(cov @ np.linalg.inv(cov + lam * np.eye(9)))
    assert degrees_of_freedom(np.linalg.eigvalsh(cov), lam) == pytest.approx(direct)
    tau = leverage_scores(cov, lam)
    np.testing.assert_allclose(tau, np.diag(cov @ np.linalg.inv(cov + lam * np.eye(9))), atol=1e-12)
    assert tau.sum() == pytest.approx(direct)


def test_leverage_select_is_seeded_and_distinct():
    cov = random_cov(20, 9)
    a, b = leverage_select(cov, 8, 0.1, seed=3), leverage_select(cov, 8, 0.1, seed=3)
    assert a.tolist() == b.tolist() and len(set(a.tolist())) == 8


def test_bound_terms_trade_bias_for_variance():
    eig = np.linalg.eigvalsh(random_cov(30, 10))
    lams = np.logspace(-3, 1, 9)
    terms = bound_terms(eig, np.array([2, 10, 30]), lams, n=500)
    assert np.all(np.diff(terms["dof"]) < 0)  # N̂ falls as λ grows
    assert np.all(np.diff(terms["variance"]) > 0)  # more units, more variance
    feasible = terms["feasible"]
    assert np.all(feasible[1:] >= feasible[:-1])  # more units: every λ feasible before still is
    assert np.all(np.isinf(terms["bias"][~feasible]))
    np.testing.assert_allclose(terms["bias"][feasible], np.broadcast_to(2 * np.sqrt(lams), feasible.shape)[feasible])


@pytest.mark.parametrize("call", [
    lambda: greedy_select(random_cov(4, 0), 0, 0.1),
    lambda: greedy_select(random_cov(4, 0), 5, 0.1),
    lambda: greedy_select(random_cov(4, 0), 2, 0.0),
    lambda: greedy_select(random_cov(4, 0), 2, -1.0),
    lambda: greedy_select(random_cov(4, 0), 2, 0.1, theta=1.0),
    lambda: reconstruction_matrix(random_cov(4, 0), [0, 0], 0.1),
    lambda: input_loss(np.full((2, 2), np.nan), [0], 0.1),
    lambda: degrees_of_freedom([1.0], 0.0),
])
def test_linear_algebra_rejects_bad_input(call):
    with pytest.raises(ValueError):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: greedy_select(random_cov(4, 0), 0, 0.1), "The 'k' parameter of greedy_select must be an int in [1, 4]. "
                                                      "Got 0 instead."),
    (lambda: leverage_select(random_cov(4, 0), 5, 0.1), "The 'k' parameter of leverage_select must be an int in "
                                                        "[1, 4]. Got 5 instead."),
    (lambda: greedy_select(random_cov(4, 0), 2, 0.0), "The 'lam' parameter of greedy_select must be a float > 0. "
                                                      "Got 0.0 instead."),
    (lambda: greedy_select(random_cov(4, 0), 2, 0.1, theta=-1.0), "The 'theta' parameter of greedy_select must be "
                                                                  "a float >= 0. Got -1.0 instead."),
    (lambda: degrees_of_freedom([1.0], [1.0, -2.0]), "The 'lam' parameter of degrees_of_freedom must be a float > 0. "
                                                     "Got -2.0 instead."),
    (lambda: bound_terms([1.0], [1], 1.0, n=1), "The 'n' parameter of bound_terms must be an int >= 2. "
                                                "Got 1 instead."),
])
def test_parameter_errors_use_the_house_message_with_the_value_first_order(call, message):
    with pytest.raises(InvalidParameterError) as error:
        call()
    assert str(error.value) == message


def test_a_count_given_as_a_numpy_integer_is_accepted():
    cov = random_cov(5, 1)
    assert greedy_select(cov, np.int64(2), 0.1).tolist() == greedy_select(cov, 2, 0.1).tolist()
