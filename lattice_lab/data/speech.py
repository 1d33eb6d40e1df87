"""Speech Commands v0.02: one second of a spoken keyword as a sequence of MFCC frames.

The 10 keywords yes, no, up, down, left, right, on, off, stop, go, read from
``<root>/SpeechCommands/speech_commands_v0.02/<keyword>/*.wav``. Train = the files in neither
``validation_list.txt`` nor ``testing_list.txt``; test = ``testing_list.txt``. Wavs are padded or
trimmed at the end to 1 s at 16 kHz; 40 MFCCs every 10 ms (101 frames), each coefficient
normalized per utterance to zero mean and unit variance over time (cepstral mean and variance
normalization). The features of a whole split are cached under ``cache_dir() / "features"`` as a
cache entry with a checksum (:mod:`lattice_lab.data.cache`); an entry that fails it, does not
load, or does not hold finite features of the split's shape is computed again from the wavs.

A wav is checked before scipy reads it (:func:`check_wav`): a file larger than
:data:`MAX_WAV_BYTES`, or a chunk whose header declares more bytes than the file holds after it, is
refused by its header alone, since a reader allocates what a header declares.

torchaudio (the package's ``audio`` extra) is imported lazily, only here: without it, loading or
downloading Speech Commands is an ImportError that says ``pip install "lattice_lab[audio]"``.
Must not import anything from the package (except settings, validation and data).

Examples
--------
>>> LABELS[:4], MFCC["n_mfcc"]
(('yes', 'no', 'up', 'down'), 40)
>>> import numpy as np
>>> wav_to_float(np.array([0, 16384, -32768], dtype=np.int16), "example.wav").tolist()
[0.0, 0.5, -1.0]
"""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import torch

from . import cache, folders
from .request import Request
from .sequences import SequenceDataset, selection

__all__ = ["AUDIO_EXTRA", "FOLDER", "LABELS", "MAX_WAV_BYTES", "MFCC", "SOURCE", "check_wav", "download", "find",
           "missing", "read", "torchaudio", "wav_to_float"]

FOLDER = Path("SpeechCommands") / "speech_commands_v0.02"
LABELS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
RATE = 16000
MFCC = {"sample_rate": RATE, "n_mfcc": 40, "melkwargs": {"n_fft": 400, "hop_length": 160, "n_mels": 40}}
_CACHE_VERSION = "2"  # 2: entries carry a checksum (cache.write_entry)
AUDIO_EXTRA = 'pip install "lattice_lab[audio]"'
MAX_WAV_BYTES = 16 * 2 ** 20
"""The largest wav read (16 MiB): a clip is 1 s at 16 kHz (32 kB of 16-bit PCM) and only its first second is used."""


def torchaudio():
    """The torchaudio module, or an ImportError that names the extra to install.

    >>> import sys
    >>> sys.modules["torchaudio"], saved = None, sys.modules.get("torchaudio")  # as if it were not installed
    >>> try:
    ...     torchaudio()
    ... except ImportError as error:
    ...     print(error)
    Speech Commands needs torchaudio, which lattice_lab installs only with its audio extra: pip install "lattice_lab[audio]"
    >>> sys.modules["torchaudio"] = saved
    >>> if saved is None:
    ...     del sys.modules["torchaudio"]
    """
    try:
        import torchaudio as module
    except ImportError as error:
        raise ImportError("Speech Commands needs torchaudio, which lattice_lab installs only with its audio "
                          f"extra: {AUDIO_EXTRA}") from error
    return module


def find(roots: list[Path], split: str) -> Path | None:
    """The first dataset folder that holds both list files (both splits live there), or None."""
    for base in roots:
        folder = base / FOLDER
        if (folder / "testing_list.txt").is_file() and (folder / "validation_list.txt").is_file():
            return folder
    return None


