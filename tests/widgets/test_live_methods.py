"""Every method live in the PruningLab (issue 27), headless: schedules serve later moves, jobs run in the
background and cancel, the controls stay usable, and the source line says where the numbers come from."""
import json
import time

import matplotlib

matplotlib.use("Agg")

import pytest
import torch

from lattice_lab import course, train
from lattice_lab.data import SequenceDataset
from lattice_lab.models import build
from lattice_lab.pruning import prune
from lattice_lab.pruning import schedules as schedules_module
from lattice_lab.pruning.schedules import SCHEDULED, run_schedule
from lattice_lab.widgets import LabSettings, PruningLab, lab_options
from lattice_lab.widgets import lab as lab_module
from lattice_lab.widgets import state as state_module
from lattice_lab.widgets.jobs import Jobs


@pytest.fixture
def lab(model, digits):
    made = PruningLab(model, digits[1], train_data=digits[0], quick=True)
    yield made
    made.jobs.shutdown()


def counting(monkeypatch, module, name):
    """A list that grows by one entry per call of ``module.name`` (the real function still runs)."""
    calls, real = [], getattr(module, name)

    def wrapper(*args, **kwargs):
        calls.append(args[1:3])
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


def usable(lab):
    """Every control is enabled (fine-tune too: the lab has training data)."""
    return not any(w.disabled for w in lab.controls.values() if hasattr(w, "disabled"))


def wait_for_steps(job, steps=1, timeout=60.0):
    start = time.monotonic()
    while job.steps < steps and not job.done and time.monotonic() - start < timeout:
        time.sleep(0.01)


@pytest.mark.parametrize("method", SCHEDULED)
def test_later_moves_are_served_from_one_schedule_run(lab, digits, monkeypatch, method):
    runs = counting(monkeypatch, lab_module, "run_schedule")
    prunes = counting(monkeypatch, state_module, "prune")
    lab.controls["method"].value = method
    assert lab.state.source == "pending"
    lab.wait()
    assert len(runs) == 1
    schedule = next(iter(lab.schedules.values()))
    assert lab.state.ok and lab.state.source.startswith(f"from one {method} run to 0.95")
    for amount in (0.2, 0.65, 0.9, 0.35):
        lab.controls["amount"].value = amount
        served = schedule.result(amount)
        assert lab.state.accuracy == train.evaluate(served.model, digits[1], device="cpu")["accuracy"]
        assert lab.state.sparsity == served.sparsity
        if method != "ramanujan-imp":  # the Δ_r rule may stop before an amount
            assert abs(lab.state.sparsity - amount) < 0.005
    assert len(runs) == 1 and prunes == []  # one run, no pruning from scratch on any move


@pytest.mark.parametrize("method", ["imp", "gradual-magnitude"])
def test_a_schedule_ends_at_the_method_own_result_and_serves_its_stops_exactly(model, digits, method):
    options = lab_options(method, quick=True)
    schedule = run_schedule(model, method, 0.9, digits[0], options=options)
    direct = prune(model, method, 0.9, digits[0], **options)
    last = schedule.result(0.9)
    assert all(torch.equal(last.masks[name], direct.masks[name].bool()) for name in direct.masks)
    assert train.evaluate(last.model, digits[1], device="cpu") == train.evaluate(direct.model, digits[1], device="cpu")
    for i, stop in enumerate(schedule.stops):
        if any(later.sparsity == stop.sparsity for later in schedule.stops[i + 1:]):
            continue  # the later stop at the same sparsity serves it (gradual: the trained end of the run)
        served = schedule.result(stop.sparsity)
        assert served.info["served_from"] == stop.label  # no step beyond the stop
        assert all(torch.equal(served.masks[name], stop.masks[name]) for name in stop.masks)


def test_cancel_stops_a_running_schedule_and_the_controls_stay_usable(lab, monkeypatch):
    runs = counting(monkeypatch, lab_module, "run_schedule")
    slow = LabSettings("gradual-magnitude", 0.5, options={**lab_options("gradual-magnitude", True), "epochs": 5000})
    lab.refresh(slow)
    job = lab.jobs.active()[0]
    wait_for_steps(job, 3)
    assert not job.done and usable(lab)
    lab.controls["method"].value = "random"  # a move while the job runs: computed at once
    assert lab.state.ok and lab.state.source == "computed now" and not job.done
    assert lab.cancel() == 1
    job.wait(60)
    assert job.cancelled and job.result is None and job.steps < job.total_steps
    assert lab.schedules == {} and len(runs) == 1 and usable(lab)
    assert "cancelled" in lab.job_label.value


