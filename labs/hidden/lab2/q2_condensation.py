"""Lab 2, question 2: the condensation, the strongly connected components of the relation (hidden tests)."""
import numpy as np
from otter.test_files import test_case

from lattice_lab.posets import Poset

name = "q2 condensation"


def _components(condensation, adjacency):
    assert callable(condensation), "condensation is not a function yet"
    got = condensation(adjacency)
    assert got is not None, "condensation must return the components (a list of lists of units)"
    return {frozenset(int(u) for u in part) for part in got}


@test_case(name="random relations", points=2)
def test_random_relations(condensation):
    rng = np.random.default_rng(9971)
    for n, density in ((8, 0.15), (25, 0.08), (40, 0.04)):
        adjacency = rng.random((n, n)) < density
        expected = {frozenset(c.tolist()) for c in Poset.from_adjacency(adjacency).components}
        assert _components(condensation, adjacency) == expected, \
            f"the strongly connected components of a random {n}-unit relation are not right"


@test_case(name="a cycle is one component and a chain is many", points=1)
def test_cycle_and_chain(condensation):
    cycle = np.roll(np.eye(6, dtype=bool), 1, axis=1)
    chain = np.triu(np.ones((5, 5), dtype=bool), k=1)
    assert _components(condensation, cycle) == {frozenset(range(6))}, "a directed cycle is one component"
    assert _components(condensation, chain) == {frozenset([i]) for i in range(5)}, "a chain has one unit per component"
