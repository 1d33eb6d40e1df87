"""The PruningLab opens and moves on models of the user's own (issue 25), headless."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from lattice_lab.pruning import foreign_methods as supported
from lattice_lab.widgets import PruningLab

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import test_own_rnn_zoo as zoo  # noqa: E402  (the zoo's models, written as users write them)


@pytest.mark.parametrize("cls", [zoo.LSTMLayerNorm, zoo.TokenGRU, zoo.BiLSTMFinalStates, zoo.ShapeCheckingGRU],
                         ids=lambda c: c.__name__)
def test_lab_opens_and_moves_on_a_foreign_model_and_never_modifies_it(cls):
    model, data = zoo._model(cls), zoo._data(cls)
    before = zoo._state(model)
    lab = PruningLab(model, data, train_data=data, quick=True)
    assert lab.state.ok and lab.state.sparsity == pytest.approx(0.5, abs=1 / 64)
    assert cls.__name__ in lab.widget.children[0].value
    labels = dict((v, k) for k, v in lab.controls["method"].options)
    assert labels["spectral"] == "spectral"  # every method is offered on a foreign model
    lab.controls["method"].value = "magnitude-units"
    lab.controls["amount"].value = 0.75
    sizes = [m.hidden_size for m in lab.state.result.model.modules() if isinstance(m, torch.nn.RNNBase)]
    assert lab.state.ok and lab.state.hidden_units == sum(max(1, round(h * 0.25)) for h in
                                                          [layer.hidden_size for layer in lab.model._lattice_lab_view
                                                           .layers]) and sizes
    for method in ("magnitude", "lattice", "random-units", "spectral"):
        lab.controls["method"].value = method
        for tab in range(4):  # weights, accuracy, poset, spectrum
            lab.controls["tabs"].selected_index = tab
            assert len(lab.images[tab].value) > 0, (method, tab)
        assert lab.state.ok, lab.state.error
    assert lab.errors == []
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not hasattr(model, "_lattice_lab_view")


def test_every_supported_method_runs_in_the_lab_on_a_foreign_model():
    model, data = zoo._model(zoo.LSTMLayerNorm), zoo._data(zoo.LSTMLayerNorm)
    lab = PruningLab(model, data, train_data=data, quick=True)
    for method in supported():
        lab.controls["method"].value = method
        if lab.state.source == "pending":  # a schedule or a from-scratch method runs in the background
            if method == "jacobian":
                lab.compute()
            lab.jobs.wait(300)
            lab.refresh()
        assert lab.state.ok, (method, lab.state.error)
        assert 0.0 < lab.state.sparsity < 1.0 and 0.0 <= lab.state.accuracy <= 1.0
    assert lab.errors == []
    lab.jobs.shutdown()
