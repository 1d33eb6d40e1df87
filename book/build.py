"""Build the course site with jupyter-book 1.x: the notebooks, the syllabus, the methods document, a bibliography.

    python book/build.py [--no-execute] [--fast] [--out FOLDER] [--timeout SECONDS]

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

Exit status: jupyter-book's (0 when the site was built).

Must not import lattice_lab: it builds the course from the outside, like a learner's kernel.
"""
from __future__ import annotations

import argparse
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
    args = parser.parse_args(argv)
    if args.timeout < 1:
        parser.error(f"--timeout must be a positive number of seconds, got {args.timeout}")
    if args.fast and not args.execute:
        parser.error("--fast only applies when the notebooks are executed; drop --no-execute or --fast")
    return args


def book_config(execute: bool, timeout: int) -> dict:
    """``book/_config.yml`` with the execution mode of this build (``force`` or ``off``) and its timeout.

    >>> book_config(False, 60)["execute"]["execute_notebooks"], book_config(True, 60)["execute"]["timeout"]
    ('off', 60)
    """
    config = yaml.safe_load((BOOK / "_config.yml").read_text(encoding="utf-8"))
    config["execute"] = dict(config.get("execute") or {}, execute_notebooks="force" if execute else "off",
                             timeout=timeout)
    return config


def command(out: Path, config: Path) -> list[str]:
    """The jupyter-book command line: the repository root as source, the book's own table of contents."""
    return [sys.executable, "-c", "from jupyter_book.cli.main import main; main()",  # its console script, by module
            "build", str(ROOT), "--path-output", str(out),
            "--config", str(config), "--toc", str(BOOK / "_toc.yml"), "--all"]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out.resolve()
    html = out / "_build" / "html"
    if html.exists():
        shutil.rmtree(html)  # a stale page of a renamed notebook must not survive
    html.parent.mkdir(parents=True, exist_ok=True)
    config = out / "_build" / "book_config.yml"
    config.write_text(yaml.safe_dump(book_config(args.execute, args.timeout), sort_keys=False), encoding="utf-8")
    env = dict(os.environ)
    env.setdefault("LATTICE_LAB_QUIET", "1")
    env.pop("MPLBACKEND", None)  # the kernels draw with the inline backend, so the figures are in the pages
    if args.fast:
        env["LATTICE_LAB_FAST"] = "1"
    mode = "not executed" if not args.execute else ("executed in fast mode" if args.fast else "executed in full mode")
    print(f"building the course site ({mode}) into {html} ...", flush=True)
    return subprocess.run(command(out, config), cwd=ROOT, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
