"""compare: ShrinkBench-style rows, the per-cell sweep cache (memory and disk), export round trips, plots.

The fan-out on executors and the content addressing of the cache are pinned in test_sweeps.py."""
import matplotlib

matplotlib.use("Agg")

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from matplotlib.colors import to_hex

from lattice_lab import compare, train
from lattice_lab.compare import cell as sweep_cell
from lattice_lab.pruning import REGISTRY, MethodSpec, PruneResult, prune, styles

FAST_METHODS = ["magnitude", "random", "magnitude-units", "random-units"]


@pytest.fixture
def counted_prune(monkeypatch):
    calls = []
    real = sweep_cell.prune

    def counting(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(sweep_cell, "prune", counting)
    compare.clear_cache()
    yield calls
    compare.clear_cache()


def test_rows_have_the_same_columns_for_every_method(model, digits):
    rows = compare.sweep(model, digits[1], methods=FAST_METHODS, amounts=[0.5, 0.75], cache=False)
    assert [(r["method"], r["amount"]) for r in rows] == [(m, a) for m in FAST_METHODS for a in (0.5, 0.75)]
    for row in rows:
        assert set(row) == set(compare.COLUMNS), row["method"]
        assert row["dense_accuracy"] == train.evaluate(model, digits[1], device="cpu")["accuracy"]
        assert row["finetune_epochs"] == 0 and row["accuracy_finetuned"] is None
        assert isinstance(row["diagnostics"], dict)
    by = {(r["method"], r["amount"]): r for r in rows}
    assert by[("magnitude", 0.5)]["sparsity"] == 0.5
    assert by[("magnitude-units", 0.5)]["hidden_units"] == model.config["hidden_size"][0] // 2
    assert by[("magnitude", 0.5)]["flops"] < by[("magnitude", 0.5)]["flops_dense"]


def test_repeated_sweep_is_served_from_the_memory_cache_cell_by_cell(model, digits, counted_prune):
    first = compare.sweep(model, digits[1], methods=["magnitude", "random-units"], amounts=[0.5], seeds=[0, 1])
    assert len(counted_prune) == 4
    again = compare.sweep(model, digits[1], methods=["magnitude", "random-units"], amounts=[0.5], seeds=[0, 1])
    assert len(counted_prune) == 4
    assert again == first and again is not first
    other = compare.sweep(model, digits[1], methods=["magnitude", "random-units"], amounts=[0.5], seeds=[0, 2])
    assert len(counted_prune) == 6  # another grid computes only the cells it does not share (seed 2)
    assert [r for r in other if r["seed"] == 0] == [r for r in first if r["seed"] == 0]


def test_disk_cache_survives_a_cleared_memory_cache(model, digits, counted_prune, tmp_path):
    first = compare.sweep(model, digits[1], methods=["magnitude"], amounts=[0.5], cache_dir=tmp_path)
    assert len(counted_prune) == 1 and len(list(tmp_path.glob("cell-*.json"))) == 2  # the cell and the dense accuracy
    compare.clear_cache()
    again = compare.sweep(model, digits[1], methods=["magnitude"], amounts=[0.5], cache_dir=tmp_path)
    assert len(counted_prune) == 1
    assert again == first


def test_sweep_never_modifies_the_model(model, digits):
    before = {k: v.clone() for k, v in model.state_dict().items()}
    compare.sweep(model, digits[1], methods=["magnitude", "magnitude-units"], amounts=[0.9], cache=False)
    after = model.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_rows_round_trip_through_json_and_csv(model, digits, tmp_path, suffix):
    rows = compare.sweep(model, digits[1], methods=["magnitude", "random-units"], amounts=[0.5, 0.9], cache=False)
    assert compare.load_rows(compare.save_rows(rows, tmp_path / f"rows{suffix}")) == rows


def test_save_rows_refuses_other_suffixes(tmp_path):
    with pytest.raises(ValueError, match="must end in .json or .csv"):
        compare.save_rows([], tmp_path / "rows.txt")


def test_plot_has_one_line_per_method_in_its_fixed_colour(model, digits):
    rows = compare.sweep(model, digits[1], methods=FAST_METHODS, amounts=[0.25, 0.5], cache=False)
    for x in ("sparsity", "flops"):
        ax = compare.plot_accuracy(rows, x)
        lines = {line.get_label(): line for line in ax.get_lines() if line.get_label() in FAST_METHODS}
        assert sorted(lines) == sorted(FAST_METHODS)
        assert len([line for line in ax.get_lines() if line.get_label() in FAST_METHODS]) == len(FAST_METHODS)
        for method, line in lines.items():
            assert to_hex(line.get_color()) == compare.method_colour(method)
            assert len(line.get_xdata()) == 2
        dense = [line for line in ax.get_lines() if line.get_label() == "dense"]
        assert len(dense) == 1 and dense[0].get_ydata()[0] == pytest.approx(100 * rows[0]["dense_accuracy"])


def test_every_registered_method_has_its_own_tol_colour_and_line_style_from_the_one_table():
    pairs = {method: (spec.colour, spec.line_style) for method, spec in REGISTRY.items()}
    assert set(styles.METHOD_STYLES) == set(REGISTRY), "every registered method has its line in METHOD_STYLES"
    assert len(set(pairs.values())) == len(pairs), f"two methods look alike: {pairs}"
    assert {colour for colour, _ in pairs.values()} <= set(styles.TOL_MUTED.values())
    for method, spec in REGISTRY.items():  # the registry entry, method_colour and the table agree
        assert compare.method_colour(method) == spec.colour == styles.METHOD_STYLES[method].colour
        assert spec.line_style == ("--" if spec.level == "unit" else "-")
    assert compare.method_colour("dense") == compare.DENSE_COLOUR == "#000000"


def test_the_series_of_a_plot_never_look_alike_even_past_the_palette():
    quality = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "quality.json"
    report = json.loads(quality.read_text())
    grid = sorted({r["method"] for r in report["rows"]})
    many = grid + [f"lattice-variant{i}" for i in range(6)] + [f"new-method-{i}" for i in range(12)]
    drawn = compare.plot_styles(many)
    assert list(drawn) == many and len(set(drawn.values())) == len(many)
    assert all(drawn[m] == (REGISTRY[m].colour, REGISTRY[m].line_style) for m in many if m in REGISTRY)
    variants = [m for m in grid if m not in REGISTRY and m.startswith("lattice-")]
    assert variants and all(drawn[m].colour == REGISTRY["lattice"].colour for m in variants[:3])


def test_an_unregistered_method_gets_a_palette_style_that_is_the_same_in_every_process():
    name = "some-new-method"
    assert name not in REGISTRY and compare.method_colour(name) in styles.TOL_MUTED.values()
    script = f"from lattice_lab import compare; print(compare.method_colour({name!r}))"
    seen = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip() for seed in ("1", "2")}
    assert seen == {compare.method_colour(name)}


