"""One cell of a sweep, computed by one pure top-level function: :func:`run_cell`.

``run_cell(cell)`` takes a :class:`~lattice_lab.compare.specs.CellSpec` and returns the cell's row:
it loads the checkpoint and the data the spec names (once per process, see
:mod:`lattice_lab.compare.specs`), imports the module that registers the method if this process's
registry lacks it, and calls :func:`compute_cell`, which prunes, evaluates, optionally fine-tunes
and evaluates again (:func:`evaluate_result`). That is all a worker of any engine runs: a
``concurrent.futures`` process pool, Dask, Ray or a SLURM job get ``run_cell`` and a spec of a few
hundred bytes. A serial sweep of in-memory objects calls :func:`compute_cell` with them.

A cell is pure: the same spec gives the same row in any process. Its random draws start from its
own seed (the global torch generator is forked and seeded for the cell, then restored), and while
it runs, torch and the BLAS libraries use ``cell.threads`` threads (:func:`limited_threads`; a sweep
on an executor asks for one per worker, so that workers do not fight over the cores). Results are
identical to the last digit between processes with the same thread count and device; torch's
kernels may round differently with another thread count.

Two columns are wall-clock measurements, not results: ``latency_ms`` (:func:`latency_ms`, one
forward pass on 256 test sequences) and ``prune_seconds``. They are measured only when the cell
says so (``cell.timings``: serial sweeps); under an executor other cells share the cores, the
numbers would mean nothing, and they are None. A row served from the sweep cache keeps the
wall-clock columns of the run that computed it. Compare speeds with ``benchmarks.speed``.

Must not import: widgets, cli, compare.cache.

Examples
--------
>>> from lattice_lab.compare.specs import CellSpec, checkpoint_spec, data_spec
>>> cell = CellSpec("magnitude", 0.5, checkpoint=checkpoint_spec("digits-lstm"), test=data_spec("digits", "test"),
...                 train=data_spec("digits", "train"), dense_accuracy=0.978, timings=False)
>>> row = run_cell(cell)
>>> row["method"], row["sparsity"], row["accuracy"] > 0.9, row["latency_ms"]
('magnitude', 0.5, True, None)
"""
from __future__ import annotations

import contextlib
import importlib
import statistics
import time
from collections.abc import Iterator

import torch
from threadpoolctl import threadpool_limits

from .. import metrics, train
from ..pruning import REGISTRY, get_method, prune
from .specs import CellSpec, load_checkpoint, load_data

__all__ = ["compute_cell", "ensure_method", "evaluate_result", "latency_ms", "limited_threads", "run_cell",
           "scalar_diagnostics"]

TIMING_COLUMNS = ("latency_ms", "prune_seconds")
"""The columns of a row that are wall-clock measurements: they differ between any two runs."""


@contextlib.contextmanager
def limited_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` torch threads and BLAS/OpenMP threads (threadpoolctl); None: as they are.

    >>> before = torch.get_num_threads()
    >>> with limited_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(before)


def ensure_method(method: str, module: str | None) -> None:
    """Make ``method`` registered here: import ``module`` (the one that registers it) if the registry lacks it.

    A worker process has the package's own methods; a method registered in a user's module is
    found by importing that module, so it must be importable on every worker (installed, or on
    ``PYTHONPATH``), not defined in a notebook or in ``__main__``.
    """
    if method not in REGISTRY and module:
        importlib.import_module(module)
    get_method(method)  # a ValueError naming the registered methods if it is still unknown


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
                    finetune_lr: float = train.FINETUNE_LR, distill: bool = False, timings: bool = True) -> dict:
    """One comparison row for a :class:`~lattice_lab.pruning.PruneResult`.

    With ``finetune_epochs`` the pruned model is then fine-tuned on ``train_data`` at
    ``finetune_lr``, distilling from ``dense`` when ``distill`` (see :func:`lattice_lab.train.fit`).
    With ``timings`` the row measures ``latency_ms`` and reports ``result.info["seconds"]`` as
    ``prune_seconds`` (else both are None); the timing is never one of the ``diagnostics``.
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
        "latency_ms": latency_ms(result.model, example) if timings and example is not None else None,
        "prune_seconds": result.info.get("seconds") if timings else None,
        "diagnostics": {k: v for k, v in scalar_diagnostics(result.info).items() if k != "seconds"},
    }
    if finetune_epochs:
        if train_data is None:
            raise ValueError("finetune_epochs > 0 needs train_data")
        tuned = result.model
        train.finetune(tuned, train_data, epochs=finetune_epochs, lr=finetune_lr, seed=seed, device=device,
                       teacher=dense if distill else None)
        row["accuracy_finetuned"] = train.evaluate(tuned, test_data, device=device)["accuracy"]
    return row


def _rng_devices(device: str) -> list[int]:
    """The CUDA devices whose generators a cell on ``device`` draws from (forked with the CPU's)."""
    chosen = torch.device(device)
    if chosen.type != "cuda" or not torch.cuda.is_available():
        return []
    return [chosen.index if chosen.index is not None else torch.cuda.current_device()]


def compute_cell(cell: CellSpec, model, test_data, train_data) -> dict:
    """The row of ``cell`` for the dense ``model`` (never modified), evaluated on ``test_data``.

    ``train_data`` feeds the methods that need data and the fine-tuning. The row has the columns
    of :data:`lattice_lab.compare.COLUMNS`; ``dense_accuracy`` is the cell's.
    """
    ensure_method(cell.method, cell.method_module)
    with limited_threads(cell.threads), torch.random.fork_rng(devices=_rng_devices(cell.device)):
        torch.manual_seed(cell.seed)
        start = time.perf_counter()
        result = prune(model, cell.method, cell.amount, train_data, scope=cell.scope, seed=cell.seed, **cell.options)
        result.info.setdefault("seconds", time.perf_counter() - start)
        return evaluate_result(result, model, test_data, train_data=train_data,
                               finetune_epochs=cell.finetune_epochs, dense_accuracy=cell.dense_accuracy,
                               seed=cell.seed, device=cell.device, finetune_lr=cell.finetune_lr,
                               distill=cell.distill, timings=cell.timings)


def run_cell(cell: CellSpec) -> dict:
    """The row of a cell whose checkpoint and data are specs: what every worker of a sweep runs.

    The checkpoint and the datasets are loaded once per process and checked against the hashes
    in the spec (see :mod:`lattice_lab.compare.specs`); the training data defaults to the test data.
    """
    if cell.checkpoint is None or cell.test is None:
        raise ValueError("run_cell needs a cell whose checkpoint and test data are specs (CheckpointSpec, DataSpec); "
                         "a cell of an in-memory model or dataset is computed with compute_cell where they live")
    model, _ = load_checkpoint(cell.checkpoint)
    test_data = load_data(cell.test)
    train_data = test_data if cell.train is None else load_data(cell.train)
    return compute_cell(cell, model, test_data, train_data)
