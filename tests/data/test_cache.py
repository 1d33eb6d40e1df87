"""The cache holds only what checks out: crafted pickles never run, damaged entries are rebuilt from their source."""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from data_files import cifar_batches, write_cifar_folder, write_cifar_tar, write_speech_commands

from lattice_lab import data
from lattice_lab.data import cache, cifar


class MarkerPickle:
    """Unpickling this creates a marker file: proof that code from the file ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def crafted_batch(marker: Path) -> bytes:
    return pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1], b"x": MarkerPickle(marker)})


def test_cache_entries_carry_their_checksum_and_fail_it_when_changed(tmp_path):
    entry = tmp_path / "a" / "entry.bin"
    cache.write_entry(entry, b"payload")
    raw = entry.read_bytes()
    assert raw.startswith(cache.MAGIC) and raw[len(cache.MAGIC):len(cache.MAGIC) + 32] == hashlib.sha256(
        b"payload").digest()
    assert cache.read_entry(entry) == b"payload"
    flipped = bytearray(raw)
    flipped[-1] ^= 1
    entry.write_bytes(bytes(flipped))
    assert cache.read_entry(entry) is None
    entry.write_bytes(b"payload")  # the bare content, without a header: not an entry
    assert cache.read_entry(entry) is None and cache.read_entry(tmp_path / "missing") is None


@pytest.mark.parametrize("split, name", [("test", "test_batch"), ("train", "data_batch_1")])
def test_a_crafted_batch_in_a_data_folder_never_runs_code(tmp_path, split, name):
    batches = cifar_batches()
    write_cifar_folder(tmp_path / "root", batches)
    marker = tmp_path / "code-ran"
    (tmp_path / "root" / "cifar-10-batches-py" / name).write_bytes(crafted_batch(marker))
    with pytest.raises(data.DamagedFileError, match=f"{name} is not a CIFAR-10 batch .* the global pathlib.Path.touch is "
                                                    "not part of a CIFAR-10 batch") as info:
        data.load("cifar10", split, root=tmp_path / "root", download=False)
    assert not marker.exists()
    assert info.value.path == tmp_path / "root" / "cifar-10-batches-py" / name
    pickle.loads(crafted_batch(marker))  # what a plain pickle.load, as before, does with the file
    assert marker.exists()


def test_a_crafted_batch_in_the_cache_never_runs_code_and_is_extracted_again(tmp_path):
    batches = cifar_batches(seed=3)
    write_cifar_tar(tmp_path / "root", batches)
    first = data.load("cifar10", "test", root=tmp_path / "root", download=False)
    [entry] = (tmp_path / "cache").rglob("cifar-10-batches-py/test_batch")
    marker = tmp_path / "code-ran"
    cache.write_entry(entry, crafted_batch(marker))  # even with a valid checksum: parsed, refused, re-extracted
    again = data.load("cifar10", "test", root=tmp_path / "root", download=False)
    assert not marker.exists() and torch.equal(again.inputs, first.inputs)
    assert cifar.parse_batch(cache.read_entry(entry), entry)[1].tolist() == batches["test_batch"][b"labels"]
    entry.write_bytes(crafted_batch(marker))  # a bare pickle: fails the checksum, never parsed
    assert torch.equal(data.load("cifar10", "test", root=tmp_path / "root", download=False).inputs, first.inputs)
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_a_damaged_extracted_batch_is_extracted_again_from_the_archive(tmp_path, damage):
    write_cifar_tar(tmp_path / "root", cifar_batches(seed=2))
    first = data.load("cifar10", "train", root=tmp_path / "root", download=False)
    [entry] = (tmp_path / "cache").rglob("cifar-10-batches-py/data_batch_3")
    raw = bytearray(entry.read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    elif damage == "flip":
        raw[-10] ^= 0x40
    else:
        raw = bytearray()
    entry.write_bytes(bytes(raw))
    again = data.load("cifar10", "train", root=tmp_path / "root", download=False)
    assert torch.equal(again.inputs, first.inputs) and torch.equal(again.targets, first.targets)
    assert cache.read_entry(entry) is not None


def test_an_extraction_interleaved_with_another_never_collides(tmp_path, monkeypatch):
    """A second extraction that runs completely while the first is between writing and renaming (as a second
    process would): both finish, every entry is whole, no temporary file is left (each write has its own)."""
    write_cifar_tar(tmp_path / "root", cifar_batches(seed=4))
    archive = tmp_path / "root" / "cifar-10-python.tar.gz"
    real_replace, interleaved = os.replace, []

    def replace(source, target):
        if not interleaved:
            interleaved.append(target)
            cifar.extracted(archive)  # the other "process", start to end
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    folder = cifar.extracted(archive)
    monkeypatch.undo()
    assert interleaved and sorted(p.name for p in folder.iterdir()) == sorted(cifar._ALL_BATCHES)
    assert all(cache.read_entry(folder / name) is not None for name in cifar._ALL_BATCHES)


def test_two_processes_extract_into_one_cache(tmp_path):
    write_cifar_tar(tmp_path / "root", cifar_batches(seed=5))
    code = ("import sys, lattice_lab.data as d; "
            "print(d.load('cifar10', 'test', root=sys.argv[1], download=False).targets.tolist())")
    env = {**os.environ, "LATTICE_LAB_CACHE": str(tmp_path / "cache")}
    runs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "root")], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate() for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert outputs[0][0] == outputs[1][0] == f"{cifar_batches(seed=5)['test_batch'][b'labels']}\n"
    leftovers = [p for p in (tmp_path / "cache").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_truncated_archive_in_a_users_folder_is_named(tmp_path):
    write_cifar_tar(tmp_path / "root", cifar_batches())
    archive = tmp_path / "root" / "cifar-10-python.tar.gz"
    archive.write_bytes(archive.read_bytes()[:300])
    with pytest.raises(data.DamagedFileError, match="cifar-10-python.tar.gz cannot be read: it is truncated or "
                                                    "damaged .*replace it with a good copy"):
        data.load("cifar10", "test", root=tmp_path / "root", download=False)


def _features_entry(tmp_path: Path, split: str) -> Path:
    [entry] = (tmp_path / "cache" / "features").glob(f"speech-commands-{split}-*.pt")
    return entry


@pytest.mark.parametrize("damage", ["truncate", "zeros", "wrong shape", "nan"])
def test_damaged_speech_features_are_computed_again(tmp_path, damage):
    write_speech_commands(tmp_path)
    first = data.load("speech-commands", "test", root=tmp_path, download=False)
    entry = _features_entry(tmp_path, "test")
    if damage == "truncate":
        entry.write_bytes(entry.read_bytes()[:-100])
    elif damage == "zeros":  # a file of the same shape, all zeros, without the checksum
        torch.save(torch.zeros_like(first.inputs), entry)
    else:  # an entry with a valid checksum whose content does not fit the split
        feats = first.inputs[:3] if damage == "wrong shape" else first.inputs.clone().fill_(float("nan"))
        buffer = io.BytesIO()
        torch.save(feats, buffer)
        cache.write_entry(entry, buffer.getvalue())
    again = data.load("speech-commands", "test", root=tmp_path, download=False)
    assert torch.equal(again.inputs, first.inputs)
    rebuilt = torch.load(io.BytesIO(cache.read_entry(entry)), weights_only=True)
    assert torch.equal(rebuilt, first.inputs)


def test_speech_commands_without_torchaudio_names_the_audio_extra(tmp_path, monkeypatch):
    write_speech_commands(tmp_path)
    monkeypatch.setitem(sys.modules, "torchaudio", None)  # import torchaudio now raises ImportError
    with pytest.raises(ImportError, match='pip install "lattice_lab\\[audio\\]"'):
        data.load("speech-commands", "test", root=tmp_path, download=False)
    with pytest.raises(ImportError, match='pip install "lattice_lab\\[audio\\]"'):
        data.load("speech-commands", "test", root=tmp_path / "empty", download=True)
    assert not (tmp_path / "cache" / "features").exists()
