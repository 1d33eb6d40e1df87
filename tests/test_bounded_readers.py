"""Issue 29, part A: every file reader refuses what a file only declares before allocating it.

Each hostile case is a small file built in ``tmp_path`` and read in its own process under the
``under_limits`` fixture (tests/conftest.py: RLIMIT_AS 6 GiB, a 60 s kill), which asserts the four
things: peak-memory growth under 1 GiB, an answer within 30 s, a message naming the problem (no
traceback, no MemoryError) and every file unchanged. Files that declare gigabytes stay small on disk:
stride-0 ``expand()`` views, gzip members of zeros concatenated (gzip reads them as one stream), sparse
files. The good path is checked alongside: the same readers load what they loaded before, byte for byte.
"""
from __future__ import annotations

import gzip
import io
import json
import pickle
import pickletools
import struct
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from lattice_lab import checkpoints, data, strict_json
from lattice_lab.data import cache, cifar, idx, speech

SHIPPED = checkpoints.resolve("digits-lstm")
FOUR_TIB = (2 ** 20, 2 ** 20)  # float32: 4 TiB as a tensor, 4 bytes as a stride-0 view
ZEROS_MEMBER = gzip.compress(bytes(16 << 20), compresslevel=9)  # 16 MiB of zeros in about 16 kB


# --------------------------------------------------------------------------- helpers

def payload() -> dict:
    return torch.load(SHIPPED, weights_only=True)


def sealed(content: dict) -> dict:
    """``content`` with the card's sha256s of its tensors (only for tensors that are cheap to hash)."""
    content["card"] = {**content["card"], "sha256": checkpoints.weights_sha256(content["state_dict"]),
                       "masks_sha256": checkpoints.weights_sha256(content["masks"])}
    return content


def save(folder: Path, name: str, content: dict) -> Path:
    path = folder / f"{name}.pt"
    torch.save(content, path)
    return path


def load_source(path: Path, **keywords) -> str:
    arguments = "".join(f", {key}={value!r}" for key, value in keywords.items())
    return f"from lattice_lab import checkpoints\ncheckpoints.load({str(path)!r}{arguments})\n"


def zeros_gz(prefix: bytes, members: int) -> bytes:
    """A gzip file: ``prefix``, then ``members`` x 16 MiB of zeros (about 16 kB each on disk)."""
    return gzip.compress(prefix) + ZEROS_MEMBER * members


