"""benchmarks: every benchmark runs end to end in fast mode, writes sane JSON, and the README block regenerates."""
import gzip
import importlib
import inspect
import json
import math
import shutil
import tempfile
from pathlib import Path

import pytest
import torch

from benchmarks import BENCHMARKS, common
from benchmarks import __main__ as entry
from benchmarks import (bounds_cost, cost, expander, live_budget, quality, spectral_lstm, speed, structure_claims,
                        train_speed)
from lattice_lab import checkpoints, compare, data, prune, train
from lattice_lab.models import build

MACHINE_KEYS = {"cpu", "cores", "usable_cores", "torch", "torch_threads", "date", "command", "load_average_start",
                "load_average_end", "heavy_load"}
README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Every benchmark run once in fast mode into a temporary folder (torch's thread count restored)."""
    out = tmp_path_factory.mktemp("bench")
    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LATTICE_LAB_FAST", "1")
        patch.setenv("LATTICE_LAB_CACHE", str(out / "cache"))  # structure_claims keeps finished runs in the cache
        try:
            found = {
                "structure_claims": structure_claims.main(["--out", str(out), "--seeds", "0"]),
                "cost": cost.main(["--out", str(out)]),
                "speed": speed.main(["--out", str(out), "--kinds", "lstm", "rnn"]),
                "train_speed": train_speed.main(["--out", str(out)]),
                "quality": quality.main(["--out", str(out)]),
                "expander": expander.main(["--out", str(out)]),
                "spectral_lstm": spectral_lstm.main(["--out", str(out)]),
                "live_budget": live_budget.main(["--out", str(out), "--moves", "2", "--methods", "magnitude"]),
                "bounds_cost": bounds_cost.main(["--out", str(out)]),
            }
        finally:
            torch.set_num_threads(threads)
    return out, found


def test_every_report_is_written_as_fast_json_with_a_finished_machine_block(reports):
    out, found = reports
    for name, report in found.items():
        path = out / f"{name}_fast.json"
        assert path.is_file() and not (out / f"{name}.json").exists()
        saved = json.loads(path.read_text())
        assert set(saved) == set(report) and saved["benchmark"] == report["benchmark"] == name
        assert MACHINE_KEYS <= set(saved["machine"])
        assert saved["machine"]["fast"] is True
        assert saved["machine"]["command"].startswith(f"LATTICE_LAB_FAST=1 python -m benchmarks.{name}")


def test_cost_fits_a_finite_exponent_to_positive_medians_for_each_analysis(reports):
    out, found = reports
    report = found["cost"]
    assert [e["name"] for e in report["analyses"]] == list(cost.analyses())
    for entry in report["analyses"]:
        assert entry["sizes"] == list(cost.FAST_SIZES)
        assert all(t > 0 for t in entry["median_s"])
        assert math.isfinite(entry["exponent"])
        assert entry["exponent"] == pytest.approx(common.fitted_exponent(entry["sizes"], entry["median_s"]))
    dag = report["analyses"][0]["timings"]
    assert [t["poset_size"] for t in dag] == list(cost.FAST_SIZES)  # a DAG's poset keeps every node
    assert (out / report["plot"]).is_file()


def test_speed_reports_positive_speedups_and_the_flop_ratio_of_each_variant(reports):
    out, found = reports
    rows = found["speed"]["results"]
    assert {(r["kind"], r["batch"]) for r in rows} == {(k, b) for k in ("lstm", "rnn") for b in (1, 16)}
    for r in rows:
        assert r["speedup"] > 0 and r["latency_ms"] > 0
        dense = next(d for d in rows if (d["kind"], d["batch"], d["variant"]) == (r["kind"], r["batch"], "dense"))
        assert r["flop_ratio"] == pytest.approx(dense["flops"] / r["flops"])
        assert r["speedup"] == pytest.approx(dense["latency_ms"] / r["latency_ms"])
        if r["variant"] == "dense":
            assert r["speedup"] == 1.0 and r["flop_ratio"] == 1.0
        else:
            assert r["flop_ratio"] > 1
    units = {r["variant"]: r["hidden_units"] for r in rows if r["kind"] == "lstm" and r["batch"] == 1}
    assert units == {"dense": 32, "masked (hooks)": 32, "masked (zeros)": 32, "units 50%": 16, "units 25%": 8}
    assert (out / found["speed"]["plot"]).is_file()


def test_train_speed_overhead_is_each_loops_epoch_time_over_the_bare_loops(reports):
    _, found = reports
    rows = found["train_speed"]["results"]
    assert [r["loop"] for r in rows] == ["bare", "train.fit", "train.fit (clip=None)"]
    bare = rows[0]["median_epoch_s"]
    samples = found["train_speed"]["settings"]["samples"]
    for r in rows:
        assert r["samples_per_second"] > 0
        assert r["samples_per_second"] == pytest.approx(samples / r["median_epoch_s"])
        assert r["overhead"] == pytest.approx(r["median_epoch_s"] / bare)
    assert rows[0]["overhead"] == 1.0


def test_quality_runs_every_registered_method_with_accuracies_in_range(reports):
    out, found = reports
    report = found["quality"]
    (info,) = report["models"]
    lstm = build({"kind": "lstm", "input_size": 8, "hidden_size": 4, "num_classes": 10})
    variants = set(quality.VARIANTS)
    assert set(info["methods"]) == set(compare.supported_methods(lstm)) | variants  # registry-driven
    assert {r["method"] for r in report["rows"]} == set(info["methods"])
    for label in variants:  # a variant row really ran its method with its own options
        (row,) = [r for r in report["rows"] if r["method"] == label]
        (base,) = [r for r in report["rows"] if r["method"] == quality.base_method(label)]
        assert row["level"] == base["level"] and row["hidden_units"] == base["hidden_units"]
        for option, value in quality.VARIANTS[label][1].items():
            recorded = {"centrality": "centrality_kind"}.get(option, option)  # lattice's info name for it
            assert row["diagnostics"][recorded] == value != base["diagnostics"][recorded]
    for r in report["rows"]:
        assert set(compare.COLUMNS) <= set(r)
        assert 0 <= r["accuracy"] <= 1 and 0 <= r["accuracy_finetuned"] <= 1 and 0 <= r["dense_accuracy"] <= 1
        if r["level"] == "unit":
            assert r["hidden_units"] == info["units"][0] == info["hidden"] // 2
    assert len(report["headlines"]) == len(quality.HEADLINES)
    assert all(h["ours"] is None or 0 <= h["ours"] <= 1 for h in report["headlines"])
    assert [p for p in report["plots"] if (out / p).is_file()] == report["plots"] == ["quality_digits-lstm_fast.png"]


def test_quality_add_replaces_the_rows_of_its_methods_and_keeps_the_others(reports, tmp_path, monkeypatch):
    out, found = reports
    monkeypatch.setenv("LATTICE_LAB_FAST", "1")
    monkeypatch.setenv("LATTICE_LAB_CACHE", str(out / "cache"))
    folder = tmp_path / "results"
    folder.mkdir()
    shutil.copy(out / "quality_fast.json", folder / "quality_fast.json")
    earlier = json.loads((folder / "quality_fast.json").read_text())
    added = quality.main(["--out", str(folder), "--add", "--methods", "magnitude", "--seeds", "1"])
    label = lambda row: (row["model"], row["method"])  # noqa: E731
    magnitude = [r for r in added["rows"] if r["method"] == "magnitude"]
    assert magnitude and {r["seed"] for r in magnitude} == {1}  # this run's rows replace the earlier ones
    assert [r for r in added["rows"] if r["method"] != "magnitude"] == [r for r in earlier["rows"]
                                                                      if r["method"] != "magnitude"]
    assert {label(e) for e in added["summary"]} == {label(e) for e in earlier["summary"]}
    assert added["settings"]["added"][0]["settings"]["seeds"] == [1] and added["machine"] == earlier["machine"]
    assert (folder / "quality_digits-lstm_fast.png").is_file()


def test_quality_grid_adds_the_papers_multilayer_models_on_mnist_and_builds_them():
    assert quality.grid_models("mnist", None, False) == list(quality.GRID["mnist"])
    assert {"feedback", "lstm-2layer"} <= set(quality.GRID["mnist"]) and set(quality.GRID["fashion-mnist"]).isdisjoint(
        {"feedback", "lstm-2layer"})
    assert quality.grid_models("mnist", ["lstm-2layer"], False) == ["lstm-2layer"]
    train_spec = compare.data_spec("digits", "train", subset=64)
    with tempfile.TemporaryDirectory() as scratch:
        spec, source = quality.dense_checkpoint("digits", "lstm-2layer", train_spec, compare.data_spec("digits", "test"),
                                                hidden=8, epochs=1, device="cpu", cache=False, scratch=Path(scratch))
        model = checkpoints.load(spec.source)[0]
    assert (model.kind, model.config["num_layers"], model.config["hidden_size"]) == ("lstm", 2, [8, 8])
    assert source == "trained here (1 epochs)"
    assert checkpoints.load("mnist-feedback")[0].config["num_layers"] == 2  # the grid's feedback model is shipped


def _readme_with_markers(path: Path) -> str:
    text = README.read_text() if README.is_file() else "# lattice_lab\n"
    if common.START_MARKER not in text:
        text += f"\n## Results\n\n{common.START_MARKER}\nold tables\n{common.END_MARKER}\n\nAfter the block.\n"
    path.write_text(text)
    return text


def test_update_readme_replaces_exactly_the_marked_block(reports, tmp_path):
    out, _ = reports
    results = tmp_path / "results"
    results.mkdir()
    for name in ("quality", "expander", "spectral_lstm", "cost", "speed", "train_speed"):
        shutil.copy(out / f"{name}_fast.json", results / f"{name}.json")
    readme = tmp_path / "README.md"
    before = _readme_with_markers(readme)
    assert common.update_readme(readme, results) is True
    after = readme.read_text()
    head, tail = before.split(common.START_MARKER)[0], before.split(common.END_MARKER)[1]
    assert after.startswith(head + common.START_MARKER) and after.endswith(common.END_MARKER + tail)
    block = after[len(head) + len(common.START_MARKER):len(after) - len(tail) - len(common.END_MARKER)]
    assert block.strip() == common.results_markdown(results)
    for title in ("### Quality", "### Expanders", "### Spectral pruning of LSTMs", "### Cost", "### Inference speed", "### Training speed"):
        assert block.count(title) == 1
    assert common.update_readme(readme, results) is False  # regenerating the same results changes nothing


def test_update_readme_without_markers_raises_and_leaves_the_file_alone(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# no markers here\n")
    with pytest.raises(ValueError, match="results:start"):
        common.update_readme(readme, tmp_path)
    assert readme.read_text() == "# no markers here\n"


def test_every_listed_benchmark_has_a_main_taking_argv():
    for name in BENCHMARKS:
        main = importlib.import_module(f"benchmarks.{name}").main
        assert list(inspect.signature(main).parameters) == ["argv"]


def test_entry_point_rejects_an_unknown_benchmark_name():
    with pytest.raises(SystemExit):
        entry.main(["no-such-benchmark"])


def test_fast_mode_writes_fast_named_files(monkeypatch):
    monkeypatch.setenv("LATTICE_LAB_FAST", "1")
    assert common.report_path("x", "cost").name == "cost_fast.json"
    monkeypatch.setenv("LATTICE_LAB_FAST", "0")
    assert common.report_path("x", "cost", ".png").name == "cost.png"


def test_timing_helpers_reject_a_repeat_count_below_one():
    with pytest.raises(ValueError, match="repeats"):
        common.median_seconds(lambda: None, repeats=0)
    with pytest.raises(ValueError, match="repeats"):
        common.interleaved_seconds({"a": lambda: None}, repeats=0)


def test_fitted_exponent_recovers_a_power_law_and_refuses_nonpositive_values():
    sizes = [128, 256, 512, 1024]
    assert common.fitted_exponent(sizes, [3e-7 * n ** 2.5 for n in sizes]) == pytest.approx(2.5)
    with pytest.raises(ValueError, match="positive"):
        common.fitted_exponent([1, 2], [0.0, 1.0])


def test_expander_compares_the_schedules_at_matched_sparsity(reports):
    report = reports[1]["expander"]
    rows = {r["name"].split(" → ")[0] + (" matched" if "matched" in r["name"] else ""): r for r in report["rows"]}
    ramanujan, imp = rows["ramanujan-imp"], rows["imp"]
    amount = report["settings"]["amount"]
    assert imp["sparsity"] == pytest.approx(amount, abs=1e-3)  # plain IMP reaches the amount
    trajectory = report["trajectories"]["ramanujan-imp"]
    accepted = [d for d in trajectory["delta_r"]["layers.0.weight_hh_l0"] if d is not None]
    assert all(d >= 0 for d in accepted)  # the rule: no accepted round has a negative Δ_r
    if ramanujan["sparsity"] < amount - 1e-3:  # it stopped early: the others are run at its sparsity too
        assert ramanujan["stopped_early"] and any(v is not None for v in trajectory["frozen"].values())
        for name in ("imp matched", "magnitude one-shot matched"):
            assert rows[name]["sparsity"] == pytest.approx(ramanujan["sparsity"], abs=1e-3)
    scratch = rows["expander from scratch"]
    assert scratch["ramanujan"] is True and scratch["delta_r"] >= 0
    models = {r["model"] for r in report["noise"]}
    assert "dense" in models and len(models) == len(report["rows"]) + 1
    assert report["target"]["met"] is None  # fast mode is not the target's setting


def test_spectral_lstm_fine_tunes_every_seed_from_the_same_pruned_model(reports, monkeypatch):
    report = reports[1]["spectral_lstm"]
    settings = report["settings"]
    assert [e["name"] for e in report["models"]] == ["digits-lstm", "run 1"]
    for entry in report["models"]:
        assert [r["seed"] for r in entry["per_seed"]] == settings["seeds"]
        for row in entry["per_seed"]:
            assert set(row) == {"seed", "accuracy", *spectral_lstm.FINETUNINGS}
            assert all(0.0 <= row[key] <= 1.0 for key in row if key != "seed")
        assert entry["mean"]["accuracy"] == pytest.approx(entry["per_seed"][0]["accuracy"])
    shipped = report["models"][0]
    assert shipped["dense_accuracy"] > 0.9 and settings["units"] == 32  # digits-lstm has 64 units: half kept
    monkeypatch.setenv("LATTICE_LAB_FAST", "1")  # as the benchmark ran (Σ̂ from 500 sequences)
    model, _ = checkpoints.load("digits-lstm")  # the last recipe, redone by hand from a fresh pruning
    train_set, test_set = data.load("digits", "train"), data.load("digits", "test")
    pruned = prune(model, "spectral", 0.5, train_set, seed=0, hidden_units=32).model
    train.finetune(pruned, train_set, lr=spectral_lstm.DISTILL_LR, seed=0, device="cpu", teacher=model)
    assert shipped["per_seed"][0]["distilled"] == train.evaluate(pruned, test_set, device="cpu")["accuracy"]
    assert report["target"]["applies"] is False and report["target"]["per_model"] is None


def test_spectral_lstm_renders_the_bar_model_by_model():
    entry = {"name": "mnist-lstm", "source": "shipped", "dense_accuracy": 0.985,
             "mean": {"accuracy": 0.957, "plain": 0.975, "plain, lr 0.001": 0.983, "distilled": 0.987},
             "std": {"accuracy": 0.002, "plain": 0.001, "plain, lr 0.001": 0.001, "distilled": 0.001}}
    machine = {"date": "2026-11-21", "cpu": "cpu", "usable_cores": 2, "torch_threads": 1, "torch": "2.11",
               "load_average_start": [0.1], "load_average_end": [0.1], "command": "python -m benchmarks.spectral_lstm"}
    settings = {"dataset": "mnist", "hidden": 128, "units": 64, "seeds": [0, 1, 2], "n_train": 60000,
                "train_epochs": 12, "anneal_lr": 1e-4,
                "finetunings": spectral_lstm.FINETUNINGS, "plain_lr": 1e-4, "distill_lr": 1e-3, "distill_weight": 0.5, "temperature": 4.0}
    report = {"machine": machine, "settings": settings, "models": [entry],
              "target": spectral_lstm.verdict([entry], applies=True)}
    text = "\n".join(common.spectral_lstm_tables(report))
    assert "| plain, lr 1e-4 | plain, lr 1e-3 | distilled, lr 1e-3 |" in text
    assert "| mnist-lstm | 98.5 | 95.7 ± 0.2 | 97.5 ± 0.1 | 98.3 ± 0.1 | 98.7 ± 0.1 |" in text
    assert "no fine-tuning on 0 of 1 models" in text and "on 1 of 1 with distillation, 0 of 1 with the plain" in text


def _check_bounds_cost(report):
    assert [row["workload"] for row in report["results"]] == ["idx files", "mnist load", "checkpoints"]
    for row in report["results"]:
        assert row["before_median_s"] > 0 and row["after_median_s"] > 0
        assert math.isclose(row["ratio"], row["after_median_s"] / row["before_median_s"])
        assert len(row["before_seconds"]) == len(row["after_seconds"]) == report["settings"]["repeats"]
    assert report["within_goal"] == all(row["ratio"] <= report["goal_ratio"] for row in report["results"])
    assert report["settings"]["checkpoints"] == checkpoints.list_shipped()


def test_bounds_cost_times_each_workload_before_and_after_in_one_run(reports):
    _check_bounds_cost(reports[1]["bounds_cost"])


def test_the_committed_bounds_cost_report_is_a_full_run_on_mnist_over_every_shipped_checkpoint():
    report = json.loads((common.RESULTS / "bounds_cost.json").read_text())
    _check_bounds_cost(report)
    assert report["machine"]["fast"] is False and report["settings"]["repeats"] >= 5


def test_bounds_cost_before_is_mains_unbounded_path_and_gives_the_same_arrays(tmp_path):
    path = tmp_path / "x.gz"
    raw = bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])
    path.write_bytes(gzip.compress(raw))
    assert bounds_cost.unbounded_idx(path, (), "labels").tolist() == [7, 2, 1]
    with bounds_cost.unbounded():
        from lattice_lab.data import idx
        assert idx.read_idx is bounds_cost.unbounded_idx
        assert checkpoints._tensor_problem(torch.zeros(1).expand(4, 4), mask=False) == ""
    assert checkpoints._tensor_problem(torch.zeros(1).expand(4, 4), mask=False) != ""


