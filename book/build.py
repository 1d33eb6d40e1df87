"""Build the course site with jupyter-book 1.x: the notebooks, the syllabus, the methods document, a bibliography.

    python book/build.py [--no-execute] [--fast] [--out FOLDER] [--timeout SECONDS] [--student [NOTEBOOK ...]]

The book's source folder is the repository root and its pages are those of ``book/_toc.yml`` (the intro,
the syllabus, every notebook of ``notebooks/``, ``docs/METHODS.md`` and the bibliography of
``book/references.bib``); ``book/_config.yml`` sets the Binder and Colab launch buttons. The site is
written to ``<out>/_build/html/`` (``index.html`` opens the intro); ``<out>`` is the repository root by
default, so ``make book`` writes ``_build/html/`` (jupyter-book's own layout) next to the student
editions of ``make student`` in ``_build/student/``, which it leaves alone. The committed notebooks are never
modified: jupyter-book executes copies in memory.

``make book`` executes every notebook ("force"), in full mode unless ``--fast`` (``LATTICE_LAB_FAST=1``:
small data and budgets). ``--no-execute`` renders the notebooks as committed (without outputs): what
``tests/test_book.py`` does, because it only checks that the site builds and every page is there, and
executing the course is already nbmake's job in the same suite. Progress bars are off
(``LATTICE_LAB_QUIET=1``) unless the environment sets that variable, and ``MPLBACKEND`` is unset for
the kernels (an ``Agg`` backend left from a test run would keep the figures out of the pages). The
build needs no network; the pages load MathJax and the widget manager from a CDN when they are viewed.

The execution mode and timeout are the only settings that change between the two builds: they are
written, with the rest of ``book/_config.yml`` unchanged, to ``<out>/_build/book_config.yml``, which
the build reads instead (jupyter-book 1.x takes one configuration file).

``--student`` builds the **student site** instead, into ``<out>/_build/student_site/_build/html/``: the same
pages, with every notebook replaced by its student edition (``book/student.py``: no solution cell, no output
kept), executed like the instructor site, so every figure of a cell that runs in the student copy is drawn and
no output can come from a solution. Its self-checks fail there by design (each until the learner does the
exercise), so the student build allows cell errors. The source tree (``<out>/_build/student_source/``) holds
the book's pages, ``docs/METHODS.md`` and the student editions; ``--student NOTEBOOK ...`` builds it with only
those notebooks (the suite builds the labs' student pages that way). ``make book`` builds both sites.

Exit status: jupyter-book's (0 when the site was built).

Must not import lattice_lab: it builds the course from the outside, like a learner's kernel.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
DEFAULT_OUT = ROOT  # jupyter-book writes <out>/_build/html


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-execute", dest="execute", action="store_false",
                        help="render the notebooks as committed, without executing them (the suite's build)")
    parser.add_argument("--fast", action="store_true", help="execute with LATTICE_LAB_FAST=1 (small budgets)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per notebook (default: 3600)")
    parser.add_argument("--student", nargs="*", type=Path, default=None, metavar="NOTEBOOK",
                        help="build the student site (student editions of the notebooks; default: every notebook)")
    args = parser.parse_args(argv)
    if args.timeout < 1:
        parser.error(f"--timeout must be a positive number of seconds, got {args.timeout}")
    if args.fast and not args.execute:
        parser.error("--fast only applies when the notebooks are executed; drop --no-execute or --fast")
    return args


def book_config(execute: bool, timeout: int, *, student: bool = False) -> dict:
    """``book/_config.yml`` with the execution mode of this build (``force`` or ``off``) and its timeout.

    The student site allows cell errors: its self-checks fail until the learner has done the exercise.

    >>> book_config(False, 60)["execute"]["execute_notebooks"], book_config(True, 60)["execute"]["timeout"]
    ('off', 60)
    >>> book_config(True, 60)["execute"]["allow_errors"], book_config(True, 60, student=True)["execute"]["allow_errors"]
    (False, True)
    """
    config = yaml.safe_load((BOOK / "_config.yml").read_text(encoding="utf-8"))
    config["execute"] = dict(config.get("execute") or {}, execute_notebooks="force" if execute else "off",
                             timeout=timeout)
    if student:
        config["execute"]["allow_errors"] = True
    return config


def _load_student_script():
    spec = importlib.util.spec_from_file_location("course_student", BOOK / "student.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


STUDENT_PAGES = ("intro.md", "syllabus.md", "bibliography.md", "references.bib")
"""The book's own pages, copied into the student site's source tree (with docs/METHODS.md)."""


def student_source(out: Path, notebooks: list[Path]) -> Path:
    """The student site's source tree in ``<out>/_build/student_source``; returns its root.

    It holds the book's pages, ``docs/METHODS.md``, the student edition of each of ``notebooks`` and a table of
    contents: ``book/_toc.yml`` without the notebooks that are not there (and without parts left empty).
    """
    source = out / "_build" / "student_source"
    if source.exists():
        shutil.rmtree(source)
    (source / "book").mkdir(parents=True)
    (source / "docs").mkdir()
    for name in STUDENT_PAGES:
        shutil.copy2(BOOK / name, source / "book" / name)
    shutil.copy2(ROOT / "docs" / "METHODS.md", source / "docs" / "METHODS.md")
    written = _load_student_script().write_student_editions(notebooks, source / "notebooks")
    kept = {f"notebooks/{path.stem}" for path in written}
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text(encoding="utf-8"))
    for part in toc["parts"]:
        part["chapters"] = [c for c in part["chapters"] if not c["file"].startswith("notebooks/") or c["file"] in kept]
    toc["parts"] = [part for part in toc["parts"] if part["chapters"]]
    (source / "book" / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
    return source


def command(out: Path, config: Path, source: Path = ROOT) -> list[str]:
    """The jupyter-book command line: ``source`` (the repository root) with its own table of contents."""
    return [sys.executable, "-c", "from jupyter_book.cli.main import main; main()",  # its console script, by module
            "build", str(source), "--path-output", str(out),
            "--config", str(config), "--toc", str(source / "book" / "_toc.yml"), "--all"]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out.resolve()
    student = args.student is not None
    site = out / "_build" / "student_site" if student else out
    html = site / "_build" / "html"
    if html.exists():
        shutil.rmtree(html)  # a stale page of a renamed notebook must not survive
    html.parent.mkdir(parents=True, exist_ok=True)
    source = student_source(out, args.student or sorted((ROOT / "notebooks").glob("*.ipynb"))) if student else ROOT
    config = html.parent / ("student_book_config.yml" if student else "book_config.yml")
    config.write_text(yaml.safe_dump(book_config(args.execute, args.timeout, student=student), sort_keys=False),
                      encoding="utf-8")
    env = dict(os.environ)
    env.setdefault("LATTICE_LAB_QUIET", "1")
    env.pop("MPLBACKEND", None)  # the kernels draw with the inline backend, so the figures are in the pages
    if args.fast:
        env["LATTICE_LAB_FAST"] = "1"
    mode = "not executed" if not args.execute else ("executed in fast mode" if args.fast else "executed in full mode")
    print(f"building the {'student' if student else 'course'} site ({mode}) into {html} ...", flush=True)
    return subprocess.run(command(site, config, source), cwd=source, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
