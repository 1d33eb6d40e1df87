"""The registry: load and available read it, bad arguments name what is allowed, one entry adds a dataset."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from data_files import write_idx_dataset

from lattice_lab import data
from lattice_lab.data import folders, registry
from lattice_lab.validation import InvalidParameterError


@pytest.mark.parametrize("kwargs,allowed", [
    ({"name": "imagenet"}, "'digits', 'mnist', 'fashion-mnist', 'cifar10'"),
    ({"name": "digits", "split": "validation"}, "'train', 'test'"),
    ({"name": "digits", "layout": "columns"}, "'rows', 'pixels'"),
    ({"name": "parity", "layout": "pixels"}, "allows only 'rows'"),
    ({"name": "digits", "length": 5}, "synthetic tasks"),
])
def test_bad_arguments_raise_value_error_listing_allowed_values(kwargs, allowed):
    with pytest.raises(ValueError) as info:
        data.load(**kwargs)
    assert allowed in str(info.value)


@pytest.mark.parametrize("kwargs,message", [
    ({"name": "digits", "seed": 1.5}, "The 'seed' parameter of load must be an int >= 0. Got 1.5 instead."),
    ({"name": "digits", "subset": 0}, "The 'subset' parameter of load must be an int >= 1 or None. Got 0 instead."),
    ({"name": "parity", "n": True}, "The 'n' parameter of load must be an int >= 1. Got True instead."),
    ({"name": "adding", "length": 1}, "The 'length' parameter of load must be an int >= 2. Got 1 instead."),
])
def test_bad_numbers_are_invalid_parameter_errors_with_the_house_message(kwargs, message):
    with pytest.raises(InvalidParameterError) as info:
        data.load(**kwargs)
    assert str(info.value) == message
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)


def test_available_is_true_only_with_both_splits(tmp_path):
    assert data.available("digits") and data.available("adding") and data.available("parity")
    write_idx_dataset(tmp_path, "MNIST", {"train": 2})
    assert not data.available("mnist", root=tmp_path)
    write_idx_dataset(tmp_path / "b", "MNIST", {"train": 2, "test": 2})
    assert data.available("mnist", root=tmp_path / "b")


def test_datasets_are_the_registry_names_in_order():
    assert data.DATASETS == tuple(registry.REGISTRY) == (
        "digits", "mnist", "fashion-mnist", "cifar10", "speech-commands", "adding", "parity")
    assert [name for name, spec in registry.REGISTRY.items() if spec.image] == [
        "digits", "mnist", "fashion-mnist", "cifar10"]
    assert [name for name, spec in registry.REGISTRY.items() if spec.synthetic] == ["adding", "parity"]
    assert [name for name, spec in registry.REGISTRY.items() if spec.files is None] == ["digits", "adding", "parity"]
    with pytest.raises(ValueError, match="The 'name' parameter of available must be one of 'digits'"):
        data.available("imagenet")


def toy_spec() -> registry.DatasetSpec:
    """A dataset with files: ``toy/<split>.npy`` of shape (N, 3, 2), class = whether the first value is positive."""
    def find(roots, split):
        return next((r / "toy" / f"{split}.npy" for r in roots if (r / "toy" / f"{split}.npy").is_file()), None)

    def missing(roots, split):
        return folders.Missing("toy files", [f"{split}.npy"], roots[0] / "toy", [r / "toy" for r in roots])

    def download():
        rng = np.random.default_rng(0)
        (folders.download_root() / "toy").mkdir(parents=True)
        for split, n in (("train", 6), ("test", 4)):
            np.save(folders.download_root() / "toy" / f"{split}.npy", rng.normal(size=(n, 3, 2)).astype(np.float32))

    def read(request):
        x = torch.from_numpy(np.load(request.location))
        return data.SequenceDataset(x, (x[:, 0, 0] > 0).long(), name=request.name, split=request.split,
                                    num_classes=2, layout=request.layout, source=str(request.location))

    return registry.DatasetSpec("toy", "3 steps of 2 normal values", read,
                                files=folders.FileSource(find=find, missing=missing, download=download))


def test_one_registry_entry_makes_a_dataset_loadable_and_available(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setitem(registry.REGISTRY, "toy", toy_spec())
    assert not data.available("toy", root=empty)
    with pytest.raises(FileNotFoundError, match="toy files not found and download=False was given"):
        data.load("toy", root=empty, download=False)
    test = data.load("toy", "test", root=empty)  # downloads into <cache>/data, a search root
    assert data.available("toy", root=empty)
    assert test.inputs.shape == (4, 3, 2) and test.source == str(tmp_path / "cache" / "data" / "toy" / "test.npy")
    assert torch.equal(test.targets, (test.inputs[:, 0, 0] > 0).long())
    assert len(data.load("toy", root=empty, download=False)) == 6
    with pytest.raises(ValueError, match="image datasets digits, mnist, fashion-mnist, cifar10; 'toy' allows only"):
        data.load("toy", layout="pixels", root=empty)
    with pytest.raises(ValueError, match="synthetic tasks adding, parity; got length=None, n=3 for 'toy'"):
        data.load("toy", n=3, root=empty)
    monkeypatch.undo()
    assert "toy" not in registry.REGISTRY
    with pytest.raises(ValueError, match="'name' parameter of load"):
        data.load("toy", root=empty)


def test_the_entry_flags_decide_which_arguments_a_dataset_takes(monkeypatch):
    def read(request):
        x = torch.zeros(request.n or 2, request.length or 4, 1)
        return data.SequenceDataset(x, torch.zeros(len(x), dtype=torch.int64), name=request.name, split=request.split,
                                    num_classes=1, layout=request.layout, source="zeros")

    monkeypatch.setitem(registry.REGISTRY, "zeros", registry.DatasetSpec("zeros", "zeros", read, image=True,
                                                                         synthetic=True))
    assert data.available("zeros")
    ds = data.load("zeros", layout="pixels", length=3, n=5)
    assert ds.inputs.shape == (5, 3, 1) and ds.layout == "pixels"
    monkeypatch.setitem(registry.REGISTRY, "zeros", registry.DatasetSpec("zeros", "zeros", read))
    assert data.load("zeros").inputs.shape == (2, 4, 1)
    with pytest.raises(ValueError, match="'zeros' allows only 'rows'"):
        data.load("zeros", layout="pixels")
    with pytest.raises(ValueError, match="apply only to the synthetic tasks"):
        data.load("zeros", length=3)


def test_the_package_exports_its_api_and_imports_no_torchvision_or_torchaudio():
    assert sorted(data.__all__) == ["DATASETS", "LAYOUTS", "SPLITS", "SequenceDataset", "available", "cache_dir",
                                    "data_root", "load", "loader", "parse_idx"]
    assert all(callable(getattr(data, name)) or isinstance(getattr(data, name), tuple) for name in data.__all__)
    code = ("import sys, lattice_lab.data; "
            "print(sorted(m for m in ('torchvision', 'torchaudio') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
