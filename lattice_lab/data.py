"""Datasets as sequences for RNN sequence classifiers.

One entry point, :func:`load`, turns every dataset the course uses into a
:class:`SequenceDataset`: float32 inputs of shape ``(N, T, F)`` (``T`` time steps of
``F`` features) and int64 class targets of shape ``(N,)``.

============== ===================================== ==========================
name           what one sequence is                  files
============== ===================================== ==========================
digits         8x8 image: 8 rows of 8 pixels         none (ships with sklearn)
mnist          28x28 image: rows (28x28) or pixels   ``MNIST/raw/*.gz``
               (784x1)
fashion-mnist  as mnist                              ``FashionMNIST/raw/*.gz``
cifar10        32x32x3 image: rows (32x96) or        ``cifar-10-python.tar.gz``
               pixels (1024x3)                       or ``cifar-10-batches-py/``
speech-commands 1 s of audio: 101 MFCC frames x 40   ``SpeechCommands/...``
adding         synthetic adding problem (T x 2)      none
parity         synthetic bit parity (T x 1)          none
============== ===================================== ==========================

``digits`` is the offline default: it never needs a file or the network.

Where data comes from
---------------------
Files are looked up under the data root (:func:`data_root`: the ``root`` argument,
else ``$LATTICE_LAB_DATA``, else ``<cache>/data``) and then under ``<cache>/data``.
A folder that holds the original files is used strictly read-only: this module
never writes, extracts or converts anything there. Everything written (downloads,
the extracted CIFAR-10 archive, cached MFCC features) goes to :func:`cache_dir`
(``$LATTICE_LAB_CACHE``, else ``~/.cache/lattice_lab``). When files are missing and
``download=True``, torchvision/torchaudio fetch them into ``<cache>/data``; when
that fails or ``download=False``, a ``FileNotFoundError`` says which files to put
in which folder.

Fast mode (``LATTICE_LAB_FAST=1``, see :func:`lattice_lab.settings.fast`): when
``subset`` is None, mnist, fashion-mnist, cifar10 and speech-commands are capped at
2000 train / 1000 test samples (a seeded random subset), and the synthetic tasks
default to ``n=1000`` train / ``500`` test. ``digits`` is never capped.

This module must not import torchvision or torchaudio at module level (they are
imported lazily, only to download or compute MFCCs), and must not import any other
``lattice_lab`` module except :mod:`lattice_lab.settings`.

Examples
--------
>>> from lattice_lab import data
>>> train = data.load("digits")
>>> train.inputs.shape, train.num_classes
(torch.Size([1437, 8, 8]), 10)
>>> x, y = train[0]
>>> x.shape, y.dtype
(torch.Size([8, 8]), torch.int64)
"""
from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

from lattice_lab.settings import fast

__all__ = [
    "DATASETS",
    "LAYOUTS",
    "SPLITS",
    "SequenceDataset",
    "available",
    "cache_dir",
    "data_root",
    "load",
    "loader",
    "parse_idx",
]

DATASETS: tuple[str, ...] = (
    "digits",
    "mnist",
    "fashion-mnist",
    "cifar10",
    "speech-commands",
    "adding",
    "parity",
)
SPLITS: tuple[str, ...] = ("train", "test")
LAYOUTS: tuple[str, ...] = ("rows", "pixels")

_IMAGE_DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10")
_SYNTHETIC = ("adding", "parity")
_FAST_CAP = {"train": 2000, "test": 1000}
_SYNTHETIC_N = {"train": 5000, "test": 1000}
_SYNTHETIC_N_FAST = {"train": 1000, "test": 500}
_SYNTHETIC_LENGTH = {"adding": 50, "parity": 20}

_IDX = {
    "mnist": {
        "folder": "MNIST",
        "mean": 0.1307,
        "std": 0.3081,
        "classes": tuple(str(d) for d in range(10)),
    },
    "fashion-mnist": {
        "folder": "FashionMNIST",
        "mean": 0.2860,
        "std": 0.3530,
        "classes": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    },
}
_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

_CIFAR_FOLDER = "cifar-10-batches-py"
_CIFAR_ARCHIVE = "cifar-10-python.tar.gz"
_CIFAR_BATCHES = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
_CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
_CIFAR_STD = (0.2470, 0.2435, 0.2616)
_CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                  "dog", "frog", "horse", "ship", "truck")

