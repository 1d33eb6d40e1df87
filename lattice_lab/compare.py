"""Side-by-side comparison of pruning methods: sweeps into ShrinkBench-style rows, tables, plots.

Every row has the same columns for every method (method, amount, measured sparsity, hidden
units, nonzero parameters, FLOPs, accuracy before and after fine-tuning, latency, seed, method
diagnostics), so any two methods can be put side by side without special cases. Finished
sweeps are kept in a :class:`SweepCache` (in memory, and on disk with ``cache_dir``): repeating
a call with the same model, data and settings is instant. Rows go to JSON or CSV
(:func:`save_rows`) and come back with :func:`load_rows`; :func:`plot_accuracy` draws accuracy
against sparsity or FLOPs, one fixed colour per method (:func:`method_colour`).

Sits on top: nothing in the package imports it except ``widgets`` and ``cli``.
Must not import: widgets, cli.

Examples
--------
>>> import torch
>>> from lattice_lab.models import build
>>> from lattice_lab.data import load
>>> test = load("digits", "test")
>>> model = build({"kind": "lstm", "input_size": 8, "hidden_size": 16, "num_classes": 10})
>>> rows = sweep(model, test, methods=["magnitude", "random-units"], amounts=[0.5])
>>> [(r["method"], r["amount"], round(r["sparsity"], 2)) for r in rows]
[('magnitude', 0.5, 0.5), ('random-units', 0.5, 0.75)]
"""
from __future__ import annotations

import csv
import hashlib
import json
import statistics
import time
from pathlib import Path
from typing import Iterable, Sequence

import torch

from . import metrics, train
from .progress import progress_bar
from .pruning import REGISTRY, get_method, prune
from .pruning.base import check_amount, derived_colour
from .validation import check_bool, check_choice, check_int, check_list, fail

COLUMNS = ("method", "level", "amount", "seed", "scope", "sparsity", "sparsity_recurrent", "sparsity_input",
           "hidden_units", "params_nonzero", "flops", "flops_dense", "accuracy", "finetune_epochs",
           "accuracy_finetuned", "dense_accuracy", "latency_ms", "prune_seconds", "diagnostics")
"""The columns of every row, for every method (``diagnostics`` is a dict of the method's scalars)."""
DENSE_COLOUR = "#000000"


class SweepCache:
    """Finished sweeps, by key: their rows in memory and, with a ``folder``, as JSON files there.

    A key is the JSON text of everything a sweep depends on (:func:`sweep` builds it from the
    fingerprints of the model and the data, the methods, the grid and the options); the file of a
    key is named by a hash of it, so the same call finds its rows again in a later session.
    Rows are copied in and out: changing a returned row never changes the cache. A key is only
    as discerning as its fingerprints: :func:`sweep` fingerprints a model by every tensor, but a
    dataset by its name, size and a checksum of the first 64 features of each sequence (one
    without ``.inputs`` by its ``id``, so only within a process).

    Parameters
    ----------
    folder : where finished sweeps are also written as ``sweep-<hash>.json`` (None: memory only).
    memory : the dict that holds rows by key (default: a new one); :meth:`in_folder` shares it.

    Examples
    --------
    >>> cache = SweepCache()
    >>> cache.put("key", [{"method": "magnitude", "accuracy": 0.9}])
    >>> cache.get("key"), cache.get("another key")
    ([{'method': 'magnitude', 'accuracy': 0.9}], None)
    >>> cache.clear(); cache.get("key") is None
    True
    """

    def __init__(self, folder: str | Path | None = None, *, memory: dict[str, list[dict]] | None = None):
        self.folder = None if folder is None else Path(folder)
        self.memory: dict[str, list[dict]] = {} if memory is None else memory

    def __repr__(self) -> str:
        return f"SweepCache(folder={self.folder!r}, sweeps in memory: {len(self.memory)})"

    def in_folder(self, folder: str | Path) -> SweepCache:
        """A cache that shares this one's memory and also keeps its files in ``folder``."""
        return SweepCache(folder, memory=self.memory)

    def path(self, key: str) -> Path | None:
        """The file that holds the rows of ``key`` (None without a folder)."""
        if self.folder is None:
            return None
        return self.folder / f"sweep-{hashlib.sha256(key.encode()).hexdigest()[:20]}.json"

    def get(self, key: str) -> list[dict] | None:
        """A copy of the rows of ``key`` from memory, else from its file (then kept in memory); None if absent."""
        if key not in self.memory:
            path = self.path(key)
            if path is None or not path.is_file():
                return None
            self.memory[key] = load_rows(path)
        return [dict(row) for row in self.memory[key]]

    def put(self, key: str, rows: list[dict]) -> None:
        """Keep a copy of ``rows`` under ``key`` (and write its file when there is a folder)."""
        self.memory[key] = [dict(row) for row in rows]
        path = self.path(key)
        if path is not None:
            save_rows(rows, path)

    def clear(self) -> None:
        """Forget every sweep held in memory (files in the folder are kept)."""
        self.memory.clear()


