"""Tests for lattice_lab.data: every dataset from small generated files, read-only sources,
clear offline errors, synthetic tasks recomputed, and real MNIST when LATTICE_LAB_DATA has it."""
from __future__ import annotations

import gzip
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.io import wavfile
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from lattice_lab import data

REAL_DATA = os.environ.get("LATTICE_LAB_DATA", "")
IDX_NAMES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Every test writes only into its own cache and sees no data root or fast mode by default."""
    monkeypatch.setenv("LATTICE_LAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("LATTICE_LAB_DATA", raising=False)
    monkeypatch.delenv("LATTICE_LAB_FAST", raising=False)


# --------------------------------------------------------------------------- file writers

def idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array: magic 0x00000801 + ndim, big-endian dims, data."""
    header = (0x0800 + array.ndim).to_bytes(4, "big")
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + dims + array.astype(np.uint8).tobytes()


def write_idx_dataset(root: Path, folder: str, sizes: dict[str, int], seed: int = 0,
                      compress: bool = True) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    arrays = {}
    for split, n in sizes.items():
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        for stem, array in zip(IDX_NAMES[split], (images, labels)):
            if compress:
                with gzip.open(raw / f"{stem}.gz", "wb") as handle:
                    handle.write(idx_bytes(array))
            else:
                (raw / stem).write_bytes(idx_bytes(array))
        arrays[split] = (images, labels)
    return arrays


def cifar_batches(seed: int = 0) -> dict[str, dict]:
    """Pickled-batch dicts as in cifar-10-python.tar.gz (bytes keys, channel-major rows)."""
    rng = np.random.default_rng(seed)
    batches = {}
    for name, n in [(f"data_batch_{i}", 3) for i in range(1, 6)] + [("test_batch", 4)]:
        batches[name] = {b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
                         b"labels": [int(v) for v in rng.integers(0, 10, size=n)]}
    batches["batches.meta"] = {b"label_names": [b"airplane"] * 10}
    return batches


def write_cifar_folder(root: Path, batches: dict[str, dict]) -> None:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name, batch in batches.items():
        (folder / name).write_bytes(pickle.dumps(batch))


def write_cifar_tar(root: Path, batches: dict[str, dict]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(root / "cifar-10-python.tar.gz", "w:gz") as tar:
        for name, batch in batches.items():
            payload = pickle.dumps(batch)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))


def sine(freq: float, seconds: float) -> np.ndarray:
    t = np.arange(int(16000 * seconds)) / 16000
    return (0.5 * np.sin(2 * np.pi * freq * t) * 32767).astype(np.int16)


