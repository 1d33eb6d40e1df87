"""Accuracy under Gaussian input noise (lattice_lab.robustness)."""
import math

import pytest
import torch
from torch.utils.data import TensorDataset

from lattice_lab import robustness, train
from lattice_lab.models import build, clone


@pytest.fixture(scope="module")
def task():
    """A trained GRU on an easy task: is the sum of the inputs positive?"""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(256, 5, 3, generator=generator)
    data = TensorDataset(x, (x.sum(dim=(1, 2)) > 0).long())
    torch.manual_seed(0)
    model = build({"kind": "gru", "input_size": 3, "hidden_size": 16, "num_classes": 2})
    train.fit(model, data, epochs=8, lr=2e-2, batch_size=64, device="cpu")
    return model, data


def test_noise_curve_at_sigma_zero_equals_plain_evaluate(task):
    model, data = task
    row = robustness.noise_curve(model, data, [0.0], device="cpu")[0]
    scores = train.evaluate(model, data, device="cpu")
    assert (row["accuracy"], row["loss"]) == (scores["accuracy"], scores["loss"])


def test_large_input_noise_lowers_the_accuracy_of_a_trained_model(task):
    model, data = task
    rows = robustness.noise_curve(model, data, [0.0, 0.5, 8.0], device="cpu")
    clean, _, noisy = (row["accuracy"] for row in rows)
    assert clean > 0.9
    assert noisy < clean - 0.2
    assert [row["sigma"] for row in rows] == [0.0, 0.5, 8.0]


def test_models_compared_at_the_same_seed_see_the_same_noise(task):
    model, data = task
    rows = robustness.compare_noise({"a": model, "b": clone(model)}, data, [0.0, 1.0], device="cpu")
    assert [(r["model"], r["sigma"]) for r in rows] == [("a", 0.0), ("a", 1.0), ("b", 0.0), ("b", 1.0)]
    assert rows[1]["loss"] == rows[3]["loss"]
    other_seed = robustness.noise_curve(model, data, [1.0], seed=1, device="cpu")[0]
    assert other_seed["loss"] != rows[1]["loss"]


def test_noise_curve_does_not_change_the_model(task):
    model, data = task
    before = {k: v.clone() for k, v in model.state_dict().items()}
    robustness.noise_curve(model, data, [0.0, 2.0], device="cpu")
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert model.training  # fit left it in training mode; evaluation restored that


@pytest.mark.parametrize("sigmas", [[-0.1], [math.nan], [math.inf], [], "0.1", [True], 0.5, [0.1, None]])
def test_bad_sigmas_raise_a_clear_error(task, sigmas):
    model, data = task
    with pytest.raises(ValueError, match="The 'sigmas' parameter of noise_curve must be a nonempty list of noise "
                                         r"standard deviations \(floats >= 0; 0 = clean inputs\)"):
        robustness.noise_curve(model, data, sigmas, device="cpu")


@pytest.mark.parametrize("models", [{}, [1, 2], {1: None}])
def test_compare_noise_needs_a_dict_of_named_models(task, models):
    _, data = task
    with pytest.raises(ValueError, match=r"The 'models' parameter of compare_noise must be a nonempty dict of name "
                                         r"\(str\) -> model. Got (\{\}|'list'|\{1: 'NoneType'\}) instead"):
        robustness.compare_noise(models, data, [0.0], device="cpu")


def test_plot_noise_draws_one_line_per_model():
    import matplotlib
    matplotlib.use("Agg")
    rows = [{"model": m, "sigma": s, "accuracy": a} for m, a in (("dense", 0.9), ("pruned", 0.8)) for s in (0.0, 0.4)]
    ax = robustness.plot_noise(rows)
    assert [line.get_label() for line in ax.get_lines()] == ["dense", "pruned"]
    with pytest.raises(ValueError, match="empty"):
        robustness.plot_noise([])
