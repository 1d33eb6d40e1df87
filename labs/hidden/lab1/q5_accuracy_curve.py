"""Lab 1, question 5: the accuracy-vs-sparsity curve of global magnitude pruning (hidden tests)."""
import math

from otter.test_files import test_case

import lattice_lab as ll
from lattice_lab.grading.properties import digits_sample, random_model

name = "q5 accuracy curve"


@test_case(name="the curve is the accuracy at each amount", points=2)
def test_the_curve_is_the_accuracy_at_each_amount(accuracy_curve):
    assert callable(accuracy_curve), "accuracy_curve is not a function yet"
    model, data, amounts = random_model(9501), digits_sample(120, seed=9501), [0.0, 0.4, 0.8, 0.95]
    curve = accuracy_curve(model, data, amounts)
    expected = [ll.train.evaluate(ll.prune(model, "magnitude", a).model, data, device="cpu")["accuracy"]
                for a in amounts]
    assert curve is not None and len(list(curve)) == len(amounts), "one accuracy per amount, in the amounts' order"
    assert all(math.isclose(float(g), e, abs_tol=1e-9) for g, e in zip(curve, expected)), \
        "the accuracies differ from the globally magnitude-pruned model's on those data"


@test_case(name="amounts in any order", points=1)
def test_amounts_in_any_order(accuracy_curve):
    assert callable(accuracy_curve), "accuracy_curve is not a function yet"
    model, data = random_model(9502), digits_sample(80, seed=9502)
    forward, backward = accuracy_curve(model, data, [0.3, 0.9]), accuracy_curve(model, data, [0.9, 0.3])
    assert forward is not None and backward is not None and list(forward) == list(backward)[::-1], \
        "each accuracy belongs to its own amount: the curve must follow the order of the amounts given"
