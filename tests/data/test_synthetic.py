"""The synthetic tasks recomputed from their inputs: parity is the XOR, adding binarizes the marked sum."""
from __future__ import annotations

import pytest
import torch

from lattice_lab import data


def test_parity_targets_are_the_xor_of_the_bits():
    ds = data.load("parity", length=9, n=300, seed=1)
    bits = ds.inputs[:, :, 0]
    assert ds.inputs.shape == (300, 9, 1) and set(bits.unique().tolist()) == {0.0, 1.0}
    xor = torch.zeros(300, dtype=torch.int64)
    for t in range(9):
        xor ^= bits[:, t].long()
    assert torch.equal(ds.targets, xor)
    assert 0 < ds.targets.sum().item() < 300


def test_adding_targets_binarize_the_sum_of_the_two_marked_values():
    ds = data.load("adding", "test", length=15, n=400, seed=2)
    values, markers = ds.inputs[:, :, 0], ds.inputs[:, :, 1]
    assert ds.inputs.shape == (400, 15, 2) and ds.num_classes == 2
    assert torch.equal(markers.sum(dim=1), torch.full((400,), 2.0))
    assert set(markers.unique().tolist()) == {0.0, 1.0}
    assert values.min().item() >= 0.0 and values.max().item() < 1.0
    total = (values.double() * markers.double()).sum(dim=1)
    assert torch.equal(ds.targets, (total > 1.0).long())
    assert 100 < ds.targets.sum().item() < 300


@pytest.mark.parametrize("name", ["adding", "parity"])
def test_synthetic_tasks_are_deterministic_by_seed_and_split(name):
    a = data.load(name, n=50, seed=3)
    assert torch.equal(a.inputs, data.load(name, n=50, seed=3).inputs)
    assert not torch.equal(a.inputs, data.load(name, n=50, seed=4).inputs)
    assert not torch.equal(a.inputs, data.load(name, "test", n=50, seed=3).inputs)


def test_synthetic_default_sizes_and_fast_mode(monkeypatch):
    assert data.load("adding").inputs.shape == (5000, 50, 2)
    assert data.load("parity", "test").inputs.shape == (1000, 20, 1)
    monkeypatch.setenv("LATTICE_LAB_FAST", "1")
    assert len(data.load("parity")) == 1000 and len(data.load("adding", "test")) == 500
    assert len(data.load("parity", n=40)) == 40
    assert len(data.load("digits")) == 1437