def idx_header(*dims: int) -> bytes:
    return bytes([0, 0, 8, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


def mnist_folder(root: Path, images: bytes, labels: bytes, split: str = "test") -> Path:
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    stems = idx.FILES[split]
    (raw / f"{stems[0]}.gz").write_bytes(images)
    (raw / f"{stems[1]}.gz").write_bytes(labels)
    return raw


def mnist_source(root: Path, split: str = "test") -> str:
    return (f"from lattice_lab import data\n"
            f"data.load('mnist', {split!r}, root={str(root)!r}, download=False)\n")


# ============================================================================ checkpoints

def _expanded(content: dict, key: str) -> dict:
    content["state_dict"][key] = torch.zeros(1).expand(*FOUR_TIB)
    content["card"]["sha256"] = "0" * 64  # never computed: hashing would materialise 4 TiB
    return content


def _expanded_to_its_shape(content: dict, key: str) -> dict:
    shape = content["state_dict"][key].shape
    content["state_dict"][key] = torch.zeros(1).expand(*shape)
    return sealed(content)


def _mask_view(content: dict, key: str) -> dict:
    content["masks"] = {key: torch.ones(1).expand(*content["state_dict"][key].shape)}
    return sealed(content)


def _meta(content: dict, key: str) -> dict:
    content["state_dict"][key] = torch.empty(content["state_dict"][key].shape, device="meta")
    content["card"]["sha256"] = "0" * 64
    return content


def _sparse(content: dict, key: str) -> dict:
    content["state_dict"][key] = content["state_dict"][key].to_sparse()
    content["card"]["sha256"] = "0" * 64
    return content


def _dtype(dtype: torch.dtype):
    def make(content: dict, key: str) -> dict:
        content["state_dict"][key] = content["state_dict"][key].to(dtype)
        return sealed(content)
    return make


def _float64_inexact(content: dict, key: str) -> dict:
    content["state_dict"][key] = content["state_dict"][key].double() + 1e-12
    return sealed(content)


KEY = "readout.weight"
HOSTILE_TENSORS = {  # name: (make, words the refusal must hold)
    "a 4 TiB expand() view": (_expanded, ("readout.weight", "view of 4 bytes of storage", "not a tensor of its own")),
    "a stride-0 view of the right shape": (_expanded_to_its_shape, ("readout.weight", "strides (0, 0)")),
    "a stride-0 mask": (_mask_view, ("readout.weight", "'masks'", "not a tensor of its own")),
    "a meta tensor": (_meta, ("readout.weight", "'meta' device")),
    "a sparse tensor": (_sparse, ("readout.weight", "sparse_coo tensor, not a dense one")),
    "int64 weights": (_dtype(torch.int64), ("readout.weight", "dtype torch.int64", "real floating-point")),
    "bool weights": (_dtype(torch.bool), ("dtype torch.bool", "real floating-point")),
    "uint8 weights": (_dtype(torch.uint8), ("dtype torch.uint8", "real floating-point")),
    "complex weights": (_dtype(torch.complex64), ("dtype torch.complex64", "real floating-point")),
    "float64 weights float32 cannot hold": (_float64_inexact, ("readout.weight", "torch.float64", "would be rounded",
                                                               "torch.float32")),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_TENSORS))
def test_a_hostile_tensor_is_refused_before_it_is_hashed_or_copied(tmp_path, under_limits, case):
    make, words = HOSTILE_TENSORS[case]
    path = save(tmp_path, "hostile", make(payload(), KEY))
    assert path.stat().st_size < 200_000
    under_limits.refused(load_source(path), "hostile.pt", *words, files=[path])


def test_the_cli_turns_a_4_tib_view_into_one_line_naming_the_tensor(tmp_path, under_limits):
    path = save(tmp_path, "view", _expanded(payload(), KEY))
    outcome = under_limits.refused(f"from lattice_lab.cli import main\nraise SystemExit(main(['evaluate', "
                                   f"'--checkpoint', {str(path)!r}, '--dataset', 'digits']))\n",
                                   "lattice-lab evaluate: error:", "view.pt", "readout.weight", files=[path])
    assert outcome.returncode == 2 and outcome.stderr.count("\n") == 1


def test_every_tensor_problem_is_named_without_reading_values():
    view = torch.zeros(1).expand(*FOUR_TIB)
    assert checkpoints._tensor_problem(view, mask=False).startswith("is a view of 4 bytes of storage")
    assert checkpoints._tensor_problem(torch.zeros(4)[::2], mask=False).startswith("is a view of 16 bytes")
    assert checkpoints._tensor_problem(torch.zeros(4)[1:], mask=False).startswith("is a view of 16 bytes")
    assert checkpoints._tensor_problem(torch.zeros(2, 3).t(), mask=False).startswith("is a view")
    assert checkpoints._tensor_problem(torch.ones(3, dtype=torch.bool), mask=True) == ""
    assert checkpoints._tensor_problem(torch.ones(3, dtype=torch.bool), mask=False) != ""
    assert checkpoints._tensor_problem(torch.ones(3, dtype=torch.float16), mask=False) == ""


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_weights_stored_in_a_dtype_that_casts_exactly_load_as_the_float32_model(tmp_path, dtype):
    content = payload()
    exact = {key: value.to(dtype).float() for key, value in content["state_dict"].items()}  # representable in dtype
    content["state_dict"] = {key: value.to(dtype) for key, value in exact.items()}
    path = save(tmp_path, "exact", sealed(content))
    model, _ = checkpoints.load(path)
    assert all(value.dtype == torch.float32 for value in model.state_dict().values())
    assert all(torch.equal(model.state_dict()[key], value) for key, value in exact.items())


def test_float64_rounding_is_said_with_the_count_and_the_size_of_the_change(tmp_path):
    content = payload()
    content["state_dict"][KEY] = content["state_dict"][KEY].double()
    content["state_dict"][KEY][0, 0] += 1e-12  # one value that float32 cannot hold
    path = save(tmp_path, "one", sealed(content))
    with pytest.raises(ValueError, match=r"'readout.weight' is torch.float64, and 1 of its 640 values would be "
                                         r"rounded in the model's torch.float32 \(by up to 1e-12\)"):
        checkpoints.load(path)


def test_the_sizes_a_checkpoints_zip_declares_are_checked_against_memory_before_torch_load(monkeypatch):
    import lattice_lab.memory

    monkeypatch.setattr(lattice_lab.memory, "machine_bytes", lambda device="cpu": 1000)
    with pytest.raises(ValueError, match=r"digits-lstm.pt \(its records declare \d+ bytes\) would need about"):
        checkpoints.load("digits-lstm")


def test_shapes_are_checked_before_the_hash(tmp_path):
    content = payload()
    content["state_dict"][KEY] = torch.zeros(3, 3)  # the card's sha256 no longer matches either
    path = save(tmp_path, "shape", content)
    with pytest.raises(ValueError, match=r"readout.weight is \(3, 3\) in the file, \(10, 64\) by the config"):
        checkpoints.load(path)


# ---------------------------------------------------------------------------- cards

def _card_value(value) -> dict:
    content = payload()
    content["card"]["test_accuracy"] = value
    return content


def _deep(levels: int):
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


HOSTILE_CARDS = {
    "a stride-0 tensor as a card value": (lambda: _card_value(torch.zeros(1).expand(*FOUR_TIB)),
                                          ("the card of checkpoint", "holds a Tensor at ['test_accuracy']")),
    "a tensor inside a card": (lambda: _card_value({"nested": [torch.ones(3)]}),
                               ("the card of checkpoint", "holds a Tensor at ['test_accuracy']['nested'][0]")),
    "a tensor inside the config": (lambda: {**payload(), "config": {**payload()["config"],
                                                                     "hidden_size": torch.tensor(32)}},
                                   ("the config of checkpoint", "holds a Tensor at ['hidden_size']")),
    "a card nested 3000 deep": (lambda: _card_value(_deep(3000)), ("the card of checkpoint",
                                                                   "nested more than 64 levels deep")),
    "a 50 MB string in a card": (lambda: _card_value("x" * 50_000_000), ("the card of checkpoint",
                                                                        "more than 4194304 characters")),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_CARDS))