def test_live_budget_times_each_slider_move(reports):
    report = reports[1]["live_budget"]
    assert list(report["per_method"]) == ["magnitude"]
    entry = report["per_method"]["magnitude"]
    assert all(s > 0 for s in entry["move_s"]) and entry["first_s"] > 0
    assert entry["first_shown"] == "computed" and entry["shown"] == ["computed"] * len(entry["move_s"])
    assert report["within_budget"] == (report["max_s"] <= report["budget_s"])


def test_live_budget_table_lists_each_method_and_the_verdict():
    machine = common.finish_machine(common.machine_info("python -m benchmarks.live_budget"))
    report = {"machine": machine, "model": "m", "n_test": 10, "median_s": 0.5, "budget_s": 1.0, "within_budget": True,
              "max_s": 0.7, "per_method": {
                  "magnitude": {"median_s": 0.4, "max_s": 0.6, "first_s": 0.5, "first_shown": "computed",
                                "shown": ["computed", "computed"], "max_cpu_s": 0.55},
                  "jacobian": {"median_s": 0.5, "max_s": 0.7, "first_s": 30.0, "first_shown": "committed",
                               "shown": ["pending", "committed"]}}}
    text = "\n".join(common.live_budget_tables(report))
    assert "| magnitude | 0.5 (computed) | 0.40 | 0.60 | 0.55 | 2 computed |" in text
    assert "| jacobian | 30.0 (committed) | 0.50 | 0.70 | – | 1 pending, 1 committed |" in text
    assert "Slowest later move 0.70 s (median 0.50 s): within the 1 s budget." in text
    assert "CPU-s" not in text.split("|")[-1]  # no one-thread verdict for a two-thread run
    one_thread = report | {"threads": 1, "max_cpu_s": 1.25, "cpu_within_budget": False}
    assert "the slowest later move took 1.25 CPU-s, over the budget." in "\n".join(common.live_budget_tables(one_thread))
    assert "`python -m benchmarks.live_budget`" in text


