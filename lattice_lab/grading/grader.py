"""Run a lab submission in a kernel and score it, question by question, against the hidden tests.

A submission is a lab notebook (its metadata ``lattice_lab.lab`` names the lab, e.g. ``"lab1"``).
Grading it:

1. runs every code cell in a fresh kernel (nbclient), in the submission's folder, each under
   ``cell_timeout`` seconds: a cell that raises or loops (it is interrupted) is noted in
   ``Report.problems`` and the next cell runs; what cells print is not kept;
2. runs, in that same kernel, each question's otter-grader test file
   (``labs/hidden/<lab>/q*.py``) under ``question_timeout`` seconds: the points of the test cases
   that pass are the question's score, and every failed case is one feedback line (its assertion
   message). A question that runs out of time, or whose kernel died, scores 0 with a line saying so.

Nothing a submission does raises out of :func:`grade`: a missing or unreadable file, or a
notebook that is no lab, is a ``ValueError`` naming it before anything runs.

Must not import: widgets, cli, compare.

Examples
--------
>>> QuestionResult("q1", 2.0, 3.0, ["the mask keeps the largest weights"]).to_dict()["score"]
2.0
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

LAB_KEY = "lattice_lab"
"""Notebook metadata key of a lab: ``{"lattice_lab": {"lab": "lab1"}}``."""
HIDDEN = "hidden"
MARK = "lattice-lab-grade:"
CELL_TIMEOUT = 120
"""Seconds a submission's cell may run before it is interrupted."""
QUESTION_TIMEOUT = 60
"""Seconds a question's hidden tests may run before they are interrupted (the question scores 0)."""

RUN_QUESTION = """
import json as _grade_json
from otter.test_files.exception_test import ExceptionTestFile as _GradeTestFile
_grade_file = _GradeTestFile.from_file({path!r})
_grade_file.run(globals())
print({mark!r} + _grade_json.dumps([[r.test_case.name, r.test_case.points, r.passed, r.message]
                                    for r in _grade_file.test_case_results]))
"""


@dataclass
class QuestionResult:
    """The score of one question: points earned of ``possible``, one feedback line per failed test."""

    name: str
    score: float
    possible: float
    feedback: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Report:
    """A graded submission: its questions, the total, and what went wrong while running it."""

    lab: str
    submission: str
    questions: list[QuestionResult]
    problems: list[str]
    seconds: float

    @property
    def score(self) -> float:
        return sum(q.score for q in self.questions)

    @property
    def possible(self) -> float:
        return sum(q.possible for q in self.questions)

    def to_dict(self) -> dict:
        return {"lab": self.lab, "submission": self.submission, "score": self.score, "possible": self.possible,
                "questions": [q.to_dict() for q in self.questions], "problems": self.problems,
                "seconds": round(self.seconds, 1)}

    def format(self) -> str:
        """The human report: a line per question, its feedback indented below it, the total."""
        lines = [f"{self.lab} · {self.submission}"]
        for q in self.questions:
            lines.append(f"  {q.name:<28} {q.score:g} / {q.possible:g}")
            lines += [f"      - {line}" for line in q.feedback]
        lines += [f"  note: {problem}" for problem in self.problems]
        lines.append(f"  total {self.score:g} / {self.possible:g}")
        return "\n".join(lines)


def _checkout() -> Path:
    return Path(__file__).resolve().parent.parent.parent


def default_tests() -> Path:
    """Where the hidden tests are in a checkout: ``labs/hidden``."""
    return _checkout() / "labs" / HIDDEN


def read_submission(path: Path) -> tuple[dict, str]:
    """The notebook at ``path`` and its lab's name; a ValueError naming the file when it is no lab notebook."""
    import nbformat  # nbformat, nbclient and otter come with the grading extra: imported where used

    if not path.is_file():
        raise ValueError(f"submission {path}: no such file")
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:  # nbformat raises json, unicode and validation errors alike
        raise ValueError(f"submission {path}: not a readable notebook ({type(error).__name__}: {error})") from None
    lab = notebook.metadata.get(LAB_KEY, {}).get("lab")
    if not isinstance(lab, str):
        raise ValueError(f"submission {path}: its metadata names no lab ({LAB_KEY}.lab); is it one of the course's labs?")
    return notebook, lab


