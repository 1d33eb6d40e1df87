"""The content-addressed cache of sweep cells: each row is kept under the hash of everything it depends on.

A cell's key (:func:`cell_key`) is the sha256 of one canonical JSON text holding

- the model's digest (:func:`lattice_lab.compare.specs.model_digest`: config, weights, masks),
- the digest of the test data and, when the cell uses it (a method that needs data, or
  fine-tuning), of the training data: every input and every target
  (:func:`lattice_lab.compare.specs.data_digest`),
- the method, its options (a dataset among them by its digest), the amount, the seed, the scope,
  the fine-tuning epochs, learning rate and distillation, the device,
- the version of the code that computes the row (:func:`code_version`: a hash of the code of
  the method's module, of :mod:`lattice_lab.compare.cell`, and of every ``lattice_lab`` module they
  import, transitively, docstrings and comments left out), the torch version and :data:`CACHE_FORMAT`.

Change any of them (one value in the last time step of one test sequence, an option, a line of
the method) and the key changes: the row is computed again, never served stale. A key is None
when something cannot be hashed (a dataset without in-memory tensors, an option that is neither
plain JSON nor a dataset): such a cell is computed every time.

:class:`SweepCache` keeps rows by key, in memory and, with a folder, as one JSON file per cell
written through :func:`lattice_lab.atomic.atomic_write`: a sweep stores each cell as soon as it
is done, so an interrupted grid resumes cell by cell and two sweeps sharing a folder share their
cells. (joblib.Memory does the same for a function's arguments, but it hashes the pickled
arguments, and a cell's arguments are specs whose content lives in files: the key here hashes
the content itself, from digests computed once per model and dataset.)

Must not import: widgets, cli, compare.executors.

Examples
--------
>>> cache = SweepCache()
>>> cache.put("0f" * 32, {"method": "magnitude", "accuracy": 0.9})
>>> cache.get("0f" * 32), cache.get("another key")
({'method': 'magnitude', 'accuracy': 0.9}, None)
>>> cache.clear(); cache.get("0f" * 32) is None
True
"""
from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import importlib.util
import json
import math
from pathlib import Path
from typing import Any

import torch

from .. import strict_json
from ..atomic import atomic_write
from ..checkpoints import weights_sha256
from ..pruning import get_method
from ..train import data_arrays
from .specs import CellSpec, DataSpec, data_digest

__all__ = ["CACHE_FORMAT", "SweepCache", "cell_key", "code_version", "dense_key"]

CACHE_FORMAT = 2
"""Bumped when the layout of a key or of a cached row changes (1: whole sweeps keyed by a sample of the data)."""
PACKAGE = "lattice_lab"


class SweepCache:
    """Rows of sweep cells by key: in memory and, with a ``folder``, as ``cell-<key>.json`` files there.

    Rows are copied in and out: changing a returned row never changes the cache. Each file holds
    the row and the readable description of its key (``"cell"``); it is written atomically.

    Parameters
    ----------
    folder : where each cell is also written (None: memory only); created when needed.
    memory : the dict that holds rows by key (default: a new one); :meth:`in_folder` shares it.
    """

    def __init__(self, folder: str | Path | None = None, *, memory: dict[str, dict] | None = None):
        self.folder = None if folder is None else Path(folder)
        self.memory: dict[str, dict] = {} if memory is None else memory

    def __repr__(self) -> str:
        return f"SweepCache(folder={self.folder!r}, cells in memory: {len(self.memory)})"

    def in_folder(self, folder: str | Path) -> SweepCache:
        """A cache that shares this one's memory and also keeps its files in ``folder``."""
        return SweepCache(folder, memory=self.memory)

    def path(self, key: str) -> Path | None:
        """The file that holds the row of ``key`` (None without a folder)."""
        return None if self.folder is None else self.folder / f"cell-{key}.json"

    def get(self, key: str) -> dict | None:
        """A copy of the row of ``key`` from memory, else from its file (then kept in memory); None if absent."""
        if key not in self.memory:
            path = self.path(key)
            if path is None or not path.is_file():
                return None
            self.memory[key] = strict_json.read(path)["row"]  # bounded (strict_json.read)
        return dict(self.memory[key])

    def put(self, key: str, row: dict, cell: dict | None = None) -> None:
        """Keep a copy of ``row`` under ``key`` (and write its file, with ``cell`` describing the key, with a folder)."""
        self.memory[key] = dict(row)
        path = self.path(key)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, json.dumps({"cell": cell, "row": row}, indent=1, default=float) + "\n")

    def clear(self) -> None:
        """Forget every cell held in memory (files in the folder are kept)."""
        self.memory.clear()


# --------------------------------------------------------------------------- the version of the code

