"""The course site: `make book` (book/build.py, jupyter-book 1.x) builds every page of book/_toc.yml.

The suite builds the site once, **without executing the notebooks** (``book/build.py --no-execute``, the
committed notebooks rendered as they are): executing the course is nbmake's job in the same suite, and
this module checks what only the site has — that it builds with no warning, that every page of the table
of contents is there (every notebook, the syllabus, the methods document, the bibliography), that the
notebook pages launch on Binder and Colab, and that the syllabus and the bibliography cover the course.
"""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lattice_lab.course import LESSONS

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
NOTEBOOKS = sorted((ROOT / "notebooks").glob(LESSONS))
"""The lessons: the book's chapters (the dashboard is Voilà's page, not a chapter)."""
REPOSITORY = "lattice-lab/lattice_lab"


def _load_build_script():
    spec = importlib.util.spec_from_file_location("course_book_build", BOOK / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build_script()


def toc_files() -> list[str]:
    """Every file of book/_toc.yml (root first), as paths from the repository root without suffix."""
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text(encoding="utf-8"))
    return [toc["root"]] + [chapter["file"] for part in toc["parts"] for chapter in part["chapters"]]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built as `make book BOOK_ARGS=--no-execute` builds it: (html folder, build log)."""
    out = tmp_path_factory.mktemp("book")
    before = {path: path.read_bytes() for path in NOTEBOOKS}
    run = subprocess.run([sys.executable, str(BOOK / "build.py"), "--no-execute", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=1200)
    log = run.stdout + run.stderr
    assert run.returncode == 0, f"book/build.py failed:\n{log[-4000:]}"
    assert {path: path.read_bytes() for path in NOTEBOOKS} == before, "building the site changed a notebook"
    return out / "_build" / "html", re.sub(r"\x1b\[[0-9;]*m", "", log)


def test_the_table_of_contents_lists_every_notebook_and_only_files_that_exist():
    files = toc_files()
    assert [f for f in files if f.startswith("notebooks/")] == [f"notebooks/{p.stem}" for p in NOTEBOOKS]
    missing = [f for f in files if not any((ROOT / f).with_suffix(s).is_file() for s in (".md", ".ipynb"))]
    assert not missing, f"book/_toc.yml names files that do not exist: {missing}"
    assert {"book/syllabus", "docs/METHODS", "book/bibliography"} <= set(files)


def test_the_site_builds_without_warnings_and_has_a_page_for_every_entry(site):
    html, log = site
    warnings = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
    assert not warnings, "the site built with warnings:\n" + "\n".join(warnings[:20])
    missing = [f for f in toc_files() if not (html / f"{f}.html").is_file()]
    assert not missing, f"no page for {missing}"
    assert "book/intro.html" in (html / "index.html").read_text(encoding="utf-8")  # the front door opens the intro


def test_every_notebook_page_launches_on_binder_and_colab(site):
    html, _ = site
    for path in NOTEBOOKS:
        page = (html / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
        binder = f"https://mybinder.org/v2/gh/{REPOSITORY}/main?urlpath=lab/tree/notebooks/{path.name}"
        colab = f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/notebooks/{path.name}"
        assert binder in page and colab in page, f"{path.name}: the page lacks its Binder or Colab launch button"


def test_the_methods_page_is_the_learners_document_with_its_measured_section(site):
    html, _ = site
    page = (html / "docs" / "METHODS.html").read_text(encoding="utf-8")
    for heading in ("Lattice-based pruning", "Spectral pruning for RNNs", "Graph expansion",
                    "Who disagrees", "Measured in this project"):
        assert heading in page, f"docs/METHODS.md has no section {heading!r} any more"
    for counter in ("Hoang", "Zhang", "Stadie", "no significant relationship"):
        assert counter in page


def test_the_bibliography_lists_the_three_papers_and_the_counter_literature(site):
    html, _ = site
    page = (html / "book" / "bibliography.html").read_text(encoding="utf-8")
    for title in ("Lattice-Based Pruning in Recurrent Neural Networks", "Spectral Pruning for Recurrent Neural Networks",
                  "Graph Expansion in Pruned Recurrent Neural Network Layers", "Revisiting Pruning at Initialization",
                  "One-Shot Pruning of Recurrent Neural Networks", "What is the State of Neural Network Pruning"):
        assert title.lower() in page.lower(), f"the bibliography page lacks {title!r}"


def syllabus_rows() -> dict[str, dict[str, str]]:
    """Notebook number (``04``, or ``04a`` for a lab after 04) -> {"time": ..., "needs": ...} from the syllabus table."""
    rows = {}
    for line in (BOOK / "syllabus.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| \[(\d\d[a-z]?) [^]]+\]\(\.\./notebooks/(\d\d[a-z]?)_[^)]+\.ipynb\) \|[^|]+\|([^|]+)\|([^|]+)\|$",
                         line)  # a letter after the number: a notebook split in two (06, 06b) keeps 07-09's numbers
        if match:
            assert match.group(1) == match.group(2), f"the link text and target disagree: {line}"
            rows[match.group(1)] = {"time": match.group(3).strip(), "needs": match.group(4).strip()}
    return rows


def test_the_syllabus_gives_every_notebook_a_working_time_and_earlier_prerequisites():
    rows = syllabus_rows()
    assert sorted(rows) == [path.name.split("_")[0] for path in NOTEBOOKS], "the syllabus table must list every notebook once"
    for number, row in rows.items():
        assert re.search(r"\d+(\.\d+)? (min|h)", row["time"]), f"notebook {number}: no working time"
        needs = re.findall(r"\b(\d\d[a-z]?)\b", row["needs"])
        assert all(need in rows and need < number for need in needs), \
            f"notebook {number} needs {needs}: prerequisites must be earlier notebooks of the course"
    text = (BOOK / "syllabus.md").read_text(encoding="utf-8")
    for section in ("## Who this is for", "**Prerequisites**", "## How the notebooks depend on each other",
                    "## A two-week schedule"):
        assert section in text
    scheduled = set(re.findall(r"\b(\d\d[a-z]?) [A-Z]", text.split("## A two-week schedule")[1]))
    assert scheduled >= set(rows), f"the two-week schedule leaves out notebooks {sorted(set(rows) - scheduled)}"


def test_the_build_script_switches_only_the_execution_and_refuses_fast_without_execution():
    assert build.book_config(False, 60)["execute"]["execute_notebooks"] == "off"
    executed = build.book_config(True, 99)
    assert executed["execute"]["execute_notebooks"] == "force" and executed["execute"]["timeout"] == 99
    committed = yaml.safe_load((BOOK / "_config.yml").read_text(encoding="utf-8"))
    assert {k: v for k, v in executed.items() if k != "execute"} == {k: v for k, v in committed.items() if k != "execute"}
    with pytest.raises(SystemExit):
        build.parse_args(["--no-execute", "--fast"])
    with pytest.raises(SystemExit):
        build.parse_args(["--timeout", "0"])