STRUCTURE_ROW_FIELDS = {"experiment", "model", "method", "scope", "sparsity", "accuracy_mean", "accuracy_std", "seeds",
                        "epochs", "budget"}


def test_structure_claims_rows_carry_what_the_issue_asks_for(reports):
    report = reports[1]["structure_claims"]
    experiments = {row["experiment"] for row in report["rows"]}
    assert experiments == {"expansion", "baseline", "ramanujan-rule", "lattice-settings"}  # spectral-pixel: full only
    for row in report["rows"]:
        assert STRUCTURE_ROW_FIELDS <= set(row), row
        assert 0.0 <= row["accuracy_mean"] <= 1.0 and 0.0 <= row["sparsity"] < 1.0
    expansion = [row for row in report["rows"] if row["experiment"] == "expansion"]
    assert {row["method"] for row in expansion} == set(structure_claims.MASK_FAMILIES)
    assert all("delta_r" in row for row in expansion)
    assert [c["claim"] for c in report["claims"]] and all(set(c) == {"claim", "test", "result", "verdict"}
                                                             for c in report["claims"])
    saved = json.loads((reports[0] / "structure_claims_fast.json").read_text())
    assert "Does structure matter?" in "\n".join(common.structure_claims_tables(saved))


def test_structure_claims_resumes_from_the_runs_it_kept(reports, monkeypatch):
    out, found = reports
    monkeypatch.setenv("LATTICE_LAB_FAST", "1")
    monkeypatch.setenv("LATTICE_LAB_CACHE", str(out / "cache"))

    def no_new_work(spec):
        raise AssertionError(f"recomputed {spec}")

    monkeypatch.setattr(structure_claims, "RUNNERS", {name: no_new_work for name in structure_claims.RUNNERS})
    again = structure_claims.main(["--out", str(out / "again"), "--seeds", "0"])
    assert again["rows"] == found["structure_claims"]["rows"]


