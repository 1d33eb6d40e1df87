"""Lab 1, question 6: the per-layer sensitivity scan (hidden tests)."""
import math

from otter.test_files import test_case

import lattice_lab as ll
from lattice_lab.grading.properties import digits_sample, random_model

name = "q6 sensitivity scan"


def reference_scan(model, data, amounts):
    """Each weight matrix of scope "all" pruned alone by its own magnitude: the accuracy at each amount."""
    scan = {}
    for tensor in ll.models.weight_names(model, "all"):
        scores = {tensor: ll.models.get_weight(model, tensor).detach().abs()}
        scan[tensor] = [ll.train.evaluate(ll.surgery.apply_masks(
            model, ll.pruning.base.masks_from_scores(scores, amount, per_layer=True)), data, device="cpu")["accuracy"]
            for amount in amounts]
    return scan


@test_case(name="one row per weight matrix", points=1)
def test_one_row_per_weight_matrix(sensitivity_scan):
    assert callable(sensitivity_scan), "sensitivity_scan is not a function yet"
    model = random_model(9601)
    scan = sensitivity_scan(model, digits_sample(60, seed=9601), [0.5])
    assert isinstance(scan, dict) and sorted(scan) == sorted(ll.models.weight_names(model, "all")), \
        "one entry per weight matrix of scope 'all' (ll.models.weight_names(model, 'all'))"


@test_case(name="each matrix is pruned alone", points=2)
def test_each_matrix_is_pruned_alone(sensitivity_scan):
    assert callable(sensitivity_scan), "sensitivity_scan is not a function yet"
    for seed in (9602, 9603):
        model, data, amounts = random_model(seed), digits_sample(100, seed=seed), [0.5, 0.9]
        scan, expected = sensitivity_scan(model, data, amounts), reference_scan(model, data, amounts)
        assert isinstance(scan, dict) and sorted(scan) == sorted(expected), "one entry per weight matrix"
        for tensor, accuracies in expected.items():
            got = list(scan[tensor])
            assert len(got) == len(amounts) and all(math.isclose(float(g), e, abs_tol=1e-9)
                                                    for g, e in zip(got, accuracies)), \
                f"{tensor}: not the accuracy with that matrix alone losing its smallest |w| (the others dense)"