def write_speech_commands(root: Path) -> dict[str, list[tuple[str, int]]]:
    """Three wavs per keyword (train / validation / test), plus folders that must be ignored."""
    folder = root / "SpeechCommands" / "speech_commands_v0.02"
    expected: dict[str, list[tuple[str, int]]] = {"train": [], "test": []}
    validation, testing = [], []
    for label, word in enumerate(KEYWORDS):
        (folder / word).mkdir(parents=True)
        for k, role in enumerate(("train", "validation", "test")):
            rel = f"{word}/{k:04x}_nohash_0.wav"
            seconds = (0.6, 1.0, 1.3)[k]  # shorter, exact and longer than 1 s
            wavfile.write(folder / rel, 16000, sine(200 + 50 * label + 10 * k, seconds))
            if role == "validation":
                validation.append(rel)
            elif role == "test":
                testing.append(rel)
                expected["test"].append((rel, label))
            else:
                expected["train"].append((rel, label))
    for extra in ("bed", "_background_noise_"):
        (folder / extra).mkdir()
        wavfile.write(folder / extra / "0000_nohash_0.wav", 16000, sine(440, 1.0))
    (folder / "validation_list.txt").write_text("\n".join(validation) + "\n")
    (folder / "testing_list.txt").write_text("\n".join(testing + ["bed/0000_nohash_0.wav"]) + "\n")
    return expected


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every file and folder under root, root included."""
    entries = {".": (0, root.stat().st_mtime_ns)}
    for path in root.rglob("*"):
        stat = path.stat()
        entries[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return entries


# --------------------------------------------------------------------------- MNIST / Fashion

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


# --------------------------------------------------------------------------- CIFAR-10

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


# --------------------------------------------------------------------------- Speech Commands

def test_speech_commands_splits_by_list_files_and_gives_mfcc_frames(tmp_path):
    expected = write_speech_commands(tmp_path)
    for split in ("train", "test"):
        ds = data.load("speech-commands", split, root=tmp_path, download=False)
        assert ds.inputs.shape == (10, 101, 40) and ds.inputs.dtype == torch.float32
        assert ds.targets.tolist() == [label for _, label in expected[split]]
        assert ds.classes == KEYWORDS and ds.num_classes == 10
        # each coefficient is normalized over time within its utterance
        assert ds.inputs.mean(dim=1).abs().max().item() < 1e-4
    assert list((tmp_path / "cache" / "features").glob("speech-commands-*.pt"))
    again = data.load("speech-commands", "test", root=tmp_path, download=False)
    assert torch.equal(again.inputs, ds.inputs)


def test_speech_commands_features_differ_between_keywords(tmp_path):
    write_speech_commands(tmp_path)
    ds = data.load("speech-commands", "test", root=tmp_path, download=False)
    assert not torch.allclose(ds.inputs[0], ds.inputs[1])
    assert torch.isfinite(ds.inputs).all()


def test_speech_commands_pads_and_trims_at_the_end_to_one_second(tmp_path):
    folder = tmp_path / "SpeechCommands" / "speech_commands_v0.02"
    (folder / "yes").mkdir(parents=True)
    one_second, short = sine(300, 1.0), sine(300, 0.6)
    clips = {"a": np.concatenate([one_second, sine(900, 0.3)]), "b": one_second,
             "c": short, "d": np.concatenate([short, np.zeros(6400, dtype=np.int16)])}
    for key, clip in clips.items():
        wavfile.write(folder / "yes" / f"{key}_nohash_0.wav", 16000, clip)
    (folder / "validation_list.txt").write_text("")
    (folder / "testing_list.txt").write_text(
        "\n".join(f"yes/{key}_nohash_0.wav" for key in clips))
    ds = data.load("speech-commands", "test", root=tmp_path, download=False)
    assert ds.targets.tolist() == [0, 0, 0, 0]
    assert torch.allclose(ds.inputs[0], ds.inputs[1], atol=1e-5)  # extra 0.3 s cut off
    assert torch.allclose(ds.inputs[2], ds.inputs[3], atol=1e-5)  # 0.6 s zero-padded
    assert not torch.allclose(ds.inputs[1], ds.inputs[2], atol=1e-2)


# --------------------------------------------------------------------------- read-only sources

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


# --------------------------------------------------------------------------- missing files

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


def test_available_is_true_only_with_both_splits(tmp_path):
    assert data.available("digits") and data.available("adding") and data.available("parity")
    write_idx_dataset(tmp_path, "MNIST", {"train": 2})
    assert not data.available("mnist", root=tmp_path)
    write_idx_dataset(tmp_path / "b", "MNIST", {"train": 2, "test": 2})
    assert data.available("mnist", root=tmp_path / "b")


# --------------------------------------------------------------------------- digits

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


# --------------------------------------------------------------------------- synthetic tasks

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


def test_fast_mode_caps_real_datasets_unless_subset_given(tmp_path, monkeypatch):
    write_idx_dataset(tmp_path, "MNIST", {"train": 2100})
    assert len(data.load("mnist", root=tmp_path, download=False)) == 2100
    monkeypatch.setenv("LATTICE_LAB_FAST", "1")
    assert len(data.load("mnist", root=tmp_path, download=False)) == 2000
    assert len(data.load("mnist", root=tmp_path, download=False, subset=2100)) == 2100


# --------------------------------------------------------------------------- subsets, loaders

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


# --------------------------------------------------------------------------- validation

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


def test_sequence_dataset_rejects_wrong_dtypes_and_labels():
    with pytest.raises(TypeError, match="float32"):
        data.SequenceDataset(torch.zeros(2, 3, 1, dtype=torch.float64), torch.zeros(2).long(),
                             name="x", split="train", num_classes=2, layout="rows", source="")
    with pytest.raises(ValueError, match="targets must lie"):
        data.SequenceDataset(torch.zeros(2, 3, 1), torch.tensor([0, 2]), name="x",
                             split="train", num_classes=2, layout="rows", source="")


def test_root_and_cache_follow_environment(tmp_path, monkeypatch):
    assert data.cache_dir() == tmp_path / "cache"
    assert data.data_root() == tmp_path / "cache" / "data"
    monkeypatch.setenv("LATTICE_LAB_DATA", str(tmp_path / "shared"))
    assert data.data_root() == tmp_path / "shared"
    assert data.data_root(tmp_path / "mine") == tmp_path / "mine"


# --------------------------------------------------------------------------- real MNIST

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