def _gru_only(model, amount, *, data=None, scope="recurrent", seed=0):
    return PruneResult(model=model)


def test_unsupported_methods_are_refused_before_any_work_and_left_out_by_default(model, digits, monkeypatch,
                                                                                 counted_prune):
    monkeypatch.setitem(REGISTRY, "gru-only", MethodSpec("gru-only", _gru_only, "weight", "test", False, ("gru",), {}))
    with pytest.raises(ValueError, match="supports model kinds"):
        compare.sweep(model, digits[1], methods=["magnitude", "gru-only"], amounts=[0.5])
    assert counted_prune == []
    assert "gru-only" not in compare.supported_methods(model)
    assert compare.supported_methods(model) == sorted(m for m in REGISTRY if m != "gru-only")


@pytest.mark.parametrize("kwargs, message", [
    ({"amounts": [1.0]}, r"The 'amounts' parameter of sweep must be a nonempty list of floats in \[0, 1\)"),
    ({"amounts": []}, "The 'amounts' parameter of sweep must be"),
    ({"seeds": [-1]}, "The 'seeds' parameter of sweep must be"),
    ({"finetune_epochs": -1}, "The 'finetune_epochs' parameter of sweep must be"),
    ({"progress": "yes"}, "The 'progress' parameter of sweep must be True or False"),
    ({"cache": "yes"}, "The 'cache' parameter of sweep must be True or False"),
    ({"methods": ["no-such-method"]}, "unknown method"),
])
def test_bad_sweep_parameters_are_value_errors(model, digits, kwargs, message):
    with pytest.raises(ValueError, match=message):
        compare.sweep(model, digits[1], **{"methods": ["magnitude"], **kwargs})


def test_finetuning_fills_accuracy_finetuned_and_keeps_the_sparsity(model, digits):
    rows = compare.sweep(model, digits[1], methods=["magnitude"], amounts=[0.5], finetune_epochs=1,
                         train_data=digits[0], cache=False)
    assert rows[0]["finetune_epochs"] == 1 and 0.0 <= rows[0]["accuracy_finetuned"] <= 1.0