_SPEECH_FOLDER = Path("SpeechCommands") / "speech_commands_v0.02"
_SPEECH_LABELS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
_SPEECH_RATE = 16000
_SPEECH_MFCC = {"sample_rate": _SPEECH_RATE, "n_mfcc": 40,
                "melkwargs": {"n_fft": 400, "hop_length": 160, "n_mels": 40}}
_SPEECH_CACHE_VERSION = "1"


@dataclass(eq=False, repr=False)
class SequenceDataset(Dataset):
    """A labelled set of equal-length sequences, ready for an RNN classifier.

    Parameters
    ----------
    inputs : torch.Tensor
        float32, shape ``(N, T, F)``: N sequences of T steps with F features.
    targets : torch.Tensor
        int64, shape ``(N,)``, values in ``0 .. num_classes - 1``.
    name, split, layout : str
        Which dataset, split and layout this is (see :func:`load`).
    num_classes : int
        Number of classes.
    source : str
        Where the data came from (a path read, or a description).
    classes : tuple of str
        Human-readable class names, ``len(classes) == num_classes``.

    Examples
    --------
    >>> import torch
    >>> ds = SequenceDataset(torch.zeros(4, 3, 2), torch.tensor([0, 1, 0, 1]), name="toy",
    ...                      split="train", num_classes=2, layout="rows", source="zeros")
    >>> len(ds), ds.seq_len, ds.input_size
    (4, 3, 2)
    >>> len(ds.subset(2, seed=1))
    2
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    name: str
    split: str
    num_classes: int
    layout: str
    source: str
    classes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.inputs, torch.Tensor) or self.inputs.dtype != torch.float32 \
                or self.inputs.dim() != 3:
            raise TypeError(f"inputs must be a float32 tensor of shape (N, T, F), got "
                            f"{type(self.inputs).__name__} {getattr(self.inputs, 'dtype', '')} "
                            f"{tuple(getattr(self.inputs, 'shape', ()))}")
        if not isinstance(self.targets, torch.Tensor) or self.targets.dtype != torch.int64 \
                or self.targets.shape != self.inputs.shape[:1]:
            raise TypeError(f"targets must be an int64 tensor of shape ({self.inputs.shape[0]},), "
                            f"got {getattr(self.targets, 'dtype', type(self.targets).__name__)} "
                            f"{tuple(getattr(self.targets, 'shape', ()))}")
        if self.num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {self.num_classes}")
        if len(self.targets) and not (0 <= int(self.targets.min())
                                      and int(self.targets.max()) < self.num_classes):
            raise ValueError(f"targets must lie in 0..{self.num_classes - 1}, got range "
                             f"{int(self.targets.min())}..{int(self.targets.max())}")
        if not self.classes:
            self.classes = tuple(str(c) for c in range(self.num_classes))
        if len(self.classes) != self.num_classes:
            raise ValueError(f"classes must have num_classes={self.num_classes} names, "
                             f"got {len(self.classes)}")

    @property
    def seq_len(self) -> int:
        """Number of time steps T."""
        return int(self.inputs.shape[1])

    @property
    def input_size(self) -> int:
        """Number of features per step F."""
        return int(self.inputs.shape[2])

    def __len__(self) -> int:
        return int(self.inputs.shape[0])

    def __getitem__(self, index):
        """Return ``(x, y)``; ``index`` may be an int, a slice or a list/tensor of indices."""
        return self.inputs[index], self.targets[index]

    def __repr__(self) -> str:
        return (f"SequenceDataset(name={self.name!r}, split={self.split!r}, n={len(self)}, "
                f"seq_len={self.seq_len}, input_size={self.input_size}, "
                f"num_classes={self.num_classes}, layout={self.layout!r}, source={self.source!r})")

    def subset(self, n: int, seed: int = 0) -> SequenceDataset:
        """Return a new dataset with a seeded random subset of ``n`` samples (original order kept).

        Parameters
        ----------
        n : int
            Number of samples, ``1 <= n <= len(self)``.
        seed : int
            Seed of the random choice.

        Examples
        --------
        >>> ds = load("digits", "test")
        >>> small = ds.subset(10, seed=0)
        >>> len(small), small.seq_len
        (10, 8)
        """
        index = _choose(len(self), n, seed, what="n")
        return SequenceDataset(self.inputs[index], self.targets[index], name=self.name,
                               split=self.split, num_classes=self.num_classes,
                               layout=self.layout, source=self.source, classes=self.classes)


# --------------------------------------------------------------------------- folders

def cache_dir() -> Path:
    """The folder for everything this package writes.

    ``$LATTICE_LAB_CACHE`` if set, else ``~/.cache/lattice_lab``.

    Examples
    --------
    >>> isinstance(cache_dir(), Path)
    True
    """
    env = os.environ.get("LATTICE_LAB_CACHE", "").strip()
    return Path(env).expanduser() if env else Path.home() / ".cache" / "lattice_lab"


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data folder.

    ``root`` if given, else ``$LATTICE_LAB_DATA``, else ``cache_dir() / "data"``.

    Examples
    --------
    >>> str(data_root("/some/folder"))
    '/some/folder'
    """
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("LATTICE_LAB_DATA", "").strip()
    return Path(env).expanduser() if env else _download_root()


