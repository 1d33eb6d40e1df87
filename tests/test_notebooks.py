"""Course notebooks: committed clean, importing the installed package, with the same sections.

Only reads the notebooks. Running them end to end is nbmake's job, from the pytest command line
(``pytest --nbmake notebooks``), so every notebook found here is also executed there.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from lattice_lab.course import DASHBOARD, LESSONS

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
IDS = [path.name for path in NOTEBOOKS]
LESSON_PATHS = sorted(NOTEBOOK_DIR.glob(LESSONS))
"""The lessons: every notebook but the dashboard, which has no exercises and no closing sections."""
LESSON_IDS = [path.name for path in LESSON_PATHS]

# d2l habit: the same closing sections everywhere; UvA habit: learning goals at the top.
LEARNING_GOALS = "Learning goals"
CLOSING_SECTIONS = ("## Summary", "## Exercises", "## References")


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def heading_cell(notebook: nbformat.NotebookNode, heading: str) -> int | None:
    """Index of the first markdown cell with a line that is exactly ``heading``, else None."""
    pattern = re.compile(rf"^{re.escape(heading)}\s*$", re.MULTILINE)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown" and pattern.search(cell.source):
            return index
    return None


def test_the_course_has_notebooks_the_lessons_and_the_dashboard():
    assert LESSON_PATHS, f"no notebooks found in {NOTEBOOK_DIR}"
    assert IDS == LESSON_IDS + [DASHBOARD], f"{NOTEBOOK_DIR} holds a notebook that is no lesson and not the dashboard"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_valid_nbformat_with_python3_kernel(path):
    notebook = read(path)
    nbformat.validate(notebook)
    assert notebook.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_committed_without_outputs(path):
    notebook = read(path)
    dirty = [index for index, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, (f"{path.name}: code cells {dirty} carry outputs or execution counts; "
                       f"strip them with `jupyter nbconvert --clear-output --inplace {path.name}`")
    assert "widgets" not in notebook.metadata, f"{path.name}: saved widget state in the metadata; strip it"


@pytest.mark.parametrize("path", LESSON_PATHS, ids=LESSON_IDS)
def test_notebook_has_learning_goals_and_the_closing_sections_in_order(path):
    notebook = read(path)
    goals = next((index for index, cell in enumerate(notebook.cells)
                  if cell.cell_type == "markdown" and LEARNING_GOALS in cell.source), None)
    assert goals is not None, f"{path.name}: no markdown cell mentions {LEARNING_GOALS!r}"
    found = {heading: heading_cell(notebook, heading) for heading in CLOSING_SECTIONS}
    missing = [heading for heading, index in found.items() if index is None]
    assert not missing, f"{path.name}: missing the section heading(s) {missing}"
    order = [goals] + [found[heading] for heading in CLOSING_SECTIONS]
    assert order == sorted(order), (f"{path.name}: expected learning goals, then "
                                    f"{', '.join(CLOSING_SECTIONS)} in this order; found cells {order}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_imports_the_installed_package(path):
    code = "\n".join(cell.source for cell in read(path).cells if cell.cell_type == "code")
    assert re.search(r"^import lattice_lab as ll$", code, re.MULTILINE), f"{path.name}: no `import lattice_lab as ll`"
    for trick in ("sys.path", "%run"):
        assert trick not in code, f"{path.name}: uses {trick!r}; notebooks import the installed package"


@pytest.mark.parametrize("path", LESSON_PATHS, ids=LESSON_IDS)
def test_notebook_exercises_have_self_checking_cells(path):
    notebook = read(path)
    start, end = heading_cell(notebook, "## Exercises"), heading_cell(notebook, "## References")
    assert start is not None and end is not None, f"{path.name}: needs '## Exercises' and '## References'"
    exercise_code = [cell.source for cell in notebook.cells[start:end] if cell.cell_type == "code"]
    assert any(re.search(r"^assert ", source, re.MULTILINE) for source in exercise_code), \
        f"{path.name}: the exercises have no self-checking cell (a code cell with an `assert`)"


def test_ci_runs_every_notebook_again_in_full_mode_on_the_shared_data_after_the_fast_run():
    script = (NOTEBOOK_DIR.parent / ".ci" / "run").read_text()
    full = script.index("env -u LATTICE_LAB_FAST")
    assert script.index("make test") < full, "the full-mode run comes after the fast-mode suite"
    guard = script.rindex("if [ -n \"${LATTICE_LAB_DATA:-}\" ]", 0, full)
    assert "LATTICE_LAB_DATA=" in script[:guard], "LATTICE_LAB_DATA is set from ../shared/data before the guard"
    command = script[full:script.index("fi", full)]
    assert re.search(r"--nbmake\b.*\bnotebooks\s*$", command, re.MULTILINE), "every notebook, through nbmake"