def test_a_card_that_is_not_plain_bounded_json_is_refused_naming_the_file(tmp_path, under_limits, case):
    make, words = HOSTILE_CARDS[case]
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))  # pickling 3000 nested lists recurses
    try:
        path = save(tmp_path, "card", make())
    finally:
        sys.setrecursionlimit(limit)
    outcome = under_limits.refused(load_source(path), str(path), *words, files=[path])
    assert len(outcome.stderr) < 1000  # a 50 MB value is never echoed


def test_a_50_mb_kind_is_quoted_in_80_characters(tmp_path, under_limits):
    content = payload()
    content["config"]["kind"] = "k" * 3_000_000  # within the card limit: reaches the kind check
    path = save(tmp_path, "kind", content)
    outcome = under_limits.refused(load_source(path, expect_kind="lstm"), "'kkkk", "kkk... (3,000,002 characters)",
                                   "expected kind 'lstm'", files=[path])
    assert len(outcome.stderr) < 1000


@pytest.mark.parametrize("sidecar", ["deep", "huge string", "sparse 100 MB"])
def test_a_hostile_sidecar_is_never_parsed_and_is_rewritten_from_the_card(tmp_path, under_limits, sidecar):
    path = tmp_path / "model.pt"
    path.write_bytes(SHIPPED.read_bytes())
    good = SHIPPED.with_suffix(".json").read_text()
    side = path.with_suffix(".json")
    if sidecar == "deep":
        side.write_text("[" * 100_000 + "]" * 100_000)
    elif sidecar == "huge string":
        side.write_text('{"command": "' + "x" * 50_000_000 + '"}')
    else:
        with open(side, "wb") as handle:
            handle.truncate(100 << 20)
    outcome = under_limits(load_source(path))
    assert outcome.returncode == 0 and outcome.stderr == "" and outcome.seconds < 30 and outcome.growth < 1 << 30, \
        outcome
    assert side.read_text() == good


# ============================================================================ JSON files

@pytest.mark.parametrize("levels", [3000, 100_000])
def test_deep_json_is_refused_by_a_scan_before_parsing(tmp_path, under_limits, levels):
    path = tmp_path / "deep.json"
    path.write_text('{"a": ' * levels + "1" + "}" * levels)
    under_limits.refused(f"from lattice_lab import strict_json\nstrict_json.read({str(path)!r})\n",
                         "deep.json", f"nested {levels} levels deep", "refused before parsing", files=[path])
    under_limits.refused(f"from lattice_lab import compare\ncompare.load_rows({str(path)!r})\n",
                         "deep.json", "levels deep", files=[path])