def test_structure_claims_cached_only_reports_the_kept_runs_and_names_the_missing(reports, monkeypatch, tmp_path):
    out, found = reports
    shutil.copytree(out / "cache" / "structure_claims", tmp_path / "structure_claims")
    runs = sorted((tmp_path / "structure_claims" / "fast").glob("expansion-*.json"))
    runs[0].unlink()  # one run never finished
    monkeypatch.setenv("LATTICE_LAB_FAST", "1")
    monkeypatch.setenv("LATTICE_LAB_CACHE", str(tmp_path))
    monkeypatch.setattr(structure_claims, "RUNNERS", {name: None for name in structure_claims.RUNNERS})  # no work
    partial = structure_claims.main(["--out", str(tmp_path / "partial"), "--seeds", "0", "--cached-only"])
    assert partial["missing_runs"] == {"expansion": [runs[0].stem]}
    assert len(partial["runs"]) == len(found["structure_claims"]["runs"]) - 1
    expansion = {row["method"] for row in partial["rows"] if row["experiment"] == "expansion"}
    assert len(expansion) == len(structure_claims.MASK_FAMILIES) - 1


def test_masks_of_one_expansion_cell_differ_only_in_expansion():
    model = build({"kind": "lstm", "input_size": 28, "hidden_size": 128, "num_classes": 10})
    made = {family: structure_claims.model_masks(model, family, 0.95, "all", seed=0)
            for family in structure_claims.MASK_FAMILIES}
    for name in made["biregular"]:
        sums = {family: masks[name].sum().item() for family, masks in made.items()}
        assert len(set(sums.values())) == 1, sums  # equal density
        for axis in (0, 1):  # equal degree multisets, gate block by gate block
            for good, poor in zip(made["biregular"][name].chunk(4), made["poor-expander"][name].chunk(4)):
                assert sorted(good.sum(dim=axis).tolist()) == sorted(poor.sum(dim=axis).tolist())
    hh = "layers.0.weight_hh_l0"
    measures = {family: structure_claims.mask_measures(model, masks)["delta_r"] for family, masks in made.items()}
    assert measures["biregular"] > measures["erdos-renyi"] > measures["poor-expander"]
    assert measures["erdos-renyi"] < 0 < measures["biregular"]  # the claim row: Erdős–Rényi is not Ramanujan at 95%
    assert made["biregular"][hh].shape == (512, 128)