@functools.lru_cache(maxsize=None)
def _parsed(module: str) -> tuple[str, str, ast.Module] | None:
    """(file, source text, syntax tree) of an importable module with a Python source file, else None."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    source = Path(spec.origin).read_text(encoding="utf-8")
    return spec.origin, source, ast.parse(source)


def _base(node: ast.ImportFrom, module: str, file: str) -> str:
    """The absolute name of the module a ``from ... import`` statement of ``module`` imports from."""
    if not node.level:
        return node.module or ""
    package = module if file.endswith("__init__.py") else module.rpartition(".")[0]
    return importlib.util.resolve_name("." * node.level + (node.module or ""), package)


def _defining_module(base: str, name: str) -> str:
    """The module that defines ``name`` imported from lattice_lab's ``base``: a submodule, or where ``base`` got it from.

    A package's ``__init__`` re-exports names of its submodules; following its own ``from .x
    import name`` lines finds the module that defines ``name``, so that importing one name from a
    package does not count every module the package imports. Outside lattice_lab: ``base``.
    """
    parsed = _parsed(base) if base.startswith(PACKAGE) else None
    if parsed is None:
        return base
    file, _, tree = parsed
    if file.endswith("__init__.py") and importlib.util.find_spec(f"{base}.{name}") is not None:
        return f"{base}.{name}"
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    return _defining_module(_base(node, base, file), alias.name)
    return base


def _imports(module: str) -> set[str]:
    """The modules whose code ``module`` runs through its imports, anywhere in its source."""
    file, _, tree = _parsed(module)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.update(_defining_module(_base(node, module, file), alias.name) for alias in node.names)
    return found


def _code(source: str) -> str:
    """The code of a module's source without its comments and docstrings: editing either changes no key."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body \
                and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant) \
                and isinstance(node.body[0].value.value, str):
            node.body = node.body[1:] or [ast.Pass()]
    return ast.dump(tree)


LOADING = (f"{PACKAGE}.compare.specs",)
"""Modules a cell runs only to load its inputs, whose content its key hashes anyway: not part of the code version."""


@functools.lru_cache(maxsize=None)
def code_version(module: str) -> str:
    """sha256 of the code of ``module``, of :mod:`lattice_lab.compare.cell` and of every lattice_lab module they import.

    Imports are followed transitively (a name imported from a package counts as the module that
    defines it), except into :data:`LOADING`. The code is the syntax tree without docstrings, so
    editing documentation or comments keeps every key. Modules outside ``lattice_lab`` other than
    ``module`` itself are not hashed (their versions are not this package's to track; torch's
    version is part of every key). Computed once per process and module.

    >>> code_version("lattice_lab.pruning.baselines") == code_version("lattice_lab.pruning.baselines")
    True
    >>> code_version("lattice_lab.pruning.baselines") == code_version("lattice_lab.pruning.lattice")
    False
    """
    seen: dict[str, str] = {}
    todo = [module, f"{PACKAGE}.compare.cell"]
    while todo:
        name = todo.pop()
        if name in seen or name in LOADING or not (name == module or name == PACKAGE or name.startswith(PACKAGE + ".")):
            continue
        parsed = _parsed(name)
        if parsed is None:
            continue
        seen[name] = _code(parsed[1])
        todo.extend(_imports(name))
    digest = hashlib.sha256()
    for name in sorted(seen):
        digest.update(f"{name}\0{seen[name]}\0".encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------- keys

class _Uncacheable(Exception):
    """A value a key cannot hold faithfully."""


def _canonical(value: Any) -> Any:
    """``value`` as plain JSON for a key: datasets and tensors by their digest; anything else is _Uncacheable."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, DataSpec) and value.sha256 is not None:
        return {"data": value.sha256}
    if isinstance(value, torch.Tensor):
        return {"tensor": weights_sha256({"tensor": value})}
    if data_arrays(value) is not None:
        return {"data": data_digest(value)}
    raise _Uncacheable(type(value).__name__)


def _key(fields: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    text = json.dumps(fields, sort_keys=True, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest(), fields


def cell_key(cell: CellSpec, model: str, test: str | None, train: str | None) -> tuple[str, dict] | tuple[None, None]:
    """``(key, fields)`` of a cell, given the digests of its model, test data and training data; ``(None, None)`` if uncacheable.

    The training data's digest counts only when the cell uses it (its method needs data, or it
    fine-tunes); then a missing digest makes the cell uncacheable, as does a missing test digest.
    """
    spec = get_method(cell.method)
    uses_train = spec.needs_data or cell.finetune_epochs > 0
    if test is None or (uses_train and train is None):
        return None, None
    try:
        options = _canonical(cell.options)
    except _Uncacheable:
        return None, None
    return _key({"format": CACHE_FORMAT, "model": model, "test": test, "train": train if uses_train else None,
                 "method": cell.method, "options": options, "amount": cell.amount, "seed": cell.seed,
                 "scope": cell.scope, "finetune_epochs": cell.finetune_epochs,
                 "finetune_lr": cell.finetune_lr if cell.finetune_epochs else None,
                 "distill": cell.distill if cell.finetune_epochs else False, "device": str(cell.device),
                 "code": code_version(spec.function.__module__), "torch": torch.__version__})


def dense_key(model: str, test: str | None, device: str) -> tuple[str, dict] | tuple[None, None]:
    """``(key, fields)`` of the dense model's accuracy on the test data (``(None, None)`` without a test digest)."""
    if test is None:
        return None, None
    return _key({"format": CACHE_FORMAT, "dense": model, "test": test, "device": str(device),
                 "code": code_version(f"{PACKAGE}.train"), "torch": torch.__version__})
