"""Build the course as a static HTML site: execute every notebook, render it with its widgets.

    python book/build.py [--fast] [--out _build/html] [--timeout SECONDS] [NOTEBOOK ...]

Every notebook of ``notebooks/`` (or only those named) is executed in a fresh ``python3`` kernel,
started in the notebooks folder as JupyterLab would, with the widget state stored
(``ExecutePreprocessor.store_widget_state``), and exported with nbconvert's HTML exporter (``lab``
template) to ``<out>/<name>.html``. ``<out>/index.html`` links every page under its title, with the
notebook's opening paragraph. The committed notebooks are never modified (they stay without outputs).

``--fast`` runs the kernels with ``LATTICE_LAB_FAST=1`` (small data and budgets: minutes instead of
hours on a CPU). Progress bars are switched off (``LATTICE_LAB_QUIET=1``) unless the environment
sets that variable. The build needs no network; the pages themselves load the widget manager
(``@jupyter-widgets/html-manager``) and MathJax from a CDN when they are viewed, as every
nbconvert page with widgets does.

Exit status: 0 when every notebook executed, 1 otherwise (the failures are listed; the pages of
the notebooks that did run are still written).

Must not import lattice_lab: it builds the course from the outside, like a learner's kernel.
"""
from __future__ import annotations

import argparse
import datetime as dt
import html
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import CellExecutionError, ExecutePreprocessor

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_OUT = ROOT / "_build" / "html"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to build (default: every notebooks/*.ipynb)")
    parser.add_argument("--fast", action="store_true", help="execute with LATTICE_LAB_FAST=1 (small budgets)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--timeout", type=int, default=3600,
                        help="seconds allowed per cell (default: 3600)")
    args = parser.parse_args(argv)
    if args.timeout < 1:
        parser.error(f"--timeout must be a positive number of seconds, got {args.timeout}")
    args.notebooks = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    missing = [str(path) for path in args.notebooks if not path.is_file() or path.suffix != ".ipynb"]
    if missing:
        parser.error(f"not notebook files: {', '.join(missing)}")
    if not args.notebooks:
        parser.error(f"no notebooks found in {NOTEBOOKS}")
    return args


def title_and_intro(notebook: nbformat.NotebookNode, fallback: str) -> tuple[str, str]:
    r"""The first ``# heading`` of the notebook and the paragraph that follows it (plain text).

    >>> cell = nbformat.v4.new_markdown_cell("# 00 · Hello\n\nA **bold** `start`.\n\nMore.")
    >>> title_and_intro(nbformat.v4.new_notebook(cells=[cell]), "fallback")
    ('00 · Hello', 'A bold start.')
    """
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        match = re.search(r"^# (.+)$", cell.source, re.MULTILINE)
        if match:
            rest = cell.source[match.end():].strip().split("\n\n")[0]
            return match.group(1).strip(), " ".join(re.sub(r"[*`]", "", rest).split())  # markdown emphasis off
    return fallback, ""


def execute(path: Path, timeout: int) -> nbformat.NotebookNode:
    """The notebook at ``path`` executed in a fresh kernel started in its folder, widget state kept."""
    notebook = nbformat.read(path, as_version=4)
    runner = ExecutePreprocessor(timeout=timeout, kernel_name="python3", store_widget_state=True)
    runner.preprocess(notebook, {"metadata": {"path": str(path.parent)}})
    return notebook


def render(notebook: nbformat.NotebookNode, title: str) -> str:
    """A standalone HTML page of an executed notebook (widgets included when their state is saved)."""
    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    return body


def index_page(entries: list[tuple[str, str, str, str]], fast: bool) -> str:
    """The site's front page: one link per notebook (page, title, intro, status)."""
    items = []
    for page, title, intro, status in entries:
        link = f'<a href="{html.escape(page)}">{html.escape(title)}</a>' if page else html.escape(title)
        note = f' <em>({html.escape(status)})</em>' if status else ""
        items.append(f"<li><p><strong>{link}</strong>{note}<br>{html.escape(intro)}</p></li>")
    mode = ("fast mode (<code>LATTICE_LAB_FAST=1</code>: small data and budgets)" if fast
            else "full mode (the budgets a learner gets)")
    built = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lattice_lab — the course</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }}
li {{ margin-bottom: 0.4rem; }}
footer {{ color: #666; font-size: 0.9rem; margin-top: 2rem; }}
</style>
</head>
<body>
<h1>lattice_lab — the structure of recurrent networks, and pruning by it</h1>
<p>The course notebooks, executed and rendered as static pages. The widgets show the state they had
when the page was built; to move their sliders, open the notebooks in JupyterLab
(<code>make lab</code>) or on Binder.</p>
<ol>
{chr(10).join(items)}
</ol>
<footer>Built {built} in {mode}.</footer>
</body>
</html>
"""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.fast:
        os.environ["LATTICE_LAB_FAST"] = "1"
    os.environ.setdefault("LATTICE_LAB_QUIET", "1")
    args.out.mkdir(parents=True, exist_ok=True)
    entries, failures = [], []
    for path in args.notebooks:
        source = nbformat.read(path, as_version=4)
        title, intro = title_and_intro(source, path.stem)
        page = f"{path.stem}.html"
        start = time.perf_counter()
        print(f"executing {path.name} ...", flush=True)
        try:
            executed = execute(path, args.timeout)
        except CellExecutionError as error:
            failures.append(path.name)
            entries.append(("", title, intro, "failed to execute; not rendered"))
            print(f"FAILED {path.name}:\n{error}", file=sys.stderr, flush=True)
            continue
        (args.out / page).write_text(render(executed, title), encoding="utf-8")
        entries.append((page, title, intro, ""))
        print(f"  wrote {args.out / page} ({time.perf_counter() - start:.0f} s)", flush=True)
    (args.out / "index.html").write_text(index_page(entries, args.fast), encoding="utf-8")
    print(f"wrote {args.out / 'index.html'} ({len(entries) - len(failures)} of {len(entries)} notebooks)")
    if failures:
        print(f"failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