def missing(roots: list[Path], split: str) -> folders.Missing:
    """The list files and keyword folders, to put into the first root's dataset folder."""
    return folders.Missing(
        "Speech Commands v0.02", ["validation_list.txt", "testing_list.txt",
                                  "<label>/<file>.wav for the labels " + ", ".join(LABELS)],
        roots[0] / FOLDER, [r / FOLDER for r in roots])


def download() -> None:
    """Fetch the dataset into the download folder (torchaudio's downloader, from the official source)."""
    datasets = torchaudio().datasets
    target = folders.download_root()
    target.mkdir(parents=True, exist_ok=True)
    datasets.SPEECHCOMMANDS(str(target), url="speech_commands_v0.02", download=True)


SOURCE = folders.FileSource(find=find, missing=missing, download=download)


def _split_files(folder: Path, split: str) -> list[tuple[str, int]]:
    """Sorted (relative path, label) of the keyword wavs of ``split``."""
    def listed(name: str) -> set[str]:
        text = (folder / name).read_text()
        return {line.strip().replace("\\", "/") for line in text.splitlines() if line.strip()}

    testing = listed("testing_list.txt")
    excluded = testing | listed("validation_list.txt")
    files = []
    for label, word in enumerate(LABELS):
        for wav in sorted((folder / word).glob("*.wav")):
            rel = f"{word}/{wav.name}"
            if (rel in testing) if split == "test" else (rel not in excluded):
                files.append((rel, label))
    return files


def wav_to_float(data: np.ndarray, path: Path | str) -> np.ndarray:
    """Integer or float PCM (mono or multichannel) -> mono float32 in [-1, 1]; ``path`` names it in errors."""
    if data.dtype == np.uint8:
        audio = (data.astype(np.float64) - 128.0) / 128.0
    elif data.dtype.kind == "i":
        audio = data.astype(np.float64) / float(np.iinfo(data.dtype).max + 1)
    elif data.dtype.kind == "f":
        audio = data.astype(np.float64)
    else:
        raise ValueError(f"{path}: unsupported wav sample type {data.dtype}")
    return (audio.mean(axis=1) if audio.ndim == 2 else audio).astype(np.float32)


