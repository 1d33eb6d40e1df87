"""Student and instructor editions of the course, from one source: every check checks the learner.

The committed notebooks are the instructor edition; ``book/student.py`` (``make student``) writes
the student edition with nbconvert's ``TagRemovePreprocessor`` removing the cells tagged
``solution``. An exercise is a ``stub`` cell (what the learner starts from), the ``solution``
right after it and one or more ``check`` cells right after that; a markdown cell tagged
``solution`` on its own is the model answer of an "explain why" exercise.

The structural tests read the notebooks. The execution test runs each student copy in a kernel
(as a learner would, in the notebooks folder) and asserts that

- every check cell fails there with an ``AssertionError`` whose message is a hint (not empty),
  and no other cell fails;
- replayed in the same kernel after its solution cells, every check passes (the instructor
  edition, top to bottom, is nbmake's job in the same suite);
- the answer (what the stub's names hold after the solution ran) appears neither in the failure
  messages nor anywhere in the student copy. Answers are compared as text (``repr``/``str``),
  and only texts of at least ``MIN_ANSWER_CHARS`` characters: a one- or two-digit answer
  ("3", "24") cannot be kept out of a notebook full of small numbers;
- no name the student run leaves behind (other than the stubs' own) holds an answer: a check that
  computed its reference as ``truth = ...`` would hand it to the learner, who could submit
  ``answer = truth``. Compared with ``lattice_lab.exercises.same`` (any numeric type), for answers
  whose ``repr`` has at least ``MIN_ANSWER_CHARS`` characters.
"""
from __future__ import annotations

import ast
import importlib.util
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from lattice_lab.course import LESSONS

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob(LESSONS))
"""The lessons (the dashboard has no exercises; its student edition is itself)."""
IDS = [path.name for path in NOTEBOOKS]
CELL_TIMEOUT = 300  # seconds per cell of a student copy (fast mode: the slowest cells take seconds)
MIN_ANSWER_CHARS = 3
ANSWERS_MARK = "lattice-lab-answers:"
LEAKS_MARK = "lattice-lab-leaks:"


