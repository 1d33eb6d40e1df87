"""Lab 4, question 1: the (uncentred) covariance of a layer's hidden states over sequences and steps (hidden tests)."""
import numpy as np
import torch
from otter.test_files import test_case

import lattice_lab as ll
from lattice_lab.pruning.spectral_units import hidden_covariance as library_covariance

name = "q1 hidden covariance"


def model_and_inputs(seed, kind, hidden):
    torch.manual_seed(seed)
    model = ll.models.build({"kind": kind, "input_size": 5, "hidden_size": hidden, "num_classes": 3})
    return model, torch.randn(40, 7, 5, generator=torch.Generator().manual_seed(seed))


@test_case(name="the second moment of the states", points=2)
def test_the_second_moment(hidden_covariance):
    assert callable(hidden_covariance), "hidden_covariance is not a function yet"
    for seed, kind, hidden in ((9921, "lstm", 12), (9922, "gru", 9), (9923, "rnn", 16)):
        model, inputs = model_and_inputs(seed, kind, hidden)
        got = hidden_covariance(model, inputs)
        expected = library_covariance(model, inputs, n_samples=len(inputs))
        got = np.asarray(got.detach() if hasattr(got, "detach") else got, dtype=float) if got is not None else None
        assert got is not None and got.shape == expected.shape, f"an ({hidden}, {hidden}) matrix for {hidden} units"
        assert np.allclose(got, expected, rtol=1e-5, atol=1e-7), \
            f"not (1/N) Σ h hᵀ over every sequence and every step (N = sequences × steps) for a {kind}"


@test_case(name="the model is left in the mode it was in", points=1)
def test_the_model_is_left_as_it_was(hidden_covariance):
    assert callable(hidden_covariance), "hidden_covariance is not a function yet"
    model, inputs = model_and_inputs(9924, "lstm", 6)
    model.train()
    got = hidden_covariance(model, inputs)
    assert got is not None and model.training, "put the model back in training mode when it was in it"
