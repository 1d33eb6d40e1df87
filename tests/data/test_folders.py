"""Where files are found: read-only sources, the cache download folder, the environment, clear offline errors."""
from __future__ import annotations

import os

import pytest
from data_files import cifar_batches, snapshot, write_cifar_tar, write_idx_dataset, write_speech_commands

from lattice_lab import data


def test_loading_never_writes_into_the_source_folder(tmp_path):
    root = tmp_path / "root"
    write_idx_dataset(root, "MNIST", {"train": 6, "test": 3})
    write_idx_dataset(root, "FashionMNIST", {"train": 6, "test": 3})
    write_cifar_tar(root, cifar_batches())
    write_speech_commands(root)
    folders = [root] + [p for p in root.rglob("*") if p.is_dir()]
    for folder in folders:
        os.chmod(folder, 0o555)  # root ignores this; the snapshot comparison is the real check
    try:
        before = snapshot(root)
        for name in ("mnist", "fashion-mnist", "cifar10", "speech-commands"):
            for split in ("train", "test"):
                data.load(name, split, root=root, download=False)
        data.load("mnist", layout="pixels", root=root, download=False, subset=2)
        assert snapshot(root) == before
    finally:
        for folder in folders:
            os.chmod(folder, 0o755)


@pytest.mark.parametrize("name,folder,files", [
    ("mnist", "MNIST/raw", ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]),
    ("fashion-mnist", "FashionMNIST/raw", ["train-images-idx3-ubyte.gz",
                                           "train-labels-idx1-ubyte.gz"]),
    ("cifar10", "", ["cifar-10-python.tar.gz", "cifar-10-batches-py"]),
    ("speech-commands", "SpeechCommands/speech_commands_v0.02", ["testing_list.txt",
                                                                 "validation_list.txt"]),
])
def test_missing_files_offline_raise_error_naming_files_and_folder(tmp_path, name, folder, files):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError) as info:
        data.load(name, root=empty, download=False)
    message = str(info.value)
    assert str(empty / folder) in message
    for file in files:
        assert file in message
    assert "LATTICE_LAB_DATA" in message and "digits" in message
    assert not data.available(name, root=empty)


def test_missing_mnist_error_lists_only_the_missing_file(tmp_path):
    write_idx_dataset(tmp_path, "MNIST", {"test": 2})
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError) as info:
        data.load("mnist", "test", root=tmp_path, download=False)
    assert "t10k-labels-idx1-ubyte.gz" in str(info.value)
    assert "t10k-images-idx3-ubyte.gz" not in str(info.value)


def test_failed_download_becomes_clear_error(tmp_path, monkeypatch):
    calls = []

    def offline(cls_name):
        calls.append(cls_name)
        raise OSError("network unreachable")

    monkeypatch.setattr("lattice_lab.data.folders.download_torchvision", offline)  # what idx.download calls
    with pytest.raises(FileNotFoundError, match="downloading them failed") as info:
        data.load("mnist", root=tmp_path, download=True)
    assert calls == ["MNIST"] and isinstance(info.value.__cause__, OSError)


def test_files_in_the_cache_download_folder_are_found(tmp_path):
    arrays = write_idx_dataset(tmp_path / "cache" / "data", "MNIST", {"test": 3})
    empty = tmp_path / "empty"
    empty.mkdir()
    ds = data.load("mnist", "test", root=empty, download=False)
    assert ds.targets.tolist() == arrays["test"][1].tolist()


def test_root_and_cache_follow_environment(tmp_path, monkeypatch):
    assert data.cache_dir() == tmp_path / "cache"
    assert data.data_root() == tmp_path / "cache" / "data"
    monkeypatch.setenv("LATTICE_LAB_DATA", str(tmp_path / "shared"))
    assert data.data_root() == tmp_path / "shared"
    assert data.data_root(tmp_path / "mine") == tmp_path / "mine"
