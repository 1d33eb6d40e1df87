"""Grading time of each lab: ``lattice-lab grade`` on the lab's instructor solution, against the 60 s budget.

The budget of issue 26: grading one submission of a lab takes under 60 s in fast mode, offline. This script
grades each lab's instructor edition (the committed notebook, which scores full marks) the way
``lattice-lab grade`` does (:func:`lattice_lab.grading.grade`: a fresh kernel, every cell, then each
question's hidden tests), with ``LATTICE_LAB_FAST=1`` set for the kernel whatever this process's mode
(the budget is a fast-mode one). Each lab is graded ``--repeats`` times; the report holds the median and
the maximum wall seconds per lab, the seconds of each question's hidden tests, and the score.

The report's ``machine`` block records the load average: on a busy machine (``heavy_load``) the wall
times are upper bounds.

Usage::

    python -m benchmarks.grading [--repeats 3] [--out DIR]

Writes ``grading.json`` (``grading_fast.json`` in fast mode: one repeat) under ``--out`` and prints the
median seconds per lab.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path
from typing import Any

import nbformat

from lattice_lab.grading import grade
from lattice_lab.grading.grader import LAB_KEY
from lattice_lab.settings import fast

from .common import RESULTS, command_line, machine_info, write_report

BUDGET_S = 60.0
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def labs() -> dict[str, Path]:
    """{lab: its instructor notebook} for every notebook of ``notebooks/`` whose metadata names a lab."""
    found = {}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        lab = nbformat.read(path, as_version=4).metadata.get(LAB_KEY, {}).get("lab")
        if lab:
            found[lab] = path
    return found


def time_lab(path: Path, repeats: int) -> dict[str, Any]:
    """Wall seconds of ``repeats`` gradings of one notebook; the score and per-question seconds of the last."""
    seconds, report = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        report = grade(path)
        seconds.append(time.perf_counter() - start)
    return {"notebook": path.name, "seconds": seconds, "median_s": statistics.median(seconds), "max_s": max(seconds),
            "score": report.score, "possible": report.possible, "problems": report.problems,
            "question_seconds": {q.name: q.seconds for q in report.questions}}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="gradings per lab (default 3; fast mode: 1)")
    parser.add_argument("--out", default=str(RESULTS), help=f"folder for the report (default {RESULTS})")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    repeats = 1 if fast() else args.repeats
    machine = machine_info(command_line("grading", argv))
    previous = os.environ.get("LATTICE_LAB_FAST")
    os.environ["LATTICE_LAB_FAST"] = "1"  # the kernels inherit it: the budget is for fast mode
    try:
        per_lab = {lab: time_lab(path, repeats) for lab, path in labs().items()}
    finally:
        if previous is None:
            os.environ.pop("LATTICE_LAB_FAST")
        else:
            os.environ["LATTICE_LAB_FAST"] = previous
    report = {"benchmark": "grading", "machine": machine, "budget_s": BUDGET_S, "repeats": repeats,
              "per_lab": per_lab, "within_budget": all(e["max_s"] < BUDGET_S for e in per_lab.values())}
    path = write_report(report, args.out, "grading")
    for lab, entry in per_lab.items():
        print(f"{lab}: median {entry['median_s']:.1f} s (max {entry['max_s']:.1f} s), "
              f"score {entry['score']:g} / {entry['possible']:g}")
    print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main()
