"""benchmarks/own_rnn.py: the view's overhead on the shipped models and the export latency (issue 25)."""
from __future__ import annotations

import json

import pytest
import torch

from benchmarks import common, own_rnn
from lattice_lab import checkpoints


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("own_rnn")
    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LATTICE_LAB_FAST", "1")
        try:
            found = own_rnn.main(["--out", str(out), "--repeats", "2"])
        finally:
            torch.set_num_threads(threads)
    return out, found


def test_the_view_overhead_times_every_shipped_recurrent_model_both_ways(report):
    out, found = report
    assert json.loads((out / "own_rnn_fast.json").read_text())["benchmark"] == "own_rnn"
    shipped = {n for n in checkpoints.list_shipped() if "feedback" not in n}
    assert {r["model"] for r in found["view_overhead"]} == shipped
    for row in found["view_overhead"]:
        assert row["course_ms"] > 0 and row["view_ms"] > 0
        assert row["ratio"] == pytest.approx(row["view_ms"] / row["course_ms"])


def test_the_user_written_replica_computes_what_the_shipped_model_computes():
    course, _ = checkpoints.load("digits-lstm")
    x = torch.randn(3, 8, 8)
    with torch.no_grad():
        assert torch.allclose(own_rnn.UserWritten(course)(x), course(x), atol=1e-6)


def test_export_latency_compares_dense_and_half_the_units_and_renders(report):
    out, found = report
    assert len(found["export_latency"]) == 2
    for row in found["export_latency"]:
        assert row["ratio"] == pytest.approx(row["pruned_ms"] / row["dense_ms"]) and row["format"] == "TorchScript"
    lines = common.own_rnn_tables(json.loads((out / "own_rnn_fast.json").read_text()))  # the written report
    assert any("through the view" in line for line in lines) and any("50% units" in line for line in lines)
