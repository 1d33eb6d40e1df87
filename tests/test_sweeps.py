"""Sweeps fanned out (issue 17): serial = process pool = Dask rows, a cache that cannot serve stale rows, resumable grids.

The process pool and the Dask cluster are started once per module (two workers, one thread each)
and shared by the tests that need them. Nothing here measures time: on a loaded 2-core machine
the workers are slow to start, and every wait is unbounded rather than timed.
"""
import dataclasses
import json
import logging
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from lattice_lab import cli, compare, train
from lattice_lab.compare import cache as sweep_cache
from lattice_lab.compare import cell as sweep_cell
from lattice_lab.data import SequenceDataset
from lattice_lab.compare.executors import executor_for, local_pool
from lattice_lab.pruning import REGISTRY
from lattice_lab.compare.specs import CellSpec, data_digest, load_checkpoint, load_data, model_digest

USER_MODULE = "lattice_lab_user_methods_for_tests"
USER_METHOD = "user-magnitude-threads"
GRID = {"methods": ["magnitude", "random-units", "spectral", "imp"], "amounts": [0.5, 0.9], "seeds": [1],
        "finetune_epochs": 1, "options": {"imp": {"rounds": 2}, "spectral": {"n_samples": 256}}}


@pytest.fixture(scope="module")
def specs():
    """The shipped digits LSTM and the digits splits, as the specs workers load."""
    return compare.checkpoint_spec("digits-lstm"), compare.data_spec("digits", "test"), compare.data_spec("digits")


@pytest.fixture(scope="module")
def user_module(tmp_path_factory):
    """A method registered in a module of the user's own, importable by path (what workers import)."""
    folder = tmp_path_factory.mktemp("user_methods")
    (folder / f"{USER_MODULE}.py").write_text(textwrap.dedent(f'''
        """A user's own pruning method: magnitude, reporting the torch threads it ran with."""
        import torch
        from lattice_lab.pruning import prune, register

        @register({USER_METHOD!r}, level="weight", summary="magnitude, with the thread count in its info")
        def user_magnitude(model, amount, *, data=None, scope="recurrent", seed=0):
            result = prune(model, "magnitude", amount, scope=scope, seed=seed)
            result.info["threads"] = torch.get_num_threads()
            return result
    '''))
    sys.path.insert(0, str(folder))  # spawned workers start with this process's sys.path
    __import__(USER_MODULE)
    yield USER_MODULE
    REGISTRY.pop(USER_METHOD, None)
    sys.modules.pop(USER_MODULE, None)
    sys.path.remove(str(folder))


@pytest.fixture(scope="module")
def pool(user_module):
    """Two spawned worker processes, shared by this module's tests."""
    with local_pool(2) as executor:
        yield executor


@pytest.fixture(scope="module")
def dask_cluster(user_module):
    """A Dask LocalCluster of 2 worker processes with one thread each (the [cluster] extra)."""
    distributed = pytest.importorskip("distributed", reason="needs the [cluster] extra: pip install '.[cluster]'")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       silence_logs=logging.ERROR)
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def serial_rows(specs):
    """The grid computed here, one cell after another, with the workers' thread count."""
    model, test, train_set = specs
    return compare.sweep(model, test, **GRID, train_data=train_set, cache=False, threads=1)


def _comparable(rows):
    return [compare.comparable(row) for row in rows]


# --------------------------------------------------------------------------- serial = process pool = Dask

def test_a_process_pool_returns_the_serial_rows_in_grid_order(specs, serial_rows, pool):
    model, test, train_set = specs
    rows = compare.sweep(model, test, **GRID, train_data=train_set, cache=False, executor=pool)
    assert [(r["method"], r["amount"], r["seed"]) for r in rows] == [
        (m, a, s) for m in GRID["methods"] for a in GRID["amounts"] for s in GRID["seeds"]]
    assert _comparable(rows) == _comparable(serial_rows)  # same accuracies to the last digit
    assert all(r["latency_ms"] is None and r["prune_seconds"] is None for r in rows)  # meaningless when concurrent
    assert all(r["latency_ms"] > 0 for r in serial_rows)
    assert len({r["accuracy_finetuned"] for r in rows}) > 1  # the grid really differs from cell to cell


