"""Fixtures shared by several test modules."""
import pytest

from lattice_lab import checkpoints
from lattice_lab.data import load


@pytest.fixture(scope="module")
def digits():
    """The digits train and test splits (bundled with scikit-learn: always available)."""
    return load("digits", "train"), load("digits", "test")


@pytest.fixture(scope="module")
def model():
    """The shipped digits LSTM (97.8% test accuracy; tests/test_shipped.py checks it)."""
    return checkpoints.load("digits-lstm")[0]
