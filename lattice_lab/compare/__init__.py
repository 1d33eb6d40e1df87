"""Side-by-side comparison of pruning methods: sweeps into ShrinkBench-style rows, tables, plots.

A package, one room per part of a sweep: this front door (the rows, the grid, tables and plots),
:mod:`~lattice_lab.compare.specs` (what a cell needs), :mod:`~lattice_lab.compare.cell` (the one
function that computes it), :mod:`~lattice_lab.compare.cache` (finished cells by content hash) and
:mod:`~lattice_lab.compare.executors` (the engines the command line fans out on).

Every row has the same columns for every method (method, amount, measured sparsity, hidden
units, nonzero parameters, FLOPs, accuracy before and after fine-tuning, latency, seed, method
diagnostics), so any two methods can be put side by side without special cases. Rows go to JSON
or CSV (:func:`save_rows`) and come back with :func:`load_rows`; :func:`plot_accuracy` draws
accuracy against sparsity or FLOPs, one fixed colour per method (:func:`method_colour`).

A sweep is a grid of cells, one per (method, amount, seed): :func:`plan_sweep` lays the grid
out, :func:`run_cells` computes it, :func:`sweep` does both. Each cell is one call of a pure
function (:func:`lattice_lab.compare.cell.run_cell`) on a small picklable spec
(:mod:`lattice_lab.compare.specs`), so a sweep runs serially in this process, or on any executor
with the ``concurrent.futures`` interface: a local process pool, Dask, Ray, SLURM through
submitit (``examples/``; :mod:`lattice_lab.compare.executors` makes the local and Dask ones). The
rows come back in grid order and are the same as the serial run's, to the last digit, except the two
wall-clock columns (:data:`TIMING_COLUMNS`), which are None under an executor.

Finished cells are kept in a content-addressed :class:`SweepCache` (:mod:`lattice_lab.compare.cache`:
in memory, and on disk with ``cache_dir``), keyed by the hashes of the weights, of every array of
the data, of the settings and of the method's code: a cell is never served for other data, and an
interrupted grid resumes cell by cell.

Sits on top: nothing in the package outside it imports it except ``widgets`` and ``cli``.
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

import concurrent.futures
import csv
import dataclasses
import importlib.util
import io
import json
import statistics
import time
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import torch

from .. import strict_json, train
from ..atomic import atomic_write
from ..models import SequenceClassifier, attached_view
from ..progress import progress_bar
from ..pruning import REGISTRY, foreign_methods, get_method
from ..pruning.base import check_amount
from ..pruning.styles import DENSE_STYLE, Style, derived_style, series_styles
from ..recurrent.data import as_dataset, example_inputs
from ..recurrent.methods import held_copy
from ..validation import RANGES, check_bool, check_choice, check_instance, check_list, check_range, fail
from .cache import SweepCache, cell_key, dense_key
from .cell import TIMING_COLUMNS, compute_cell, evaluate_result, latency_ms, run_cell, scalar_diagnostics
from .specs import (CellSpec, CheckpointSpec, DataSpec, checkpoint_spec, data_digest, data_spec, load_checkpoint,
                    load_data, model_digest)

__all__ = ["COLUMNS", "DEFAULT_CACHE", "TIMING_COLUMNS", "CellSpec", "CheckpointSpec", "DataSpec", "PlannedCell",
           "SweepCache", "aggregate", "checkpoint_spec", "clear_cache", "comparable", "data_spec", "evaluate_result",
           "format_table", "latency_ms", "legend_outside", "load_rows", "method_colour", "model_fingerprint",
           "plan_sweep", "plot_accuracy", "plot_styles", "run_cell", "run_cells", "save_rows", "scalar_diagnostics",
           "supported_methods", "sweep"]

COLUMNS = ("method", "level", "amount", "seed", "scope", "sparsity", "sparsity_recurrent", "sparsity_input",
           "hidden_units", "params_nonzero", "flops", "flops_dense", "accuracy", "finetune_epochs",
           "accuracy_finetuned", "dense_accuracy", "latency_ms", "prune_seconds", "diagnostics")
"""The columns of every row, for every method (``diagnostics`` is a dict of the method's scalars)."""
DENSE_COLOUR = DENSE_STYLE.colour
POLL_SECONDS = 0.05
"""How often completion is polled on an executor whose futures are not ``concurrent.futures`` ones."""

DEFAULT_CACHE = SweepCache()
"""The cache of ``sweep(..., cache=True)``: one per process, in memory (files with ``cache_dir``)."""


def clear_cache() -> None:
    """Forget every cell cached in memory by :data:`DEFAULT_CACHE` (the files of ``cache_dir`` are kept)."""
    DEFAULT_CACHE.clear()


def supported_methods(model) -> list[str]:
    """Registered methods that support ``model``'s kind, sorted by name.

    >>> from lattice_lab.models import build
    >>> "magnitude" in supported_methods(build({"kind": "gru", "input_size": 2, "hidden_size": 4,
    ...                                         "num_classes": 2}))
    True
    """
    if not isinstance(model, SequenceClassifier):  # a model of the user's own
        return sorted(foreign_methods())
    return sorted(name for name, spec in REGISTRY.items() if model.kind in spec.kinds)


def method_colour(method: str) -> str:
    """A fixed colour per method, the same in every plot of the course: its registry entry's.

    ``"dense"`` (the unpruned model) is black; a name that is not registered gets a stable
    colour derived from it.

    >>> method_colour("magnitude"), method_colour("dense")
    ('#332288', '#000000')
    """
    if method == "dense":
        return DENSE_COLOUR
    spec = REGISTRY.get(method)
    return spec.colour if spec is not None and spec.colour else derived_style(method).colour


def plot_styles(methods) -> dict[str, Style]:
    """The colour and line style of each method of one plot, no two alike (``pruning.styles.series_styles``).

    A registered method keeps its registry entry's style in every plot; a variant of the grid
    (``lattice-q0.98``) takes its method's colour and a line style of its own.

    >>> plot_styles(["magnitude", "magnitude-units"])["magnitude-units"].line_style
    '--'
    """
    known = {name: Style(spec.colour or derived_style(name).colour, spec.line_style or "-")  # a spec made by hand
             for name, spec in REGISTRY.items()}
    return series_styles(methods, known)


def __getattr__(name: str):
    if name == "METHOD_COLOURS":  # the old table, now read off the registry (kept for one release)
        return {"dense": DENSE_COLOUR, **{m: method_colour(m) for m in REGISTRY}}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def model_fingerprint(model: torch.nn.Module) -> str:
    """A short hash of a model's config and weights: the first 16 digits of :func:`.specs.model_digest`."""
    return model_digest(model)[:16]


def comparable(row: dict) -> dict:
    """``row`` without its wall-clock columns (:data:`TIMING_COLUMNS`): what two runs of a cell agree on exactly.

    >>> comparable({"method": "magnitude", "accuracy": 0.5, "latency_ms": 1.25, "prune_seconds": None})
    {'method': 'magnitude', 'accuracy': 0.5}
    """
    return {key: value for key, value in row.items() if key not in TIMING_COLUMNS}


# --------------------------------------------------------------------------- planning a grid

@dataclasses.dataclass(frozen=True)
class PlannedCell:
    """A cell of a planned grid, as this process holds it: the spec a worker gets, and what stays here.

    ``model``, ``test_data`` and ``train_data`` are the objects the cell runs on here (loaded from
    the spec's checkpoint and data when it has them); ``key`` and ``fields`` address its row in a
    :class:`SweepCache` (None: not cacheable), ``dense_key`` and ``dense_fields`` the dense model's
    accuracy on the test data.
    """

    spec: CellSpec
    model: Any
    test_data: Any
    train_data: Any
    key: str | None
    fields: dict | None
    dense_key: str | None
    dense_fields: dict | None

    @property
    def portable(self) -> bool:
        """Whether another process can compute this cell: its checkpoint and both datasets are specs."""
        return None not in (self.spec.checkpoint, self.spec.test, self.spec.train)


def _check_sweep_settings(amounts: Sequence[float], seeds: Sequence[int], finetune_epochs: int,
                          progress: bool | None) -> None:
    check_list(amounts, "amounts", "sweep", check_amount, "a nonempty list of floats in [0, 1)", unique=True)
    check_list(seeds, "seeds", "sweep", lambda seed: check_range(seed, "seeds", "sweep", "seed"),
               f"a nonempty list of ints in [0, {RANGES['seed'].high}]", unique=True)
    check_range(finetune_epochs, "finetune_epochs", "sweep", "epochs")
    if progress is not None:
        check_bool(progress, "progress", "sweep")


def _resolve_data(data, name: str) -> tuple[Any, DataSpec | None]:
    """(dataset, its spec or None): a DataSpec is loaded (once per process), a dataset is taken as it is."""
    if isinstance(data, DataSpec):
        return load_data(data), data
    check_instance(data, name, "sweep", torch.utils.data.Dataset, "a dataset or a DataSpec (compare.data_spec)")
    return data, None


def plan_sweep(model, data, methods: Iterable[str] | None = None, amounts: Sequence[float] = (0.5, 0.75, 0.9),
               seeds: Sequence[int] = (0,), finetune_epochs: int = 0, *, train_data=None, scope: str = "recurrent",
               options: dict[str, dict] | None = None, device: str = "cpu", finetune_lr: float = train.FINETUNE_LR,
               distill: bool = False, threads: int | None = None) -> list[PlannedCell]:
    """The cells of a sweep, in grid order (method, then amount, then seed), ready for :func:`run_cells`.

    Takes :func:`sweep`'s grid arguments (``model`` may be a :class:`CheckpointSpec`, ``data`` and
    ``train_data`` data specs) and validates them before any work; nothing is pruned
    here. Methods with a ``device`` option get the sweep's ``device`` unless ``options`` sets it.
    Plans of several models or datasets can be concatenated and run together, on one executor.

    Examples
    --------
    >>> cells = plan_sweep(checkpoint_spec("digits-lstm"), data_spec("digits", "test"),
    ...                    methods=["magnitude", "imp"], amounts=[0.5, 0.9])
    >>> [(c.spec.method, c.spec.amount, c.spec.options.get("device")) for c in cells]
    [('magnitude', 0.5, None), ('magnitude', 0.9, None), ('imp', 0.5, 'cpu'), ('imp', 0.9, 'cpu')]
    >>> all(c.portable and c.key is not None for c in cells)
    True
    """
    checkpoint = model if isinstance(model, CheckpointSpec) else None
    if checkpoint is not None:
        model = load_checkpoint(checkpoint)[0]
    foreign = not isinstance(model, (SequenceClassifier, CheckpointSpec))
    if foreign:  # a model of the user's own: its cells prune a private copy that carries its recurrent view
        data = as_dataset(data) if isinstance(data, (tuple, list)) else data
        train_data = as_dataset(train_data) if isinstance(train_data, (tuple, list)) else train_data
        model = model if attached_view(model) is not None else held_copy(model, example_inputs(data))
    if methods is None:
        methods = supported_methods(model)
    else:
        methods = [methods] if isinstance(methods, str) else list(methods)
        for name in methods:
            spec = get_method(name)
            if not foreign and getattr(model, "kind", None) not in spec.kinds:
                raise ValueError(f"method {name!r} supports model kinds {spec.kinds}, not "
                                 f"{getattr(model, 'kind', type(model).__name__)!r}; leave it out of methods")
    _check_sweep_settings(amounts, seeds, finetune_epochs, None)
    check_range(finetune_lr, "finetune_lr", "sweep", "lr")
    threads = check_range(threads, "threads", "sweep", "workers", allow_none=True)
    options = {} if options is None else check_instance(options, "options", "sweep", dict,
                                                         "a dict of option dicts by method")
    test_data, test_spec = _resolve_data(data, "data")
    train_data, train_spec = (test_data, test_spec) if train_data is None else _resolve_data(train_data, "train_data")
    digests = model_digest(model), data_digest(test_data), data_digest(train_data)
    dense = dense_key(digests[0], digests[1], device)
    cells = []
    for method in methods:
        entry = get_method(method)
        chosen = dict(options.get(method, {}))
        if "device" in entry.options:
            chosen.setdefault("device", device)
        for amount in amounts:
            for seed in seeds:
                spec = CellSpec(method, amount, seed, scope, chosen, finetune_epochs, finetune_lr, distill, device,
                                checkpoint, test_spec, train_spec, None, entry.function.__module__, threads)
                key, fields = cell_key(spec, *digests)
                cells.append(PlannedCell(spec, model, test_data, train_data, key, fields, *dense))
    return cells


# --------------------------------------------------------------------------- running cells

def _sweep_cache(cache: bool | SweepCache, cache_dir: str | Path | None, caller: str) -> SweepCache | None:
    """The cache a sweep uses: None (``cache=False``), the given one, or the default one (in ``cache_dir``)."""
    if isinstance(cache, SweepCache):
        if cache_dir is not None:
            fail("cache_dir", caller, "None when cache is a SweepCache (give the folder to the SweepCache)",
                 str(cache_dir))
        return cache
    if not check_bool(cache, "cache", caller):
        return None
    return DEFAULT_CACHE if cache_dir is None else DEFAULT_CACHE.in_folder(cache_dir)


def _dense_accuracies(cells: list[PlannedCell], store: SweepCache | None) -> list[PlannedCell]:
    """``cells`` with their ``dense_accuracy`` filled in: from the cache, else evaluated here once per model and data."""
    found: dict[Any, float] = {}
    out = []
    for cell in cells:
        group = cell.dense_key or (id(cell.model), id(cell.test_data), cell.spec.device)
        if group not in found:
            cached = store.get(cell.dense_key) if store is not None and cell.dense_key else None
            if cached is None:
                cached = {"dense_accuracy": train.evaluate(cell.model, cell.test_data,
                                                           device=cell.spec.device)["accuracy"]}
                if store is not None and cell.dense_key:
                    store.put(cell.dense_key, cached, cell.dense_fields)
            found[group] = cached["dense_accuracy"]
        out.append(dataclasses.replace(cell, spec=dataclasses.replace(cell.spec, dense_accuracy=found[group])))
    return out


def _for_executor(cell: PlannedCell) -> CellSpec:
    """The spec a worker gets: one thread unless the plan asked for more, no wall-clock columns."""
    if not cell.portable:
        raise ValueError("an executor computes cells in other processes, which load the model and the data "
                         "themselves: give sweep a checkpoint (compare.checkpoint_spec(path or shipped name)) and "
                         "data (compare.data_spec(name, split, ...)) instead of objects in memory, or run it "
                         "here (executor=None)")
    module = cell.spec.method_module
    if module in (None, "__main__") or importlib.util.find_spec(module) is None:
        raise ValueError(f"method {cell.spec.method!r} is registered by {module!r}, which workers cannot import: "
                         "register it in a module of its own that every worker can import (installed, or on "
                         "PYTHONPATH), and import that module before the sweep")
    threads = 1 if cell.spec.threads is None else cell.spec.threads
    return dataclasses.replace(cell.spec, threads=threads, timings=False)


def _as_completed(futures: list) -> Iterator:
    """Futures in the order they finish: ``concurrent.futures.as_completed``, else by polling ``done()``."""
    if all(isinstance(f, concurrent.futures.Future) for f in futures):
        yield from concurrent.futures.as_completed(futures)
        return
    pending = list(futures)
    while pending:
        done = [f for f in pending if f.done()]
        for future in done:
            pending.remove(future)
            yield future
        if not done:
            time.sleep(POLL_SECONDS)


def _describe(spec: CellSpec) -> str:
    return f"sweep cell {spec.method} amount={spec.amount} seed={spec.seed} options={spec.options}"


def run_cells(cells: Sequence[PlannedCell], *, executor=None, cache: bool | SweepCache = True,
              cache_dir: str | Path | None = None, progress: bool | None = None) -> list[dict]:
    """The rows of planned cells (:func:`plan_sweep`), in their order: from the cache, else computed.

    Parameters
    ----------
    cells : planned cells, of one grid or of several concatenated.
    executor : None: compute here, one cell after another. Otherwise any object with the
        ``concurrent.futures.Executor`` interface (``submit(fn, *args)`` returning a future with
        ``result()`` and ``done()``): each missing cell becomes one ``submit(run_cell, spec)``.
        Cells must then be portable (a checkpoint spec and data specs) and their methods
        registered by importable modules.
    cache, cache_dir : as for :func:`sweep`. Every cell is stored as soon as it is done.
    progress : show a progress bar; None: unless ``LATTICE_LAB_QUIET=1`` or under pytest.

    Each missing cell's ``dense_accuracy`` is looked up in the cache, or evaluated here once per
    model and test set. If a cell fails, the cells not yet started are cancelled, the finished ones
    stay cached, and the cell's exception is raised with a note naming the cell.
    """
    store = _sweep_cache(cache, cache_dir, "sweep")
    if progress is not None:
        check_bool(progress, "progress", "sweep")
    if executor is not None:
        for cell in cells:  # every cell, cached or not: whether a grid runs must not depend on the cache
            _for_executor(cell)
    rows: list[dict | None] = [None] * len(cells)
    for index, cell in enumerate(cells):
        if store is not None and cell.key is not None:
            rows[index] = store.get(cell.key)
    missing = [index for index, row in enumerate(rows) if row is None]
    planned = dict(zip(missing, _dense_accuracies([cells[i] for i in missing], store)))

    def keep(index: int, row: dict) -> None:
        rows[index] = row
        cell = planned[index]
        if store is not None and cell.key is not None:
            store.put(cell.key, row, cell.fields)

    if executor is None:
        for index in progress_bar(missing, desc="sweep", enabled=progress):
            cell = planned[index]
            try:
                keep(index, compute_cell(cell.spec, cell.model, cell.test_data, cell.train_data))
            except Exception as error:
                error.add_note(f"in {_describe(cell.spec)}")
                raise
        return [dict(row) for row in rows]
    specs = {index: _for_executor(planned[index]) for index in missing}
    futures = {executor.submit(run_cell, spec): index for index, spec in specs.items()}
    try:
        for future in progress_bar(_as_completed(list(futures)), desc="sweep", total=len(futures), enabled=progress):
            index = futures[future]
            try:
                keep(index, future.result())
            except Exception as error:
                error.add_note(f"in {_describe(specs[index])}")
                raise
    finally:
        for future in futures:
            if not future.done():
                future.cancel()  # the cells not finished when another failed or the wait was interrupted
    return [dict(row) for row in rows]


def sweep(model, data, methods: Iterable[str] | None = None, amounts: Sequence[float] = (0.5, 0.75, 0.9),
          seeds: Sequence[int] = (0,), finetune_epochs: int = 0, *, train_data=None, scope: str = "recurrent",
          options: dict[str, dict] | None = None, device: str = "cpu", cache: bool | SweepCache = True,
          cache_dir: str | Path | None = None, progress: bool | None = None,
          finetune_lr: float = train.FINETUNE_LR, distill: bool = False, executor=None,
          threads: int | None = None) -> list[dict]:
    """Prune ``model`` with every method x amount x seed, evaluate on ``data``, return rows.

    Parameters
    ----------
    model : the dense model (never modified), or a :class:`CheckpointSpec` of it
        (:func:`checkpoint_spec`: a checkpoint file or a shipped name).
    data : the evaluation set (usually the test split): a dataset, or a :class:`DataSpec`
        (:func:`data_spec`).
    methods : names from the registry (default: every registered method that supports the
        model's kind). A named method that does not support it is a ValueError, raised before
        any work is done.
    amounts : fractions removed (of weights in ``scope`` or of hidden units, by method level).
    seeds : one row per seed.
    finetune_epochs : when > 0, each pruned model is fine-tuned on ``train_data`` and
        ``accuracy_finetuned`` is filled in.
    train_data : the training set (methods that need data, and fine-tuning); default ``data``.
        A dataset or a :class:`DataSpec`.
    options : per-method options, e.g. ``{"lattice": {"adjacency": "binary"}}``. Methods with a
        ``device`` option (``imp``, ``ramanujan-imp``, ``expander``) get ``device`` unless set here.
    device : where every cell evaluates, fine-tunes and (methods with a ``device`` option) prunes.
    cache : True (default): reuse the rows of cells computed before with the same model, data
        and settings, kept by :data:`DEFAULT_CACHE` (in this process, and in ``cache_dir``); a
        :class:`SweepCache`: use that one instead; False: compute everything and keep nothing.
    cache_dir : with ``cache=True``, a folder where every finished cell is also kept as JSON,
        keyed by a hash of the weights, of every array of the data, of every setting and of the
        method's code (see :mod:`lattice_lab.compare.cache`), so a repeated or interrupted grid
        resumes cell by cell across sessions (with a :class:`SweepCache`, give it the folder).
    progress : show a progress bar; None: unless ``LATTICE_LAB_QUIET=1`` or under pytest.
    finetune_lr : the fine-tuning learning rate (default :data:`lattice_lab.train.FINETUNE_LR`).
    distill : fine-tune by distilling from ``model`` (see :func:`lattice_lab.train.fit`).
    executor : None (default): compute the cells here, one after another. Otherwise an object
        with the ``concurrent.futures.Executor`` interface, e.g. ``lattice_lab.compare.executors.local_pool(2)``,
        a Dask ``client.get_executor()``, or the Ray and submitit executors of ``examples/``; then
        ``model`` must be a :class:`CheckpointSpec` and the data :class:`DataSpec` objects (workers
        load them once each), and the methods must be registered by modules the workers can
        import. Rows are the serial run's, in grid order; ``latency_ms`` and ``prune_seconds`` are
        None (see :data:`TIMING_COLUMNS`).
    threads : torch and BLAS threads while each cell runs: default one per worker under an
        executor, and this process's own setting when serial. Rows are identical to the last digit
        between runs with the same thread count.

    Returns
    -------
    list of dict
        One row per (method, amount, seed), in that order, with the keys :data:`COLUMNS`.

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> from lattice_lab.data import load
    >>> model = build({"kind": "gru", "input_size": 8, "hidden_size": 8, "num_classes": 10})
    >>> rows = sweep(model, load("digits", "test"), methods=["random"], amounts=[0.5], seeds=[0, 1])
    >>> [(r["seed"], r["sparsity"]) for r in rows], sorted(rows[0]) == sorted(COLUMNS)
    ([(0, 0.5), (1, 0.5)], True)

    On two local worker processes (the same rows, but for the wall-clock columns):

    >>> from lattice_lab.compare.executors import local_pool
    >>> spec, test = checkpoint_spec("digits-lstm"), data_spec("digits", "test")
    >>> with local_pool(2) as pool:  # doctest: +SKIP
    ...     parallel = sweep(spec, test, methods=["magnitude"], amounts=[0.5, 0.9], executor=pool, cache=False)
    >>> serial = sweep(spec, test, methods=["magnitude"], amounts=[0.5, 0.9], cache=False, threads=1)
    >>> [comparable(r) for r in parallel] == [comparable(r) for r in serial]  # doctest: +SKIP
    True
    """
    cells = plan_sweep(model, data, methods, amounts, seeds, finetune_epochs, train_data=train_data, scope=scope,
                       options=options, device=device, finetune_lr=finetune_lr, distill=distill, threads=threads)
    return run_cells(cells, executor=executor, cache=cache, cache_dir=cache_dir, progress=progress)


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
    """Write rows as JSON (``.json``) or CSV (``.csv``, diagnostics flattened); returns the path.

    The file is written all or nothing (:func:`lattice_lab.atomic.atomic_write`: earlier results
    survive a failed or interrupted write). JSON is strict: a non-finite number is ``null`` (an
    empty cell in CSV), so :func:`load_rows` reads it back as None.
    """
    path = Path(path)
    if path.suffix not in (".json", ".csv"):
        raise ValueError(f"path must end in .json or .csv, got {path.name!r}")
    rows = strict_json.plain(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        return atomic_write(path, json.dumps(rows, indent=2, allow_nan=False))
    flat = [{**{k: v for k, v in r.items() if k != "diagnostics"},
             **{f"diag_{k}": v for k, v in (r.get("diagnostics") or {}).items()}} for r in rows]
    fields = list(dict.fromkeys(k for r in flat for k in r))
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=fields)
    writer.writeheader()
    writer.writerows(flat)
    return atomic_write(path, text.getvalue())


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
        return strict_json.read(path)  # bounded: size by os.stat, depth by a scan, before parsing
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
    styles = plot_styles(r["method"] for r in rows)
    for method, style in styles.items():
        points = sorted((e[x], e[column], e.get(column + "_std", 0.0))
                        for e in aggregate([r for r in rows if r["method"] == method]) if column in e)
        if not points:
            continue
        xs, ys, sd = zip(*points)
        ax.plot(xs, [100 * y for y in ys], marker="o", ms=4, ls=style.line_style, color=style.colour, label=method)
        ax.fill_between(xs, [100 * (y - s) for y, s in zip(ys, sd)], [100 * (y + s) for y, s in zip(ys, sd)],
                        color=style.colour, alpha=0.15)
    dense = [r["dense_accuracy"] for r in rows if r.get("dense_accuracy") is not None]
    if dense:
        ax.axhline(100 * dense[0], color=DENSE_STYLE.colour, ls=DENSE_STYLE.line_style, lw=1, label="dense")
    ax.set_xlabel({"sparsity": "measured sparsity", "flops": "FLOPs per sequence", "amount": "amount",
                   "hidden_units": "hidden units"}[x])
    if x == "flops":
        ax.set_xscale("log")
    ax.set_ylabel("test accuracy (%)" + (" after fine-tuning" if finetuned else ""))
    ax.grid(alpha=0.3)
    legend_outside(ax)
    return ax


def legend_outside(ax, fontsize: float = 7, ncol: int = 1):
    """The axes' legend to the right of its frame, where it hides no data; returns the Legend.

    The figure must then be saved with its tight bounding box (``bbox_inches="tight"``, as
    :func:`lattice_lab.widgets.plots.figure_png` and Jupyter's inline figures do), or the legend is cut.

    >>> import matplotlib.figure
    >>> ax = matplotlib.figure.Figure().add_subplot()
    >>> _ = ax.plot([0, 1], label="a")
    >>> bool(legend_outside(ax).get_bbox_to_anchor().x0 > ax.bbox.x1)
    True
    """
    return ax.legend(fontsize=fontsize, ncol=ncol, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                     frameon=False)