def test_structure_claims_restores_a_reports_runs_into_the_cache_and_rebuilds_the_same_report(reports, monkeypatch,
                                                                                              tmp_path):
    out, found = reports
    monkeypatch.setenv("LATTICE_LAB_FAST", "1")
    monkeypatch.setenv("LATTICE_LAB_CACHE", str(tmp_path / "elsewhere"))  # a machine without the run cache
    monkeypatch.setattr(structure_claims, "RUNNERS", {name: None for name in structure_claims.RUNNERS})  # no work
    saved = out / "structure_claims_fast.json"
    rebuilt = structure_claims.main(["--out", str(tmp_path / "rebuilt"), "--seeds", "0", "--cached-only",
                                     "--restore-from", str(saved)])
    original = json.loads(saved.read_text())
    assert rebuilt["missing_runs"] == {}
    for field in ("rows", "runs", "verdicts", "claims"):
        assert rebuilt[field] == original[field], field
    kept = next((tmp_path / "elsewhere" / "structure_claims" / "fast").glob("*.json"))
    record = json.loads(kept.read_text())
    kept.write_text(json.dumps({**record, "accuracy": 0.0}))  # a cache that disagrees with the report
    with pytest.raises(ValueError, match="differs"):
        structure_claims.restore_runs(saved, kept.parent)


