"""Lab 4, question 4: the greedy choice of J, one unit at a time by the input loss (hidden tests)."""
import numpy as np
from otter.test_files import test_case

import lattice_lab as ll

name = "q4 greedy J"


def random_cov(seed, m):
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(m, 4)) @ rng.normal(size=(4, m)) + 0.3 * rng.normal(size=(m, m))
    return factor @ factor.T / m


@test_case(name="the units in the order chosen", points=2)
def test_the_greedy_order(greedy_select):
    assert callable(greedy_select), "greedy_select is not a function yet"
    for seed, m, k, lam in ((9951, 12, 4, 0.1), (9952, 30, 10, 0.01), (9953, 8, 8, 1.0)):
        cov = random_cov(seed, m)
        got = greedy_select(cov, k, lam)
        expected = ll.ridge.greedy_select(cov, k, lam)
        assert got is not None and [int(j) for j in got] == expected.tolist(), \
            f"choosing {k} of {m} units at λ = {lam}: not the greedy order (each step: the smallest L_A(J ∪ {{j}}))"


@test_case(name="a redundant unit is chosen last", points=1)
def test_a_redundant_unit_last(greedy_select):
    assert callable(greedy_select), "greedy_select is not a function yet"
    cov = np.array([[1.0, 0.99, 0.0], [0.99, 1.0, 0.0], [0.0, 0.0, 0.5]])
    got = greedy_select(cov, 3, 1e-3)
    assert got is not None and [int(j) for j in got][1] == 2, "after one unit of a correlated pair, the third unit " \
                                                              "lowers L_A more than the twin"
