"""The ``lattice-lab grade`` subcommand: a score per question, the total and the feedback, offline.

    lattice-lab grade SUBMISSION.ipynb [SUBMISSION.ipynb ...] [--json] [--tests DIR]

Added to the CLI by :func:`add_parser` (cli.py calls it), so the grading stays in its own package.

Must not import: widgets, cli, compare.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from .. import strict_json
from . import grader


def cmd_grade(args) -> int:
    """Grade every submission given; print the reports (human, or one JSON list with ``--json``)."""
    try:
        import otter.test_files  # noqa: F401  (the hidden tests are otter-grader test files)
    except ImportError:
        raise ImportError("grading needs otter-grader: pip install 'lattice_lab[grading]'") from None
    for option, value in (("--cell-timeout", args.cell_timeout), ("--question-timeout", args.question_timeout)):
        if value < 1:
            raise ValueError(f"{option} must be a whole number of seconds of at least 1, got {value}")
    reports = [grader.grade(path, tests=args.tests, cell_timeout=args.cell_timeout,
                            question_timeout=args.question_timeout) for path in args.submissions]
    if args.json:
        print(strict_json.dumps([report.to_dict() for report in reports], indent=2))
    else:
        print("\n\n".join(report.format() for report in reports))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``grade`` to the CLI's subparsers; the CLI binds it to :func:`cmd_grade`, as it binds its own commands."""
    p = sub.add_parser("grade", help="grade lab submissions offline: a score per question, the total, feedback")
    p.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION", help="a learner's lab notebook (.ipynb)")
    p.add_argument("--tests", type=Path, default=None,
                   help="the folder of hidden tests, <lab>/q*.py (default: the checkout's labs/hidden; "
                        "the autograder copy of make assignments has one)")
    p.add_argument("--cell-timeout", type=int, default=grader.CELL_TIMEOUT,
                   help=f"seconds a submission's cell may run before it is interrupted (default {grader.CELL_TIMEOUT})")
    p.add_argument("--question-timeout", type=int, default=grader.QUESTION_TIMEOUT,
                   help="seconds a question's hidden tests may run; past it the question scores 0 "
                        f"(default {grader.QUESTION_TIMEOUT})")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    return p