def test_the_committed_structure_claims_verdicts_are_what_the_verdict_function_makes_of_its_runs():
    report = json.loads((common.RESULTS / "structure_claims.json").read_text())
    records = report["runs"]
    claim_rows, tested = structure_claims.claims(records, structure_claims.aggregate(records))
    assert claim_rows == report["claims"]
    assert {"expansion": structure_claims.expansion_verdicts(records), **tested} == report["verdicts"]
    verdict_fields = {"p", "p_holm", "mde", "outcome", "sentence", "difference", "n", "basis"}
    for name, family in report["verdicts"].items():
        for entry in family:
            for verdict in ([entry[k] for k in ("biregular_vs_poor", "biregular_vs_erdos_renyi")]
                            if name == "expansion" else [entry]):
                assert verdict_fields <= set(verdict) and (verdict["p_holm"] is None) == (verdict["outcome"] == "no test")
    # the replication (issue 24): 5 seeds of each mask on MNIST and on Fashion-MNIST in the GRU W_hh 95% cell
    replicated = [v for v in report["verdicts"]["expansion"] if (v["model"], v["scope"], v["sparsity"]) ==
                  structure_claims.REPLICATION_CELL]
    assert {v["dataset"]: v["seeds"] for v in replicated} == {
        d: dict.fromkeys(sorted(structure_claims.MASK_FAMILIES), 5) for d in structure_claims.REPLICATION_DATASETS}
    # the Jacobian control keeps as many W_hh weights as the Erdős–Rényi masks it is compared with
    for kind in ("lstm", "gru"):
        jac = next(r for r in report["rows"] if r["method"] == "jacobian" and r["model"] == f"{kind}-128")
        random_ = next(r for r in report["rows"] if r["method"] == "erdos-renyi" and r["model"] == f"{kind}-128"
                       and r["scope"] == "recurrent" and r["target_sparsity"] == 0.95 and r["dataset"] == "mnist")
        assert jac["sparsity"] == random_["sparsity"] == structure_claims.mask_sparsity(0.95, 128)


