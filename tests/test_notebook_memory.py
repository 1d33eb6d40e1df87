"""benchmarks.notebook_memory: the kernel's peak memory is measured per cell, really, and the report renders.

A synthetic notebook allocates a known amount: the measured peak must rise by it in that cell
and the resident set must fall once it is freed. The real course runs in fast mode on the dashboard
(notebooks/dashboard.ipynb, whose time the report also carries). Timings are never asserted (the machine is
shared); only that they were taken.
"""
from __future__ import annotations

import json
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from benchmarks import common, notebook_memory

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/status: Linux only")
ALLOCATED_MIB = 300


def write(tmp_path, cells):
    notebook = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                  "language": "python"}})
    path = tmp_path / "probe.ipynb"
    nbformat.write(notebook, path)
    return path


def test_the_cell_that_allocates_sets_the_peak_and_freeing_lowers_the_resident_set(tmp_path):
    path = write(tmp_path, [new_code_cell("x = 1"), new_markdown_cell("text"),
                            new_code_cell(f"block = bytearray({ALLOCATED_MIB} * 2**20)\nblock[::4096] = b'x' * "
                                          f"len(block[::4096])"),
                            new_code_cell("del block"), new_code_cell("y = 2")])
    run = notebook_memory.run_notebook(path, tmp_path)
    assert run["error"] is None and [c["index"] for c in run["cells"]] == [0, 2, 3, 4]
    before, allocated, freed, last = run["cells"]
    assert allocated["peak_mib"] - before["peak_mib"] >= 0.95 * ALLOCATED_MIB
    assert freed["rss_mib"] < allocated["peak_mib"] - 0.9 * ALLOCATED_MIB
    # VmHWM keeps the high-water mark (the kernel's per-thread page counters make it jitter by a few pages)
    assert run["peak_mib"] == max(c["peak_mib"] for c in run["cells"])
    assert abs(run["peak_mib"] - allocated["peak_mib"]) < notebook_memory.PEAK_TOLERANCE_MIB
    assert (run["peak_cell"], run["peak_cell_id"]) == (2, allocated["id"])
    assert run["seconds"] > 0 and run["kernel_start_s"] > 0


def test_a_failing_notebook_is_reported_with_the_cells_that_ran(tmp_path):
    path = write(tmp_path, [new_code_cell("x = 1"), new_code_cell("raise KeyError('no such thing')"),
                            new_code_cell("y = 2")])
    run = notebook_memory.run_notebook(path, tmp_path)
    assert "KeyError" in run["error"] and [c["index"] for c in run["cells"]] == [0, 1]
    entry = notebook_memory.summarize([run])
    assert entry["under_limit"] is False and entry["error"] == run["error"]


def test_notebooks_are_chosen_by_the_prefix_of_their_file_name():
    assert [p.name for p in notebook_memory.select(["06", "08_compare"])] == [
        "06_expander_pruning.ipynb", "06a_lab3_expanders.ipynb", "06b_does_structure_matter.ipynb",
        "08_compare_everything.ipynb"]
    assert [p.name for p in notebook_memory.select(["06_"])] == ["06_expander_pruning.ipynb"]
    assert notebook_memory.select(None) == sorted(notebook_memory.NOTEBOOKS.glob("*.ipynb"))
    with pytest.raises(ValueError, match=r"no notebook starts with \['99'\]"):
        notebook_memory.select(["99"])


def test_the_dashboard_runs_in_fast_mode_and_the_report_renders_for_the_readme(tmp_path, monkeypatch):
    monkeypatch.setenv("LATTICE_LAB_FAST", "1")
    notebook_memory.main(["--notebooks", "dashboard", "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "notebook_memory_fast.json").read_text())
    assert saved["fast"] is True and saved["machine"]["command"].startswith(
        "LATTICE_LAB_FAST=1 python -m benchmarks.notebook_memory --notebooks dashboard")
    (entry,) = saved["notebooks"]
    assert entry["notebook"] == "dashboard" and entry["error"] is None
    code_cells = [c for c in nbformat.read(notebook_memory.NOTEBOOKS / "dashboard.ipynb", 4).cells
                  if c.cell_type == "code"]
    assert [c["id"] for c in entry["cells"]] == [c.get("id") for c in code_cells]
    assert entry["peak_mib"] == max(c["peak_mib"] for c in entry["cells"])
    assert saved["dashboard"]["notebook"] == "dashboard" and saved["dashboard"]["target_s"] == 30.0
    assert saved["all_under_limit"] == entry["under_limit"] == (entry["peak_mib"] < 1024)
    lines = common.notebook_memory_tables(saved)
    assert any(line.startswith("| dashboard | ") for line in lines)
    assert any(line.startswith("The Voilà dashboard (`notebooks/dashboard.ipynb`) renders in ") for line in lines)
    (missing,) = [line for line in lines if line.startswith("Not measured yet: ")]
    assert "00_welcome" in missing and "| dashboard" not in missing and "dashboard," not in missing


def test_repeats_keep_the_highest_peak_and_the_median_time():
    runs = [{"notebook": "n", "peak_mib": 10.0, "seconds": 3.0, "kernel_start_s": 1.0, "error": None},
            {"notebook": "n", "peak_mib": 12.0, "seconds": 9.0, "kernel_start_s": 1.0, "error": None},
            {"notebook": "n", "peak_mib": 11.0, "seconds": 4.0, "kernel_start_s": 1.0, "error": None}]
    entry = notebook_memory.summarize(runs)
    assert (entry["peak_mib"], entry["seconds"], entry["seconds_each"]) == (12.0, 4.0, [3.0, 9.0, 4.0])
    assert entry["under_limit"] is True
