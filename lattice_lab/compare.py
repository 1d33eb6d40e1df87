"""Side-by-side comparison of pruning methods: sweeps into ShrinkBench-style rows, tables, plots.

Every row has the same columns for every method (method, amount, measured sparsity, hidden
units, nonzero parameters, FLOPs, accuracy before and after fine-tuning, latency, seed, method
diagnostics), so any two methods can be put side by side without special cases. Sweeps are
cached in memory (and on disk with ``cache_dir``): repeating a call with the same model, data
and settings is instant. Rows go to JSON or CSV (:func:`save_rows`) and come back with
:func:`load_rows`; :func:`plot_accuracy` draws accuracy against sparsity or FLOPs, one fixed
colour per method (:func:`method_colour`).

Sits on top: nothing in the package imports it except ``widgets`` and ``cli``.

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

COLUMNS = ("method", "level", "amount", "seed", "scope", "sparsity", "sparsity_recurrent", "sparsity_input",
           "hidden_units", "params_nonzero", "flops", "flops_dense", "accuracy", "finetune_epochs",
           "accuracy_finetuned", "dense_accuracy", "latency_ms", "prune_seconds", "diagnostics")
"""The columns of every row, for every method (``diagnostics`` is a dict of the method's scalars)."""
DENSE_COLOUR = "#000000"
_CACHE: dict[str, list[dict]] = {}


def clear_cache() -> None:
    """Forget every sweep cached in memory (the on-disk cache of ``cache_dir`` is kept)."""
    _CACHE.clear()


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


def _check_sweep_grid(amounts: Sequence[float], seeds: Sequence[int], finetune_epochs: int) -> None:
    if isinstance(amounts, (str, bytes)) or not isinstance(amounts, Iterable) or not list(amounts):
        raise ValueError(f"amounts must be a nonempty list of fractions in [0, 1), got {amounts!r}")
    for amount in amounts:
        check_amount(amount)
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable) or not list(seeds) or any(
            isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        raise ValueError(f"seeds must be a nonempty list of integers >= 0, got {seeds!r}")
    if isinstance(finetune_epochs, bool) or not isinstance(finetune_epochs, int) or finetune_epochs < 0:
        raise ValueError(f"finetune_epochs must be an integer >= 0, got {finetune_epochs!r}")


def sweep(model, data, methods: Iterable[str] | None = None, amounts: Sequence[float] = (0.5, 0.75, 0.9),
          seeds: Sequence[int] = (0,), finetune_epochs: int = 0, *, train_data=None, scope: str = "recurrent",
          options: dict[str, dict] | None = None, device: str = "cpu", cache: bool = True,
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
    cache : reuse rows of an identical earlier call in this process (and in ``cache_dir``).
    cache_dir : a folder where finished sweeps are also kept as JSON, keyed by a hash of the
        model, the data and every setting, so a repeated call is instant across sessions.
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
    _check_sweep_grid(amounts, seeds, finetune_epochs)
    options = options or {}
    train_data = data if train_data is None else train_data
    settings = [model_fingerprint(model), _data_fingerprint(data), _data_fingerprint(train_data), methods,
                list(amounts), list(seeds), finetune_epochs, scope, options, device]
    if finetune_lr != train.FINETUNE_LR or distill:  # the defaults keep the keys of earlier caches
        settings.append({"finetune_lr": finetune_lr, "distill": distill})
    key = json.dumps(settings, sort_keys=True, default=str)
    disk = Path(cache_dir) / f"sweep-{hashlib.sha256(key.encode()).hexdigest()[:20]}.json" if cache_dir else None
    if cache and key in _CACHE:
        return [dict(row) for row in _CACHE[key]]
    if cache and disk is not None and disk.is_file():
        _CACHE[key] = load_rows(disk)
        return [dict(row) for row in _CACHE[key]]
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
    if cache:
        _CACHE[key] = [dict(row) for row in rows]
        if disk is not None:
            save_rows(rows, disk)
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

    if x not in ("sparsity", "flops", "amount", "hidden_units"):
        raise ValueError(f"x must be 'sparsity', 'flops', 'amount' or 'hidden_units', got {x!r}")
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
