"""Lab 3, question 1: the average degrees of a bipartite mask, isolated nodes left out (hidden tests)."""
import math

import numpy as np
from otter.test_files import test_case

import lattice_lab as ll

name = "q1 average degrees"


def random_mask(seed, shape, density, isolated=0):
    rng = np.random.default_rng(seed)
    mask = (rng.random(shape) < density).astype(float)
    mask[:isolated] = 0.0  # rows with no edge
    mask[:, :isolated] = 0.0  # columns with no edge
    return mask


def _check(average_degrees, mask, what):
    assert callable(average_degrees), "average_degrees is not a function yet"
    got = average_degrees(mask)
    assert got is not None and len(tuple(got)) == 2, "average_degrees must return (d_left, d_right)"
    expected = ll.spectral.average_degrees(mask)
    assert all(math.isclose(float(g), e, rel_tol=1e-9) for g, e in zip(got, expected)), \
        f"the average degrees of {what} are not right"


@test_case(name="masks without isolated nodes", points=1)
def test_masks_without_isolated_nodes(average_degrees):
    for seed, shape in ((9701, (40, 10)), (9702, (17, 33))):
        _check(average_degrees, random_mask(seed, shape, 0.6), f"a {shape[0]} x {shape[1]} mask")


@test_case(name="isolated rows and columns are left out", points=1)
def test_isolated_nodes_are_left_out(average_degrees):
    for seed, shape in ((9703, (30, 24)), (9704, (12, 50))):
        _check(average_degrees, random_mask(seed, shape, 0.4, isolated=3), "a mask with empty rows and columns "
               "(average over the rows and columns that have an edge)")
