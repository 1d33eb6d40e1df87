"""MNIST and Fashion-MNIST from small generated IDX files, and real MNIST when LATTICE_LAB_DATA has it."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from data_files import IDX_NAMES, idx_bytes, snapshot, write_idx_dataset

from lattice_lab import data

REAL_DATA = os.environ.get("LATTICE_LAB_DATA", "")  # read before the autouse fixture clears it


def test_parse_idx_reads_header_and_rejects_truncated_file():
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(data.parse_idx(idx_bytes(array)), array)
    with pytest.raises(ValueError, match="bytes"):
        data.parse_idx(idx_bytes(array)[:-1])
    with pytest.raises(ValueError, match="zero bytes"):
        data.parse_idx(b"\x01\x00\x08\x01" + bytes(8))


@pytest.mark.parametrize("name,folder,mean,std", [
    ("mnist", "MNIST", 0.1307, 0.3081),
    ("fashion-mnist", "FashionMNIST", 0.2860, 0.3530),
])
def test_idx_datasets_rows_layout_normalizes_pixels(tmp_path, name, folder, mean, std):
    arrays = write_idx_dataset(tmp_path / "root", folder, {"train": 12, "test": 5})
    for split, (images, labels) in arrays.items():
        ds = data.load(name, split, root=tmp_path / "root", download=False)
        assert ds.inputs.shape == (len(labels), 28, 28) and ds.inputs.dtype == torch.float32
        assert ds.targets.dtype == torch.int64
        assert ds.targets.tolist() == labels.tolist()
        expected = (images.astype(np.float64) / 255 - mean) / std
        np.testing.assert_allclose(ds.inputs.numpy(), expected, rtol=1e-5, atol=1e-5)
        assert (ds.name, ds.split, ds.layout, ds.num_classes) == (name, split, "rows", 10)
        assert (ds.seq_len, ds.input_size) == (28, 28)
        assert ds.source.endswith(f"{IDX_NAMES[split][0]}.gz")


def test_mnist_pixels_layout_is_the_row_major_flattening(tmp_path):
    write_idx_dataset(tmp_path, "MNIST", {"test": 4})
    rows = data.load("mnist", "test", root=tmp_path, download=False)
    pixels = data.load("mnist", "test", layout="pixels", root=tmp_path, download=False)
    assert pixels.inputs.shape == (4, 784, 1)
    assert torch.equal(pixels.inputs[:, :, 0], rows.inputs.reshape(4, 784))
    assert torch.equal(pixels.targets, rows.targets)


def test_mnist_accepts_uncompressed_idx_files(tmp_path):
    arrays = write_idx_dataset(tmp_path, "MNIST", {"train": 3}, compress=False)
    ds = data.load("mnist", root=tmp_path, download=False)
    assert ds.targets.tolist() == arrays["train"][1].tolist()


@pytest.mark.skipif(not (Path(REAL_DATA) / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").is_file()
                    if REAL_DATA else True, reason="LATTICE_LAB_DATA has no real MNIST")
def test_real_mnist_test_set():
    root = Path(REAL_DATA)
    before = snapshot(root / "MNIST")
    ds = data.load("mnist", "test", root=root, download=False)
    assert snapshot(root / "MNIST") == before
    assert ds.inputs.shape == (10000, 28, 28)
    assert sorted(ds.targets.unique().tolist()) == list(range(10))
    assert ds.targets[0].item() == 7
    assert abs(ds.inputs.mean().item()) < 0.05 and abs(ds.inputs.std().item() - 1) < 0.05