def test_a_dask_cluster_returns_the_serial_rows(specs, serial_rows, dask_cluster):
    distributed = pytest.importorskip("distributed")
    model, test, train_set = specs
    with distributed.Client(dask_cluster, timeout=300) as client:
        rows = compare.sweep(model, test, **GRID, train_data=train_set, cache=False, executor=client.get_executor())
        first = {**GRID, "methods": GRID["methods"][:1], "amounts": GRID["amounts"][:1], "seeds": GRID["seeds"][:1]}
        on_client = compare.sweep(model, test, **first, train_data=train_set, cache=False, executor=client)
    assert _comparable(rows) == _comparable(serial_rows)
    assert _comparable(on_client) == _comparable(serial_rows[:1])  # the Client itself: its futures are polled


def test_the_cli_scheduler_option_runs_the_cells_on_dask(specs, dask_cluster, capsys):
    argv = ["compare", "--checkpoint", "digits-lstm", "--methods", "magnitude", "random-units", "--amounts", "0.5",
            "--json"]
    compare.clear_cache()
    assert cli.main(argv + ["--scheduler", dask_cluster.scheduler_address]) == 0
    on_dask = json.loads(capsys.readouterr().out)
    compare.clear_cache()  # or the serial run is served the Dask run's cells
    assert cli.main(argv) == 0
    here = json.loads(capsys.readouterr().out)
    compare.clear_cache()
    assert _comparable(on_dask) == _comparable(here) and on_dask[0]["latency_ms"] is None


def test_lattice_lab_compare_jobs_2_runs_as_a_command(tmp_path, capsys):
    argv = ["compare", "--checkpoint", "digits-lstm", "--methods", "magnitude", "random-units", "--amounts", "0.5",
            "0.9", "--json"]
    env = {**os.environ, "LATTICE_LAB_CACHE": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "lattice_lab.cli", *argv, "--jobs", "2"], env=env,
                          capture_output=True, text=True, check=True)
    on_workers = json.loads(done.stdout)
    compare.clear_cache()  # the cells of the Dask test are in this process's memory, without timings
    assert cli.main(argv + ["--jobs", "1"]) == 0
    here = json.loads(capsys.readouterr().out)
    compare.clear_cache()
    assert len(on_workers) == 4 and _comparable(on_workers) == _comparable(here)
    assert on_workers[0]["latency_ms"] is None and here[0]["latency_ms"] is not None


# --------------------------------------------------------------------------- workers behave

def test_a_method_from_a_users_module_runs_in_workers_with_one_thread_each(specs, pool, user_module):
    model, test, _ = specs
    rows = compare.sweep(model, test, methods=[USER_METHOD], amounts=[0.5], cache=False, executor=pool)
    assert rows[0]["diagnostics"]["threads"] == 1
    two = compare.sweep(model, test, methods=[USER_METHOD], amounts=[0.5], cache=False, executor=pool, threads=2)
    assert two[0]["diagnostics"]["threads"] == 2
    here = compare.sweep(model, test, methods=[USER_METHOD, "magnitude"], amounts=[0.5], cache=False)
    assert here[0]["accuracy"] == here[1]["accuracy"] == rows[0]["accuracy"]


class _RecordingExecutor:
    """Runs nothing: records what would have been submitted."""

    def __init__(self):
        self.submitted = []

    def submit(self, fn, *args):
        self.submitted.append(args)
        raise AssertionError("nothing should have been submitted")


def test_a_method_defined_in_main_is_refused_before_anything_is_submitted(specs, monkeypatch):
    model, test, _ = specs
    entry = REGISTRY["magnitude"]
    function = lambda model, amount, *, data=None, scope="recurrent", seed=0: entry.function(model, amount)  # noqa: E731
    function.__module__ = "__main__"
    monkeypatch.setitem(REGISTRY, "from-a-notebook", dataclasses.replace(entry, name="from-a-notebook",
                                                                          function=function))
    executor = _RecordingExecutor()
    with pytest.raises(ValueError, match="registered by '__main__', which workers cannot import"):
        compare.sweep(model, test, methods=["magnitude", "from-a-notebook"], amounts=[0.5], cache=False,
                      executor=executor)
    assert executor.submitted == []


