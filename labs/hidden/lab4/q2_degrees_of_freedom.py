"""Lab 4, question 2: the degrees of freedom N̂(λ) of a spectrum (hidden tests)."""
import math

import numpy as np
from otter.test_files import test_case

import lattice_lab as ll

name = "q2 degrees of freedom"


@test_case(name="random spectra and ridges", points=2)
def test_random_spectra(degrees_of_freedom):
    assert callable(degrees_of_freedom), "degrees_of_freedom is not a function yet"
    rng = np.random.default_rng(9931)
    for size, lam in ((5, 0.1), (40, 2.5), (128, 1e-3)):
        eigenvalues = rng.exponential(size=size) ** 2
        got = degrees_of_freedom(eigenvalues, lam)
        assert got is not None and math.isclose(float(got), ll.ridge.degrees_of_freedom(eigenvalues, lam), rel_tol=1e-9), \
            f"N̂(λ) of a spectrum of {size} eigenvalues at λ = {lam} is not right"


@test_case(name="limits", points=1)
def test_limits(degrees_of_freedom):
    assert callable(degrees_of_freedom), "degrees_of_freedom is not a function yet"
    got_small, got_zero = degrees_of_freedom(np.ones(7), 1e-12), degrees_of_freedom(np.array([0.0, 0.0, 3.0]), 1.0)
    assert got_small is not None and math.isclose(float(got_small), 7.0, rel_tol=1e-6), \
        "at a vanishing ridge every positive eigenvalue counts one"
    assert got_zero is not None and math.isclose(float(got_zero), 0.75), "a zero eigenvalue counts nothing"
