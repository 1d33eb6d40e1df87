"""The course's own models are one case of the recurrent view: its removal equals
``surgery.remove_units`` bit for bit on every shipped model (issue 25)."""
from __future__ import annotations

import pytest
import torch

from lattice_lab import checkpoints
from lattice_lab.recurrent import UnsupportedModelError, remove_units, view_of
from lattice_lab.surgery import remove_units as course_remove_units

SHIPPED = checkpoints.list_shipped()


def _example(model):
    return torch.randn(3, 5, model.config["input_size"], generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("name", [n for n in SHIPPED if "feedback" not in n])
def test_view_removal_equals_course_surgery_bit_for_bit_on_shipped_models(name):
    model, _ = checkpoints.load(name)
    x = _example(model)
    view = view_of(model, x)
    assert view.traced == "hooks"  # SequenceClassifier checks its input's rank: fx cannot trace it
    assert view.hidden_sizes() == model.config["hidden_size"]
    generator = torch.Generator().manual_seed(1)
    keep = [torch.randperm(h, generator=generator)[: h // 2].sort().values for h in view.hidden_sizes()]
    ours, course = remove_units(model, view, keep), course_remove_units(model, keep)
    assert ours.config == course.config
    theirs = course.state_dict()
    assert list(ours.state_dict()) == list(theirs)
    assert all(torch.equal(v, theirs[k]) for k, v in ours.state_dict().items())
    with torch.no_grad():
        assert torch.equal(ours(x), course(x))


def test_the_feedback_model_has_no_torch_recurrent_module_and_is_refused_by_the_view():
    model, _ = checkpoints.load("mnist-feedback")
    with pytest.raises(UnsupportedModelError, match="has no nn.RNN, nn.LSTM or nn.GRU module"):
        view_of(model, _example(model))