def test_in_memory_models_and_data_run_serially_and_are_refused_by_an_executor(model, digits, specs):
    checkpoint, test, _ = specs
    executor = _RecordingExecutor()
    for args in ((model, test), (checkpoint, digits[1])):
        with pytest.raises(ValueError, match="give sweep a checkpoint"):
            compare.sweep(*args, methods=["magnitude"], amounts=[0.5], cache=False, executor=executor)
    with pytest.raises(ValueError, match="give sweep a checkpoint"):  # in-memory training data too
        compare.sweep(checkpoint, test, methods=["magnitude"], amounts=[0.5], cache=False, executor=executor,
                      train_data=digits[0])
    assert executor.submitted == []
    cache = compare.SweepCache()
    in_memory = compare.sweep(model, digits[1], methods=["magnitude"], amounts=[0.5], cache=cache)
    from_specs = compare.sweep(checkpoint, test, methods=["magnitude"], amounts=[0.5], cache=False)
    assert _comparable(in_memory) == _comparable(from_specs)
    with pytest.raises(ValueError, match="give sweep a checkpoint"):  # refused even when every cell is cached
        compare.sweep(model, digits[1], methods=["magnitude"], amounts=[0.5], cache=cache, executor=executor)


def test_the_sweeps_device_reaches_every_method_that_takes_one(specs):
    model, test, _ = specs
    cells = compare.plan_sweep(model, test, methods=None, amounts=[0.5], device="cpu",
                               options={"expander": {"device": "meta"}})
    with_device = {c.spec.method: c.spec.options["device"] for c in cells if "device" in REGISTRY[c.spec.method].options}
    assert set(with_device) == {"imp", "ramanujan-imp", "expander", "gradual-magnitude", "jacobian"}
    assert with_device == {"imp": "cpu", "ramanujan-imp": "cpu", "expander": "meta",  # an explicit option wins
                           "gradual-magnitude": "cpu", "jacobian": "cpu"}
    assert all("device" not in c.spec.options for c in cells if c.spec.method not in with_device)


def test_a_cell_leaves_the_callers_threads_and_random_state_alone(specs):
    checkpoint, test, _ = specs
    threads = torch.get_num_threads()
    state = torch.get_rng_state()
    cell = CellSpec("random", 0.5, seed=3, checkpoint=checkpoint, test=test, train=test, threads=1)
    row = sweep_cell.run_cell(cell)
    assert torch.get_num_threads() == threads and torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(123)  # a cell's draws start from its own seed, whatever the process did before
    again = sweep_cell.run_cell(cell)
    assert compare.comparable(again) == compare.comparable(row)


def test_a_worker_refuses_a_checkpoint_or_data_that_differ_from_the_plan(specs):
    checkpoint, test, _ = specs
    with pytest.raises(ValueError, match="another file at that path"):
        load_checkpoint(dataclasses.replace(checkpoint, sha256="0" * 64))
    with pytest.raises(ValueError, match="loads with other arrays here"):
        load_data(dataclasses.replace(test, sha256="0" * 64))


# --------------------------------------------------------------------------- executors other than concurrent.futures

class _Job:
    """A finished job as submitit returns it: ``result()`` and ``done()``, not a concurrent.futures.Future."""

    def __init__(self, fn, args):
        self.cancelled = False
        try:
            self.value, self.error = fn(*args), None
        except Exception as error:  # noqa: BLE001 (kept for result(), as a job's error is)
            self.value, self.error = None, error

    def done(self):
        return True

    def cancel(self):
        self.cancelled = True
        return False

    def result(self):
        if self.error is not None:
            raise self.error
        return self.value


class _JobExecutor:
    def __init__(self):
        self.jobs = []

    def submit(self, fn, *args):
        self.jobs.append(_Job(fn, args))
        return self.jobs[-1]


def test_an_executor_with_other_futures_is_polled_and_a_failing_cell_is_named(specs, tmp_path):
    model, test, _ = specs
    serial = compare.sweep(model, test, methods=["magnitude", "random-units"], amounts=[0.5, 0.9], cache=False)
    jobs = _JobExecutor()
    rows = compare.sweep(model, test, methods=["magnitude", "random-units"], amounts=[0.5, 0.9], cache=False,
                         executor=jobs)
    assert _comparable(rows) == _comparable(serial) and len(jobs.jobs) == 4
    cache = compare.SweepCache(tmp_path)
    with pytest.raises(ValueError, match="rounds") as raised:
        compare.sweep(model, test, methods=["magnitude", "imp"], amounts=[0.5], cache=cache, executor=_JobExecutor(),
                      options={"imp": {"rounds": -1}})
    assert any("sweep cell imp amount=0.5 seed=0" in note for note in raised.value.__notes__)
    assert len(list(tmp_path.glob("cell-*.json"))) == 2  # the magnitude cell that finished, and the dense accuracy