DEFAULT_CACHE = SweepCache()
"""The cache of ``sweep(..., cache=True)``: one per process, in memory (files with ``cache_dir``)."""


def clear_cache() -> None:
    """Forget every sweep cached in memory by :data:`DEFAULT_CACHE` (the files of ``cache_dir`` are kept)."""
    DEFAULT_CACHE.clear()


def supported_methods(model) -> list[str]:
    """Registered methods that support ``model``'s kind, sorted by name.

    >>> from lattice_lab.models import build
    >>> "magnitude" in supported_methods(build({"kind": "gru", "input_size": 2, "hidden_size": 4,
    ...                                         "num_classes": 2}))
    True
    """
    return sorted(name for name, spec in REGISTRY.items() if model.kind in spec.kinds)


def method_colour(method: str) -> str:
    """A fixed colour per method, the same in every plot of the course: its registry entry's.

    ``"dense"`` (the unpruned model) is black; a name that is not registered gets a stable
    colour derived from it.

    >>> method_colour("magnitude"), method_colour("dense")
    ('#1f77b4', '#000000')
    """
    if method == "dense":
        return DENSE_COLOUR
    spec = REGISTRY.get(method)
    return spec.colour if spec is not None and spec.colour else derived_colour(method)


def __getattr__(name: str):
    if name == "METHOD_COLOURS":  # the old table, now read off the registry (kept for one release)
        return {"dense": DENSE_COLOUR, **{m: method_colour(m) for m in REGISTRY}}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def model_fingerprint(model: torch.nn.Module) -> str:
    """A short hash of a model's config and every tensor in its state dict."""
    digest = hashlib.sha256(json.dumps(getattr(model, "config", {}), sort_keys=True).encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def _data_fingerprint(data) -> str:
    inputs = getattr(data, "inputs", None)
    if inputs is None:
        return f"{type(data).__name__}-{id(data)}"
    sample = inputs.reshape(len(inputs), -1)[:, :64]
    return f"{getattr(data, 'name', '')}-{len(inputs)}-{float(sample.double().sum()):.10e}"


def latency_ms(model: torch.nn.Module, example: torch.Tensor, repeats: int = 5) -> float:
    """Median wall time in milliseconds of one forward pass on ``example`` (CPU, no grad)."""
    model.eval()
    timings = []
    with torch.no_grad():
        model(example)  # warm-up
        for _ in range(repeats):
            start = time.perf_counter()
            model(example)
            timings.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(timings)


def scalar_diagnostics(info: dict) -> dict:
    """The scalar entries of a method's ``info`` (numbers, strings, booleans), for a table row."""
    out = {}
    for key, value in info.items():
        if isinstance(value, (bool, int, float, str)):
            out[key] = value
        elif isinstance(value, torch.Tensor) and value.numel() == 1:
            out[key] = value.item()
    return out


def evaluate_result(result, dense, test_data, *, train_data=None, finetune_epochs: int = 0,
                    dense_accuracy: float | None = None, seed: int = 0, device: str = "cpu",
                    finetune_lr: float = train.FINETUNE_LR, distill: bool = False) -> dict:
    """One comparison row for a :class:`~lattice_lab.pruning.PruneResult`.

    With ``finetune_epochs`` the pruned model is then fine-tuned on ``train_data`` at
    ``finetune_lr``, distilling from ``dense`` when ``distill`` (see :func:`lattice_lab.train.fit`).
    """
    seq_len = int(test_data.inputs.shape[1]) if hasattr(test_data, "inputs") else 1
    costs = metrics.summary(result.model, dense, seq_len)
    example = test_data.inputs[:256] if hasattr(test_data, "inputs") else None
    row = {
        "method": result.method, "level": get_method(result.method).level, "amount": result.amount,
        "seed": seed, "scope": result.scope, "sparsity": result.sparsity,
        "sparsity_recurrent": costs["sparsity_recurrent"], "sparsity_input": costs["sparsity_input"],
        "hidden_units": costs["hidden_units"], "params_nonzero": costs["params_nonzero"],
        "flops": costs["flops"], "flops_dense": costs["flops_dense"],
        "accuracy": train.evaluate(result.model, test_data, device=device)["accuracy"],
        "finetune_epochs": finetune_epochs, "accuracy_finetuned": None, "dense_accuracy": dense_accuracy,
        "latency_ms": latency_ms(result.model, example) if example is not None else None,
        "prune_seconds": result.info.get("seconds"),
        "diagnostics": scalar_diagnostics(result.info),
    }
    if finetune_epochs:
        if train_data is None:
            raise ValueError("finetune_epochs > 0 needs train_data")
        tuned = result.model
        train.finetune(tuned, train_data, epochs=finetune_epochs, lr=finetune_lr, seed=seed, device=device,
                       teacher=dense if distill else None)
        row["accuracy_finetuned"] = train.evaluate(tuned, test_data, device=device)["accuracy"]
    return row


def _check_sweep_settings(amounts: Sequence[float], seeds: Sequence[int], finetune_epochs: int,
                          progress: bool | None) -> None:
    check_list(amounts, "amounts", "sweep", check_amount, "a nonempty list of floats in [0, 1)")
    check_list(seeds, "seeds", "sweep", lambda seed: check_int(seed, "seeds", "sweep", low=0),
               "a nonempty list of ints >= 0")
    check_int(finetune_epochs, "finetune_epochs", "sweep", low=0)
    if progress is not None:
        check_bool(progress, "progress", "sweep")


def _sweep_cache(cache: bool | SweepCache, cache_dir: str | Path | None) -> SweepCache | None:
    """The cache a sweep uses: None (``cache=False``), the given one, or the default one (in ``cache_dir``)."""
    if isinstance(cache, SweepCache):
        if cache_dir is not None:
            fail("cache_dir", "sweep", "None when cache is a SweepCache (give the folder to the SweepCache)",
                 str(cache_dir))
        return cache
    if not check_bool(cache, "cache", "sweep"):
        return None
    return DEFAULT_CACHE if cache_dir is None else DEFAULT_CACHE.in_folder(cache_dir)


def sweep(model, data, methods: Iterable[str] | None = None, amounts: Sequence[float] = (0.5, 0.75, 0.9),
          seeds: Sequence[int] = (0,), finetune_epochs: int = 0, *, train_data=None, scope: str = "recurrent",
          options: dict[str, dict] | None = None, device: str = "cpu", cache: bool | SweepCache = True,
          cache_dir: str | Path | None = None, progress: bool | None = None,
          finetune_lr: float = train.FINETUNE_LR, distill: bool = False) -> list[dict]:
    """Prune ``model`` with every method x amount x seed, evaluate on ``data``, return rows.

    Parameters
    ----------
    model : the dense model (never modified).
    data : the evaluation set (usually the test split).
    methods : names from the registry (default: every registered method that supports the
        model's kind). A named method that does not support it is a ValueError, raised before
        any work is done.
    amounts : fractions removed (of weights in ``scope`` or of hidden units, by method level).
    seeds : one row per seed.
    finetune_epochs : when > 0, each pruned model is fine-tuned on ``train_data`` and
        ``accuracy_finetuned`` is filled in.
    train_data : the training set (methods that need data, and fine-tuning); default ``data``.
    options : per-method options, e.g. ``{"lattice": {"adjacency": "binary"}}``.
    cache : True (default): reuse the rows of an identical earlier call, kept by
        :data:`DEFAULT_CACHE` (in this process, and in ``cache_dir``); a :class:`SweepCache`:
        use that one instead; False: compute everything and keep nothing.
    cache_dir : with ``cache=True``, a folder where finished sweeps are also kept as JSON, keyed
        by a hash of the model, the data and every setting, so a repeated call is instant
        across sessions (with a :class:`SweepCache`, give it the folder instead).
    progress : show a progress bar; None: unless ``LATTICE_LAB_QUIET=1`` or under pytest.
    finetune_lr : the fine-tuning learning rate (default :data:`lattice_lab.train.FINETUNE_LR`).
    distill : fine-tune by distilling from ``model`` (see :func:`lattice_lab.train.fit`).

    Returns
    -------
    list of dict
        One row per (method, amount, seed), with the keys :data:`COLUMNS`.

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> from lattice_lab.data import load
    >>> model = build({"kind": "gru", "input_size": 8, "hidden_size": 8, "num_classes": 10})
    >>> rows = sweep(model, load("digits", "test"), methods=["random"], amounts=[0.5], seeds=[0, 1])
    >>> [(r["seed"], r["sparsity"]) for r in rows], sorted(rows[0]) == sorted(COLUMNS)
    ([(0, 0.5), (1, 0.5)], True)
    """
    if methods is None:
        methods = supported_methods(model)
    else:
        methods = [methods] if isinstance(methods, str) else list(methods)
        for name in methods:
            spec = get_method(name)
            if getattr(model, "kind", None) not in spec.kinds:
                raise ValueError(f"method {name!r} supports model kinds {spec.kinds}, not "
                                 f"{getattr(model, 'kind', type(model).__name__)!r}; leave it out of methods")
    _check_sweep_settings(amounts, seeds, finetune_epochs, progress)
    store = _sweep_cache(cache, cache_dir)
    options = options or {}
    train_data = data if train_data is None else train_data
    settings = [model_fingerprint(model), _data_fingerprint(data), _data_fingerprint(train_data), methods,
                list(amounts), list(seeds), finetune_epochs, scope, options, device]
    if finetune_lr != train.FINETUNE_LR or distill:  # the defaults keep the keys of earlier caches
        settings.append({"finetune_lr": finetune_lr, "distill": distill})
    key = json.dumps(settings, sort_keys=True, default=str)
    cached = None if store is None else store.get(key)
    if cached is not None:
        return cached
    dense_accuracy = train.evaluate(model, data, device=device)["accuracy"]
    grid = [(m, a, s) for m in methods for a in amounts for s in seeds]
    rows = []
    for method, amount, seed in progress_bar(grid, desc="sweep", enabled=progress):
        start = time.perf_counter()
        result = prune(model, method, amount, train_data, scope=scope, seed=seed, **options.get(method, {}))
        result.info.setdefault("seconds", time.perf_counter() - start)
        rows.append(evaluate_result(result, model, data, train_data=train_data, finetune_epochs=finetune_epochs,
                                    dense_accuracy=dense_accuracy, seed=seed, device=device,
                                    finetune_lr=finetune_lr, distill=distill))
    if store is not None:
        store.put(key, rows)
    return rows


def aggregate(rows: list[dict]) -> list[dict]:
    """Mean and standard deviation over seeds for each (method, amount)."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["method"], row["amount"]), []).append(row)
    out = []
    for (method, amount), group in groups.items():
        entry = {"method": method, "amount": amount, "seeds": len(group)}
        for column in ("sparsity", "hidden_units", "flops", "accuracy", "accuracy_finetuned"):
            values = [r[column] for r in group if r.get(column) is not None]
            if values:
                entry[column] = statistics.fmean(values)
                entry[column + "_std"] = statistics.stdev(values) if len(values) > 1 else 0.0
        out.append(entry)
    return out


def format_table(rows: list[dict], columns: Sequence[str] = ("method", "amount", "sparsity", "hidden_units",
                                                              "flops", "accuracy", "accuracy_finetuned")) -> str:
    """A plain-text table (accuracies and sparsities in percent).

    >>> print(format_table([{"method": "magnitude", "amount": 0.5, "sparsity": 0.5, "accuracy": 0.9812}],
    ...                    ["method", "amount", "sparsity", "accuracy"]))
    method     amount  sparsity  accuracy
    magnitude  0.50    50.0%     98.12%
    """
    def cell(column, value):
        if value is None:
            return "-"
        if column.startswith("accuracy") or column == "dense_accuracy":
            return f"{100 * value:.2f}%"
        if column.startswith("sparsity"):
            return f"{100 * value:.1f}%"
        if column == "amount":
            return f"{value:.2f}"
        if isinstance(value, float):
            return f"{value:.3g}"
        return str(value)

    table = [list(columns)] + [[cell(c, row.get(c)) for c in columns] for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(columns))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in table)


def save_rows(rows: list[dict], path: str | Path) -> Path:
    """Write rows as JSON (``.json``) or CSV (``.csv``, diagnostics flattened); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        path.write_text(json.dumps(rows, indent=2, default=float))
    elif path.suffix == ".csv":
        flat = [{**{k: v for k, v in r.items() if k != "diagnostics"},
                 **{f"diag_{k}": v for k, v in r.get("diagnostics", {}).items()}} for r in rows]
        fields = list(dict.fromkeys(k for r in flat for k in r))
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(flat)
    else:
        raise ValueError(f"path must end in .json or .csv, got {path.name!r}")
    return path


def _parse_cell(text: str):
    """A CSV cell back to its Python value: '' -> None, numbers, booleans, else the string."""
    if text == "":
        return None
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def load_rows(path: str | Path) -> list[dict]:
    """Read rows written by :func:`save_rows` (``.json`` or ``.csv``).

    From CSV, numbers and booleans are parsed back, empty cells become None and the
    ``diag_*`` columns are folded back into ``diagnostics`` (a diagnostic that a row did not
    report, or reported as None, is left out).

    >>> import tempfile
    >>> rows = [{"method": "magnitude", "amount": 0.5, "accuracy": 0.9375, "accuracy_finetuned": None,
    ...          "diagnostics": {"per_layer": False}}]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     load_rows(save_rows(rows, Path(folder) / "rows.csv")) == rows
    True
    """
    path = Path(path)
    if path.suffix == ".json":
        return json.loads(path.read_text())
    if path.suffix != ".csv":
        raise ValueError(f"path must end in .json or .csv, got {path.name!r}")
    rows = []
    with path.open(newline="") as handle:
        for record in csv.DictReader(handle):
            row = {k: _parse_cell(v) for k, v in record.items() if not k.startswith("diag_")}
            row["diagnostics"] = {k[len("diag_"):]: _parse_cell(v) for k, v in record.items()
                                  if k.startswith("diag_") and v != ""}
            rows.append(row)
    return rows


def plot_accuracy(rows: list[dict], x: str = "sparsity", ax=None, finetuned: bool = False):
    """Accuracy against ``x`` (``sparsity`` or ``flops``), one line per method in its colour.

    Mean over seeds with a ±1 std band; the dense accuracy as a dashed line. Returns the Axes.
    """
    import matplotlib.pyplot as plt

    check_choice(x, "x", "plot_accuracy", ("sparsity", "flops", "amount", "hidden_units"))
    column = "accuracy_finetuned" if finetuned else "accuracy"
    ax = ax or plt.subplots(figsize=(6, 4))[1]
    for method in dict.fromkeys(r["method"] for r in rows):
        points = sorted((e[x], e[column], e.get(column + "_std", 0.0))
                        for e in aggregate([r for r in rows if r["method"] == method]) if column in e)
        if not points:
            continue
        xs, ys, sd = zip(*points)
        ax.plot(xs, [100 * y for y in ys], "o-", color=method_colour(method), label=method)
        ax.fill_between(xs, [100 * (y - s) for y, s in zip(ys, sd)], [100 * (y + s) for y, s in zip(ys, sd)],
                        color=method_colour(method), alpha=0.15)
    dense = [r["dense_accuracy"] for r in rows if r.get("dense_accuracy") is not None]
    if dense:
        ax.axhline(100 * dense[0], color=method_colour("dense"), ls="--", lw=1, label="dense")
    ax.set_xlabel({"sparsity": "measured sparsity", "flops": "FLOPs per sequence", "amount": "amount",
                   "hidden_units": "hidden units"}[x])
    if x == "flops":
        ax.set_xscale("log")
    ax.set_ylabel("test accuracy (%)" + (" after fine-tuning" if finetuned else ""))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax
