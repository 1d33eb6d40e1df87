"""File writers for the data tests: tiny IDX, CIFAR-10 and Speech Commands folders in the original layouts.

Not a test module; the tests of ``tests/data`` import it (pytest puts this folder on ``sys.path``).
"""
from __future__ import annotations

import gzip
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
from scipy.io import wavfile

IDX_NAMES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")


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