def _download_root() -> Path:
    return cache_dir() / "data"


def _search_roots(root: str | os.PathLike | None) -> list[Path]:
    roots = [data_root(root)]
    if _download_root() not in roots:
        roots.append(_download_root())
    return roots


# --------------------------------------------------------------------------- validation

def _check_choice(param: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{param} must be one of {', '.join(map(repr, allowed))}; got {value!r}")


def _check_int(param: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{param} must be an int, got {type(value).__name__} {value!r}")
    if value < low:
        raise ValueError(f"{param} must be >= {low}, got {value}")
    return int(value)


def _choose(total: int, n: int, seed: int, *, what: str) -> np.ndarray:
    """Sorted indices of a seeded random subset of ``n`` out of ``total``."""
    n = _check_int(what, n, 1)
    if n > total:
        raise ValueError(f"{what}={n} is larger than the {total} samples available")
    generator = torch.Generator().manual_seed(int(seed))
    return np.sort(torch.randperm(total, generator=generator)[:n].numpy())


def _selection(total: int, subset: int | None, split: str, seed: int) -> np.ndarray | None:
    """Indices to keep: ``subset`` if given, else the fast-mode cap, else None (all)."""
    if subset is not None:
        return _choose(total, subset, seed, what="subset")
    if fast() and total > _FAST_CAP[split]:
        return _choose(total, _FAST_CAP[split], seed, what="subset")
    return None


# --------------------------------------------------------------------------- entry point

def load(name: str, split: str = "train", *, layout: str = "rows",
         root: str | os.PathLike | None = None, subset: int | None = None,
         download: bool = True, seed: int = 0, length: int | None = None,
         n: int | None = None) -> SequenceDataset:
    """Load a dataset as sequences ``(N, T, F)`` with integer class targets.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`: ``"digits"``, ``"mnist"``, ``"fashion-mnist"``, ``"cifar10"``,
        ``"speech-commands"``, ``"adding"``, ``"parity"``.
    split : {"train", "test"}
        Which split.
    layout : {"rows", "pixels"}
        Image datasets only: ``"rows"`` reads an image row by row (one step per row),
        ``"pixels"`` pixel by pixel (one step per pixel). Other datasets accept only ``"rows"``.
    root : path, optional
        Data folder (default :func:`data_root`). Used read-only.
    subset : int, optional
        Keep a seeded random subset of this size (original order kept). When None and fast
        mode is on, real datasets are capped at 2000 train / 1000 test samples.
    download : bool
        When files are missing, try to download them into ``cache_dir() / "data"``.
    seed : int
        Seed of the subset choice and of the synthetic tasks (the test split of a synthetic
        task uses a stream derived from ``seed`` that differs from the train one).
    length : int, optional
        Synthetic tasks only: sequence length (default 50 for adding, 20 for parity).
    n : int, optional
        Synthetic tasks only: number of samples (default 5000 train / 1000 test;
        1000 / 500 in fast mode).

    Returns
    -------
    SequenceDataset

    Notes
    -----
    - ``digits``: scikit-learn's 8x8 digits, pixel/16, standardized with the train set's mean
      and standard deviation (one scalar each); split 1437/360 by
      ``train_test_split(test_size=0.2, random_state=0, stratify=y)``, independent of ``seed``.
    - ``mnist`` / ``fashion-mnist``: pixel/255, then ``(x - mean) / std`` with the usual
      constants (0.1307/0.3081 and 0.2860/0.3530). IDX files parsed with numpy + gzip.
    - ``cifar10``: pixel/255 normalized per channel; a row step holds 32 pixels x 3 channels
      (R, G, B interleaved per pixel). Reads pickled batches (a trusted archive).
    - ``speech-commands``: the 10 keywords yes, no, up, down, left, right, on, off, stop, go;
      wavs padded/trimmed to 1 s at 16 kHz; 40 MFCCs every 10 ms (101 frames), each
      coefficient normalized per utterance to zero mean and unit variance over time
      (cepstral mean and variance normalization). Train = files in neither
      ``validation_list.txt`` nor ``testing_list.txt``; test = ``testing_list.txt``.
      Features of a whole split are cached under ``cache_dir() / "features"``.
    - ``adding``: T steps x 2 features (a value in [0, 1) and a 0/1 marker set on exactly two
      steps). The adding problem is a regression on the sum of the two marked values; for a
      classifier it is binarized here: target 1 if the sum exceeds 1.0, else 0.
    - ``parity``: T steps x 1 feature of 0/1 bits; target = XOR of all bits.

    Examples
    --------
    >>> ds = load("parity", length=8, n=100, seed=3)
    >>> ds.inputs.shape, ds.num_classes
    (torch.Size([100, 8, 1]), 2)
    >>> bool((ds.inputs.sum(dim=(1, 2)).long() % 2 == ds.targets).all())
    True
    >>> load("adding", "test", n=10).inputs.shape
    torch.Size([10, 50, 2])
    """
    _check_choice("name", name, DATASETS)
    _check_choice("split", split, SPLITS)
    _check_choice("layout", layout, LAYOUTS)
    if name not in _IMAGE_DATASETS and layout != "rows":
        raise ValueError(f"layout={layout!r} applies only to the image datasets "
                         f"{', '.join(_IMAGE_DATASETS)}; {name!r} allows only 'rows'")
    _check_int("seed", seed, 0)
    if subset is not None:
        _check_int("subset", subset, 1)
    if name not in _SYNTHETIC and (length is not None or n is not None):
        raise ValueError(f"length and n apply only to the synthetic tasks "
                         f"{', '.join(_SYNTHETIC)}; got length={length!r}, n={n!r} for {name!r}")
    if name == "digits":
        return _load_digits(split, layout, subset, seed)
    if name in _IDX:
        return _load_idx(name, split, layout, root, subset, download, seed)
    if name == "cifar10":
        return _load_cifar10(split, layout, root, subset, download, seed)
    if name == "speech-commands":
        return _load_speech_commands(split, root, subset, download, seed)
    return _load_synthetic(name, split, length, n, subset, seed)


def available(name: str, root: str | os.PathLike | None = None) -> bool:
    """Whether ``name`` can be loaded now without the network.

    Examples
    --------
    >>> available("digits"), available("parity")
    (True, True)
    """
    _check_choice("name", name, DATASETS)
    if name in ("digits",) + _SYNTHETIC:
        return True
    roots = _search_roots(root)
    if name in _IDX:
        return all(_find_idx_dir(name, split, roots) is not None for split in SPLITS)
    if name == "cifar10":
        return _find_cifar(roots) is not None
    return _find_speech(roots) is not None


def loader(dataset: SequenceDataset, batch_size: int = 128, shuffle: bool = False,
           seed: int = 0) -> DataLoader:
    """A DataLoader yielding batches ``(x, y)`` of shape ``(B, T, F)`` and ``(B,)``.

    Batches are sliced from the tensors in one step (no per-sample collation), in a single
    process; with ``shuffle=True`` the order comes from a generator seeded with ``seed``
    (each pass over the loader draws a new, reproducible permutation).

    Examples
    --------
    >>> ds = load("parity", n=10, length=4)
    >>> [tuple(x.shape) for x, y in loader(ds, batch_size=4)]
    [(4, 4, 1), (4, 4, 1), (2, 4, 1)]
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(f"dataset must be a torch Dataset, got {type(dataset).__name__}")
    _check_int("batch_size", batch_size, 1)
    _check_int("seed", seed, 0)
    if shuffle:
        sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(int(seed)))
    else:
        sampler = SequentialSampler(dataset)
    batches = BatchSampler(sampler, batch_size=int(batch_size), drop_last=False)
    return DataLoader(dataset, sampler=batches, batch_size=None, num_workers=0)


# --------------------------------------------------------------------------- digits

def _image_layout(images: np.ndarray, layout: str) -> np.ndarray:
    """(N, H, W[, C]) -> (N, H, W*C) for rows or (N, H*W, C) for pixels."""
    n, h, w = images.shape[:3]
    c = images.shape[3] if images.ndim == 4 else 1
    if layout == "rows":
        return images.reshape(n, h, w * c)
    return images.reshape(n, h * w, c)


def _load_digits(split: str, layout: str, subset: int | None, seed: int) -> SequenceDataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = bunch.data.astype(np.float32) / 16.0
    y = bunch.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, random_state=0, stratify=y)
    mean, std = x_train.mean(), x_train.std()
    x, y = (x_train, y_train) if split == "train" else (x_test, y_test)
    if subset is not None:
        index = _choose(len(y), subset, seed, what="subset")
        x, y = x[index], y[index]
    x = _image_layout(((x - mean) / std).reshape(-1, 8, 8), layout)
    return SequenceDataset(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)),
                           torch.from_numpy(y), name="digits", split=split, num_classes=10,
                           layout=layout, source="scikit-learn bundled digits (load_digits)")


# --------------------------------------------------------------------------- MNIST / Fashion

def parse_idx(data: bytes) -> np.ndarray:
    """Parse an (uncompressed) IDX file of unsigned bytes into a uint8 array.

    IDX (LeCun's MNIST format): two zero bytes, a type byte (0x08 = unsigned byte), the number
    of dimensions, each dimension as a big-endian uint32, then the data. Labels have magic
    2049 (1 dimension), images 2051 (3 dimensions).

    Examples
    --------
    >>> import numpy as np
    >>> raw = bytes([0, 0, 8, 1]) + (3).to_bytes(4, "big") + bytes([7, 2, 1])
    >>> parse_idx(raw)
    array([7, 2, 1], dtype=uint8)
    """
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError("not an IDX file: it must start with two zero bytes")
    if data[2] != 0x08:
        raise ValueError(f"IDX type byte must be 0x08 (unsigned byte), got {data[2]:#04x}")
    ndim = data[3]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(data) != expected:
        raise ValueError(f"IDX file has {len(data)} bytes, the header {dims} implies {expected}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _idx_path(raw_dir: Path, stem: str) -> Path | None:
    for candidate in (raw_dir / f"{stem}.gz", raw_dir / stem):
        if candidate.is_file():
            return candidate
    return None


def _find_idx_dir(name: str, split: str, roots: list[Path]) -> Path | None:
    for base in roots:
        raw_dir = base / _IDX[name]["folder"] / "raw"
        if all(_idx_path(raw_dir, stem) is not None for stem in _IDX_FILES[split]):
            return raw_dir
    return None


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        return parse_idx(handle.read())


def _missing_message(what: str, files: list[str], folder: Path, searched: list[Path],
                     download: bool) -> str:
    how = ("download=False was given" if not download
           else "downloading them failed (offline?)")
    return (f"{what} not found and {how}. Put these files:\n  "
            + "\n  ".join(files)
            + f"\ninto the folder\n  {folder}\n"
            + "(searched: " + ", ".join(str(p) for p in searched) + ").\n"
            + "Either pass root=<folder that holds them>, or set the environment variable "
            + "LATTICE_LAB_DATA to it, or call with download=True when online (files go to "
            + f"{_download_root()}). To work offline without any files, use "
            + "load('digits'): it ships with scikit-learn.")


def _download_torchvision(cls_name: str) -> None:
    import torchvision.datasets

    target = _download_root()
    target.mkdir(parents=True, exist_ok=True)
    cls = getattr(torchvision.datasets, cls_name)
    for train in (True, False):
        cls(str(target), train=train, download=True)


def _locate(find, download: bool, fetch, error: str):
    """``find()``; if nothing is found and ``download``, ``fetch()`` then ``find()`` again."""
    found = find()
    if found is None and download:
        try:
            fetch()
        except Exception as exc:  # network, checksum, missing optional backend...
            raise FileNotFoundError(error) from exc
        found = find()
    if found is None:
        raise FileNotFoundError(error)
    return found


def _load_idx(name: str, split: str, layout: str, root, subset: int | None, download: bool,
              seed: int) -> SequenceDataset:
    info = _IDX[name]
    roots = _search_roots(root)
    folder = roots[0] / info["folder"] / "raw"
    missing = [f"{stem}.gz" for stem in _IDX_FILES[split] if _idx_path(folder, stem) is None]
    error = _missing_message(f"{name} {split} files", missing, folder, [
        r / info["folder"] / "raw" for r in roots], download)
    raw_dir = _locate(lambda: _find_idx_dir(name, split, roots), download,
                      lambda: _download_torchvision(info["folder"]), error)
    image_path, label_path = (_idx_path(raw_dir, stem) for stem in _IDX_FILES[split])
    images, labels = _read_idx(image_path), _read_idx(label_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"{image_path} and {label_path} disagree: images {images.shape}, "
                         f"labels {labels.shape}")
    index = _selection(len(labels), subset, split, seed)
    if index is not None:
        images, labels = images[index], labels[index]
    x = torch.from_numpy(_image_layout(images, layout).astype(np.float32))
    x = x.div_(255.0).sub_(info["mean"]).div_(info["std"])
    return SequenceDataset(x, torch.from_numpy(labels.astype(np.int64)), name=name, split=split,
                           num_classes=10, layout=layout, source=str(image_path),
                           classes=info["classes"])


# --------------------------------------------------------------------------- CIFAR-10

def _file_key(path: Path) -> str:
    stat = path.stat()
    text = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _cifar_complete(folder: Path) -> bool:
    names = _CIFAR_BATCHES["train"] + _CIFAR_BATCHES["test"]
    return all((folder / name).is_file() for name in names)


def _extracted_cifar(archive: Path) -> Path:
    """Extract the batches of ``archive`` once into the cache (never next to the archive)."""
    target = cache_dir() / "extracted" / f"cifar10-{_file_key(archive)}" / _CIFAR_FOLDER
    if _cifar_complete(target):
        return target
    target.mkdir(parents=True, exist_ok=True)
    wanted = set(_CIFAR_BATCHES["train"] + _CIFAR_BATCHES["test"] + ("batches.meta",))
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            base = Path(member.name).name
            in_folder = Path(member.name).parent.name == _CIFAR_FOLDER
            if member.isfile() and base in wanted and in_folder:
                tmp = target / f"{base}.part"
                with tar.extractfile(member) as src, open(tmp, "wb") as dst:
                    dst.write(src.read())
                os.replace(tmp, target / base)
    if not _cifar_complete(target):
        raise ValueError(f"{archive} does not contain the CIFAR-10 batches "
                         f"{', '.join(sorted(wanted))} under {_CIFAR_FOLDER}/")
    return target


def _find_cifar(roots: list[Path]) -> tuple[Path, str] | None:
    """(path, kind) of the first extracted folder or archive found; kind is 'folder'/'archive'."""
    for base in roots:
        if _cifar_complete(base / _CIFAR_FOLDER):
            return base / _CIFAR_FOLDER, "folder"
        if (base / _CIFAR_ARCHIVE).is_file():
            return base / _CIFAR_ARCHIVE, "archive"
    return None


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with open(path, "rb") as handle:
        batch = pickle.load(handle, encoding="bytes")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise ValueError(f"{path} is not a CIFAR-10 batch: it has no 'data' and 'labels'")
    images = np.asarray(data, dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, np.asarray(labels, dtype=np.int64)


def _load_cifar10(split: str, layout: str, root, subset: int | None, download: bool,
                  seed: int) -> SequenceDataset:
    roots = _search_roots(root)
    error = _missing_message(
        "CIFAR-10 files", [_CIFAR_ARCHIVE + f"  (or the extracted folder {_CIFAR_FOLDER}/)"],
        roots[0], roots, download)
    path, kind = _locate(lambda: _find_cifar(roots), download,
                         lambda: _download_torchvision("CIFAR10"), error)
    folder = _extracted_cifar(path) if kind == "archive" else path
    parts = [_read_cifar_batch(folder / name) for name in _CIFAR_BATCHES[split]]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    index = _selection(len(labels), subset, split, seed)
    if index is not None:
        images, labels = images[index], labels[index]
    x = torch.from_numpy(np.ascontiguousarray(images)).float().div_(255.0)
    x = (x - torch.tensor(_CIFAR_MEAN)) / torch.tensor(_CIFAR_STD)
    x = torch.from_numpy(_image_layout(x.numpy(), layout))
    return SequenceDataset(x, torch.from_numpy(labels), name="cifar10", split=split,
                           num_classes=10, layout=layout, source=str(path),
                           classes=_CIFAR_CLASSES)


# --------------------------------------------------------------------------- Speech Commands

def _find_speech(roots: list[Path]) -> Path | None:
    for base in roots:
        folder = base / _SPEECH_FOLDER
        if (folder / "testing_list.txt").is_file() and (folder / "validation_list.txt").is_file():
            return folder
    return None


def _download_speech() -> None:
    import torchaudio.datasets

    target = _download_root()
    target.mkdir(parents=True, exist_ok=True)
    torchaudio.datasets.SPEECHCOMMANDS(str(target), url="speech_commands_v0.02", download=True)


def _speech_files(folder: Path, split: str) -> list[tuple[str, int]]:
    """Sorted (relative path, label) of the keyword wavs of ``split``."""
    def listed(name: str) -> set[str]:
        text = (folder / name).read_text()
        return {line.strip().replace("\\", "/") for line in text.splitlines() if line.strip()}

    testing = listed("testing_list.txt")
    excluded = testing | listed("validation_list.txt")
    files = []
    for label, word in enumerate(_SPEECH_LABELS):
        for wav in sorted((folder / word).glob("*.wav")):
            rel = f"{word}/{wav.name}"
            if (rel in testing) if split == "test" else (rel not in excluded):
                files.append((rel, label))
    return files


def _wav_to_float(data: np.ndarray, path: Path) -> np.ndarray:
    """Integer or float PCM (mono or multichannel) -> mono float32 in [-1, 1]."""
    if data.dtype == np.uint8:
        audio = (data.astype(np.float64) - 128.0) / 128.0
    elif data.dtype.kind == "i":
        audio = data.astype(np.float64) / float(np.iinfo(data.dtype).max + 1)
    elif data.dtype.kind == "f":
        audio = data.astype(np.float64)
    else:
        raise ValueError(f"{path}: unsupported wav sample type {data.dtype}")
    return (audio.mean(axis=1) if audio.ndim == 2 else audio).astype(np.float32)


def _read_wav(path: Path) -> np.ndarray:
    """One second of mono audio at 16 kHz (zero-padded or trimmed at the end)."""
    from scipy.io import wavfile

    rate, data = wavfile.read(path)
    if rate != _SPEECH_RATE:
        raise ValueError(f"{path}: sample rate {rate} Hz, expected {_SPEECH_RATE} Hz")
    audio = _wav_to_float(data, path)[:_SPEECH_RATE]
    return np.pad(audio, (0, _SPEECH_RATE - len(audio)))


def _mfcc_features(folder: Path, files: list[tuple[str, int]]) -> torch.Tensor:
    """(N, 101, 40) MFCC frames, normalized per utterance and coefficient."""
    import torchaudio

    mfcc = torchaudio.transforms.MFCC(**_SPEECH_MFCC)
    chunks = []
    for start in range(0, len(files), 1024):
        audio = np.stack([_read_wav(folder / rel) for rel, _ in files[start:start + 1024]])
        with torch.no_grad():
            feats = mfcc(torch.from_numpy(audio)).transpose(1, 2)
        mean = feats.mean(dim=1, keepdim=True)
        std = feats.std(dim=1, keepdim=True)
        chunks.append(((feats - mean) / (std + 1e-5)).float())
    return torch.cat(chunks) if chunks else torch.zeros(0, 101, _SPEECH_MFCC["n_mfcc"])


def _speech_cache_path(folder: Path, split: str, files: list[tuple[str, int]]) -> Path:
    digest = hashlib.sha256(f"{_SPEECH_CACHE_VERSION}|{folder.resolve()}|{split}|"
                            f"{_SPEECH_MFCC}".encode())
    for rel, label in files:
        stat = (folder / rel).stat()
        digest.update(f"{rel}|{label}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return cache_dir() / "features" / f"speech-commands-{split}-{digest.hexdigest()[:16]}.pt"


def _cached_features(folder: Path, split: str, files: list[tuple[str, int]]) -> torch.Tensor:
    """MFCCs of a whole split, read from / written to the cache (writing is best effort)."""
    path = _speech_cache_path(folder, split, files)
    if path.is_file():
        return torch.load(path, weights_only=True)
    feats = _mfcc_features(folder, files)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        torch.save(feats, tmp)
        os.replace(tmp, path)
    except OSError:
        pass  # an unwritable cache only costs speed next time
    return feats


def _load_speech_commands(split: str, root, subset: int | None, download: bool,
                          seed: int) -> SequenceDataset:
    roots = _search_roots(root)
    error = _missing_message(
        "Speech Commands v0.02", ["validation_list.txt", "testing_list.txt",
                                  "<label>/<file>.wav for the labels " + ", ".join(_SPEECH_LABELS)],
        roots[0] / _SPEECH_FOLDER, [r / _SPEECH_FOLDER for r in roots], download)
    folder = _locate(lambda: _find_speech(roots), download, _download_speech, error)
    files = _speech_files(folder, split)
    if not files:
        raise FileNotFoundError(f"no {split} wav files of the labels {', '.join(_SPEECH_LABELS)} "
                                f"under {folder}")
    index = _selection(len(files), subset, split, seed)
    if index is None:
        feats = _cached_features(folder, split, files)
    else:
        files = [files[i] for i in index]
        feats = _mfcc_features(folder, files)
    targets = torch.tensor([label for _, label in files], dtype=torch.int64)
    return SequenceDataset(feats, targets, name="speech-commands", split=split,
                           num_classes=len(_SPEECH_LABELS), layout="rows", source=str(folder),
                           classes=_SPEECH_LABELS)


# --------------------------------------------------------------------------- synthetic

def _synthetic_rng(seed: int, split: str) -> np.random.Generator:
    return np.random.default_rng([seed, SPLITS.index(split)])


def _adding(rng: np.random.Generator, n: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    values = rng.random((n, length))
    marked = np.argsort(rng.random((n, length)), axis=1)[:, :2]
    markers = np.zeros((n, length))
    np.put_along_axis(markers, marked, 1.0, axis=1)
    total = (values * markers).sum(axis=1)
    return np.stack([values, markers], axis=2), (total > 1.0).astype(np.int64)


def _parity(rng: np.random.Generator, n: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    bits = rng.integers(0, 2, size=(n, length))
    return bits[:, :, None].astype(np.float64), (bits.sum(axis=1) % 2).astype(np.int64)


def _load_synthetic(name: str, split: str, length: int | None, n: int | None,
                    subset: int | None, seed: int) -> SequenceDataset:
    length = _SYNTHETIC_LENGTH[name] if length is None else length
    _check_int("length", length, 2 if name == "adding" else 1)
    if n is None:
        n = (_SYNTHETIC_N_FAST if fast() else _SYNTHETIC_N)[split]
    _check_int("n", n, 1)
    make = _adding if name == "adding" else _parity
    x, y = make(_synthetic_rng(seed, split), n, length)
    if subset is not None:
        index = _choose(n, subset, seed, what="subset")
        x, y = x[index], y[index]
    source = f"synthetic {name} task (length={length}, n={n}, seed={seed}, split={split})"
    return SequenceDataset(torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y),
                           name=name, split=split, num_classes=2, layout="rows", source=source)
