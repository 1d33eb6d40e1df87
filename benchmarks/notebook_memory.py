"""Peak memory and wall time of each course notebook's kernel, executed top to bottom as a learner runs it.

mybinder.org guarantees a session 1 GB of memory (2 GB at most): every notebook's kernel must stay
under :data:`LIMIT_MIB` in full mode on MNIST. And the Voilà dashboard (``notebooks/dashboard.ipynb``)
must render in under :data:`DASHBOARD_TARGET_S` seconds on two cores. This benchmark measures both the way Jupyter
and Voilà run a notebook: each notebook in a fresh kernel (``nbclient``), in a temporary copy of the
notebooks folder, with this process's environment (so ``LATTICE_LAB_FAST``, ``LATTICE_LAB_DATA``
and the thread settings reach the kernel), the whole run pinned to two CPU cores where the OS allows
it (a kernel inherits the affinity).

Memory is the kernel process's **peak resident set size**, ``VmHWM`` of ``/proc/<pid>/status``:
exact (the kernel keeps the high-water mark), not sampled. It is read after every cell, so the
report also says which cell raised the peak and how much each cell keeps (``VmRSS`` after it).
Child processes of the kernel are not counted (no notebook starts one that computes). Linux only.
The resident set includes the shared libraries the kernel maps: PyPI's torch wheel for Linux is
the CUDA build, whose libraries alone are several hundred MB of it at import; Binder installs the
smaller CPU wheel (binder/requirements.txt), so a Binder kernel peaks lower than measured here.

Time is the wall time of the cells, and separately of the kernel start; on a machine busier than
its cores (see the report's ``machine`` block) it is an upper bound.

Usage::

    python -m benchmarks.notebook_memory [--notebooks 06 08_compare_everything ...] [--repeat 1]
                                         [--timeout 1800] [--out DIR]

Full mode (the table of the README): ``LATTICE_LAB_DATA=<folder with MNIST> python -m benchmarks.notebook_memory``.
Writes ``notebook_memory.json`` (``notebook_memory_fast.json`` in fast mode) under ``--out``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from lattice_lab import data
from lattice_lab.settings import fast

from .common import ROOT, RESULTS, command_line, machine_info, write_report
from .live_budget import pin_two_cores

NOTEBOOKS = ROOT / "notebooks"
LIMIT_MIB = 1024.0
DASHBOARD = "dashboard"  # what the README's Voilà badge opens
DASHBOARD_TARGET_S = 30.0
CELL_TIMEOUT_S = 1800
PEAK_TOLERANCE_MIB = 5.0


def status_mib(pid: int, field: str) -> float:
    """A memory field of ``/proc/<pid>/status`` (``VmHWM``, ``VmRSS`` ...) in MiB.

    >>> status_mib(os.getpid(), "VmHWM") >= status_mib(os.getpid(), "VmRSS") > 0
    True
    """
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    raise KeyError(f"/proc/{pid}/status has no {field}")


def select(names: list[str] | None) -> list[Path]:
    """The notebooks to run: all, or those whose file name starts with one of ``names`` ("06", "08_compare").

    >>> [p.name for p in select(["08"])]
    ['08_compare_everything.ipynb']
    """
    every = sorted(NOTEBOOKS.glob("*.ipynb"))
    if not names:
        return every
    chosen = [p for p in every if any(p.name.startswith(n) for n in names)]
    unknown = [n for n in names if not any(p.name.startswith(n) for p in every)]
    if unknown:
        raise ValueError(f"no notebook starts with {unknown}; the notebooks are {[p.name for p in every]}")
    return chosen


def run_notebook(path: Path, folder: Path, timeout: int = CELL_TIMEOUT_S) -> dict[str, Any]:
    """Execute ``path`` (a copy in ``folder``) in a fresh kernel; its peak memory, per cell and in all, and times."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    manager = KernelManager(kernel_name="python3")
    cells: list[dict[str, Any]] = []
    clock = {"start": time.perf_counter()}

    def pid() -> int:
        return manager.provisioner.process.pid

    def started(**_) -> None:
        clock["kernel_s"] = time.perf_counter() - clock["start"]
        clock["cells"] = clock["last"] = time.perf_counter()

    def cell_started(**_) -> None:
        clock["cell"] = time.perf_counter()

    def cell_finished(cell, cell_index, **_) -> None:  # code cells only: nbclient runs nothing else
        clock["last"] = time.perf_counter()
        cells.append({"index": cell_index, "id": cell.get("id"), "seconds": clock["last"] - clock["cell"],
                      "peak_mib": status_mib(pid(), "VmHWM"), "rss_mib": status_mib(pid(), "VmRSS")})

    client = NotebookClient(notebook, km=manager, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}}, on_notebook_start=started,
                            on_cell_start=cell_started, on_cell_executed=cell_finished)
    error = None
    try:
        client.execute()
    except Exception as failure:  # noqa: BLE001 - a failing notebook is reported, the others still run
        error = f"{type(failure).__name__}: {str(failure).strip().splitlines()[-1] if str(failure).strip() else ''}"
    seconds = clock["last"] - clock["cells"] if "cells" in clock else None
    peak = max((c["peak_mib"] for c in cells), default=None)
    # the cell that set the peak: the first after which the high-water mark is within a few MiB of it (the
    # kernel's own bookkeeping adds a little afterwards)
    reached = next((c for c in cells if c["peak_mib"] >= peak - PEAK_TOLERANCE_MIB), None)
    return {"notebook": path.stem, "peak_mib": peak, "final_rss_mib": cells[-1]["rss_mib"] if cells else None,
            "peak_cell": None if reached is None else reached["index"],
            "peak_cell_id": None if reached is None else reached["id"],
            "seconds": seconds, "kernel_start_s": clock.get("kernel_s"), "cells": cells, "error": error}


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One notebook's repeats: the highest peak and the median time (the cells of the last run).

    >>> summarize([{"notebook": "n", "peak_mib": 2.0, "seconds": 3.0, "kernel_start_s": 1.0, "error": None},
    ...            {"notebook": "n", "peak_mib": 1.0, "seconds": 5.0, "kernel_start_s": 1.0, "error": None}])["seconds"]
    4.0
    """
    last = dict(runs[-1])
    peaks = [r["peak_mib"] for r in runs if r["peak_mib"] is not None]
    last["peak_mib"] = max(peaks) if peaks else None
    last["seconds"] = statistics.median(r["seconds"] for r in runs)
    last["seconds_each"] = [r["seconds"] for r in runs]
    last["error"] = next((r["error"] for r in runs if r["error"]), None)
    last["under_limit"] = last["peak_mib"] is not None and last["peak_mib"] < LIMIT_MIB and not last["error"]
    return last


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, write its JSON report, print a summary; return the report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.notebook_memory", description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", nargs="+", default=None,
                        help="file-name prefixes of the notebooks to run (default: all)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each notebook (median time, highest peak)")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT_S, help="seconds allowed per cell")
    parser.add_argument("--out", default=str(RESULTS), help="folder for the JSON report")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be >= 1, got {args.repeat}")
    if not Path("/proc/self/status").is_file():
        parser.error("this benchmark reads /proc/<pid>/status: Linux only")
    try:
        paths = select(args.notebooks)
    except ValueError as error:
        parser.error(str(error))
    machine = machine_info(command_line("notebook_memory", argv))
    cores, allowed = pin_two_cores()
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="lattice_lab_notebooks_") as scratch:
            folder = Path(scratch) / "notebooks"
            shutil.copytree(NOTEBOOKS, folder)
            for path in paths:
                runs = [run_notebook(folder / path.name, folder, args.timeout) for _ in range(args.repeat)]
                entry = summarize(runs)
                results.append(entry)
                state = entry["error"] or ("under" if entry["under_limit"] else "OVER") + f" {LIMIT_MIB:.0f} MiB"
                print(f"{path.stem:32s} peak {entry['peak_mib'] or 0:7.0f} MiB (cell {entry['peak_cell']}), "
                      f"{entry['seconds']:6.1f} s: {state}", flush=True)
    finally:
        if allowed:
            os.sched_setaffinity(0, allowed)
    dashboard = next((r for r in results if r["notebook"] == DASHBOARD), None)
    report = {
        "benchmark": "notebook_memory", "machine": machine, "cores": cores, "fast": fast(),
        "dataset": "mnist" if data.available("mnist") else "digits", "limit_mib": LIMIT_MIB, "notebooks": results,
        "all_under_limit": bool(results) and all(r["under_limit"] for r in results),
        "dashboard": None if dashboard is None else {
            "notebook": DASHBOARD, "seconds": dashboard["seconds"], "kernel_start_s": dashboard["kernel_start_s"],
            "target_s": DASHBOARD_TARGET_S,
            "met": dashboard["error"] is None and dashboard["seconds"] + dashboard["kernel_start_s"] < DASHBOARD_TARGET_S},
    }
    path = write_report(report, args.out, "notebook_memory")
    print(f"{'all' if report['all_under_limit'] else 'NOT all'} notebooks under {LIMIT_MIB:.0f} MiB "
          f"({report['dataset']}, {'fast' if fast() else 'full'} mode); wrote {path}")
    return report


if __name__ == "__main__":
    main()