def test_a_json_file_beyond_the_size_limit_is_refused_unread(tmp_path, under_limits):
    path = tmp_path / "rows.json"
    with open(path, "wb") as handle:
        handle.truncate(strict_json.MAX_BYTES + 1)  # sparse: nothing on disk
    under_limits.refused(f"from lattice_lab import compare\ncompare.load_rows({str(path)!r})\n",
                         "rows.json", f"is {strict_json.MAX_BYTES + 1} bytes", "refused before reading", files=[path])


def test_brackets_inside_strings_do_not_count_and_the_good_files_still_parse(tmp_path):
    text = '{"a": "[[[[{{{{\\"]]]]", "b": [[1], {"c": "\\\\"}]}'
    assert strict_json.nesting_depth(text) == 3 and strict_json.loads(text, "x") == json.loads(text)
    for path in sorted(Path(checkpoints._shipped_dir()).glob("*.json")):
        assert strict_json.read(path) == json.loads(path.read_text())
    with pytest.raises(ValueError, match=r"x\.json is not valid JSON: Expecting value \(line 1, column 1\)"):
        strict_json.loads("", "x.json")


# ============================================================================ IDX / gz

def test_an_images_gz_that_inflates_past_its_header_is_refused_after_the_declared_bytes(tmp_path, under_limits):
    images = zeros_gz(idx_header(10000, 28, 28), members=192)  # 3 GiB of zeros after the header
    labels = gzip.compress(idx_header(10000) + bytes(10000))
    raw = mnist_folder(tmp_path, images, labels)
    assert sum(p.stat().st_size for p in raw.iterdir()) < 4 << 20
    under_limits.refused(mnist_source(tmp_path), "t10k-images-idx3-ubyte.gz", "declares 7840000 bytes of data",
                         "it holds more", files=list(raw.iterdir()))


def test_a_labels_gz_that_inflates_past_its_header_is_refused_likewise(tmp_path, under_limits):
    images = gzip.compress(idx_header(10, 28, 28) + bytes(7840))
    labels = zeros_gz(idx_header(10), members=192)
    raw = mnist_folder(tmp_path, images, labels)
    under_limits.refused(mnist_source(tmp_path), "t10k-labels-idx1-ubyte.gz", "declares 10 bytes of data",
                         "it holds more", files=list(raw.iterdir()))


@pytest.mark.parametrize("dims,shown", [((10, 1, 784), "(10, 1, 784)"), ((10, 784), "(10, 784)"),
                                        ((10, 28, 28, 1), "(10, 28, 28, 1)")])
def test_images_of_another_shape_than_mnists_are_refused_unread(tmp_path, under_limits, dims, shown):
    raw = mnist_folder(tmp_path, gzip.compress(idx_header(*dims) + bytes(7840)),
                       gzip.compress(idx_header(10) + bytes(10)))
    under_limits.refused(mnist_source(tmp_path), f"declares the shape {shown}", "MNIST images are N x 28 x 28",
                         files=list(raw.iterdir()))


def test_labels_of_another_shape_are_refused_unread(tmp_path, under_limits):
    raw = mnist_folder(tmp_path, gzip.compress(idx_header(10, 28, 28) + bytes(7840)),
                       gzip.compress(idx_header(10, 1) + bytes(10)))
    under_limits.refused(mnist_source(tmp_path), "declares the shape (10, 1)", "MNIST labels are N",
                         files=list(raw.iterdir()))


def test_a_header_declaring_more_than_the_machine_holds_is_refused_by_check_fits(tmp_path, under_limits):
    raw = mnist_folder(tmp_path, gzip.compress(idx_header(2 ** 32 - 1, 28, 28)),
                       gzip.compress(idx_header(2 ** 32 - 1)))
    under_limits.refused(mnist_source(tmp_path), "declared shape (4294967295, 28, 28)", "refused before allocating",
                         files=list(raw.iterdir()))


@pytest.mark.parametrize("dims", [(2 ** 16,) * 4, (2 ** 32 - 1,) * 3, (2 ** 8,) * 8 + (2,)])
def test_parse_idx_counts_dimensions_past_2_to_the_64_without_wrapping(dims):
    raw = idx_header(*dims)
    implied = len(raw) + int(np.prod([float(d) for d in dims]))  # float: only for the leading digits
    with pytest.raises(ValueError, match=rf"IDX file has {len(raw)} bytes, the header .* implies (\d+)") as error:
        data.parse_idx(raw)
    stated = int(str(error.value).rsplit(" ", 1)[1])
    assert stated == len(raw) + int(np.prod(np.array(dims, dtype=object))) and abs(stated - implied) < implied * 1e-9
    assert stated > 2 ** 64


