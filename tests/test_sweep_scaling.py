"""benchmarks.sweep_scaling in fast mode, quality's --jobs, and the Ray and submitit examples on stand-in engines.

No timing is asserted: the report's numbers are checked against each other (the speedup is the
ratio of the two wall times it records, the projection is the formula of its probe), never
against a bar, since the machine running the tests is shared.
"""
import concurrent.futures
import importlib.util
import json
import sys
import types
from pathlib import Path

import pytest
import torch

from benchmarks import common, quality, sweep_scaling
from lattice_lab import checkpoints, compare

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("scaling")
    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LATTICE_LAB_FAST", "1")
        try:
            found = sweep_scaling.main(["--out", str(out)])
        finally:
            torch.set_num_threads(threads)
    return out, found


def test_the_scaling_report_compares_identical_rows_and_derives_its_ratios_from_its_timings(report):
    out, found = report
    assert json.loads((out / "sweep_scaling_fast.json").read_text()) == found
    settings = found["settings"]
    assert found["cells"] == len(settings["methods"]) * len(settings["amounts"]) == len(found["rows"])
    assert found["identical"] is True and settings["workers"] == 2 and settings["threads_per_worker"] == 1
    assert found["speedup"] == pytest.approx(found["serial_s"] / found["parallel_s"])
    assert found["efficiency"] == pytest.approx(found["speedup"] / 2)
    assert found["overhead_per_cell_s"] == pytest.approx((2 * found["parallel_s"] - found["serial_s"]) / found["cells"])
    assert found["target_met"] == (found["speedup"] >= sweep_scaling.TARGET_SPEEDUP)
    assert all(set(compare.COLUMNS) <= set(row) and row["accuracy_finetuned"] is not None for row in found["rows"])


def test_the_probe_times_one_cell_of_every_quality_label_and_the_projection_is_its_formula(report):
    _, found = report
    labels = [p["label"] for p in found["probe"]]
    supported = compare.supported_methods(checkpoints.load("digits-lstm")[0])
    assert labels == supported + [v for v, (m, _) in quality.VARIANTS.items() if m in supported]
    assert all(p["seconds"] > 0 and 0 <= p["accuracy_finetuned"] <= 1 for p in found["probe"])
    projection = found["projection"]
    assert projection == pytest.approx(sweep_scaling.projection(found["probe"], found["overhead_per_cell_s"], 64))
    assert projection["cells"] == 96 * len(labels) and projection["projected_s"] >= projection["longest_cell_s"]


def test_the_readme_table_shows_the_reports_numbers(report, tmp_path):
    out, found = report
    lines = common.sweep_scaling_tables(found)
    text = "\n".join(lines)
    assert lines[0] == "### Sweep scaling: serial against 2 workers"
    assert f"Speedup {found['speedup']:.2f}×" in text and f"| {found['serial_s']:.1f} |" in text
    assert f"{found['projection']['cells']} cells" in text
    (tmp_path / "sweep_scaling.json").write_text((out / "sweep_scaling_fast.json").read_text())
    assert common.results_markdown(tmp_path).count("### Sweep scaling") == 1


def test_quality_on_two_workers_writes_the_serial_reports_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("LATTICE_LAB_FAST", "1")
    threads = torch.get_num_threads()
    try:
        args = ["--methods", "magnitude", "spectral", "imp", "--seeds", "1"]
        compare.clear_cache()  # fast mode keeps cells in this process's memory: compute both runs
        serial = quality.main(args + ["--out", str(tmp_path / "serial")])
        compare.clear_cache()
        parallel = quality.main(args + ["--out", str(tmp_path / "parallel"), "--jobs", "2"])
    finally:
        torch.set_num_threads(threads)
        compare.clear_cache()
    assert [compare.comparable(r) for r in parallel["rows"]] == [compare.comparable(r) for r in serial["rows"]]
    assert parallel["settings"]["jobs"] == 2 and {r["method"] for r in parallel["rows"]} == {"magnitude", "spectral",
                                                                                              "imp"}
    assert serial["summary"] == parallel["summary"]


# --------------------------------------------------------------------------- the examples, on stand-in engines

def _example(name: str, monkeypatch, engine: types.ModuleType):
    monkeypatch.setitem(sys.modules, engine.__name__, engine)
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_ray(calls):
    """What the Ray example uses: ray.init, ray.remote(num_cpus=...)(fn).remote(*args).future()."""
    ray = types.ModuleType("ray")

    def remote(num_cpus):
        def wrap(fn):
            def run(*args):
                calls.append((num_cpus, fn.__name__))
                future = concurrent.futures.Future()
                future.set_result(fn(*args))
                return types.SimpleNamespace(future=lambda: future)
            return types.SimpleNamespace(remote=run)
        return wrap

    ray.init = lambda address=None: calls.append(("init", address))
    ray.remote = remote
    return ray


class _FakeJob:
    def __init__(self, value):
        self.value = value

    def done(self):
        return True

    def result(self):
        return self.value


def _fake_submitit(calls):
    """What the SLURM example uses: AutoExecutor(folder, cluster), update_parameters, submit -> a job."""
    submitit = types.ModuleType("submitit")

    class AutoExecutor:
        def __init__(self, folder, cluster=None):
            calls.append(("executor", cluster))

        def update_parameters(self, **parameters):
            calls.append(("parameters", parameters["cpus_per_task"]))

        def submit(self, fn, *args):
            calls.append(fn.__name__)
            return _FakeJob(fn(*args))

    submitit.AutoExecutor = AutoExecutor
    return submitit


@pytest.mark.parametrize("name, engine", [("sweep_on_ray", _fake_ray), ("sweep_on_slurm", _fake_submitit)])
def test_the_cluster_examples_run_their_cells_through_sweep_and_run_cell(name, engine, monkeypatch, tmp_path):
    calls = []
    example = _example(name, monkeypatch, engine(calls))
    compare.clear_cache()  # the cells must reach the engine, not come from another test's memory
    argv = ["--checkpoint", "digits-lstm", "--dataset", "digits", "--methods", "magnitude", "random-units",
            "--amounts", "0.5", "--seeds", "0", "--train-subset", "256", "--cache-dir", str(tmp_path / "cells"),
            "--out", str(tmp_path / "rows.json")]
    rows = example.main(argv)
    tasks = [call for call in calls if call in ("run_cell", (1, "run_cell"))]  # (CPUs, function) on Ray
    assert len(tasks) == 2, calls  # one task per cell, each the worker function itself
    serial = compare.sweep(compare.checkpoint_spec("digits-lstm"), compare.data_spec("digits", "test"),
                           methods=["magnitude", "random-units"], amounts=[0.5], finetune_epochs=1,
                           train_data=compare.data_spec("digits", "train", subset=256), cache=False)
    assert [compare.comparable(r) for r in rows] == [compare.comparable(r) for r in serial]
    assert compare.load_rows(tmp_path / "rows.json") == rows and len(list((tmp_path / "cells").glob("cell-*"))) == 3
    compare.clear_cache()