def question_files(lab: str, tests: Path | None = None) -> list[Path]:
    """The hidden test files of ``lab``, one per question, in order; a ValueError when there are none."""
    folder = (tests or default_tests()) / lab
    files = sorted(folder.glob("q*.py"))
    if not files:
        raise ValueError(f"no hidden tests for {lab} in {folder}; pass --tests, the autograder copy's tests folder "
                         "(make assignments)")
    return files


def _possible(path: Path) -> tuple[str, float]:
    """A test file's question name and total points, read without running its tests."""
    from otter.test_files.exception_test import ExceptionTestFile

    test_file = ExceptionTestFile.from_file(str(path))
    return test_file.name, float(sum(case.points for case in test_file.test_cases))


def _error_line(cell) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output['ename']}: {output['evalue']}".strip()
    return None


def _feedback(name: str, message: str) -> str:
    """One line: the test's name and the last line of otter's message (the assertion's own text)."""
    last = message.strip().splitlines()[-1] if message.strip() else "failed"
    return f"{name}: {last.removeprefix('AssertionError: ')}"


def _run_question(client, path: Path, name: str, possible: float, timeout: int) -> QuestionResult:
    import nbformat
    from nbclient.exceptions import DeadKernelError

    cell = nbformat.v4.new_code_cell(RUN_QUESTION.format(path=str(path), mark=MARK))
    client.nb.cells.append(cell)
    client.timeout = timeout
    try:
        client.execute_cell(cell, len(client.nb.cells) - 1)
    except DeadKernelError:
        return QuestionResult(name, 0.0, possible, ["the kernel died (the submission ended its Python process)"])
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
    line = next((line for line in text.splitlines() if line.startswith(MARK)), None)
    if line is None:
        error = _error_line(cell) or "no result"
        why = f"its tests ran out of time ({timeout} s)" if error.startswith("KeyboardInterrupt") else error
        return QuestionResult(name, 0.0, possible, [f"not graded: {why}"])
    results = json.loads(line[len(MARK):])
    score = float(sum(points for _, points, passed, _ in results if passed))
    return QuestionResult(name, score, possible,
                          [_feedback(case, message) for case, _, passed, message in results if not passed])


def grade(submission: str | Path, *, tests: str | Path | None = None, cell_timeout: int = CELL_TIMEOUT,
          question_timeout: int = QUESTION_TIMEOUT) -> Report:
    """Grade one lab submission offline; see the module docstring for what happens.

    Parameters
    ----------
    submission : the learner's notebook (``.ipynb``), its metadata naming the lab.
    tests : the folder holding ``<lab>/q*.py`` (default: the checkout's ``labs/hidden``).
    cell_timeout, question_timeout : seconds before a cell, or a question's tests, are interrupted.

    Returns
    -------
    Report : a score, the points possible and feedback per question; the cells that failed.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    start = time.perf_counter()
    path = Path(submission)
    notebook, lab = read_submission(path)
    files = question_files(lab, Path(tests) if tests is not None else None)
    totals = [_possible(file) for file in files]
    code = nbformat.v4.new_notebook(cells=[cell for cell in notebook.cells if cell.cell_type == "code"],
                                    metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                             "language": "python"}})
    client = NotebookClient(code, timeout=cell_timeout, kernel_name="python3", allow_errors=True,
                            interrupt_on_timeout=True, resources={"metadata": {"path": str(path.resolve().parent)}})
    problems, questions = [], []
    with client.setup_kernel():
        dead = False
        for index, cell in enumerate(list(code.cells)):
            try:
                client.execute_cell(cell, index)
            except DeadKernelError:
                problems.append(f"code cell {index + 1}: the kernel died; the questions were not graded")
                dead = True
                break
            error = _error_line(cell)
            if error:
                timed_out = error.startswith("KeyboardInterrupt")
                problems.append(f"code cell {index + 1}: " + (f"interrupted after {cell_timeout} s" if timed_out
                                                              else error.splitlines()[0][:200]))
        for file, (name, possible) in zip(files, totals):
            if dead:
                questions.append(QuestionResult(name, 0.0, possible, ["not graded: the kernel had died"]))
                continue
            began = time.perf_counter()
            result = _run_question(client, file, name, possible, question_timeout)
            result.seconds = round(time.perf_counter() - began, 2)
            dead = result.feedback[:1] == ["the kernel died (the submission ended its Python process)"]
            questions.append(result)
    return Report(lab, str(path), questions, problems, time.perf_counter() - start)
