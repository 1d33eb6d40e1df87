"""Write the student edition of the course: every notebook with its solutions removed.

    python book/student.py [--out _build/student] [NOTEBOOK ...]

The committed notebooks are the **instructor edition**. An exercise there is three kinds of
cell, told apart by their tags (cell metadata ``tags``, as JupyterLab's property inspector sets
them):

- ``stub``: what the learner starts from, e.g. ``answer = ...  # your answer``;
- ``solution``: right after the stub, the instructor's answer (a code cell), or the model answer
  of an "explain why" exercise (a markdown cell);
- ``check``: a self-check that passes on the solution and, run on the stub, fails with a hint
  that does not give the answer away.

The student edition is the same notebook with the ``solution`` cells removed by nbconvert's
``TagRemovePreprocessor`` and every output cleared (``ClearOutputPreprocessor``): the stubs and
checks stay, so each check fails until the learner has done the exercise. This is the kept
library doing the work (fastbook and nbgrader do the same with their own tags); nothing here
parses or rewrites cells by hand. The copies are written to ``--out`` (``_build/student/`` by
default, what ``make student`` runs); the committed notebooks are never written.

A student copy opened in ``_build/student/`` finds the course's files the way the instructor
edition does (the notebooks look for ``benchmarks/results/`` in their folder's parents).

Must not import lattice_lab: it builds the course from the outside, like ``book/build.py``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbconvert.preprocessors import ClearOutputPreprocessor, TagRemovePreprocessor

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_OUT = ROOT / "_build" / "student"
SOLUTION_TAG = "solution"
"""Cells with this tag are the instructor's answers; the student edition removes them."""
EXERCISE_TAGS = ("stub", SOLUTION_TAG, "check")
"""The three tags of an exercise, in the order their cells appear."""


def exporter() -> NotebookExporter:
    """nbconvert's notebook-to-notebook exporter that drops ``solution`` cells and clears outputs."""
    export = NotebookExporter()
    export.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={SOLUTION_TAG}, enabled=True), enabled=True)
    export.register_preprocessor(ClearOutputPreprocessor(enabled=True), enabled=True)
    return export


def student_edition(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student edition of an instructor notebook (a new notebook; the argument is not modified).

    Examples
    --------
    >>> cells = [nbformat.v4.new_code_cell("answer = ...", metadata={"tags": ["stub"]}),
    ...          nbformat.v4.new_code_cell("answer = 42", metadata={"tags": ["solution"]}),
    ...          nbformat.v4.new_code_cell("assert answer == 6 * 7, 'hint'", metadata={"tags": ["check"]})]
    >>> [cell.source for cell in student_edition(nbformat.v4.new_notebook(cells=cells)).cells]
    ['answer = ...', "assert answer == 6 * 7, 'hint'"]
    """
    text, _ = exporter().from_notebook_node(notebook)
    return nbformat.reads(text, as_version=4)


def write_student_editions(paths: list[Path], out: Path) -> list[Path]:
    """Write the student edition of each notebook in ``paths`` to ``out/<name>.ipynb``; return the paths written."""
    out = out.resolve()
    if out == NOTEBOOKS.resolve():
        raise ValueError(f"--out must not be the notebooks folder {NOTEBOOKS}: the committed notebooks are the "
                         "instructor edition")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        edition = student_edition(nbformat.read(path, as_version=4))
        target = out / path.name
        nbformat.write(edition, target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to convert (default: every notebooks/*.ipynb)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    missing = [str(path) for path in paths if not path.is_file() or path.suffix != ".ipynb"]
    if missing or not paths:
        parser.error(f"not notebook files: {', '.join(missing)}" if missing else f"no notebooks in {NOTEBOOKS}")
    try:
        written = write_student_editions(paths, args.out)
    except ValueError as error:
        parser.error(str(error))
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
