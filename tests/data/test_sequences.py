"""SequenceDataset, seeded subsets, the fast-mode cap and the loader."""
from __future__ import annotations

import pytest
import torch
from data_files import write_idx_dataset

from lattice_lab import data


def test_sequence_dataset_rejects_wrong_dtypes_and_labels():
    with pytest.raises(TypeError, match="float32"):
        data.SequenceDataset(torch.zeros(2, 3, 1, dtype=torch.float64), torch.zeros(2).long(),
                             name="x", split="train", num_classes=2, layout="rows", source="")
    with pytest.raises(ValueError, match="targets must lie"):
        data.SequenceDataset(torch.zeros(2, 3, 1), torch.tensor([0, 2]), name="x",
                             split="train", num_classes=2, layout="rows", source="")


def test_subset_is_seeded_and_keeps_original_order():
    full = data.load("digits", "test")
    part = data.load("digits", "test", subset=50, seed=7)
    assert len(part) == 50 and torch.equal(part.inputs, full.subset(50, seed=7).inputs)
    assert not torch.equal(part.inputs, full.subset(50, seed=8).inputs)
    rows = full.inputs.reshape(360, -1)
    positions = [int(torch.where((rows == r).all(dim=1))[0][0])
                 for r in part.inputs.reshape(50, -1)]
    assert positions == sorted(positions) and len(set(positions)) == 50
    assert part.targets.tolist() == full.targets[positions].tolist()
    with pytest.raises(ValueError, match=r"'subset' parameter of load must be an int in \[1, 360\]. Got 361 instead"):
        data.load("digits", "test", subset=361)


def test_fast_mode_caps_real_datasets_unless_subset_given(tmp_path, monkeypatch):
    write_idx_dataset(tmp_path, "MNIST", {"train": 2100})
    assert len(data.load("mnist", root=tmp_path, download=False)) == 2100
    monkeypatch.setenv("LATTICE_LAB_FAST", "1")
    assert len(data.load("mnist", root=tmp_path, download=False)) == 2000
    assert len(data.load("mnist", root=tmp_path, download=False, subset=2100)) == 2100


def test_loader_batches_cover_every_sample_once_and_shuffle_is_seeded():
    ds = data.load("parity", n=10, length=3)
    batches = list(data.loader(ds, batch_size=4))
    assert [len(y) for _, y in batches] == [4, 4, 2]
    assert torch.equal(torch.cat([x for x, _ in batches]), ds.inputs)

    def order(seed):
        return torch.cat([x for x, _ in data.loader(ds, 3, shuffle=True, seed=seed)])

    shuffled = order(0)
    assert torch.equal(shuffled, order(0)) and not torch.equal(shuffled, ds.inputs)
    assert torch.equal(shuffled.sort(dim=0).values, ds.inputs.sort(dim=0).values)
    with pytest.raises(ValueError, match="batch_size"):
        data.loader(ds, batch_size=0)
