"""Datasets as sequences for RNN sequence classifiers.

One entry point, :func:`load`, turns every dataset the course uses into a
:class:`SequenceDataset`: float32 inputs of shape ``(N, T, F)`` (``T`` time steps of
``F`` features) and int64 class targets of shape ``(N,)``. The datasets are the entries of one
registry (:data:`lattice_lab.data.registry.REGISTRY`, printed in the example below);
:data:`DATASETS` lists their names, and a new dataset is one reader module and one registry entry.
Each reader's module says which files it reads and how it normalizes them.

``digits`` is the offline default: it never needs a file or the network.

The rooms of this package, one idea each: :mod:`.sequences` (SequenceDataset, :func:`loader`,
seeded subsets), :mod:`.folders` (where files are found and downloaded to, and the error when
they are missing), :mod:`.cache` (what is written into the cache), :mod:`.registry` (the
registry, :func:`load`, :func:`available`), and one module per source: :mod:`.digits`,
:mod:`.idx` (MNIST, Fashion-MNIST), :mod:`.cifar`, :mod:`.speech`, :mod:`.synthetic`.

Where data comes from
---------------------
Files are looked up under the data root (:func:`data_root`: the ``root`` argument,
else ``$LATTICE_LAB_DATA``, else ``<cache>/data``) and then under ``<cache>/data``.
A folder that holds the original files is used strictly read-only: this package
never writes, extracts or converts anything there. Everything written (downloads,
the extracted CIFAR-10 archive, cached MFCC features) goes to :func:`cache_dir`
(``$LATTICE_LAB_CACHE``, else ``~/.cache/lattice_lab``), each file all or nothing
(:func:`lattice_lab.atomic.atomic_write`); cache entries carry a checksum and one that fails it
is rebuilt from its source (:mod:`.cache`). When files are missing and ``download=True``,
:func:`fetch` downloads them into ``<cache>/data`` (mirrors in ``$LATTICE_LAB_MIRROR`` first,
then the official sources; every file is checked against its known sha256, see
:mod:`.download`); when that fails or ``download=False``, a ``FileNotFoundError`` says which
files to put in which folder.

Hostile files are data, never code: CIFAR-10's pickled batches are read by an unpickler that
admits only what the format holds (:func:`lattice_lab.data.cifar.parse_batch`), and a damaged
file (a truncated ``.gz``) is a :class:`DamagedFileError` naming it. Nothing a file only declares
is allocated: IDX files are decompressed no further than their header says, after its shape and
memory are checked (:func:`lattice_lab.data.idx.read_idx`); CIFAR-10 batches and tar members are
bounded by size and their pickle opcodes walked before unpickling; a wav's chunk sizes are checked
against the file (:func:`lattice_lab.data.speech.check_wav`).

Fast mode (``LATTICE_LAB_FAST=1``, see :func:`lattice_lab.settings.fast`): when
``subset`` is None, mnist, fashion-mnist, cifar10 and speech-commands are capped at
2000 train / 1000 test samples (a seeded random subset), and the synthetic tasks
default to ``n=1000`` train / ``500`` test. ``digits`` is never capped.

No module of this package imports torchvision or torchaudio (torchaudio is imported lazily,
only for Speech Commands, and its absence is an ImportError that names the ``audio`` extra), and
none imports a ``lattice_lab`` module outside this package except :mod:`lattice_lab.atomic`,
:mod:`lattice_lab.progress`, :mod:`lattice_lab.settings` and :mod:`lattice_lab.validation`.
Must not import anything from the package (except atomic, progress, settings, validation and data).

Examples
--------
>>> from lattice_lab import data
>>> train = data.load("digits")
>>> train.inputs.shape, train.num_classes
(torch.Size([1437, 8, 8]), 10)
>>> x, y = train[0]
>>> x.shape, y.dtype
(torch.Size([8, 8]), torch.int64)
>>> for spec in data.registry.REGISTRY.values():
...     print(f"{spec.name:16}{spec.sequence}")
digits          8x8 image: 8 rows of 8 pixels
mnist           28x28 image: rows (28x28) or pixels (784x1)
fashion-mnist   28x28 image, as mnist
cifar10         32x32x3 image: rows (32x96) or pixels (1024x3)
speech-commands 1 s of audio: 101 MFCC frames x 40
adding          synthetic adding problem (T x 2)
parity          synthetic bit parity (T x 1)
"""
from .download import DownloadError, fetch
from .download import download_torchvision as _download_torchvision  # old name of fetch, by torchvision class
from .folders import DamagedFileError, cache_dir, data_root
from .idx import parse_idx
from .registry import DATASETS, LAYOUTS, SPLITS, available, load
from .sequences import SequenceDataset, loader

__all__ = [
    "DATASETS",
    "LAYOUTS",
    "SPLITS",
    "DamagedFileError",
    "DownloadError",
    "SequenceDataset",
    "available",
    "cache_dir",
    "data_root",
    "fetch",
    "load",
    "loader",
    "parse_idx",
]