def _load_student_script():
    spec = importlib.util.spec_from_file_location("course_student", ROOT / "book" / "student.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


student = _load_student_script()


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def exercise_tag(cell) -> str | None:
    """The cell's one exercise tag (``stub``, ``solution`` or ``check``), or None."""
    found = tags(cell) & set(student.EXERCISE_TAGS)
    assert len(found) <= 1, f"a cell carries several exercise tags {sorted(found)}:\n{cell.source[:200]}"
    return next(iter(found), None)


@dataclass
class Exercise:
    stub: int
    solutions: list[int] = field(default_factory=list)
    checks: list[int] = field(default_factory=list)


def code_exercises(notebook: nbformat.NotebookNode) -> list[Exercise]:
    """The (stub, solutions, checks) groups of a notebook's code exercises, by cell index."""
    found = []
    for index, cell in enumerate(notebook.cells):
        tag = exercise_tag(cell)
        if tag == "stub" and cell.cell_type == "code":
            found.append(Exercise(index))
        elif tag == "solution" and cell.cell_type == "code" and found and not found[-1].checks:
            found[-1].solutions.append(index)
        elif tag == "check" and found:
            found[-1].checks.append(index)
    return found


def assigned_names(source: str) -> set[str]:
    """Names a cell binds at top level (assignments, augmented and annotated ones, and function definitions)."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        targets = {ast.Assign: lambda n: n.targets, ast.AugAssign: lambda n: [n.target],
                   ast.AnnAssign: lambda n: [n.target]}.get(type(node), lambda n: [])(node)
        for target in targets:
            names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def structure_problems(notebook: nbformat.NotebookNode) -> list[str]:
    """What breaks the stub -> solution -> check convention, cell by cell (empty when nothing does)."""
    problems = []
    cells = notebook.cells
    for index, cell in enumerate(cells):
        tag = exercise_tag(cell)
        before = exercise_tag(cells[index - 1]) if index else None
        after = exercise_tag(cells[index + 1]) if index + 1 < len(cells) else None
        if tag == "stub" and after != "solution":
            problems.append(f"cell {index}: a stub must be followed by its solution cell")
        if tag == "stub" and cell.cell_type == "code" and cells[index + 1].cell_type != "code":
            problems.append(f"cell {index}: a code stub needs a code solution")
        if tag == "solution" and cell.cell_type == "code":
            if before not in ("stub", "solution"):
                problems.append(f"cell {index}: a code solution must come right after its stub")
            if after not in ("solution", "check"):
                problems.append(f"cell {index}: a code solution must be followed by its check cell")
        if tag == "solution" and cell.cell_type == "markdown" and before == "check":
            problems.append(f"cell {index}: a model answer must follow its question, not a check")
        if tag == "check":
            if cell.cell_type != "code":
                problems.append(f"cell {index}: a check must be a code cell")
            elif not re.search(r"^\s*assert ", cell.source, re.MULTILINE):
                problems.append(f"cell {index}: a check cell needs an `assert` with a hint")
            if before not in ("solution", "check"):
                problems.append(f"cell {index}: a check must follow a solution (or another check)")
    for exercise in code_exercises(notebook):
        stub_names = assigned_names(cells[exercise.stub].source)
        solved = set().union(*(assigned_names(cells[i].source) for i in exercise.solutions)) if exercise.solutions else set()
        if not stub_names:
            problems.append(f"cell {exercise.stub}: a stub must assign the names the learner fills in")
        elif not stub_names <= solved:
            problems.append(f"cell {exercise.stub}: the solution does not assign {sorted(stub_names - solved)}")
    return problems


def has_exercise_tags(notebook: nbformat.NotebookNode) -> bool:
    return any(exercise_tag(cell) for cell in notebook.cells)


# ------------------------------------------------------------------------------ the convention

def test_the_convention_catches_a_solution_without_stub_and_a_check_without_assert():
    cells = [nbformat.v4.new_code_cell("answer = 42", metadata={"tags": ["solution"]}),
             nbformat.v4.new_code_cell("print(answer)", metadata={"tags": ["check"]})]
    problems = structure_problems(nbformat.v4.new_notebook(cells=cells))
    assert any("right after its stub" in p for p in problems)
    assert any("needs an `assert`" in p for p in problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_exercises_follow_stub_solution_check(path):
    notebook = read(path)
    assert code_exercises(notebook), f"{path.name}: no exercise with a stub, a solution and a check"
    assert all(exercise.checks for exercise in code_exercises(notebook)), f"{path.name}: an exercise has no check"
    problems = structure_problems(notebook)
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_exercise_section_has_an_explain_why_model_answer(path):
    notebook = read(path)
    answers = [i for i, cell in enumerate(notebook.cells)
               if cell.cell_type == "markdown" and exercise_tag(cell) == "solution"]
    assert answers, f"{path.name}: no 'explain why' exercise (a markdown cell tagged solution holds its model answer)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_student_edition_drops_exactly_the_solutions_and_keeps_stubs_and_checks(path, tmp_path):
    notebook = read(path)
    (written,) = student.write_student_editions([path], tmp_path)
    edition = read(written)
    expected = [cell for cell in notebook.cells if exercise_tag(cell) != "solution"]
    assert [cell.source for cell in edition.cells] == [cell.source for cell in expected]
    assert [exercise_tag(cell) for cell in edition.cells] == [exercise_tag(cell) for cell in expected]
    assert not any(cell.get("outputs") for cell in edition.cells)
    assert read(path) == notebook, "writing the student edition changed the instructor notebook"


def test_make_student_writes_every_notebook_without_its_solutions(tmp_path):
    import subprocess
    import sys

    stamp = tmp_path / "installed"  # stands for the venv stamp: the installed package is the one running the tests
    stamp.touch()
    out = tmp_path / "student"
    subprocess.run(["make", "-s", "student", f"PY={sys.executable}", f"STAMP={stamp}", f"STUDENT_OUT={out}"],
                   cwd=ROOT, check=True, capture_output=True, text=True)
    assert sorted(p.name for p in out.glob("*.ipynb")) == sorted(p.name for p in NOTEBOOK_DIR.glob("*.ipynb"))
    for path in NOTEBOOKS:
        assert not any(exercise_tag(cell) == "solution" for cell in read(out / path.name).cells)


def test_student_script_refuses_to_write_over_the_committed_notebooks():
    with pytest.raises(ValueError, match="instructor edition"):
        student.write_student_editions(NOTEBOOKS[:1], NOTEBOOK_DIR)


# ------------------------------------------------------------------------------ running it

ANSWER_DUMP = """
import json as _json
def _answer_text(value):
    value = value.tolist() if hasattr(value, "tolist") else value
    if isinstance(value, (bool, type(None), type(...))) or not isinstance(value, (int, float, str, list, tuple, dict, set)):
        return []
    return sorted({{repr(value), str(value)}})
print({mark!r} + _json.dumps({{name: _answer_text(globals()[name]) for name in {names!r} if name in globals()}}))
"""


SNAPSHOT = "_student_globals = {name: value for name, value in globals().items() if not name.startswith('_')}"
"""Run right after the student edition: the names it left behind, and what they held then."""
LEAKS = """
import json as _json
from lattice_lab.exercises import same as _same
def _holds(value, answer):
    try:
        return _same(value, answer)
    except Exception:  # an object without a numeric or == comparison holds no answer
        return False
_answers = [globals()[name] for name in {names!r} if name in globals()]
_answers = [a for a in _answers if not isinstance(a, (bool, type(None), type(...))) and len(repr(a)) >= {min_chars}]
print({mark!r} + _json.dumps(sorted({{name for name, value in _student_globals.items() if name not in {stubs!r}
                                      for answer in _answers if _holds(value, answer)}})))
"""


def errors(cell) -> list[dict]:
    return [output for output in cell.get("outputs", []) if output.get("output_type") == "error"]


def stream_text(cell) -> str:
    return "".join(output.get("text", "") for output in cell.get("outputs", []) if output.get("output_type") == "stream")


def run_more(client, source: str):
    """Run ``source`` as one more cell at the end of the client's notebook; return the cell with its outputs."""
    cell = nbformat.v4.new_code_cell(source)
    client.nb.cells.append(cell)
    return client.execute_cell(cell, len(client.nb.cells) - 1)


def answer_texts(texts: list[str]) -> set[str]:
    return {text for text in texts if len(text.strip()) >= MIN_ANSWER_CHARS}


def check_problems(notebook: nbformat.NotebookNode) -> list[str]:
    """Run the student edition of ``notebook`` and replay its solutions; what breaks the rules of the module docstring."""
    from nbclient import NotebookClient

    edition = student.student_edition(notebook)
    student_text = "\n".join(cell.source for cell in edition.cells)
    student_cells = len(edition.cells)
    kept = [i for i, cell in enumerate(notebook.cells) if exercise_tag(cell) != "solution"]
    exercises = code_exercises(notebook)
    client = NotebookClient(edition, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    failures, answers = [], {}
    every_stub_name = sorted(set().union(*(assigned_names(notebook.cells[e.stub].source) for e in exercises)))
    leaks = {}
    with client.setup_kernel():
        for index, cell in enumerate(edition.cells[:student_cells]):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
        run_more(client, SNAPSHOT)
        for number, exercise in enumerate(exercises):  # the instructor's answers, replayed after the student run
            for i in exercise.solutions:
                replay = run_more(client, notebook.cells[i].source)
                failures += [f"solution cell {i}: {e['ename']}: {e['evalue']}" for e in errors(replay)]
            names = sorted(assigned_names(notebook.cells[exercise.stub].source))
            dump = run_more(client, ANSWER_DUMP.format(mark=ANSWERS_MARK, names=names))
            line = next(line for line in stream_text(dump).splitlines() if line.startswith(ANSWERS_MARK))
            answers[number] = answer_texts([t for texts in json.loads(line[len(ANSWERS_MARK):]).values() for t in texts])
            found = run_more(client, LEAKS.format(mark=LEAKS_MARK, names=names, stubs=every_stub_name,
                                                  min_chars=MIN_ANSWER_CHARS))
            failures += [f"leak check of exercise at cell {exercise.stub}: {e['ename']}: {e['evalue']}" for e in errors(found)]
            line = next((line for line in stream_text(found).splitlines() if line.startswith(LEAKS_MARK)), None)
            leaks[number] = json.loads(line[len(LEAKS_MARK):]) if line else []
            for i in exercise.checks:
                replay = run_more(client, notebook.cells[i].source)
                failures += [f"check cell {i} fails on the solution: {e['ename']}: {e['evalue']}" for e in errors(replay)]
    checks = {i: number for number, exercise in enumerate(exercises) for i in exercise.checks}
    for new_index, original in enumerate(kept):
        found = errors(edition.cells[new_index])
        if original not in checks:
            failures += [f"cell {original} (not a check) fails in the student edition: {e['ename']}: {e['evalue']}"
                         for e in found]
            continue
        if not found:
            failures.append(f"check cell {original} passes on the stub: it checks nothing the learner did")
            continue
        (error,) = found
        if error["ename"] != "AssertionError" or not error["evalue"].strip():
            failures.append(f"check cell {original} fails on the stub with {error['ename']}: {error['evalue']!r}, "
                            "not an AssertionError with a hint")
        leaked = sorted(text for text in answers[checks[original]] if text in error["evalue"])
        if leaked:
            failures.append(f"check cell {original}'s hint gives the answer away: {leaked} in {error['evalue']!r}")
    for number, exercise in enumerate(exercises):
        shown = sorted(text for text in answers[number] if text in student_text)
        if shown:
            failures.append(f"exercise at cell {exercise.stub}: the answer {shown} appears in the student edition")
        if leaks[number]:
            failures.append(f"exercise at cell {exercise.stub}: the student run leaves its answer in {leaks[number]}")
    return failures


def test_check_problems_finds_a_leaking_hint_a_check_of_nothing_and_a_crash_on_the_stub():
    def exercise(stub, solution, check):
        return [nbformat.v4.new_code_cell(stub, metadata={"tags": ["stub"]}),
                nbformat.v4.new_code_cell(solution, metadata={"tags": ["solution"]}),
                nbformat.v4.new_code_cell(check, metadata={"tags": ["check"]})]
    cells = (exercise("a = ...", "a = 1234", "assert a == 617 * 2, f'no: the answer is {617 * 2}'")
             + exercise("b = 5", "b = 6", "assert b > 0, 'positive'")
             + exercise("c = ...", "c = [1, 2]", "assert len(c) == 2, 'two'")
             + [nbformat.v4.new_markdown_cell("Hint: d is [7, 8, 9].")]
             + exercise("d = ...", "d = [7, 8, 9]", "assert d == [7, 8, 9], 'three numbers'")
             + exercise("e = ...", "e = (1, 3, 4)", "truth = sorted([4, 3, 1])\nassert e == tuple(truth), 'sort them'"))
    problems = check_problems(nbformat.v4.new_notebook(cells=cells))
    assert problems == ["check cell 2's hint gives the answer away: ['1234'] in 'no: the answer is 1234'",
                        "check cell 5 passes on the stub: it checks nothing the learner did",
                        "check cell 8 fails on the stub with TypeError: \"object of type 'ellipsis' has no len()\", "
                        "not an AssertionError with a hint",
                        "exercise at cell 10: the answer ['[7, 8, 9]'] appears in the student edition",
                        "exercise at cell 13: the student run leaves its answer in ['truth']"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_check_fails_on_the_student_stub_with_a_hint_and_passes_on_the_solution(path):
    notebook = read(path)
    problems = check_problems(notebook)
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
