"""Lab 2, question 4: the critical units, the lattice method's criticality (hidden tests)."""
import numpy as np
from otter.test_files import test_case

import lattice_lab as ll
from lattice_lab.posets import Poset

name = "q4 critical units"


def reference(strength, q):
    """Units that are, alone, a meet-irreducible element of the condensed poset of the relation at q."""
    poset = Poset.from_adjacency(ll.graphs.binary_adjacency(strength, q))
    sizes = np.array([len(c) for c in poset.components])
    irreducible = poset.meet_irreducibles()
    return np.isin(poset.component_of, irreducible[sizes[irreducible] == 1])


@test_case(name="random strengths", points=2)
def test_random_strengths(critical_units):
    assert callable(critical_units), "critical_units is not a function yet"
    rng = np.random.default_rng(9991)
    for n, q in ((10, 0.8), (24, 0.9), (40, 0.95)):
        strength = rng.exponential(size=(n, n))
        got = critical_units(strength, q)
        assert got is not None and np.array_equal(np.asarray(got).astype(bool), reference(strength, q)), \
            f"the critical units of a random {n}-unit strength at q = {q}: single units that are meet-irreducible"


@test_case(name="a unit inside a cycle is never critical", points=1)
def test_a_cycle_member_is_not_critical(critical_units):
    assert callable(critical_units), "critical_units is not a function yet"
    strength = np.full((5, 5), 0.1)
    strength[0, 1] = strength[1, 2] = strength[2, 0] = 1.0  # the strong cycle 0 -> 1 -> 2 -> 0
    strength[3, 0] = 0.9  # 3 feeds the cycle; 4 is on its own
    got = critical_units(strength, 0.85)
    assert got is not None and np.array_equal(np.asarray(got).astype(bool), reference(strength, 0.85)), \
        "units of one strongly connected component form one element: only single-unit elements can be critical"
