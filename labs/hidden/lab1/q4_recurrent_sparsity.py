"""Lab 1, question 4: the sparsity accounting over the recurrent scope (hidden tests)."""
import math

from otter.test_files import test_case

import lattice_lab as ll
from lattice_lab.grading.properties import random_model

name = "q4 sparsity"
SEEDS, AMOUNTS = (9401, 9402, 9403), (0.1, 0.45, 0.75)


def _check(recurrent_sparsity, pruned, dense, what):
    assert callable(recurrent_sparsity), "recurrent_sparsity is not a function yet"
    got = recurrent_sparsity(pruned, dense)
    expected = ll.metrics.sparsity(pruned, dense, "recurrent")
    try:
        value = float(got)
    except (TypeError, ValueError):
        raise AssertionError(f"recurrent_sparsity returned {type(got).__name__}, not a number") from None
    assert math.isclose(value, expected, abs_tol=1e-9), f"the sparsity of {what} is not counted right"


@test_case(name="masked models", points=2)
def test_masked_models(recurrent_sparsity):
    for seed, amount in zip(SEEDS, AMOUNTS):
        dense = random_model(seed)
        _check(recurrent_sparsity, ll.prune(dense, "random", amount, seed=seed).model, dense,
               f"a model masked at amount {amount}")
    _check(recurrent_sparsity, random_model(SEEDS[0]), random_model(SEEDS[0]), "the dense model itself")


@test_case(name="removed units count as removed weights", points=1)
def test_removed_units_count_as_removed_weights(recurrent_sparsity):
    dense = random_model(SEEDS[1])
    _check(recurrent_sparsity, ll.prune(dense, "random-units", 0.5).model, dense,
           "a model with half its units removed (count against the dense model's weights)")