def test_one_shot_lattice_and_magnitude_ignore_the_seed_so_their_seeds_replicate_nothing():
    # why structure_claims tests the one-shot arms of lattice-settings on the test sequences (issue 24)
    model = build({"kind": "lstm", "input_size": 8, "hidden_size": 16, "num_classes": 10})
    for method in ("lattice", "magnitude"):
        masks = [prune(model, method, 0.75, seed=seed).masks for seed in (0, 1)]
        assert all(torch.equal(masks[0][k], masks[1][k]) for k in masks[0]), method


def test_lab_memory_measures_fresh_processes_with_and_without_the_malloc_thresholds(tmp_path, monkeypatch):
    from benchmarks import lab_memory

    monkeypatch.setenv("LATTICE_LAB_FAST", "1")
    lab_memory.main(["--out", str(tmp_path), "--settings", "3"])
    saved = json.loads((tmp_path / "lab_memory_fast.json").read_text())
    assert set(saved["runs"]) == {"glibc defaults", "binder/start's malloc thresholds"}
    tuned = saved["runs"]["binder/start's malloc thresholds"]
    assert tuned["malloc_env"] == lab_memory.MALLOC_ENV and saved["runs"]["glibc defaults"]["malloc_env"] == {}
    for entry in saved["runs"].values():
        methods = [s[0] for s in entry["settings"]]
        assert methods == sorted(set(methods)) and [s[1] for s in entry["settings"]] == [0.3] * 3
        assert all(ok for *_, ok in entry["settings"])  # every setting showed numbers (or a committed run)
        assert 0 < entry["rss_lab_built_mib"] and entry["peak_mib"] >= entry["rss_after_mib"]
        assert entry["under_limit"] == (entry["rss_after_mib"] < lab_memory.LIMIT_MIB)
    text = "\n".join(common.lab_memory_tables(saved))
    assert f"| glibc defaults | {saved['runs']['glibc defaults']['rss_lab_built_mib']:.0f} |" in text