def test_a_queued_job_cancelled_never_runs_and_an_error_is_kept():
    jobs = Jobs()
    ran = []
    first = jobs.submit("first", lambda: time.sleep(0.3) or "slept")
    second = jobs.submit("second", lambda: ran.append(1))
    second.cancel()
    failing = jobs.submit("failing", lambda: 1 / 0)
    jobs.wait(30)
    assert first.result == "slept" and second.cancelled and ran == []
    assert isinstance(failing.error, ZeroDivisionError) and not failing.cancelled
    jobs.shutdown()


def test_background_progress_counts_the_training_steps(lab):
    lab.controls["method"].value = "imp"
    job = lab.jobs.active()[0]
    lab.wait()
    assert job.steps == job.total_steps > 0  # planned_steps predicts the run's optimizer steps
    assert lab.job_progress.value == lab.job_progress.max == job.total_steps


def test_source_line_says_computed_now_served_or_committed(monkeypatch):
    """An MNIST-shaped LSTM-128 finds jacobian's committed run; another amount is computed on request."""
    runs = json.loads(course.results_file("structure_claims.json").read_text())["runs"]
    committed = next(r for r in runs if r["spec"]["method"] == "jacobian" and r["spec"]["model"] == "lstm"
                     and r["spec"]["hidden"] == 128 and r["spec"]["seed"] == 0 and r["spec"]["start"] is None)
    generator = torch.Generator().manual_seed(0)
    fake = [SequenceDataset(torch.randn(n, 28, 28, generator=generator), torch.randint(0, 10, (n,), generator=generator),
                            name="mnist", split=split, num_classes=10, layout="rows", source="random")
            for n, split in ((96, "train"), (64, "test"))]
    model = build({"kind": "lstm", "input_size": 28, "hidden_size": 128, "num_classes": 10})
    lab = PruningLab(model, fake[1], train_data=fake[0], quick=True)
    assert "numbers: computed now" in lab.source.value
    lab.controls["method"].value = "jacobian"
    lab.controls["amount"].value = 0.95
    assert lab.state.accuracy == committed["accuracy"] and lab.state.sparsity == committed["sparsity"]
    assert lab.state.result is None and "from a committed run (structure_claims.json" in lab.source.value
    computes = counting(monkeypatch, lab_module, "compute_state")
    lab.controls["amount"].value = 0.5  # no committed run here: nothing trains until asked
    assert lab.state.source == "pending" and "compute" in lab.status.value and computes == []
    job = lab.compute()
    assert usable(lab)
    lab.wait()
    assert job.result is not None and lab.state.ok and lab.state.result is not None
    assert lab.state.source == "computed now" and "numbers: computed now" in lab.source.value
    lab.jobs.shutdown()


def test_clear_cache_forgets_states_and_schedules_so_the_next_move_recomputes(lab, monkeypatch):
    lab.controls["method"].value = "imp"
    lab.wait()
    lab.controls["amount"].value = 0.7
    assert len(lab.cache) > 0 and len(lab.schedules) == 1
    lab.clear_cache()
    assert len(lab.cache) == 0 and len(lab.schedules) == 0
    runs = counting(monkeypatch, lab_module, "run_schedule")
    lab.controls["amount"].value = 0.8  # the schedule is gone: one new run
    assert lab.state.source == "pending"
    lab.wait()
    assert len(runs) == 1 and lab.state.ok and abs(lab.state.sparsity - 0.8) < 0.005


def test_the_worker_thread_ends_when_idle_and_an_ended_job_keeps_no_owner(monkeypatch):
    from lattice_lab.widgets import jobs as jobs_module

    monkeypatch.setattr(jobs_module, "IDLE_S", 0.05)
    jobs = Jobs()
    first = jobs.submit("first", lambda: 1, on_done=lambda job: None)
    first.wait(10)
    assert first._on_done is None and first._work is None
    deadline = time.monotonic() + 10
    while jobs._worker is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert jobs._worker is None  # ended while idle
    assert jobs.submit("second", lambda: 2).wait(10).result == 2  # a new worker starts
    assert [job.key for job in jobs.submitted] == ["second"]
    jobs.shutdown()
