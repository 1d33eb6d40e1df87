"""The graded labs: the instructor's solution scores full marks, the student copy zero, a wrong answer loses its question.

Each lab is a notebook of ``notebooks/`` whose metadata names it (``lattice_lab.lab``); its hidden tests are the
otter-grader files ``labs/hidden/<lab>/q*.py``, one per question. Every test here grades a real notebook with
``lattice_lab.grading.grade`` (a kernel per submission; fast mode, so each takes seconds of CPU):

- the instructor edition, through ``lattice-lab grade --json``: every question at full marks;
- the student copy of ``book/student.py`` as released: zero on every question;
- a plausible wrong implementation (lab 1: pruning the largest weights, counting sparsity against the pruned
  model; lab 2: the relation transposed, the lattice rule "one upper cover" on a poset; lab 3: the non-bipartite bound in Δ_r, repeated edges left unrepaired; lab 4: N̂(λ) counting the
  directions below the ridge, the largest variances for the greedy J): exactly the questions it breaks lose
  points, the others keep full marks;
- a hostile submission (a cell that loops, one that raises, one that prints without end, a function that loops
  when the hidden tests call it): graded all the same, with the loop and the error named in the report.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

from lattice_lab import cli
from lattice_lab.grading import grade
from lattice_lab.grading.grader import LAB_KEY, question_files, read_submission

ROOT = Path(__file__).resolve().parent.parent
LABS = {nbformat.read(path, as_version=4).metadata.get(LAB_KEY, {}).get("lab"): path
        for path in sorted((ROOT / "notebooks").glob("*.ipynb"))}
LABS.pop(None, None)

pytest.importorskip("otter.test_files", reason="the labs' hidden tests are otter-grader files (the grading extra)")


def _student_module():
    spec = importlib.util.spec_from_file_location("course_student", ROOT / "book" / "student.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def with_solution(notebook: nbformat.NotebookNode, function: str, source: str) -> nbformat.NotebookNode:
    """A copy of ``notebook`` whose solution cell defining ``function`` is ``source`` instead."""
    copy = nbformat.from_dict(json.loads(json.dumps(notebook)))
    (cell,) = [c for c in copy.cells if "solution" in c.metadata.get("tags", []) and f"def {function}(" in c.source]
    cell.source = source
    return copy


def scores(report) -> dict[str, tuple[float, float]]:
    return {q.name: (q.score, q.possible) for q in report.questions}


def test_every_lab_has_hidden_tests_for_each_of_its_questions():
    assert "lab1" in LABS
    for lab in LABS:
        files = question_files(lab)
        assert [f.name[:2] for f in files] == [f"q{i}" for i in range(1, len(files) + 1)], f"{lab}: q1, q2, ... in order"


@pytest.mark.parametrize("lab", sorted(LABS))
def test_the_instructor_solution_gets_full_marks_through_the_command(lab, capsys):
    assert cli.main(["grade", str(LABS[lab]), "--json"]) == 0
    (report,) = json.loads(capsys.readouterr().out)
    assert report["lab"] == lab and report["questions"]
    assert [(q["name"], q["score"]) for q in report["questions"]] == [(q["name"], q["possible"])
                                                                      for q in report["questions"]], report
    assert report["score"] == report["possible"] > 0 and not report["problems"], report


@pytest.mark.parametrize("lab", sorted(LABS))
def test_the_student_copy_as_released_scores_zero_on_every_question(lab, tmp_path):
    (copy,) = _student_module().write_student_editions([LABS[lab]], tmp_path)
    report = grade(copy)
    assert [q.score for q in report.questions] == [0.0] * len(report.questions), scores(report)
    assert all(q.feedback for q in report.questions), "every question that scores nothing says why"
    assert all("AssertionError" in problem for problem in report.problems), report.problems  # the self-checks fail


LARGEST_WEIGHTS = '''def per_tensor_masks(model, amount):
    pruned = ll.models.clone(model)
    masks = {}
    for weight in ll.models.weight_names(pruned, "recurrent"):
        path, attr = ll.models.split_name(weight)
        module = pruned.get_submodule(path)
        w = getattr(module, attr).detach().abs()
        keep = ll.pruning.base.exact_lowest_mask(-w, round(amount * w.numel()))  # removes the LARGEST |w|
        prune.custom_from_mask(module, attr, keep)
        masks[weight] = getattr(module, attr + "_mask").detach().clone()
    return masks'''

AGAINST_THE_PRUNED_MODEL = '''def recurrent_sparsity(pruned, dense):
    names = ll.models.weight_names(pruned, "recurrent")
    total = sum(ll.models.get_weight(pruned, w).numel() for w in names)  # the pruned model's size, not the dense one's
    return 1.0 - sum(int(torch.count_nonzero(ll.models.get_weight(pruned, w))) for w in names) / total'''


NON_BIPARTITE_BOUND = '''def delta_r(mask):
    mask = np.asarray(mask, dtype=float)
    d_left, d_right = average_degrees(mask)
    if d_left < 3 or d_right < 3:
        return None
    core = mask[mask.sum(axis=1) > 0][:, mask.sum(axis=0) > 0]
    d = (d_left + d_right) / 2
    return 2 * math.sqrt(d - 1) - np.linalg.svd(core, compute_uv=False)[1]  # the bound of a d-regular graph'''

REPEATED_EDGES_KEPT = '''def biregular_mask(n_out, n_in, out_degree, seed):
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n_out), out_degree)
    cols = rng.permutation(np.repeat(np.arange(n_in), n_out * out_degree // n_in))
    mask = np.zeros((n_out, n_in))
    mask[rows, cols] = 1.0  # a repeated edge collapses into one: degrees fall short
    return mask'''

DEGREES_COMPLEMENT = '''def degrees_of_freedom(eigenvalues, lam):
    sigma = np.clip(np.asarray(eigenvalues, dtype=float), 0.0, None)
    return float((lam / (sigma + lam)).sum())  # counts the directions below the ridge'''

LARGEST_VARIANCE = '''def greedy_select(cov, k, lam):
    return np.argsort(-np.diag(np.asarray(cov)), kind="stable")[:k]  # the largest variances, not the greedy J'''

TRANSPOSED_RELATION = '''def dependency_relation(strength, q):
    strength = np.asarray(strength, dtype=float).T  # j -> i: the relation read the wrong way round
    return (strength >= np.quantile(strength, q)) & (strength > 0)'''

ONE_UPPER_COVER = '''def meet_irreducibles(leq):
    leq = np.asarray(leq, dtype=bool)
    less = (leq & ~np.eye(len(leq), dtype=bool)).astype(int)
    covers = (less > 0) & ~(less @ less > 0)
    return [x for x in range(len(leq)) if covers[x].sum() == 1]  # the lattice rule: wrong for maximal elements'''

WRONG = {  # lab: (the solutions replaced, the questions that must lose points, those scores)
    "lab1": ({"per_tensor_masks": LARGEST_WEIGHTS, "recurrent_sparsity": AGAINST_THE_PRUNED_MODEL},
             {"q1 per-tensor masks": (2.0, 4.0), "q4 sparsity": (2.0, 3.0)}),
    "lab2": ({"dependency_relation": TRANSPOSED_RELATION, "meet_irreducibles": ONE_UPPER_COVER},
             {"q1 dependency relation": (0.0, 3.0), "q3 meet-irreducibles": (0.0, 3.0)}),
    "lab3": ({"delta_r": NON_BIPARTITE_BOUND, "biregular_mask": REPEATED_EDGES_KEPT},
             {"q2 delta_r": (0.0, 3.0), "q3 biregular mask": (1.0, 3.0)}),
    "lab4": ({"degrees_of_freedom": DEGREES_COMPLEMENT, "greedy_select": LARGEST_VARIANCE},
             {"q2 degrees of freedom": (0.0, 3.0), "q4 greedy J": (0.0, 3.0)}),
}


@pytest.mark.parametrize("lab", sorted(WRONG))
def test_a_plausible_wrong_submission_loses_exactly_the_questions_it_breaks(lab, tmp_path):
    notebook = nbformat.read(LABS[lab], as_version=4)
    replaced, expected = WRONG[lab]
    for function, source in replaced.items():
        notebook = with_solution(notebook, function, source)
    path = tmp_path / "wrong.ipynb"
    nbformat.write(notebook, path)
    got = scores(grade(path))
    assert {name: got[name] for name in expected} == expected, got
    assert all(score == possible for name, (score, possible) in got.items() if name not in expected), got


def test_a_submission_that_loops_raises_and_prints_is_still_graded(tmp_path):
    notebook = nbformat.read(LABS["lab1"], as_version=4)
    looping = with_solution(notebook, "random_masks", "def random_masks(model, amount, seed):\n    while True:\n"
                                                      "        pass")
    looping.cells[3:3] = [nbformat.v4.new_code_cell("while True:\n    pass"),
                          nbformat.v4.new_code_cell("raise RuntimeError('a learner left this in')"),
                          nbformat.v4.new_code_cell("for i in range(20000):\n    print('spam', i)")]
    path = tmp_path / "hostile.ipynb"
    nbformat.write(looping, path)
    report = grade(path, cell_timeout=20, question_timeout=10)
    got = scores(report)
    assert got.pop("q3 random masks") == (0.0, 3.0)
    assert all(score == possible for score, possible in got.values()), got
    (q3,) = [q for q in report.questions if q.name == "q3 random masks"]
    assert q3.feedback == ["not graded: its tests ran out of time (10 s)"]
    assert "code cell 2: interrupted after 20 s" in report.problems
    assert "code cell 3: RuntimeError: a learner left this in" in report.problems


def test_grading_a_file_that_is_no_lab_is_one_line_naming_it(tmp_path, capsys):
    plain = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), plain)
    with pytest.raises(ValueError, match="names no lab"):
        read_submission(plain)
    assert cli.main(["grade", str(plain), "--question-timeout", "0"]) == 2
    assert "--question-timeout must be a whole number of seconds of at least 1, got 0" in capsys.readouterr().err
    assert cli.main(["grade", str(tmp_path / "missing.ipynb")]) == 2
    assert capsys.readouterr().err.strip() == f"lattice-lab grade: error: submission {tmp_path / 'missing.ipynb'}: " \
                                              "no such file"


def test_make_assignments_writes_a_student_copy_without_solutions_and_an_autograder_copy(tmp_path):
    import subprocess
    import sys

    stamp = tmp_path / "installed"  # stands for the venv stamp: the installed package is the one running the tests
    stamp.touch()
    out = tmp_path / "assignments"
    subprocess.run(["make", "-s", "assignments", f"PY={sys.executable}", f"STAMP={stamp}", f"ASSIGNMENTS_OUT={out}"],
                   cwd=ROOT, check=True, capture_output=True, text=True)
    for lab, path in LABS.items():
        student = nbformat.read(out / "student" / path.name, as_version=4)
        assert not [c for c in student.cells if "solution" in c.metadata.get("tags", [])], "a solution in the student copy"
        assert not any(c.get("outputs") for c in student.cells)
        solutions = [c.source for c in nbformat.read(path, as_version=4).cells if "solution" in c.metadata.get("tags", [])]
        assert solutions and not any(s in c.source for s in solutions for c in student.cells)
        assert sorted(p.name for p in (out / "student").iterdir()) == sorted(p.name for p in LABS.values()), \
            "the student folder holds the labs' notebooks and nothing else (no hidden test)"
        assert [p.name for p in sorted((out / "autograder" / "tests" / lab).glob("q*.py"))] == \
            [p.name for p in question_files(lab)]
        assert (out / "autograder" / path.name).read_bytes() == path.read_bytes()


def _text(html: str) -> str:
    """The visible text of an HTML page: tags dropped, entities decoded, whitespace collapsed."""
    import html as html_module
    import re

    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", "", html)).split())


def test_the_student_site_of_the_labs_is_executed_and_holds_no_solution(tmp_path):
    """Built only for the labs (book/build.py --student NOTEBOOK ...: the whole course executed takes too long here)."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, str(ROOT / "book" / "build.py"), "--fast", "--out", str(tmp_path),
                          "--student", *map(str, LABS.values())], cwd=ROOT, capture_output=True, text=True,
                         timeout=1500)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    html = tmp_path / "_build" / "student_site" / "_build" / "html"
    for lab, path in LABS.items():
        page = _text((html / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8"))
        cells = nbformat.read(path, as_version=4).cells
        solutions = [c.source for c in cells if "solution" in c.metadata.get("tags", [])]
        lines = {line.strip() for source in solutions for line in source.splitlines()
                 if len(line.strip()) > 30 and not line.strip().startswith(("def ", '"""'))}
        shown = sorted(line for line in lines if " ".join(line.split()) in page)
        assert not shown, f"{lab}: solution lines in the student site: {shown[:3]}"
        assert "Model answer" not in page, f"{lab}: a model answer in the student site"
        assert "AssertionError" in page, f"{lab}: the page shows no executed self-check"


def test_the_readme_shows_the_committed_grading_times_of_every_lab():
    """benchmarks.grading measured each lab; the README's results block renders that file (python -m benchmarks)."""
    from benchmarks import common

    report = common.read_report(common.RESULTS, "grading")
    assert report is not None, "benchmarks/results/grading.json is missing: run python -m benchmarks grading"
    assert sorted(report["per_lab"]) == sorted(LABS), "the committed grading times must cover every lab"
    assert all(e["score"] == e["possible"] > 0 for e in report["per_lab"].values()), "the solutions were graded in full"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "\n".join(common.grading_tables(report)).strip() in readme
