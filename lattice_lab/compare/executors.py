"""The engines a sweep fans out on that the front doors make: a local process pool, or a Dask cluster.

:func:`lattice_lab.compare.sweep` takes any executor with the ``concurrent.futures`` interface
(``examples/`` has Ray and SLURM-through-submitit ones); ``lattice-lab compare --jobs N /
--scheduler ADDRESS`` and ``python -m benchmarks.quality --jobs N / --scheduler ADDRESS`` get
theirs from :func:`executor_for`:

- :func:`local_pool`: ``concurrent.futures.ProcessPoolExecutor`` with the ``spawn`` start method:
  every worker is a fresh interpreter (no copy of this process's threads, CUDA state or open
  files, and the same behaviour on Linux, macOS and Windows). The standard library is enough
  here: a cell is a top-level function on picklable specs, so joblib's loky (cloudpickle for
  functions defined in a notebook, reusable pools) would add a dependency and nothing a sweep uses.
- :func:`dask_executor`: a Dask ``distributed.Client`` connected to a running scheduler (``dask
  scheduler`` and ``dask worker`` on the machines, or dask-jobqueue's ``SLURMCluster``), and its
  ``concurrent.futures`` executor; it needs the ``[cluster]`` extra
  (``pip install 'lattice_lab[cluster]'``) and ``lattice_lab`` installed on every worker.

Both are context managers that shut their executor down (or disconnect) when the block ends.
Must not import anything from the package (except validation).

Examples
--------
>>> with executor_for(jobs=1) as executor:
...     executor is None
True
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
from collections.abc import Iterator

from ..validation import check_instance, check_range, fail

__all__ = ["dask_executor", "executor_for", "local_pool"]


@contextlib.contextmanager
def local_pool(jobs: int) -> Iterator[concurrent.futures.ProcessPoolExecutor]:
    """``jobs`` worker processes on this machine (``spawn``); shut down when the block ends.

    >>> with local_pool(1) as pool:  # doctest: +SKIP
    ...     pool.submit(abs, -3).result()
    3
    """
    jobs = check_range(jobs, "jobs", "local_pool", "workers")
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def dask_executor(address: str) -> Iterator[concurrent.futures.Executor]:
    """The ``concurrent.futures`` executor of a Dask client connected to the scheduler at ``address``.

    ``address`` is what ``dask scheduler`` prints (``tcp://host:8786``) or a ``LocalCluster``'s
    ``scheduler_address``. Unreachable: a ValueError. The client disconnects when the block ends.
    """
    check_instance(address, "address", "dask_executor", str, "a Dask scheduler address such as 'tcp://host:8786'")
    try:
        from distributed import Client
    except ImportError:
        raise ImportError("a Dask scheduler needs the distributed package: pip install 'lattice_lab[cluster]'") from None
    try:
        client = Client(address, timeout=60)
    except (OSError, TimeoutError) as error:
        raise ValueError(f"cannot reach the Dask scheduler at {address!r}: {error}") from error
    try:
        yield client.get_executor()
    finally:
        client.close()


@contextlib.contextmanager
def executor_for(jobs: int = 1, scheduler: str | None = None) -> Iterator[concurrent.futures.Executor | None]:
    """What ``--jobs`` / ``--scheduler`` ask for: None (serial, ``jobs=1``), a local pool, or a Dask executor."""
    jobs = check_range(jobs, "jobs", "executor_for", "workers")
    if scheduler is not None:
        if jobs != 1:
            fail("jobs", "executor_for", "1 when a scheduler is given (its workers are the jobs)", jobs)
        with dask_executor(scheduler) as executor:
            yield executor
    elif jobs > 1:
        with local_pool(jobs) as executor:
            yield executor
    else:
        yield None