# --------------------------------------------------------------------------- the content-addressed cache

@pytest.fixture
def counted(monkeypatch):
    calls = []
    real = sweep_cell.prune

    def counting(model, method, *args, **kwargs):
        calls.append(method)
        return real(model, method, *args, **kwargs)

    monkeypatch.setattr(sweep_cell, "prune", counting)
    return calls


def _perturbed(dataset, index, value):
    inputs = dataset.inputs.clone()
    inputs[index, -1, -1] = value  # one value in the last time step of one sequence
    return SequenceDataset(inputs, dataset.targets.clone(), name=dataset.name, split=dataset.split,
                           num_classes=dataset.num_classes, layout=dataset.layout, source=dataset.source)


def test_one_changed_value_in_the_last_time_step_of_one_test_sequence_recomputes_the_row(model, digits, counted):
    cache = compare.SweepCache()
    grid = {"methods": ["magnitude"], "amounts": [0.5], "cache": cache}
    clean = compare.sweep(model, digits[1], **grid)
    changed = _perturbed(digits[1], 17, 40.0)
    rows = compare.sweep(model, changed, **grid)
    assert counted == ["magnitude", "magnitude"]  # recomputed, not served from the clean set's cell
    fresh = compare.sweep(model, changed, methods=["magnitude"], amounts=[0.5], cache=False)
    assert _comparable(rows) == _comparable(fresh) and rows[0]["accuracy"] != clean[0]["accuracy"]
    assert rows[0]["dense_accuracy"] == train.evaluate(model, changed, device="cpu")["accuracy"]
    noisy = SequenceDataset(digits[1].inputs + 3 * torch.randn(digits[1].inputs.shape, generator=torch.Generator()
                                                                .manual_seed(0)), digits[1].targets, name="digits",
                            split="test", num_classes=10, layout="rows", source="noisy")
    assert compare.sweep(model, noisy, **grid)[0]["accuracy"] < clean[0]["accuracy"] - 0.1  # issue 17's stale case


def test_a_dataset_changed_in_place_is_hashed_again(model, digits, counted):
    test = _perturbed(digits[1], 0, 0.0)  # a private copy to modify
    cache = compare.SweepCache()
    compare.sweep(model, test, methods=["magnitude"], amounts=[0.5], cache=cache)
    digest = data_digest(test)
    test.inputs[359, -1, -1] += 1.0
    assert data_digest(test) != digest
    compare.sweep(model, test, methods=["magnitude"], amounts=[0.5], cache=cache)
    assert counted == ["magnitude", "magnitude"]


def test_training_data_counts_only_for_cells_that_use_it(model, digits, counted):
    cache = compare.SweepCache()
    grid = {"amounts": [0.5], "cache": cache}
    compare.sweep(model, digits[1], methods=["magnitude", "spectral"], train_data=digits[0], **grid)
    compare.sweep(model, digits[1], methods=["magnitude", "spectral"], train_data=_perturbed(digits[0], 5, 9.0), **grid)
    assert counted == ["magnitude", "spectral", "spectral"]  # magnitude uses no training data; spectral does
    compare.sweep(model, digits[1], methods=["magnitude"], finetune_epochs=1, train_data=digits[0], **grid)
    compare.sweep(model, digits[1], methods=["magnitude"], finetune_epochs=1, train_data=_perturbed(digits[0], 5, 9.0),
                  **grid)
    assert counted[3:] == ["magnitude", "magnitude"]  # fine-tuning uses it


