"""A kernel's memory after forty PruningLab settings on full MNIST: under Binder's 1 GiB.

A learner who moves the lab around for a while must not push the kernel past mybinder.org's 1 GB.
Each run is a fresh Python process (a kernel's stand-in: the lab runs without Jupyter) that loads
the shipped ``mnist-lstm``, the MNIST test and training sets and builds a :class:`PruningLab` (the
training set given, quick budgets), then sets forty distinct settings through its controls: every
usable registered method in turn at amounts 0.3, 0.5, 0.7, 0.9 (a schedule's run ends before the
next setting). It reports the resident set (``VmRSS``) after building the lab, after the forty
settings, and after ``lab.cache.clear()`` plus :func:`lattice_lab.memory.release_freed_memory`, and
the peak (``VmHWM``).

The runs differ in one thing: glibc's malloc thresholds. By default glibc keeps freed heap for
reuse and the resident set only grows; with ``MALLOC_TRIM_THRESHOLD_=131072
MALLOC_MMAP_THRESHOLD_=131072`` (set before the process starts: ``binder/start`` sets them for every
kernel) large blocks are mapped and unmapped, and freed memory goes back to the system. Linux only.
The resident set includes the shared libraries: PyPI's torch wheel is the CUDA build (several
hundred MB at import); Binder installs the smaller CPU wheel, so a Binder kernel holds less.

Usage::

    LATTICE_LAB_DATA=<folder with MNIST> python -m benchmarks.lab_memory [--settings 40] [--out DIR]

Writes ``lab_memory.json`` (``lab_memory_fast.json`` in fast mode: digits, a check of the script).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from lattice_lab import data
from lattice_lab.settings import fast

from .common import ROOT, RESULTS, command_line, machine_info, write_report
from .notebook_memory import LIMIT_MIB, status_mib

AMOUNTS = (0.3, 0.5, 0.7, 0.9)
MALLOC_ENV = {"MALLOC_TRIM_THRESHOLD_": "131072", "MALLOC_MMAP_THRESHOLD_": "131072"}
"""What ``binder/start`` exports before a kernel starts (the same values)."""


def settings_plan(methods: list[str], count: int) -> list[tuple[str, float]]:
    """``count`` distinct (method, amount) pairs: every method at one amount, then every method at the next.

    >>> settings_plan(["a", "b"], 3)
    [('a', 0.3), ('b', 0.3), ('a', 0.5)]
    """
    pairs = [(method, amount) for amount in AMOUNTS for method in methods]
    if count > len(pairs):
        raise ValueError(f"--settings must be at most {len(pairs)} ({len(methods)} methods x {len(AMOUNTS)} amounts)")
    return pairs[:count]


def child(count: int) -> dict[str, Any]:
    """In this (fresh) process: build the lab, set ``count`` settings, measure; returns the measurements."""
    from lattice_lab import checkpoints, widgets
    from lattice_lab.memory import release_freed_memory
    from lattice_lab.pruning import REGISTRY

    pid = os.getpid()
    name = "digits" if fast() or not data.available("mnist") else "mnist"
    model = checkpoints.load(f"{name}-lstm")[0]
    test_set, train_set = data.load(name, "test"), data.load(name, "train")
    lab = widgets.PruningLab(model, test_set, train_data=train_set, quick=True)
    methods = [m for m in sorted(REGISTRY) if widgets.unavailable_reason(m, model, True) is None]
    start_mib = status_mib(pid, "VmRSS")
    shown = []
    for method, amount in settings_plan(methods, count):
        lab.controls["method"].value = method
        lab.controls["amount"].value = amount
        lab.wait()
        shown.append([method, amount, lab.state.source.split(",")[0][:40], lab.state.ok])
    after_mib = status_mib(pid, "VmRSS")
    lab.cache.clear()
    release_freed_memory()
    cleared_mib = status_mib(pid, "VmRSS")
    lab.jobs.shutdown()
    return {"dataset": name, "n_test": len(test_set), "n_train": len(train_set), "settings": shown,
            "cached_states": lab.cache.maxsize, "schedules_kept": len(lab.schedules),
            "schedule_mib": sum(s.nbytes() for s in lab.schedules.values()) / 2 ** 20,
            "rss_lab_built_mib": start_mib, "rss_after_mib": after_mib, "rss_cleared_mib": cleared_mib,
            "peak_mib": status_mib(pid, "VmHWM")}


def run(count: int, env_extra: dict[str, str]) -> dict[str, Any]:
    """One fresh process with ``env_extra`` added to this environment; its measurements."""
    env = {k: v for k, v in os.environ.items() if k not in MALLOC_ENV} | env_extra
    done = subprocess.run([sys.executable, "-m", "benchmarks.lab_memory", "--child", str(count)], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the lab_memory child failed ({done.returncode}): {done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result | {"malloc_env": env_extra, "under_limit": result["rss_after_mib"] < LIMIT_MIB}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark (two fresh processes), write its JSON report, print a summary; return the report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lab_memory", description=__doc__.split("\n")[0])
    parser.add_argument("--settings", type=int, default=40, help="lab settings per run (default 40)")
    parser.add_argument("--out", default=str(RESULTS), help="folder for the JSON report")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(args.child)))
        return {}
    if not Path("/proc/self/status").is_file():
        parser.error("this benchmark reads /proc/<pid>/status: Linux only")
    if args.settings < 1:
        parser.error(f"--settings must be >= 1, got {args.settings}")
    machine = machine_info(command_line("lab_memory", argv))
    runs = {"glibc defaults": run(args.settings, {}), "binder/start's malloc thresholds": run(args.settings, MALLOC_ENV)}
    tuned = runs["binder/start's malloc thresholds"]
    report = {"benchmark": "lab_memory", "machine": machine, "fast": fast(), "limit_mib": LIMIT_MIB,
              "settings": args.settings, "runs": runs, "under_limit": tuned["under_limit"]}
    path = write_report(report, args.out, "lab_memory")
    for label, entry in runs.items():
        print(f"{label:34s} lab built {entry['rss_lab_built_mib']:6.0f} MiB -> after {args.settings} settings "
              f"{entry['rss_after_mib']:6.0f} MiB (cache cleared {entry['rss_cleared_mib']:6.0f}, peak "
              f"{entry['peak_mib']:6.0f}) on {entry['dataset']}")
    print(f"{'under' if report['under_limit'] else 'OVER'} {LIMIT_MIB:.0f} MiB with binder/start's settings; wrote {path}")
    return report


if __name__ == "__main__":
    main()