def test_distilled_finetuning_is_finetune_with_the_dense_teacher(model, digits):
    rows = compare.sweep(model, digits[1], methods=["magnitude"], amounts=[0.75], finetune_epochs=1,
                         train_data=digits[0], cache=False, finetune_lr=3e-4, distill=True)
    by_hand = prune(model, "magnitude", 0.75, digits[0]).model
    train.finetune(by_hand, digits[0], lr=3e-4, seed=0, device="cpu", teacher=model)
    assert rows[0]["accuracy_finetuned"] == train.evaluate(by_hand, digits[1], device="cpu")["accuracy"]


def test_finetuning_settings_are_part_of_the_cache_key(model, digits, counted_prune):
    grid = {"methods": ["magnitude"], "amounts": [0.5], "finetune_epochs": 1, "train_data": digits[0]}
    compare.sweep(model, digits[1], **grid)
    compare.sweep(model, digits[1], **grid, finetune_lr=train.FINETUNE_LR, distill=False)
    assert len(counted_prune) == 1  # the defaults spelled out are the same sweep
    compare.sweep(model, digits[1], **grid, distill=True)
    compare.sweep(model, digits[1], **grid, finetune_lr=3e-4)
    assert len(counted_prune) == 3


def test_aggregate_averages_over_seeds(model, digits):
    rows = compare.sweep(model, digits[1], methods=["random"], amounts=[0.5], seeds=[0, 1, 2], cache=False)
    (entry,) = compare.aggregate(rows)
    assert entry["seeds"] == 3
    assert entry["accuracy"] == pytest.approx(sum(r["accuracy"] for r in rows) / 3)


# --------------------------------------------------------------------------- the sweep cache as an object

def test_an_explicit_sweep_cache_holds_its_own_sweeps(model, digits, counted_prune):
    own = compare.SweepCache()
    grid = {"methods": ["magnitude"], "amounts": [0.5]}
    first = compare.sweep(model, digits[1], **grid, cache=own)
    assert len(counted_prune) == 1 and len(own.memory) == 2 and compare.DEFAULT_CACHE.memory == {}  # cell, dense
    again = compare.sweep(model, digits[1], **grid, cache=own)
    assert len(counted_prune) == 1 and again == first
    compare.sweep(model, digits[1], **grid)  # the default cache has not seen it
    assert len(counted_prune) == 2 and len(compare.DEFAULT_CACHE.memory) == 2
    compare.clear_cache()  # clears the default cache only
    assert compare.DEFAULT_CACHE.memory == {} and len(own.memory) == 2


def test_a_sweep_cache_with_a_folder_serves_a_new_process_from_its_files(model, digits, counted_prune, tmp_path):
    grid = {"methods": ["magnitude", "random-units"], "amounts": [0.5]}
    first = compare.sweep(model, digits[1], **grid, cache=compare.SweepCache(tmp_path))
    assert len(counted_prune) == 2 and len(list(tmp_path.glob("cell-*.json"))) == 3  # 2 cells, 1 dense accuracy
    fresh = compare.SweepCache(tmp_path)  # as a later session would make it
    assert compare.sweep(model, digits[1], **grid, cache=fresh) == first and len(counted_prune) == 2
    # the same files as cache_dir= writes: one folder serves both spellings
    assert compare.sweep(model, digits[1], **grid, cache_dir=tmp_path) == first and len(counted_prune) == 2


def test_sweep_cache_rows_are_copies(tmp_path):
    cache = compare.SweepCache()
    row = {"method": "magnitude", "accuracy": 0.5}
    cache.put("k", row)
    row["accuracy"] = 0.0
    served = cache.get("k")
    served["accuracy"] = 1.0
    assert cache.get("k") == {"method": "magnitude", "accuracy": 0.5}
    assert cache.path("k") is None and cache.in_folder(tmp_path).path("k").parent == tmp_path


def test_cache_false_computes_every_time_and_keeps_nothing(model, digits, counted_prune):
    for _ in range(2):
        compare.sweep(model, digits[1], methods=["magnitude"], amounts=[0.5], cache=False)
    assert len(counted_prune) == 2 and compare.DEFAULT_CACHE.memory == {}


def test_a_sweep_cache_and_a_cache_dir_together_are_refused(model, digits, tmp_path):
    with pytest.raises(ValueError, match="The 'cache_dir' parameter of sweep must be None when cache is a SweepCache"):
        compare.sweep(model, digits[1], methods=["magnitude"], amounts=[0.5], cache=compare.SweepCache(),
                      cache_dir=tmp_path)
