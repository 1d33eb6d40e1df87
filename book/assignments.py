"""Write the assignments of the labs: a student copy and an autograder copy of each.

    python book/assignments.py [--out _build/assignments]

A lab is a notebook of ``notebooks/`` whose metadata names it (``{"lattice_lab": {"lab": "lab1"}}``);
its hidden tests are the otter-grader files ``labs/hidden/<lab>/q*.py``. For each lab this writes

- ``<out>/student/<notebook>.ipynb``: the student edition of ``book/student.py`` (the ``solution``
  cells removed, outputs cleared): the stubs and the self-checks, no solution and no hidden test;
- ``<out>/autograder/<notebook>.ipynb``: the instructor edition (the solution, graded at full marks),
  and ``<out>/autograder/tests/<lab>/q*.py``: the hidden tests, one file per question.

The instructor hands out ``student/`` and grades what comes back with
``lattice-lab grade SUBMISSION.ipynb --tests <out>/autograder/tests`` (``make assignments`` runs this
script; the ``_build/`` folder is gitignored). The committed notebooks and tests are only read.

Must not import lattice_lab: it builds the course from the outside, like ``book/student.py``.
"""
from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
HIDDEN = ROOT / "labs" / "hidden"
DEFAULT_OUT = ROOT / "_build" / "assignments"
LAB_KEY = "lattice_lab"
"""The notebook metadata key that names a lab (the same as lattice_lab.grading.grader.LAB_KEY)."""


def _student_script():
    spec = importlib.util.spec_from_file_location("course_student", Path(__file__).with_name("student.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def labs(folder: Path = NOTEBOOKS) -> dict[str, Path]:
    """{lab name: its notebook} for every notebook of ``folder`` whose metadata names a lab."""
    found = {}
    for path in sorted(folder.glob("*.ipynb")):
        lab = nbformat.read(path, as_version=4).metadata.get(LAB_KEY, {}).get("lab")
        if lab:
            found[lab] = path
    return found


def write_assignments(out: Path, hidden: Path = HIDDEN) -> list[Path]:
    """Write the student and autograder copies of every lab into ``out``; return the paths written."""
    out = out.resolve()
    if out in (NOTEBOOKS.resolve(), hidden.resolve()) or NOTEBOOKS.resolve().is_relative_to(out):
        raise ValueError(f"--out {out} would hold the committed notebooks or tests; give a build folder")
    student = _student_script()
    written = []
    for lab, path in labs().items():
        tests = sorted((hidden / lab).glob("q*.py"))
        if not tests:
            raise ValueError(f"{path.name} is {lab}, but {hidden / lab} holds no hidden tests (q*.py)")
        written += student.write_student_editions([path], out / "student")
        (out / "autograder" / "tests" / lab).mkdir(parents=True, exist_ok=True)
        written.append(Path(shutil.copy2(path, out / "autograder" / path.name)))
        written += [Path(shutil.copy2(test, out / "autograder" / "tests" / lab / test.name)) for test in tests]
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    try:
        written = write_assignments(args.out)
    except ValueError as error:
        parser.error(str(error))
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
