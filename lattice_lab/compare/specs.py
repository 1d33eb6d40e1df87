"""What one sweep cell needs, as small picklable specs named by the hash of their content.

A cell of a sweep is one method at one amount and seed, with its options and fine-tuning
settings. Whatever process computes it (this one, a local worker, a Dask or Ray worker, a SLURM
job) receives a :class:`CellSpec` of a few hundred bytes, never a model or a tensor:

- :class:`CheckpointSpec`: the checkpoint it prunes, a file or the name of a shipped checkpoint,
  with the sha256 of its weights as its card records it (:func:`checkpoint_spec` makes one);
- :class:`DataSpec`: the :func:`lattice_lab.data.load` request of a dataset (name, split, layout,
  subset and its seed) with the sha256 of its arrays (:func:`data_spec` makes one);
- the method, amount, seed, options, fine-tuning settings and device.

A worker loads each checkpoint and each dataset once (:func:`load_checkpoint`, :func:`load_data`:
cached per process) and checks it against the hash it was sent, so a path that points at another
file on another machine, or data that load differently there, is an error rather than a wrong row.

The same hashes address the cells in the sweep cache (:mod:`lattice_lab.compare.cache`):
:func:`model_digest` hashes a model's config and every tensor it computes with (masks folded in,
as a checkpoint stores them), :func:`data_digest` every array a dataset holds, all of its inputs
and targets, once per dataset object and again whenever one of its tensors changed in place.

Must not import: widgets, cli, compare.cell, compare.cache, compare.executors.

Examples
--------
>>> test = data_spec("digits", "test")
>>> test.name, test.split, len(test.sha256), len(load_data(test))
('digits', 'test', 64, 360)
>>> data_digest(load_data(test)) == test.sha256
True
>>> checkpoint_spec("digits-lstm").source
'digits-lstm'
"""
from __future__ import annotations

import functools
import hashlib
import json
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import checkpoints, data
from ..surgery import get_masks, make_permanent
from ..train import FINETUNE_LR, data_arrays

__all__ = ["CellSpec", "CheckpointSpec", "DataSpec", "checkpoint_spec", "data_digest", "data_spec",
           "load_checkpoint", "load_data", "model_digest"]


# --------------------------------------------------------------------------- hashes

def model_digest(model: nn.Module) -> str:
    """sha256 of a model's config and of what it computes with: its weights with the masks folded in, and the masks.

    A model and the same model saved and loaded back (:mod:`lattice_lab.checkpoints`) have the
    same digest; so do two pruned models whose masked weights differ only where the masks are 0.

    >>> from lattice_lab.models import build
    >>> model = build({"kind": "gru", "input_size": 2, "hidden_size": 3, "num_classes": 2})
    >>> model_digest(model) == model_digest(build(model.config))  # another random initialization
    False
    """
    state = {key: value.detach().cpu() for key, value in make_permanent(model).state_dict().items()}
    digest = hashlib.sha256(json.dumps(getattr(model, "config", {}), sort_keys=True, default=str).encode())
    digest.update(checkpoints.weights_sha256(state).encode())
    digest.update(checkpoints.weights_sha256(get_masks(model)).encode())
    return digest.hexdigest()


_DIGESTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # dataset -> (stamp of its tensors, digest)


def _stamp(arrays: tuple[torch.Tensor, ...]) -> tuple:
    """Which tensors a dataset holds and how often each was modified in place (torch's version counter)."""
    return tuple((id(t), t.data_ptr(), tuple(t.shape), t._version) for t in arrays)


def data_digest(dataset: Any) -> str | None:
    """sha256 of every array a dataset holds (all inputs and all targets, with dtypes and shapes); None without tensors.

    Computed once per dataset object and kept while its tensors stay the same objects, unmodified:
    replacing a tensor or changing it in place (``dataset.inputs[0, -1, 0] += 1``) is seen through
    torch's version counter and hashes again. (A write through a numpy view of a tensor bypasses
    that counter: make a new dataset instead.) A dataset without in-memory tensors has no digest
    (None): sweeps compute its cells every time instead of caching them.

    >>> from torch.utils.data import TensorDataset
    >>> x, y = torch.zeros(4, 3, 2), torch.tensor([0, 1, 0, 1])
    >>> before = data_digest(TensorDataset(x, y))
    >>> x[3, -1, -1] = 0.5  # one value of the last time step of the last sequence
    >>> data_digest(TensorDataset(x, y)) == before, data_digest([(x, y)]) is None
    (False, True)
    """
    arrays = data_arrays(dataset)
    if arrays is None:
        return None
    stamp = _stamp(arrays)
    try:
        known = _DIGESTS.get(dataset)
    except TypeError:  # not weak-referenceable: hash every time
        known = None
    if known is not None and known[0] == stamp:
        return known[1]
    digest = checkpoints.weights_sha256({"inputs": arrays[0], "targets": arrays[1]})
    try:
        _DIGESTS[dataset] = (stamp, digest)
    except TypeError:
        pass
    return digest


# --------------------------------------------------------------------------- specs

@dataclass(frozen=True)
class CheckpointSpec:
    """A checkpoint to load in a worker: ``source`` (a ``.pt`` file or a shipped name) and the card's ``sha256``.

    A path should be one every worker can read (a shared filesystem on a cluster); a shipped name
    is found in each worker's own installed package.
    """

    source: str
    sha256: str