def test_every_setting_of_a_cell_is_part_of_its_key(model, digits):
    cell = compare.plan_sweep(model, digits[1], methods=["imp"], amounts=[0.5], finetune_epochs=1,
                              train_data=digits[0])[0]
    digests = model_digest(model), data_digest(digits[1]), data_digest(digits[0])
    changes = [{"amount": 0.75}, {"seed": 1}, {"scope": "all"}, {"options": {"rounds": 2, "device": "cpu"}},
               {"finetune_epochs": 2}, {"finetune_lr": 3e-4}, {"distill": True}, {"device": "meta"},
               {"method": "ramanujan-imp"}]
    keys = {sweep_cache.cell_key(dataclasses.replace(cell.spec, **change), *digests)[0] for change in changes}
    assert cell.key == sweep_cache.cell_key(cell.spec, *digests)[0] and len(keys | {cell.key}) == len(changes) + 1
    pruned = sweep_cell.prune(model, "magnitude", 0.5).model
    assert sweep_cache.cell_key(cell.spec, model_digest(pruned), *digests[1:])[0] != cell.key
    assert sweep_cache.cell_key(cell.spec, digests[0], None, digests[2]) == (None, None)  # unhashable data: no cache


def test_the_code_version_follows_the_methods_imports_and_ignores_docstrings():
    baseline = sweep_cache.code_version("lattice_lab.pruning.baselines")
    closure = sweep_cache._imports("lattice_lab.pruning.baselines")
    assert "lattice_lab.pruning.base" in closure and "lattice_lab.pruning.lattice" not in closure
    assert sweep_cache._defining_module("lattice_lab.pruning", "register") == "lattice_lab.pruning.base"
    source = sweep_cache._parsed("lattice_lab.ridge")[1]
    documented = source.replace('"""', '"""Another word. ', 1)
    assert sweep_cache._code(documented) == sweep_cache._code(source)
    assert sweep_cache._code(source.replace("def ", "def _x(): pass\ndef ", 1)) != sweep_cache._code(source)
    assert baseline != sweep_cache.code_version("lattice_lab.pruning.spectral_units")


def test_an_interrupted_grid_resumes_cell_by_cell(model, digits, monkeypatch, tmp_path):
    calls = []
    real = sweep_cell.prune

    def interrupted(model, method, amount, *args, **kwargs):
        calls.append((method, amount))
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C during the third cell
        return real(model, method, amount, *args, **kwargs)

    monkeypatch.setattr(sweep_cell, "prune", interrupted)
    grid = {"methods": ["magnitude", "random"], "amounts": [0.5, 0.9], "cache_dir": tmp_path}
    compare.clear_cache()
    with pytest.raises(KeyboardInterrupt):
        compare.sweep(model, digits[1], **grid)
    compare.clear_cache()  # a new session: only the files are left
    calls.clear()
    monkeypatch.setattr(sweep_cell, "prune", lambda *args, **kwargs: calls.append(args[1:3]) or real(*args, **kwargs))
    rows = compare.sweep(model, digits[1], **grid)
    assert calls == [("random", 0.5), ("random", 0.9)]  # the two finished cells were not computed again
    assert _comparable(rows) == _comparable(compare.sweep(model, digits[1], methods=grid["methods"],
                                                          amounts=grid["amounts"], cache=False))
    compare.clear_cache()


def test_cache_files_are_written_atomically_and_say_what_they_hold(model, digits, monkeypatch, tmp_path):
    written = []
    real = sweep_cache.atomic_write
    monkeypatch.setattr(sweep_cache, "atomic_write", lambda path, content: written.append(path) or real(path, content))
    compare.sweep(model, digits[1], methods=["magnitude"], amounts=[0.5], cache=compare.SweepCache(tmp_path))
    assert sorted(written) == sorted(tmp_path.glob("cell-*.json")) and len(written) == 2
    cells = [json.loads(path.read_text()) for path in written]
    (entry,) = [c for c in cells if "method" in c["cell"]]
    assert entry["cell"]["method"] == "magnitude" and entry["cell"]["test"] == data_digest(digits[1])
    assert entry["row"]["method"] == "magnitude" and entry["cell"]["model"] == model_digest(model)


def test_executor_for_makes_what_the_front_doors_ask_for():
    with executor_for(1) as serial:
        assert serial is None
    with pytest.raises(ValueError, match="The 'jobs' parameter of executor_for must be 1 when a scheduler is given"):
        with executor_for(2, "tcp://127.0.0.1:1"):
            pass
    with pytest.raises(ValueError, match="The 'jobs' parameter of executor_for must be an int >= 1"):
        with executor_for(0):
            pass
