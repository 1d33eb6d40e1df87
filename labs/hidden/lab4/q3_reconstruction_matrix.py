"""Lab 4, question 3: the ridge reconstruction Â_J of the full state from the units J (hidden tests)."""
import numpy as np
from otter.test_files import test_case

import lattice_lab as ll

name = "q3 reconstruction"


def random_cov(seed, m):
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(m, m // 2)) @ rng.normal(size=(m // 2, m)) + 0.1 * rng.normal(size=(m, m))
    return factor @ factor.T / m


@test_case(name="random covariances and subsets", points=2)
def test_random_covariances(reconstruction_matrix):
    assert callable(reconstruction_matrix), "reconstruction_matrix is not a function yet"
    for seed, m, k, lam in ((9941, 10, 3, 0.5), (9942, 33, 12, 0.05), (9943, 20, 19, 2.0)):
        cov = random_cov(seed, m)
        J = np.random.default_rng(seed).choice(m, size=k, replace=False)
        got = reconstruction_matrix(cov, J, lam)
        expected = ll.ridge.reconstruction_matrix(cov, J, lam)
        assert got is not None and np.asarray(got).shape == expected.shape, f"Â_J has shape (m, |J|) = {expected.shape}"
        assert np.allclose(np.asarray(got, dtype=float), expected, rtol=1e-7, atol=1e-9), \
            f"Â_J = Σ_FJ (Σ_JJ + λI)⁻¹ at λ = {lam} is not right (is the ridge in it?)"


@test_case(name="a unit that copies another is reconstructed", points=1)
def test_a_copy_is_reconstructed(reconstruction_matrix):
    assert callable(reconstruction_matrix), "reconstruction_matrix is not a function yet"
    cov = np.array([[3.0, 3.0, 0.0], [3.0, 3.0, 0.0], [0.0, 0.0, 1.0]])
    got = reconstruction_matrix(cov, [1, 2], 1e-9)
    assert got is not None and np.allclose(np.asarray(got, dtype=float), [[1, 0], [1, 0], [0, 1]], atol=1e-6), \
        "units J keep their own values and a copy of unit 1 is unit 1 (columns follow the order of J)"
