"""Live budget of the PruningLab: every later slider move of every method in at most 1 s.

The budget of issues 6 and 27: on 2 CPU cores, one move of the amount slider on an MNIST LSTM-128 —
prune, evaluate all 10,000 test sequences, redraw the readouts and the visible plot — takes at
most a second, for every registered method once its first result is there. This script times it
the way a learner meets it: a :class:`PruningLab` is built with the training set (quick budgets),
and for each method the first move (choosing the method: for a schedule, its one run in the
background until the lab shows numbers; for a method that trains from scratch, its committed run or,
without one, "compute") is timed, then moves of its amount control to new (uncached) positions, each
running exactly what a slider release runs in the notebook; what each move showed (computed now,
served from a schedule, a committed run, or pending: nothing computed until asked) is recorded.
Moving back to a visited position (served from the lab's cache) is timed too.

Model: the shipped ``mnist-lstm`` checkpoint when MNIST is available. Without MNIST, or in fast
mode (``LATTICE_LAB_FAST=1``), the shipped ``digits-lstm`` is used: that run checks the script,
not the budget (the report's ``dataset`` says which).

The process is pinned to two CPU cores where the OS allows it, and torch uses two threads (``--threads``).
The report's ``machine`` block (:func:`benchmarks.common.machine_info`) records the load average: on a
busy machine the wall times are upper bounds, and the CPU time per move (``cpu_s``, every thread
together) is the load-independent figure — two cores deliver at most 2 CPU-seconds per second. With
``--threads 1`` a move's CPU time is its wall time on an idle core, so the report's
``cpu_within_budget`` (every later move at most 1 CPU-second, one thread) is the verdict a loaded
machine can still give.

Usage::

    python -m benchmarks.live_budget [--moves 12] [--methods ...] [--threads 2] [--out DIR]

(default: every registered method).

Writes ``live_budget.json`` (``live_budget_fast.json`` in fast mode) under ``--out`` and prints the
median seconds per move.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

import torch

from lattice_lab import checkpoints, data, widgets
from lattice_lab.pruning import REGISTRY
from lattice_lab.settings import fast

from .common import RESULTS, command_line, machine_info, set_threads, write_report

BUDGET_S = 1.0
THREADS = 2


def pin_two_cores() -> tuple[list[int], list[int]]:
    """Restrict this process to (at most) two CPU cores where the OS allows it.

    Returns (cores now used, cores allowed before) so the caller can restore the affinity.
    """
    if not hasattr(os, "sched_getaffinity"):
        return [], []
    before = sorted(os.sched_getaffinity(0))
    if len(before) > THREADS:
        os.sched_setaffinity(0, before[:THREADS])
    return before[:THREADS], before


def shown(state: widgets.LabState) -> str:
    """What a move showed: ``computed``, ``schedule`` (served from a schedule's stop), ``committed`` or ``pending``."""
    if state.source == "pending":
        return "pending"
    if state.source.startswith("from a committed run"):
        return "committed"
    return "schedule" if state.source.startswith("from one ") else "computed"


def first_move(lab: widgets.PruningLab, method: str) -> tuple[float, str]:
    """Seconds from choosing ``method`` until the lab shows its first numbers, and what it showed."""
    start = time.perf_counter()
    lab.controls["method"].value = method
    lab.wait()
    if lab.state.source == "pending":  # trains from scratch, no committed run: the learner presses "compute"
        lab.compute()
        lab.wait()
    if not lab.state.ok:
        raise RuntimeError(f"{method}: {lab.state.error}")
    return time.perf_counter() - start, shown(lab.state)


def time_moves(lab: widgets.PruningLab, method: str, amounts: list[float]) -> dict[str, Any]:
    """The first move to ``method``; wall and CPU seconds per later slider move to each (new) amount, then back.

    The method is chosen at the lab's starting amount (the previous method is moved back there first,
    untimed), so that no later move is to the amount the lab already shows.
    """
    lab.controls["amount"].value = lab.defaults.amount
    lab.wait()
    first_s, first_shown = first_move(lab, method)
    moves, computes, cpu, showed = [], [], [], []
    for amount in amounts:
        start, start_cpu = time.perf_counter(), time.process_time()
        lab.controls["amount"].value = amount
        moves.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        computes.append(lab.state.seconds)
        showed.append(shown(lab.state))
        if not lab.state.ok and lab.state.source != "pending":
            raise RuntimeError(f"{method} at {amount}: {lab.state.error}")
    revisits = []
    for amount in amounts[::-1][1:]:
        start = time.perf_counter()
        lab.controls["amount"].value = amount
        revisits.append(time.perf_counter() - start)
    return {"first_s": first_s, "max_cpu_s": max(cpu), "first_shown": first_shown, "shown": showed,
            "with_numbers": sum(s != "pending" for s in showed), "amounts": amounts, "move_s": moves,
            "compute_s": computes, "cpu_s": cpu,
            "median_s": statistics.median(moves), "max_s": max(moves), "median_cpu_s": statistics.median(cpu),
            "median_compute_s": statistics.median(computes),
            "median_redraw_s": statistics.median(m - c for m, c in zip(moves, computes)),
            "median_revisit_s": statistics.median(revisits) if revisits else None}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, write its JSON report, print a summary; return the report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.live_budget", description=__doc__.split("\n")[0])
    parser.add_argument("--moves", type=int, default=None, help="slider moves per method (default 12, 4 fast)")
    parser.add_argument("--methods", nargs="+", default=None, help="methods to time (default: every registered one)")
    parser.add_argument("--threads", type=int, default=THREADS, help=f"torch threads (default {THREADS})")
    parser.add_argument("--out", default=str(RESULTS), help="folder for the JSON report")
    args = parser.parse_args(argv)
    moves = args.moves if args.moves is not None else (4 if fast() else 12)
    if moves < 1:
        parser.error(f"--moves must be >= 1, got {moves}")
    methods = args.methods or sorted(REGISTRY)
    unknown = [m for m in methods if m not in REGISTRY]
    if unknown:
        parser.error(f"unknown method(s) {unknown}; registered: {sorted(REGISTRY)}")
    cores, allowed = pin_two_cores()
    threads = torch.get_num_threads()
    try:
        set_threads(args.threads)
        machine = machine_info(command_line("live_budget", argv))
        note = ""
        if not fast() and data.available("mnist"):
            model, source = checkpoints.load("mnist-lstm")[0], "shipped mnist-lstm"
            test_set, train_set = data.load("mnist", "test"), data.load("mnist", "train")
        else:
            model, source = checkpoints.load("digits-lstm")[0], "shipped digits-lstm"
            test_set, train_set = data.load("digits", "test"), data.load("digits", "train")
            note = ("fast mode: digits, a check of the script, not of the budget" if fast() else
                    "MNIST is not available here (set LATTICE_LAB_DATA): digits instead, not the budget's setting")
        lab = widgets.PruningLab(model, test_set, train_data=train_set, quick=True)
        step, top = widgets.AMOUNT_STEP, widgets.AMOUNT_MAX
        positions = [round(k * step, 2) for k in range(1, int(round(top / step)) + 1)]
        amounts = [a for a in positions if a != lab.defaults.amount][:moves]
        per_method = {}
        for method in methods:
            per_method[method] = time_moves(lab, method, amounts)
            entry = per_method[method]
            print(f"  {method}: first {entry['first_s']:.1f} s ({entry['first_shown']}), later median "
                  f"{entry['median_s']:.3f} s, max {entry['max_s']:.3f} s", flush=True)
        lab.jobs.shutdown()
    finally:
        torch.set_num_threads(threads)
        if allowed:
            os.sched_setaffinity(0, allowed)
    all_moves = [s for entry in per_method.values() for s, what in zip(entry["move_s"], entry["shown"])
                 if what != "pending"]  # a pending move computes nothing: it would flatter the median
    all_cpu = [s for entry in per_method.values() for s, what in zip(entry["cpu_s"], entry["shown"]) if what != "pending"]
    median = statistics.median(all_moves)
    report = {
        "benchmark": "live_budget", "machine": machine, "model": source, "config": model.config,
        "dataset": test_set.name, "n_test": len(test_set), "dense_accuracy": lab.dense_accuracy, "note": note,
        "visible_view": lab.TABS[lab.controls["tabs"].selected_index or 0], "cores": cores, "threads": args.threads,
        "n_train": len(train_set), "quick": True, "moves_per_method": len(amounts), "median_s": median,
        "max_s": max(all_moves), "median_cpu_s": statistics.median(s for e in per_method.values() for s in e["cpu_s"]),
        "budget_s": BUDGET_S, "within_budget": max(all_moves) <= BUDGET_S, "max_cpu_s": max(all_cpu),
        "cpu_within_budget": args.threads == 1 and max(all_cpu) <= BUDGET_S, "per_method": per_method,
    }
    path = write_report(report, args.out, "live_budget")
    load = machine["load_average_start"][0]
    print(f"{source}; {len(test_set)} {test_set.name} test sequences; {len(cores) or '?'} cores, {args.threads} threads; "
          f"load average {load:.1f}" + (f" ({note})" if note else ""))
    for method, entry in per_method.items():
        print(f"  {method:16s} median {entry['median_s']:.3f} s per move (compute {entry['median_compute_s']:.3f} s, "
              f"redraw {entry['median_redraw_s']:.3f} s; back to a visited amount {entry['median_revisit_s']:.3f} s),"
              f" max {entry['max_s']:.3f} s; {entry['median_cpu_s']:.2f} CPU-s per move")
    verdict = "within" if report["within_budget"] else "OVER"
    print(f"slowest later move {report['max_s']:.3f} s (median {median:.3f} s): {verdict} the {BUDGET_S:.0f} s budget; "
          f"wrote {path}")
    return report


if __name__ == "__main__":
    main()
