"""CIFAR-10 from generated python batches: the row/pixel layouts, and an archive extracted into the cache."""
from __future__ import annotations

import numpy as np
import pytest
from data_files import cifar_batches, snapshot, write_cifar_folder, write_cifar_tar

from lattice_lab import data


def expected_cifar(batches: dict[str, dict], names: list[str]) -> tuple[np.ndarray, list[int]]:
    """(N, 32, 32, 3) normalized images and labels, computed pixel by pixel from the batches."""
    flat = np.concatenate([batches[n][b"data"] for n in names]).astype(np.float64) / 255
    images = flat.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    mean, std = np.array([0.4914, 0.4822, 0.4465]), np.array([0.2470, 0.2435, 0.2616])
    return (images - mean) / std, sum((batches[n][b"labels"] for n in names), [])


def test_cifar10_rows_hold_32_pixels_by_3_channels(tmp_path):
    batches = cifar_batches()
    write_cifar_folder(tmp_path, batches)
    train = data.load("cifar10", root=tmp_path, download=False)
    images, labels = expected_cifar(batches, [f"data_batch_{i}" for i in range(1, 6)])
    assert train.inputs.shape == (15, 32, 96) and train.targets.tolist() == labels
    np.testing.assert_allclose(train.inputs.numpy(), images.reshape(15, 32, 96), atol=1e-5)
    # step r, feature 3*c + ch is pixel (r, c) of channel ch
    assert train.inputs[2, 5, 3 * 7 + 1].item() == pytest.approx(images[2, 5, 7, 1], abs=1e-5)
    test = data.load("cifar10", "test", layout="pixels", root=tmp_path, download=False)
    images, labels = expected_cifar(batches, ["test_batch"])
    assert test.inputs.shape == (4, 1024, 3) and test.targets.tolist() == labels
    np.testing.assert_allclose(test.inputs.numpy(), images.reshape(4, 1024, 3), atol=1e-5)


def test_cifar10_archive_is_extracted_into_cache_not_root(tmp_path):
    batches = cifar_batches(seed=1)
    write_cifar_tar(tmp_path / "root", batches)
    before = snapshot(tmp_path / "root")
    ds = data.load("cifar10", "test", root=tmp_path / "root", download=False)
    assert snapshot(tmp_path / "root") == before
    assert list((tmp_path / "cache").rglob("cifar-10-batches-py/test_batch"))
    images, labels = expected_cifar(batches, ["test_batch"])
    assert ds.targets.tolist() == labels
    np.testing.assert_allclose(ds.inputs.numpy(), images.reshape(4, 32, 96), atol=1e-5)