def test_a_truncated_idx_is_still_refused_as_damaged(tmp_path, under_limits):
    raw = mnist_folder(tmp_path, gzip.compress(idx_header(10, 28, 28) + bytes(7839)),
                       gzip.compress(idx_header(10) + bytes(10)))
    under_limits.refused(mnist_source(tmp_path), "truncated or damaged", "declares 7840 bytes of data, it holds 7839",
                         files=list(raw.iterdir()))


def test_good_idx_files_read_as_before(tmp_path):
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (7, 28, 28), dtype=np.uint8), rng.integers(0, 10, 7, dtype=np.uint8)
    mnist_folder(tmp_path, gzip.compress(idx_header(7, 28, 28) + images.tobytes()),
                 gzip.compress(idx_header(7) + labels.tobytes()))
    path = tmp_path / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz"
    unbounded = data.parse_idx(gzip.decompress(path.read_bytes()))
    assert np.array_equal(idx.read_idx(path, (28, 28), "MNIST images"), unbounded)
    loaded = data.load("mnist", "test", root=tmp_path, download=False)
    assert loaded.targets.tolist() == labels.tolist()


# ============================================================================ CIFAR

def _cifar_env(tmp_path: Path) -> str:
    return f"import os\nos.environ['LATTICE_LAB_CACHE'] = {str(tmp_path / 'cache')!r}\n"


def _cifar_folder(tmp_path: Path, **replaced: bytes) -> Path:
    folder = tmp_path / cifar.FOLDER
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in cifar.BATCHES["train"] + cifar.BATCHES["test"]:
        batch = {b"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), b"labels": [1, 2]}
        (folder / name).write_bytes(replaced.get(name, pickle.dumps(batch)))
    return folder


def _cifar_source(tmp_path: Path, split: str = "test") -> str:
    return _cifar_env(tmp_path) + (f"from lattice_lab import data\n"
                                   f"data.load('cifar10', {split!r}, root={str(tmp_path)!r}, download=False)\n")


def test_a_tar_member_declaring_2_gib_is_refused_by_its_header(tmp_path, under_limits):
    member = tarfile.TarInfo(f"{cifar.FOLDER}/test_batch")
    member.size = 2 << 30
    archive = tmp_path / cifar.ARCHIVE
    archive.write_bytes(zeros_gz(member.tobuf(format=tarfile.GNU_FORMAT), members=129))  # the 2 GiB really follow
    assert archive.stat().st_size < 4 << 20
    under_limits.refused(_cifar_source(tmp_path), cifar.ARCHIVE, f"its member {cifar.FOLDER}/test_batch declares "
                         f"{2 << 30} bytes, more than a batch's {cifar.MAX_BATCH_BYTES}", files=[archive])


def test_a_small_archive_still_extracts_and_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("LATTICE_LAB_CACHE", str(tmp_path / "cache"))
    batch = {b"data": (np.arange(2 * 3072) % 256).astype(np.uint8).reshape(2, 3072), b"labels": [3, 9]}
    with tarfile.open(tmp_path / cifar.ARCHIVE, "w:gz") as tar:
        for name in cifar.BATCHES["train"] + cifar.BATCHES["test"]:
            content = pickle.dumps(batch)
            info = tarfile.TarInfo(f"{cifar.FOLDER}/{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    loaded = data.load("cifar10", "test", root=tmp_path, download=False)
    assert loaded.targets.tolist() == [3, 9] and loaded.inputs.shape == (2, 32, 96)


MEMO = b"\x80\x02]r\x00\x00\x00\x08K\x01a."  # 12 bytes: a list stored at memo index 2**27 (a 2 GiB memo)
HOSTILE_BATCHES = {
    "a memo-inflating pickle": (MEMO, ("test_batch", "memo entry 134217728 at opcode 2")),
    "labels too large for int64": (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [2 ** 70, 1]}),
                                   ("test_batch", "2 integer labels in 0..9")),
    "negative labels": (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [-1, 1]}),
                        ("test_batch", "integer labels in 0..9")),
    "bool labels": (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [True, False]}),
                    ("test_batch", "integer labels in 0..9")),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_BATCHES))
