"""Lab 3, question 2: Delta_r of a bipartite mask, with the bipartite (irregular) Ramanujan bound (hidden tests)."""
import math

import numpy as np
from otter.test_files import test_case

import lattice_lab as ll
from lattice_lab.pruning.expander import layer_delta_r

name = "q2 delta_r"


def _check(delta_r, mask, what):
    assert callable(delta_r), "delta_r is not a function yet"
    got, expected = delta_r(mask), layer_delta_r(mask)
    if expected is None:
        assert got is None, f"Δ_r of {what} is undefined (an average degree below 3): return None"
        return
    assert got is not None and math.isclose(float(got), expected, rel_tol=1e-7, abs_tol=1e-9), \
        f"Δ_r of {what} is not right (the bound of a bipartite graph has one term per side)"


@test_case(name="biregular masks", points=1)
def test_biregular_masks(delta_r):
    for n_out, n_in, c, seed in ((60, 20, 4, 9801), (24, 48, 10, 9802)):
        _check(delta_r, ll.spectral.biregular_mask(n_out, n_in, c, seed=seed), f"a ({c}, {n_out * c // n_in})-biregular mask")


@test_case(name="irregular masks with isolated nodes", points=1)
def test_irregular_masks(delta_r):
    rng = np.random.default_rng(9803)
    for shape, density in (((64, 16), 0.5), ((30, 45), 0.3)):
        mask = (rng.random(shape) < density).astype(float)
        mask[0] = 0.0
        _check(delta_r, mask, f"a random {shape[0]} x {shape[1]} mask with an empty row")


@test_case(name="undefined below degree three", points=1)
def test_undefined_below_degree_three(delta_r):
    _check(delta_r, np.ones((6, 9)), "a complete bipartite mask (its σ₂ is 0)")
    _check(delta_r, np.eye(12), "a perfect matching (degree 1)")
    _check(delta_r, np.zeros((5, 7)), "a mask with no edge")
