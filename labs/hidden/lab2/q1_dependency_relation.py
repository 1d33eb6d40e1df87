"""Lab 2, question 1: the thresholded dependency relation of a strength matrix (hidden tests)."""
import numpy as np
from otter.test_files import test_case

import lattice_lab as ll

name = "q1 dependency relation"


def random_strength(seed, n, zeros=0.0):
    rng = np.random.default_rng(seed)
    strength = rng.exponential(size=(n, n))
    strength[rng.random((n, n)) < zeros] = 0.0
    return strength


def _check(dependency_relation, strength, q, what):
    assert callable(dependency_relation), "dependency_relation is not a function yet"
    got = dependency_relation(strength, q)
    expected = ll.graphs.binary_adjacency(strength, q)
    assert got is not None and np.asarray(got).shape == expected.shape, f"an (n, n) boolean matrix for {what}"
    assert np.array_equal(np.asarray(got).astype(bool), expected), \
        f"{what}: i → j exactly when strength[i, j] is at least the q-quantile of all strengths (and nonzero)"


@test_case(name="random strengths and quantiles", points=2)
def test_random_strengths(dependency_relation):
    for seed, n, q in ((9961, 7, 0.5), (9962, 20, 0.9), (9963, 33, 0.97)):
        _check(dependency_relation, random_strength(seed, n), q, f"a {n} x {n} strength at q = {q}")


@test_case(name="zero strengths are never edges", points=1)
def test_zero_strengths(dependency_relation):
    _check(dependency_relation, random_strength(9964, 12, zeros=0.7), 0.0, "a strength mostly zero, at q = 0")