def test_a_hostile_batch_is_refused_before_it_is_built(tmp_path, under_limits, case):
    content, words = HOSTILE_BATCHES[case]
    folder = _cifar_folder(tmp_path, test_batch=content)
    under_limits.refused(_cifar_source(tmp_path), *words, files=list(folder.iterdir()))


def test_the_memo_pickle_is_12_bytes_that_store_at_memo_index_2_to_the_27():
    assert len(MEMO) == 12
    ops = [(op.name, arg) for op, arg, _ in pickletools.genops(MEMO)]
    assert ("LONG_BINPUT", 2 ** 27) in ops


def test_a_batch_file_larger_than_a_batch_is_refused_unread(tmp_path, under_limits):
    folder = _cifar_folder(tmp_path)
    with open(folder / "test_batch", "r+b") as handle:
        handle.truncate(cifar.MAX_BATCH_BYTES + 1)  # sparse
    under_limits.refused(_cifar_source(tmp_path), "test_batch", f"it has {cifar.MAX_BATCH_BYTES + 1} bytes",
                         "refused unread", files=list(folder.iterdir()))


def test_an_oversized_cache_entry_is_not_read_but_extracted_again(tmp_path, monkeypatch):
    monkeypatch.setenv("LATTICE_LAB_CACHE", str(tmp_path / "cache"))
    entry = tmp_path / "entry"
    cache.write_entry(entry, b"12345")
    assert cache.read_entry(entry, max_bytes=5) == b"12345" and cache.read_entry(entry, max_bytes=4) is None


# ============================================================================ speech audio

def _speech_folder(tmp_path: Path, wav: bytes) -> Path:
    folder = tmp_path / "SpeechCommands" / "speech_commands_v0.02"
    (folder / "yes").mkdir(parents=True)
    (folder / "testing_list.txt").write_text("")
    (folder / "validation_list.txt").write_text("")
    (folder / "yes" / "a.wav").write_bytes(wav)
    return folder / "yes" / "a.wav"


def _wav(data_size: int, samples: int = 16) -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 16)
    return (b"RIFF" + struct.pack("<I", 36 + 2 * samples) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
            + b"data" + struct.pack("<I", data_size) + bytes(2 * samples))


def _speech_source(tmp_path: Path) -> str:
    return _cifar_env(tmp_path) + (f"from lattice_lab import data\n"
                                   f"data.load('speech-commands', 'train', root={str(tmp_path)!r}, download=False)\n")


@pytest.mark.parametrize("declared", [2 ** 32 - 2, 2 ** 31, 33])
def test_a_wav_declaring_more_than_it_holds_is_refused_before_allocating(tmp_path, under_limits, declared):
    pytest.importorskip("torchaudio")
    wav = _speech_folder(tmp_path, _wav(declared))
    under_limits.refused(_speech_source(tmp_path), "a.wav", f"'data' chunk declares {declared} bytes",
                         "the file holds 32 after its header", files=[wav])


def test_a_wav_with_a_lying_fmt_chunk_or_no_riff_header_is_refused(tmp_path):
    lying = tmp_path / "fmt.wav"
    lying.write_bytes(_wav(32)[:16] + struct.pack("<I", 2 ** 30) + _wav(32)[20:])
    with pytest.raises(ValueError, match="'fmt ' chunk declares 1073741824 bytes"):
        speech.check_wav(lying)
    other = tmp_path / "other.wav"
    other.write_bytes(b"OggS" + bytes(40))
    with pytest.raises(ValueError, match="is not a wav file"):
        speech.check_wav(other)


def test_a_huge_wav_file_is_refused_unread(tmp_path, under_limits):
    pytest.importorskip("torchaudio")
    wav = _speech_folder(tmp_path, _wav(32))
    with open(wav, "r+b") as handle:
        handle.truncate(speech.MAX_WAV_BYTES + 1)
    under_limits.refused(_speech_source(tmp_path), "a.wav", f"a wav of {speech.MAX_WAV_BYTES + 1} bytes",
                         "refused unread", files=[wav])


def test_a_good_wav_passes_the_check_and_reads_its_samples(tmp_path):
    from scipy.io import wavfile

    path = tmp_path / "good.wav"
    samples = (np.arange(16000) % 200 - 100).astype(np.int16)
    wavfile.write(path, 16000, samples)
    speech.check_wav(path)
    assert np.array_equal(speech._read_wav(path), speech.wav_to_float(samples, path))
