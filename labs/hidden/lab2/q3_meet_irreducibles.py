"""Lab 2, question 3: the meet-irreducible elements of a poset (of its Dedekind-MacNeille completion) (hidden tests)."""
import numpy as np
from otter.test_files import test_case

from lattice_lab.posets import antichain, boolean_lattice, chain, random_poset

name = "q3 meet-irreducibles"


def _check(meet_irreducibles, poset, what):
    assert callable(meet_irreducibles), "meet_irreducibles is not a function yet"
    got = meet_irreducibles(poset.leq_matrix)
    assert got is not None, "meet_irreducibles must return the element indices"
    assert sorted(int(x) for x in got) == poset.meet_irreducibles().tolist(), f"the meet-irreducibles of {what}"


@test_case(name="random posets", points=2)
def test_random_posets(meet_irreducibles):
    for n, density, seed in ((9, 0.3, 9981), (20, 0.15, 9982), (30, 0.1, 9983)):
        _check(meet_irreducibles, random_poset(n, density, seed=seed), f"a random poset of {n} elements")


@test_case(name="maximal elements and lattices", points=1)
def test_maximal_elements_and_lattices(meet_irreducibles):
    _check(meet_irreducibles, antichain(4), "an antichain (every element maximal: no upper cover, not the top)")
    _check(meet_irreducibles, chain(5), "a chain")
    _check(meet_irreducibles, boolean_lattice(3), "the Boolean lattice of a 3-set")
