"""The digits dataset: the documented stratified split, train statistics, both layouts."""
from __future__ import annotations

import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from lattice_lab import data


def test_digits_is_the_documented_stratified_split():
    bunch = load_digits()
    _, _, y_train, y_test = train_test_split(bunch.data, bunch.target, test_size=0.2,
                                             random_state=0, stratify=bunch.target)
    train, test = data.load("digits"), data.load("digits", "test")
    assert train.inputs.shape == (1437, 8, 8) and test.inputs.shape == (360, 8, 8)
    assert train.targets.tolist() == y_train.tolist() and test.targets.tolist() == y_test.tolist()
    assert train.source.startswith("scikit-learn")


def test_digits_are_standardized_with_train_statistics():
    train, test = data.load("digits"), data.load("digits", "test")
    assert train.inputs.mean().item() == pytest.approx(0.0, abs=1e-5)
    assert train.inputs.std(unbiased=False).item() == pytest.approx(1.0, abs=1e-4)
    assert abs(test.inputs.mean().item()) > 1e-5  # the test set reuses the train statistics


def test_digits_split_is_deterministic_and_disjoint():
    train, test = data.load("digits"), data.load("digits", "test")
    assert torch.equal(data.load("digits", seed=5).inputs, train.inputs)
    train_rows = {tuple(row) for row in train.inputs.reshape(len(train), -1).tolist()}
    test_rows = {tuple(row) for row in test.inputs.reshape(len(test), -1).tolist()}
    assert len(train_rows) == 1437 and len(test_rows) == 360 and not train_rows & test_rows


def test_digits_pixels_layout():
    ds = data.load("digits", "test", layout="pixels")
    assert ds.inputs.shape == (360, 64, 1)
    assert torch.equal(ds.inputs[:, :, 0], data.load("digits", "test").inputs.reshape(360, 64))