@dataclass(frozen=True)
class DataSpec:
    """A dataset to load in a worker: the arguments of :func:`lattice_lab.data.load`, and the sha256 of its arrays.

    ``sha256`` (see :func:`data_digest`) is checked after loading; None skips the check.
    """

    name: str
    split: str = "train"
    layout: str = "rows"
    subset: int | None = None
    seed: int = 0
    length: int | None = None
    n: int | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class CellSpec:
    """One cell of a sweep: everything a worker needs to compute its row, in a few hundred bytes.

    ``checkpoint``, ``test`` and ``train`` are None for cells of an in-memory model or dataset,
    which only the process holding them can compute. ``dense_accuracy`` is filled in by the sweep
    before the cell is sent; ``method_module`` is the module that registers ``method``, imported by
    a worker whose registry lacks it; ``threads`` limits torch's and the BLAS libraries' threads
    while the cell runs (None: leave them); ``timings`` says whether the cell measures its wall-clock
    columns (``latency_ms``, ``prune_seconds``), which mean nothing while other cells share the cores.
    """

    method: str
    amount: float
    seed: int = 0
    scope: str = "recurrent"
    options: dict[str, Any] = field(default_factory=dict)
    finetune_epochs: int = 0
    finetune_lr: float = FINETUNE_LR
    distill: bool = False
    device: str = "cpu"
    checkpoint: CheckpointSpec | None = None
    test: DataSpec | None = None
    train: DataSpec | None = None
    dense_accuracy: float | None = None
    method_module: str | None = None
    threads: int | None = None
    timings: bool = True


# --------------------------------------------------------------------------- loading, once per process

def _shipped_name(path_or_name: str | Path) -> str | None:
    """The shipped checkpoint a source names (a bare name, not a file here), else None."""
    path = Path(path_or_name)
    name = path.stem if path.suffix == checkpoints.SUFFIX else path.name
    if not path.is_file() and path.parent == Path(".") and name in checkpoints.list_shipped():
        return name
    return None


def checkpoint_spec(path_or_name: str | Path) -> CheckpointSpec:
    """The spec of a checkpoint: its shipped name or absolute path, and the sha256 its card records (verified on loading)."""
    model, card = load_checkpoint(CheckpointSpec(str(path_or_name), ""), verify=False)
    shipped = _shipped_name(path_or_name)
    source = shipped if shipped is not None else str(Path(path_or_name).resolve())
    return CheckpointSpec(source, card["sha256"])


@functools.lru_cache(maxsize=16)
def _load_checkpoint(path: Path, stamp: tuple[int, int]) -> tuple[nn.Module, dict]:
    """A checkpoint file, loaded once per version of it (``stamp``: its modification time and size)."""
    return checkpoints.load(path)


def load_checkpoint(spec: CheckpointSpec, *, verify: bool = True) -> tuple[nn.Module, dict]:
    """``(model, card)`` of a checkpoint spec, loaded once per process (the same objects after that: never modify them).

    With ``verify``, a card whose sha256 differs from the spec's is a ValueError (the file at that
    path is not the checkpoint the sweep was planned with).
    """
    path = checkpoints.resolve(spec.source)
    status = path.stat()
    model, card = _load_checkpoint(path.resolve(), (status.st_mtime_ns, status.st_size))
    if verify and card.get("sha256") != spec.sha256:
        raise ValueError(f"checkpoint {spec.source!r} has weights sha256 {card.get('sha256')}, but the sweep was "
                         f"planned with {spec.sha256}: another file at that path (give every worker the same file)")
    return model, card


@functools.lru_cache(maxsize=8)  # the quality grid: 2 datasets x (test, training subset, all of train)
def _load_data(name: str, split: str, layout: str, subset: int | None, seed: int, length: int | None,
               n: int | None) -> data.SequenceDataset:
    return data.load(name, split, layout=layout, subset=subset, seed=seed, length=length, n=n)


def load_data(spec: DataSpec) -> data.SequenceDataset:
    """The dataset of a spec, loaded once per process (the same object after that: never modify it).

    A dataset whose arrays do not hash to the spec's ``sha256`` is a ValueError: the files, the
    fast-mode setting (``LATTICE_LAB_FAST``) or the library differ in this process from where the
    sweep was planned.
    """
    dataset = _load_data(spec.name, spec.split, spec.layout, spec.subset, spec.seed, spec.length, spec.n)
    if spec.sha256 is not None and data_digest(dataset) != spec.sha256:
        raise ValueError(f"dataset {spec.name!r} ({spec.split}, layout {spec.layout!r}, subset {spec.subset}) loads "
                         f"with other arrays here (sha256 {data_digest(dataset)}) than where the sweep was planned "
                         f"({spec.sha256}): check LATTICE_LAB_DATA and LATTICE_LAB_FAST on every worker")
    return dataset


def data_spec(name: str, split: str = "train", *, layout: str = "rows", subset: int | None = None, seed: int = 0,
              length: int | None = None, n: int | None = None) -> DataSpec:
    """The spec of ``data.load(name, split, layout=..., subset=..., seed=...)``, with the sha256 of its arrays.

    The dataset is loaded here once (and kept: :func:`load_data` returns it without loading again).
    """
    unverified = DataSpec(name, split, layout, subset, seed, length, n)
    return DataSpec(name, split, layout, subset, seed, length, n, sha256=data_digest(load_data(unverified)))