def check_wav(path: Path) -> None:
    """Refuse the wav ``path`` by its headers alone: too large a file, or a chunk declaring more than it holds.

    Walks the RIFF chunks (id and declared size, 8 bytes each) with seeks; reads no samples.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     lying = Path(folder) / "lying.wav"
    ...     _ = lying.write_bytes(b"RIFF" + struct.pack("<I", 36) + b"WAVEdata" + struct.pack("<I", 2 ** 31))
    ...     check_wav(lying)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: .../lying.wav: its 'data' chunk declares 2147483648 bytes, the file holds 0 after its header; ...
    """
    size = os.stat(path).st_size
    if size > MAX_WAV_BYTES:
        raise ValueError(f"{path}: a wav of {size} bytes, more than the {MAX_WAV_BYTES} a one-second clip needs; "
                         "refused unread")
    with open(path, "rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:] != b"WAVE":
            raise ValueError(f"{path} is not a wav file: it does not start with a RIFF/WAVE header")
        order = "<" if head[:4] == b"RIFF" else ">"
        offset = 12
        while offset + 8 <= size:
            handle.seek(offset)
            name, length = struct.unpack(f"{order}4sI", handle.read(8))
            if length > size - offset - 8:
                raise ValueError(f"{path}: its {name.decode('latin-1')!r} chunk declares {length} bytes, the file "
                                 f"holds {size - offset - 8} after its header; refused before reading it")
            offset += 8 + length + (length & 1)


def _read_wav(path: Path) -> np.ndarray:
    """One second of mono audio at 16 kHz (zero-padded or trimmed at the end); its headers checked first."""
    from scipy.io import wavfile

    check_wav(path)
    rate, data = wavfile.read(path)
    if rate != RATE:
        raise ValueError(f"{path}: sample rate {rate} Hz, expected {RATE} Hz")
    audio = wav_to_float(data[:RATE], path)
    return np.pad(audio, (0, RATE - len(audio)))


def _mfcc_features(folder: Path, files: list[tuple[str, int]]) -> torch.Tensor:
    """(N, 101, 40) MFCC frames, normalized per utterance and coefficient."""
    mfcc = torchaudio().transforms.MFCC(**MFCC)
    chunks = []
    for start in range(0, len(files), 1024):
        audio = np.stack([_read_wav(folder / rel) for rel, _ in files[start:start + 1024]])
        with torch.no_grad():
            feats = mfcc(torch.from_numpy(audio)).transpose(1, 2)
        mean = feats.mean(dim=1, keepdim=True)
        std = feats.std(dim=1, keepdim=True)
        chunks.append(((feats - mean) / (std + 1e-5)).float())
    return torch.cat(chunks) if chunks else torch.zeros(0, 101, MFCC["n_mfcc"])


def _cache_entry(folder: Path, split: str, files: list[tuple[str, int]]) -> Path:
    """The cache file of a split's features, named by the folder, the MFCC settings and every wav's size and mtime."""
    digest = hashlib.sha256(f"{_CACHE_VERSION}|{folder.resolve()}|{split}|{MFCC}".encode())
    for rel, label in files:
        stat = (folder / rel).stat()
        digest.update(f"{rel}|{label}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return folders.cache_dir() / "features" / f"speech-commands-{split}-{digest.hexdigest()[:16]}.pt"


def _entry_bytes(n: int) -> int:
    """The most bytes a cache entry of ``n`` clips' features may have: their float32 values, 1 MiB for the zip."""
    return 4 * n * 101 * MFCC["n_mfcc"] + 2 ** 20


def _from_entry(content: bytes | None, n: int) -> torch.Tensor | None:
    """The features in a cache entry's content, if they load and are finite float32 of shape (n, 101, 40)."""
    if content is None:
        return None
    try:
        feats = torch.load(io.BytesIO(content), weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, KeyError):
        return None
    expected = (n, 101, MFCC["n_mfcc"])
    if not isinstance(feats, torch.Tensor) or feats.dtype != torch.float32 or tuple(feats.shape) != expected \
            or not bool(torch.isfinite(feats).all()):
        return None
    return feats


def _cached_features(folder: Path, split: str, files: list[tuple[str, int]]) -> torch.Tensor:
    """MFCCs of a whole split, read from / written to the cache (writing is best effort)."""
    entry = _cache_entry(folder, split, files)
    feats = _from_entry(cache.read_entry(entry, _entry_bytes(len(files))), len(files))
    if feats is not None:
        return feats
    feats = _mfcc_features(folder, files)  # missing, or failed its checksum or checks: rebuilt
    buffer = io.BytesIO()
    torch.save(feats, buffer)
    try:
        cache.write_entry(entry, buffer.getvalue())
    except OSError:
        pass  # an unwritable cache only costs speed next time
    return feats


def read(request: Request) -> SequenceDataset:
    """The split of the dataset folder ``request.location`` as MFCC frames (a subset is never cached)."""
    torchaudio()  # the audio extra, or an ImportError that names it
    folder = request.location
    files = _split_files(folder, request.split)
    if not files:
        raise FileNotFoundError(f"no {request.split} wav files of the labels {', '.join(LABELS)} "
                                f"under {folder}")
    index = selection(len(files), request.subset, request.split, request.seed)
    if index is None:
        feats = _cached_features(folder, request.split, files)
    else:
        files = [files[i] for i in index]
        feats = _mfcc_features(folder, files)
    targets = torch.tensor([label for _, label in files], dtype=torch.int64)
    return SequenceDataset(feats, targets, name=request.name, split=request.split,
                           num_classes=len(LABELS), layout="rows", source=str(folder),
                           classes=LABELS)
