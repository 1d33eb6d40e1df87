"""Hostile input and faults on every entry point: no code runs, no file is lost, no traceback reaches a user.

As scikit-learn feeds every estimator the same invalid parameters, this module feeds every registered
pruning method and every ``lattice-lab`` subcommand the same bad inputs (NaN weights and data, a wrong
feature size, non-strict booleans and seeds; truncated, foreign, tampered and forged checkpoints,
unwritable ``--out`` folders, interruptions, full disks), plus the cases of issue 13 one by one. Each
case asserts the exception type or the exit code, the message, and that no file changed: every file
under the test's folders, the cache and the shipped checkpoints is hashed before and after
(:func:`snapshot`). CLI cases run in-process through ``cli.main`` (fast); a few run as subprocesses, to
see the exit code and that stderr holds no traceback (failed writes under ``prlimit --fsize``, a real
SIGINT between the two writes of a checkpoint).
"""
from __future__ import annotations

import dataclasses
import errno
import gzip
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lattice_lab import checkpoints, cli, compare, data, models, spectral, surgery, train
from lattice_lab.data import download
from lattice_lab.memory import MemoryLimitError
from lattice_lab.pruning import REGISTRY, prune
from lattice_lab.validation import InvalidParameterError

SHIPPED = Path(checkpoints.__file__).parent / "shipped"
BOOL_OPTIONS = [(name, option) for name, spec in sorted(REGISTRY.items())
                for option, default in spec.options.items() if isinstance(default, bool)]


# --------------------------------------------------------------------------- no file changed

def snapshot(*roots: Path) -> dict[str, str]:
    """sha256 of every file under ``roots`` (symlinks and folders included by name)."""
    found = {}
    for root in roots:
        if not root.exists():
            continue
        for path in sorted(root.rglob("*")):
            key = str(path)
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "folder"
    return found


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A working folder, a private cache and no data root; yields the roots whose files must not change."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("LATTICE_LAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("LATTICE_LAB_DATA", raising=False)
    monkeypatch.delenv("LATTICE_LAB_MIRROR", raising=False)
    return (tmp_path, SHIPPED)


@pytest.fixture
def unchanged(sandbox):
    """Asserts at teardown that no file under the sandbox or the shipped checkpoints changed."""
    before = snapshot(*sandbox)
    yield sandbox[0]
    assert snapshot(*sandbox) == before


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str, command: str) -> str:
    """The single stderr line of a failed command, without its prefix (and no traceback)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    prefix = f"lattice-lab {command}: error: "
    assert lines[0].startswith(prefix), lines[0]
    return lines[0][len(prefix):]


# --------------------------------------------------------------------------- models and data for the cases

@pytest.fixture(scope="module")
def digits_model():
    return checkpoints.load("digits-lstm")[0]


@pytest.fixture(scope="module")
def digits_train():
    return data.load("digits", "train", subset=64)


def state(model) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def same_state(model, before) -> bool:
    """Bit for bit (NaN included, which torch.equal never finds equal)."""
    after = model.state_dict()
    return after.keys() == before.keys() and all(
        after[k].numpy().tobytes() == before[k].numpy().tobytes() for k in before)


def with_value(model, value: float):
    poisoned = models.clone(model)
    with torch.no_grad():
        poisoned.layers[0].weight_hh_l0[2, 3] = value
    return poisoned


def tensor_data(inputs: torch.Tensor):
    return torch.utils.data.TensorDataset(inputs, torch.zeros(len(inputs), dtype=torch.long))


# ============================================================================ every registered method

@pytest.mark.parametrize("method", sorted(REGISTRY))
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_every_method_refuses_non_finite_weights(method, value, digits_model, digits_train, unchanged):
    poisoned = with_value(digits_model, value)
    before = state(poisoned)
    with pytest.raises(InvalidParameterError, match=r"The 'model' parameter of prune must have finite weights \(no NaN "
                                                    r"or infinite values\). Got \d NaN and \d infinite values in "
                                                    r"layers.0.weight_hh_l0 instead."):
        prune(poisoned, method, 0.5, digits_train)
    assert same_state(poisoned, before)


@pytest.mark.parametrize("method", sorted(REGISTRY))
@pytest.mark.parametrize("value", [float("nan"), -float("inf")])
def test_every_method_refuses_non_finite_data(method, value, digits_model, digits_train, unchanged):
    inputs = digits_train.inputs.clone()
    inputs[5, 3, 2] = value
    before = state(digits_model)
    with pytest.raises(InvalidParameterError, match="The 'data' parameter of prune must hold finite values. Got "):
        prune(digits_model, method, 0.5, tensor_data(inputs))
    assert same_state(digits_model, before)


@pytest.mark.parametrize("method", sorted(REGISTRY))
def test_every_method_refuses_data_of_another_feature_size_naming_both(method, digits_model, unchanged):
    with pytest.raises(InvalidParameterError, match=r"The 'data' parameter of prune must have 8 features per step "
                                                    r"\(the model's input_size\). Got inputs of shape \(20, 28, 28\), "
                                                    r"with 28 features, instead."):
        prune(digits_model, method, 0.5, tensor_data(torch.zeros(20, 28, 28)))


@pytest.mark.parametrize("method", sorted(REGISTRY))
@pytest.mark.parametrize("seed", ["x", -1, 1.5, True, None])
def test_every_method_refuses_a_seed_that_is_no_int(method, seed, digits_model, digits_train, unchanged):
    with pytest.raises(InvalidParameterError) as info:
        prune(digits_model, method, 0.5, digits_train, seed=seed)
    assert str(info.value) == f"The 'seed' parameter of prune must be an int >= 0. Got {seed!r} instead."


@pytest.mark.parametrize("method", sorted(REGISTRY))
@pytest.mark.parametrize("amount", [1.0, -0.1, float("nan"), "0.5", True])
def test_every_method_refuses_an_amount_outside_0_1(method, amount, digits_model, digits_train, unchanged):
    with pytest.raises(InvalidParameterError) as info:
        prune(digits_model, method, amount, digits_train)
    assert str(info.value) == f"The 'amount' parameter of prune must be a float in [0, 1). Got {amount!r} instead."


@pytest.mark.parametrize("method", sorted(REGISTRY))
def test_every_method_names_its_options_when_given_an_unknown_one(method, digits_model, digits_train, unchanged):
    with pytest.raises(ValueError, match=f"method '{method}' has no option\\(s\\) \\['no_such_option'\\]"):
        prune(digits_model, method, 0.5, digits_train, no_such_option=1)


@pytest.mark.parametrize("method, option", BOOL_OPTIONS)
@pytest.mark.parametrize("value", ["yes", 1, None])
def test_every_bool_option_of_every_method_is_strict(method, option, value, digits_model, digits_train, unchanged):
    with pytest.raises(InvalidParameterError) as info:
        prune(digits_model, method, 0.5, digits_train, **{option: value})
    assert str(info.value) == f"The '{option}' parameter of {method} must be True or False. Got {value!r} instead."


def test_the_bool_options_cover_every_method_that_has_one():
    assert {name for name, _ in BOOL_OPTIONS} == {name for name, spec in REGISTRY.items()
                                                  if any(isinstance(d, bool) for d in spec.options.values())}
    assert ("magnitude", "per_layer") in BOOL_OPTIONS and ("spectral", "reconstruct") in BOOL_OPTIONS


# ============================================================================ the API cases

def test_magnitude_pruning_of_nan_weights_no_longer_reports_a_sparsity(digits_model):
    with pytest.raises(InvalidParameterError, match="finite weights"):
        prune(with_value(digits_model, float("nan")), "magnitude", 0.5)


def test_fit_on_nan_data_is_refused_and_the_weights_stay(digits_model, digits_train):
    model = models.clone(digits_model)
    before = state(model)
    inputs = digits_train.inputs.clone()
    inputs[0, 0, 0] = float("nan")
    with pytest.raises(InvalidParameterError, match="The 'train_data' parameter of fit must hold finite values"):
        train.fit(model, tensor_data(inputs), epochs=1, device="cpu")
    assert same_state(model, before)


def test_evaluate_on_nan_data_is_refused_rather_than_reporting_an_accuracy(digits_model, digits_train):
    inputs = digits_train.inputs.clone()
    inputs[:, 4] = float("nan")
    with pytest.raises(InvalidParameterError, match="The 'data' parameter of evaluate must hold finite values. "
                                                    "Got 512 NaN and 0 infinite values instead."):
        train.evaluate(digits_model, tensor_data(inputs))


@pytest.mark.parametrize("entry", ["evaluate", "predict_logits"])
def test_a_wrong_feature_size_is_a_value_error_naming_both_sizes(entry, digits_model):
    function = getattr(train, entry)
    with pytest.raises(ValueError, match=f"The 'data' parameter of {entry} must have 8 features per step"):
        function(digits_model, tensor_data(torch.zeros(4, 28, 28)))


def test_the_pruning_lab_refuses_data_of_another_feature_size(digits_model, unchanged):
    from lattice_lab.widgets import PruningLab

    with pytest.raises(ValueError, match=r"must have 8 features per step \(the model's input_size\). Got inputs of "
                                         r"shape \(6, 28, 28\)"):
        PruningLab(digits_model, tensor_data(torch.zeros(6, 28, 28)), quick=True)


def test_the_pruning_lab_refuses_nan_data(digits_model, unchanged):
    from lattice_lab.widgets import PruningLab

    inputs = torch.zeros(6, 8, 8)
    inputs[1, 1, 1] = float("nan")
    with pytest.raises(ValueError, match="must hold finite values. Got 1 NaN"):
        PruningLab(digits_model, tensor_data(inputs), quick=True)


@pytest.mark.parametrize("config, message", [
    ({"bidirectional": "no"}, "The 'bidirectional' parameter of build must be True or False. Got 'no' instead."),
    ({"bidirectional": 1}, "The 'bidirectional' parameter of build must be True or False. Got 1 instead."),
    ({"hidden_size": 8.0}, "The 'hidden_size' parameter of build must be an int >= 1 or a list of ints >= 1 "
                           "(one per layer). Got 8.0 instead."),
    ({"num_layers": "2"}, "The 'num_layers' parameter of build must be an int >= 1. Got '2' instead."),
])
def test_build_is_strict_about_booleans_and_integers(config, message):
    with pytest.raises(InvalidParameterError) as info:
        models.build({"kind": "lstm", "input_size": 2, "hidden_size": 8, "num_classes": 2, **config})
    assert str(info.value) == message


@pytest.mark.parametrize("keep", [[[0.7, 1.2]], [[True, False]], [["0", "1"]], [np.array([0.0, 1.0])]])
def test_remove_units_refuses_indices_that_are_not_integers(keep):
    model = models.build({"kind": "gru", "input_size": 2, "hidden_size": 4, "num_classes": 2})
    with pytest.raises(InvalidParameterError, match="The 'keep' parameter of remove_units must be one sequence of "
                                                    "int unit indices per layer."):
        surgery.remove_units(model, keep)


@pytest.mark.parametrize("call, estimate", [
    (lambda: spectral.biregular_mask(200000, 200000, 8), "480.0 GB"),
    (lambda: spectral.random_regular_mask(200000, 4), "320.2 GB"),
    (lambda: models.build({"kind": "lstm", "input_size": 28, "hidden_size": 200000, "num_classes": 10}), "640.1 GB"),
    (lambda: models.build({"kind": "feedback", "input_size": 1, "hidden_size": [150000, 150000], "num_classes": 2}),
     "360.0 GB"),
])
def test_sizes_the_machine_cannot_hold_are_refused_with_the_estimate_before_allocating(call, estimate):
    with pytest.raises(MemoryLimitError, match=f"would need about {estimate} of memory, more than this machine has"):
        call()


@pytest.mark.parametrize("kwargs, message", [
    ({"seed": "x"}, "The 'seed' parameter of load must be an int >= 0. Got 'x' instead."),
    ({"download": "yes"}, "The 'download' parameter of load must be True or False. Got 'yes' instead."),
    ({"subset": 2.0}, "The 'subset' parameter of load must be an int >= 1 or None. Got 2.0 instead."),
])
def test_load_is_strict_about_seeds_booleans_and_sizes(kwargs, message, unchanged):
    with pytest.raises(InvalidParameterError) as info:
        data.load("digits", **kwargs)
    assert str(info.value) == message


def test_fit_with_a_string_seed_is_an_invalid_parameter(digits_model, digits_train):
    with pytest.raises(InvalidParameterError, match="The 'seed' parameter of fit must be an int >= 0. Got 'x'"):
        train.fit(models.clone(digits_model), digits_train, epochs=1, seed="x")


def test_save_rows_writes_strict_json_and_csv(tmp_path):
    rows = [{"method": "magnitude", "accuracy": float("nan"), "loss": float("inf"), "diagnostics": {"gap": -math.inf}}]
    text = compare.save_rows(rows, tmp_path / "r.json").read_text()
    json.loads(text, parse_constant=lambda name: pytest.fail(f"non-strict JSON constant {name}"))
    assert compare.load_rows(tmp_path / "r.json") == [
        {"method": "magnitude", "accuracy": None, "loss": None, "diagnostics": {"gap": None}}]
    compare.save_rows(rows, tmp_path / "r.csv")
    assert compare.load_rows(tmp_path / "r.csv") == [{"method": "magnitude", "accuracy": None, "loss": None,
                                                       "diagnostics": {}}]


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_a_save_rows_that_fails_midway_leaves_the_earlier_results_byte_for_byte(tmp_path, monkeypatch, suffix):
    path = compare.save_rows([{"method": "old", "accuracy": 0.5}], tmp_path / f"results{suffix}")
    old = path.read_bytes()
    from lattice_lab import atomic

    def failing_replace(source, target):
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(atomic.os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space left"):
        compare.save_rows([{"method": "new", "accuracy": 0.9}] * 100, path)
    monkeypatch.undo()
    assert path.read_bytes() == old and sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_export_masks_that_fails_midway_leaves_the_earlier_masks_file(digits_model, tmp_path, monkeypatch):
    from lattice_lab.widgets import PruningLab

    lab = PruningLab(digits_model, data.load("digits", "test", subset=50), quick=True)
    path = lab.export_masks(tmp_path / "masks.pt")
    old = path.read_bytes()
    lab.controls["amount"].value = 0.25

    def torn_save(payload, handle):
        handle.write(b"half of a file")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", torn_save)
    with pytest.raises(OSError, match="No space left"):
        lab.export_masks(path)
    assert path.read_bytes() == old and sorted(p.name for p in tmp_path.iterdir()) == ["masks.pt"]


@pytest.mark.parametrize("error", [
    data.DamagedFileError(Path("/data/x.gz"), "x.gz cannot be read"),
    train.NonFiniteLossError("fit stopped", step=3, epoch=1, batch=3, history=[{"epoch": 1}]),
    MemoryLimitError("too big"), data.DownloadError("no source"), InvalidParameterError("bad"),
])
def test_the_package_errors_survive_pickling(error):
    """Parallel sweeps send errors between processes: each comes back whole, with its attributes."""
    import pickle

    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error) and str(back) == str(error) and vars(back) == vars(error)


def test_fetch_refuses_a_dataset_without_files(unchanged):
    with pytest.raises(InvalidParameterError, match="The 'name' parameter of fetch must be one of 'mnist'"):
        data.fetch("digits")


# ============================================================================ hostile checkpoint files

def shipped_payload() -> dict:
    return torch.load(SHIPPED / "digits-lstm.pt", weights_only=True)


def resealed(payload: dict) -> dict:
    payload["card"] = {**payload["card"], "sha256": checkpoints.weights_sha256(payload["state_dict"]),
                       "masks_sha256": checkpoints.weights_sha256(payload["masks"])}
    return payload


def _truncated(folder: Path) -> Path:
    raw = (SHIPPED / "digits-lstm.pt").read_bytes()
    (folder / "truncated.pt").write_bytes(raw[: len(raw) // 3])
    return folder / "truncated.pt"


def _text(folder: Path) -> Path:
    (folder / "notes.pt").write_text("these are my notes, not a checkpoint\n")
    return folder / "notes.pt"


def _empty(folder: Path) -> Path:
    (folder / "empty.pt").write_bytes(b"")
    return folder / "empty.pt"


def _tampered(folder: Path) -> Path:
    payload = shipped_payload()
    payload["state_dict"]["readout.bias"] += 1.0
    torch.save(payload, folder / "tampered.pt")
    return folder / "tampered.pt"


def _missing_tensor_mask(folder: Path) -> Path:
    payload = shipped_payload()
    payload["masks"] = {"layers.0.weight_nope_l0": torch.ones(4, 4)}
    torch.save(resealed(payload), folder / "mask.pt")
    return folder / "mask.pt"


def _huge(folder: Path) -> Path:
    payload = {"config": {"kind": "lstm", "input_size": 8, "hidden_size": 200000, "num_classes": 10},
               "state_dict": {}, "masks": {}, "card": {"dataset": "digits"}}
    torch.save(resealed(payload), folder / "huge.pt")
    assert (folder / "huge.pt").stat().st_size < 4096
    return folder / "huge.pt"


def _reshaped(folder: Path) -> Path:
    payload = shipped_payload()
    payload["config"]["hidden_size"] = [31]
    torch.save(resealed(payload), folder / "reshaped.pt")
    return folder / "reshaped.pt"


def _pickled_code(folder: Path) -> Path:
    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {folder / 'code-ran'}",))

    torch.save({"config": {}, "state_dict": {}, "masks": {}, "card": Payload()}, folder / "evil.pt")
    return folder / "evil.pt"


def _a_folder(folder: Path) -> Path:
    (folder / "folder.pt").mkdir()
    return folder / "folder.pt"


HOSTILE_CHECKPOINTS = {
    "missing": (lambda folder: folder / "nowhere.pt", "no checkpoint file"),
    "a folder": (_a_folder, "no checkpoint file"),
    "truncated": (_truncated, "is not a readable torch checkpoint (truncated, damaged or another kind of file)"),
    "a text file": (_text, "is not a readable torch checkpoint"),
    "empty": (_empty, "is not a readable torch checkpoint"),
    "tampered": (_tampered, "was modified: sha256"),
    "a mask naming a missing tensor": (_missing_tensor_mask, "a mask names 'layers.0.weight_nope_l0', which is no "
                                                             "parameter of the model"),
    "a tiny file claiming hidden_size 200000": (_huge, "would need about 640.0 GB of memory"),
    "weights of another shape": (_reshaped, "the weights do not fit its config"),
    "pickled code": (_pickled_code, "refused by torch.load(weights_only=True)"),
}
CHECKPOINT_COMMANDS = {
    "evaluate": [],
    "prune": ["--method", "magnitude", "--amount", "0.5"],
    "compare": ["--methods", "magnitude", "--amounts", "0.5"],
    "analyze": [],
}


@pytest.mark.parametrize("command", sorted(CHECKPOINT_COMMANDS))
@pytest.mark.parametrize("case", sorted(HOSTILE_CHECKPOINTS))
def test_every_checkpoint_command_turns_a_hostile_checkpoint_into_one_line_and_exit_2(command, case, sandbox, capsys):
    make, message = HOSTILE_CHECKPOINTS[case]
    path = make(sandbox[0])
    before = snapshot(*sandbox)
    code, out, err = run(capsys, command, "--checkpoint", path, *CHECKPOINT_COMMANDS[command])
    assert code == 2 and out == ""
    text = one_line_error(err, command)
    assert message in text and str(path) in text
    assert snapshot(*sandbox) == before and not (sandbox[0] / "code-ran").exists()


@pytest.mark.parametrize("command", sorted(CHECKPOINT_COMMANDS))
def test_every_checkpoint_command_refuses_a_dataset_of_another_feature_size(command, unchanged, capsys):
    extra = ["--spectral"] if command == "analyze" else []
    code, _, err = run(capsys, command, "--checkpoint", "digits-lstm", "--dataset", "parity",
                       *CHECKPOINT_COMMANDS[command], *extra)
    assert code == 2
    assert one_line_error(err, command) == ("--dataset parity (layout rows) has 1 features per step, but the model of "
                                            "--checkpoint digits-lstm takes 8 (it was trained on digits)")


# ============================================================================ every subcommand: failures inside

def _subcommands() -> list[str]:
    """Every subcommand the parser has (argparse keeps them on its subparsers action)."""
    return sorted(cli.build_parser()._subparsers._group_actions[0].choices)


MINIMAL_ARGV = {  # arguments that get each subcommand as far as its work
    "demo": [],
    "train": ["--dataset", "digits", "--model", "rnn", "--hidden", "4", "--epochs", "1", "--out", "m.pt"],
    "evaluate": ["--checkpoint", "digits-lstm"],
    "prune": ["--checkpoint", "digits-lstm", "--method", "magnitude", "--amount", "0.5"],
    "compare": ["--checkpoint", "digits-lstm"],
    "analyze": ["--checkpoint", "digits-lstm"],
    "fetch": ["mnist"],
    "notebooks": ["course"],
    "grade": ["submission.ipynb"],
}
FAILURES = {  # what goes wrong inside -> exit code, and what the one line says
    "interrupted": (KeyboardInterrupt(), 130, None),
    "disk full": (OSError(errno.ENOSPC, "No space left on device", "results.json"), 1,
                  "[Errno 28] No space left on device: 'results.json'"),
    "permission denied": (PermissionError(errno.EACCES, "Permission denied", "/srv/data/x.gz"), 2,
                          "[Errno 13] Permission denied: '/srv/data/x.gz'"),
    "a read-only location": (OSError(errno.EROFS, "Read-only file system", "/mnt/ro/m.pt"), 2,
                             "[Errno 30] Read-only file system: '/mnt/ro/m.pt'"),
    "a bad value": (ValueError("something\nspread over\n  lines"), 2, "something spread over lines"),
    "a download that failed": (download.DownloadError("could not download x.gz of mnist: ..."), 1,
                               "could not download x.gz of mnist: ..."),
    "training diverged": (train.NonFiniteLossError("fit stopped at step 3", step=3, epoch=1, batch=3, history=[]), 1,
                          "fit stopped at step 3"),
    "an error inside torch": (RuntimeError("CUDA out of memory"), 1, "CUDA out of memory"),
    "a missing extra": (ImportError('needs torchaudio: pip install "lattice_lab[audio]"'), 2,
                        'needs torchaudio: pip install "lattice_lab[audio]"'),
}


def test_the_minimal_arguments_cover_every_subcommand():
    missing = [command for command in _subcommands() if command not in MINIMAL_ARGV]
    assert not missing, f"add the arguments of the new subcommand(s) {missing} to MINIMAL_ARGV"


@pytest.mark.parametrize("command", _subcommands())
@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_every_subcommand_turns_an_expected_failure_into_one_line_and_its_exit_code(command, failure, monkeypatch,
                                                                                    unchanged, capsys):
    error, expected_code, expected_line = FAILURES[failure]

    def fails(args):
        raise error

    monkeypatch.setattr(cli, f"cmd_{command}", fails)
    code, out, err = run(capsys, command, *MINIMAL_ARGV[command])
    assert code == expected_code and out == ""
    if expected_line is None:
        assert err == f"lattice-lab {command}: interrupted\n"
    else:
        assert one_line_error(err, command) == expected_line


@pytest.mark.parametrize("command", _subcommands())
def test_a_bug_still_shows_its_traceback(command, monkeypatch, unchanged):
    """Only expected failures become one line: a programming error must stay visible."""
    def bug(args):
        raise AttributeError("a bug")

    monkeypatch.setattr(cli, f"cmd_{command}", bug)
    with pytest.raises(AttributeError, match="a bug"):
        cli.main([command, *MINIMAL_ARGV[command]])


# ============================================================================ --out, checked before any work

@pytest.fixture
def no_work(monkeypatch):
    """Fails the test if a command starts working (loads a checkpoint or data) before refusing its --out."""
    def started(*args, **kwargs):
        raise AssertionError("work started before --out was checked")

    monkeypatch.setattr(cli.checkpoints, "load", started)
    monkeypatch.setattr(cli.data, "load", started)


def _out_cases(folder: Path) -> dict[str, tuple[str, str]]:
    (folder / "a-file").write_text("x")
    (folder / "a-folder.pt").mkdir()
    (folder / "a-folder.json").mkdir(exist_ok=True)
    (folder / "old").mkdir()
    (folder / "old" / "results.json").write_text("[]")
    return {
        "train:folder": ("train", str(folder / "a-folder.pt")),
        "train:parent is a file": ("train", str(folder / "a-file" / "m.pt")),
        "train:not .pt": ("train", str(folder / "model.ckpt")),
        "prune:folder": ("prune", str(folder / "a-folder.pt")),
        "prune:parent is a file": ("prune", str(folder / "a-file" / "sub" / "m.pt")),
        "compare:a file": ("compare", str(folder / "a-file")),
        "compare:parent is a file": ("compare", str(folder / "a-file" / "results")),
        "compare:earlier results": ("compare", str(folder / "old")),
        "demo:a file": ("demo", str(folder / "a-file")),
        "demo:parent is a file": ("demo", str(folder / "a-file" / "results")),
    }


OUT_MESSAGES = {
    "train:folder": "a-folder.pt is a folder; give a checkpoint file name",
    "train:parent is a file": "a-file is a file, not a folder",
    "train:not .pt": "a checkpoint file name must end in .pt",
    "prune:folder": "a-folder.pt is a folder; give a checkpoint file name",
    "prune:parent is a file": "a-file is a file, not a folder",
    "compare:a file": "a-file is a file; give a folder for the results",
    "compare:parent is a file": "a-file is a file, not a folder",
    "compare:earlier results": "holds the results of an earlier run (results.json); pass --overwrite to replace them",
    "demo:a file": "a-file is a file; give a folder for the results",
    "demo:parent is a file": "a-file is a file, not a folder",
}


@pytest.mark.parametrize("case", sorted(OUT_MESSAGES))
def test_out_is_refused_before_any_work_starts(case, sandbox, no_work, capsys):
    command, out = _out_cases(sandbox[0])[case]
    before = snapshot(*sandbox)
    argv = [a for a in MINIMAL_ARGV[command] if a != "m.pt" and a != "--out"]
    code, _, err = run(capsys, command, *argv, "--out", out)
    assert code == 2
    text = one_line_error(err, command)
    assert text.startswith(f"--out {out}") and OUT_MESSAGES[case] in text
    assert snapshot(*sandbox) == before


@pytest.mark.parametrize("command", ["train", "prune", "compare", "demo"])
def test_an_unwritable_out_location_is_refused_before_any_work(command, sandbox, no_work, monkeypatch, capsys):
    locked = sandbox[0] / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(cli.os, "access", lambda path, mode: Path(path) != locked and real_access(path, mode))
    out = locked / ("new" if command in ("compare", "demo") else "m.pt")
    argv = [a for a in MINIMAL_ARGV[command] if a not in ("--out", "m.pt")]
    code, _, err = run(capsys, command, *argv, "--out", out)
    assert code == 2
    assert one_line_error(err, command) == (f"--out {out}: cannot write into {locked} (permission denied or a "
                                            "read-only location)")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders: the patched test above covers it")
def test_a_read_only_folder_is_refused_for_real(sandbox, no_work, capsys):
    locked = sandbox[0] / "locked"
    locked.mkdir(mode=0o555)
    code, _, err = run(capsys, "compare", "--checkpoint", "digits-lstm", "--out", locked / "new")
    assert code == 2 and "cannot write into" in one_line_error(err, "compare")


def test_compare_replaces_earlier_results_with_overwrite(sandbox, capsys):
    out = sandbox[0] / "old"
    out.mkdir()
    (out / "results.json").write_text("[]")
    code, printed, err = run(capsys, "compare", "--checkpoint", "digits-lstm", "--methods", "magnitude", "--amounts",
                             "0.5", "--out", out, "--overwrite", "--json")
    assert code == 0, err
    assert json.loads((out / "results.json").read_text()) == json.loads(printed)


# ============================================================================ arguments of each subcommand

BAD_ARGUMENTS = {
    "train --hidden 200000": (["train", "--dataset", "digits", "--model", "lstm", "--hidden", "200000", "--epochs",
                               "1", "--out", "m.pt"], "would need about 640.0 GB of memory"),
    "train --hidden 0": (["train", "--dataset", "digits", "--model", "rnn", "--hidden", "0", "--epochs", "1",
                          "--out", "m.pt"], "The 'hidden_size' parameter of build must be"),
    "train --epochs -1": (["train", "--dataset", "digits", "--model", "rnn", "--hidden", "4", "--epochs", "-1",
                           "--out", "m.pt"], "The 'epochs' parameter of fit must be an int >= 0. Got -1 instead."),
    "train --lr nan": (["train", "--dataset", "digits", "--model", "rnn", "--hidden", "4", "--epochs", "1", "--lr",
                        "nan", "--out", "m.pt"], "The 'lr' parameter of fit must be a float > 0. Got nan instead."),
    "train --batch-size 0": (["train", "--dataset", "digits", "--model", "rnn", "--hidden", "4", "--epochs", "1",
                              "--batch-size", "0", "--out", "m.pt"], "The 'batch_size' parameter of fit"),
    "train --seed -1": (["train", "--dataset", "digits", "--model", "rnn", "--hidden", "4", "--epochs", "1",
                         "--seed", "-1", "--out", "m.pt"], "The 'seed' parameter of load must be an int >= 0"),
    "train --layers 1 feedback": (["train", "--dataset", "digits", "--model", "feedback", "--hidden", "4", "--layers",
                                   "1", "--epochs", "1", "--out", "m.pt"], "a feedback model needs num_layers >= 2"),
    "train --subset 0": (["train", "--dataset", "digits", "--model", "rnn", "--hidden", "4", "--epochs", "1",
                          "--subset", "0", "--out", "m.pt"], "The 'subset' parameter of load must be"),
    "prune --option per_layer=yes": (["prune", *MINIMAL_ARGV["prune"], "--option", "per_layer=yes"],
                                     "The 'per_layer' parameter of magnitude must be True or False. Got 'yes' "
                                     "instead."),
    "prune --option per_layer=1": (["prune", *MINIMAL_ARGV["prune"], "--option", "per_layer=1"],
                                   "The 'per_layer' parameter of magnitude must be True or False. Got 1 instead."),
    "prune --option nope=1": (["prune", *MINIMAL_ARGV["prune"], "--option", "nope=1"], "has no option(s) ['nope']"),
    "prune --amount 1.5": (["prune", "--checkpoint", "digits-lstm", "--method", "magnitude", "--amount", "1.5"],
                           "The 'amount' parameter of prune must be a float in [0, 1). Got 1.5 instead."),
    "prune --amount nan": (["prune", "--checkpoint", "digits-lstm", "--method", "magnitude", "--amount", "nan"],
                           "The 'amount' parameter of prune must be a float in [0, 1). Got nan instead."),
    "prune --method nope": (["prune", "--checkpoint", "digits-lstm", "--method", "nope", "--amount", "0.5"],
                            "unknown method 'nope'"),
    "prune --seed -3": (["prune", *MINIMAL_ARGV["prune"], "--seed", "-3"], "The 'seed' parameter of prune must be an int"),
    "prune --option rounds=2.5 (imp)": (["prune", "--checkpoint", "digits-lstm", "--method", "imp", "--amount", "0.5",
                                         "--option", "rounds=2.5"], "The 'rounds' parameter of imp must be"),
    "compare --amounts 1.5": (["compare", "--checkpoint", "digits-lstm", "--amounts", "1.5"], "amounts"),
    "compare --seeds -1": (["compare", "--checkpoint", "digits-lstm", "--seeds", "-1"], "seeds"),
    "compare --methods nope": (["compare", "--checkpoint", "digits-lstm", "--methods", "nope"], "nope"),
    "analyze --thresholds 1.5": (["analyze", "--checkpoint", "digits-lstm", "--thresholds", "1.5"],
                                 "The 'thresholds' parameter of analyze must be"),
    "evaluate a hand-made card without dataset": (None, "names no dataset; pass --dataset"),
    "fetch --mirror ftp://": (["fetch", "mnist", "--mirror", "ftp://example.org/data"],
                              "The 'mirrors' parameter of fetch must be URLs starting with http://, https:// or "
                              "file://. Got 'ftp://example.org/data' instead."),
}


@pytest.mark.parametrize("case", sorted(BAD_ARGUMENTS))
def test_every_bad_argument_is_one_line_naming_it_and_exit_2(case, sandbox, capsys):
    argv, message = BAD_ARGUMENTS[case]
    if argv is None:  # a checkpoint whose card says nothing about its data
        model = models.build({"kind": "rnn", "input_size": 8, "hidden_size": 4, "num_classes": 10})
        path = checkpoints.save(sandbox[0] / "bare.pt", model, {"command": "hand-made"})
        argv = ["evaluate", "--checkpoint", str(path)]
    before = snapshot(*sandbox)
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in one_line_error(err, argv[0])
    assert snapshot(*sandbox) == before


@pytest.mark.parametrize("argv", [["prune", "--checkpoint", "digits-lstm", "--method", "magnitude", "--amount", "x"],
                                  ["train", "--dataset", "imagenet", "--model", "rnn", "--hidden", "4", "--epochs",
                                   "1", "--out", "m.pt"],
                                  ["fetch", "digits"], ["compare", "--checkpoint", "digits-lstm", "--scope", "both"]])
def test_what_argparse_refuses_exits_2_with_its_usage_line(argv, unchanged, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and ("invalid choice" in err or "invalid float value" in err)
    assert "Traceback" not in err


# ============================================================================ outputs: strict JSON, interrupted writes

def test_json_output_is_strict_json_with_null_for_nan(monkeypatch, unchanged, capsys):
    monkeypatch.setattr(cli.train, "evaluate", lambda *a, **k: {"accuracy": float("nan"), "loss": float("inf"),
                                                                "n_samples": 3})
    code, out, _ = run(capsys, "evaluate", "--checkpoint", "digits-lstm", "--json")
    assert code == 0
    parsed = json.loads(out, parse_constant=lambda name: pytest.fail(f"non-strict JSON constant {name}"))
    assert parsed["accuracy"] is None and parsed["loss"] is None and parsed["n_samples"] == 3


def test_ctrl_c_while_training_leaves_no_checkpoint(sandbox, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.train, "fit", interrupted)
    before = snapshot(*sandbox)
    code, _, err = run(capsys, "train", *MINIMAL_ARGV["train"])
    assert (code, err) == (130, "lattice-lab train: interrupted\n")
    assert snapshot(*sandbox) == before


def test_a_full_disk_while_saving_keeps_the_earlier_checkpoint(sandbox, monkeypatch, capsys):
    assert run(capsys, "train", *MINIMAL_ARGV["train"])[0] == 0
    before = snapshot(*sandbox)
    from lattice_lab import atomic

    def full(source, target):
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(atomic.os, "replace", full)
    code, _, err = run(capsys, "train", *MINIMAL_ARGV["train"], "--seed", "1")
    assert code == 1 and "No space left on device" in one_line_error(err, "train")
    assert snapshot(*sandbox) == before


def test_fetch_from_a_mirror_with_another_file_exits_1_naming_the_file_and_the_mirror(sandbox, offline, capsys):
    raw = sandbox[0] / "mirror" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\0" * 4000))
    mirror = (sandbox[0] / "mirror").as_uri()
    before = snapshot(*sandbox)
    code, out, err = run(capsys, "fetch", "mnist", "--mirror", mirror)
    assert code == 1 and out == ""
    text = one_line_error(err, "fetch")
    assert text.startswith("could not download train-images-idx3-ubyte.gz of mnist: the mirror " + mirror)
    assert "refused: it has " in text and "bytes, the official file 9912422" in text
    assert snapshot(*sandbox) == {**before, str(sandbox[0] / "cache"): "folder",
                                  str(sandbox[0] / "cache" / "data"): "folder",
                                  str(sandbox[0] / "cache" / "data" / "MNIST"): "folder",
                                  str(sandbox[0] / "cache" / "data" / "MNIST" / "raw"): "folder"}


@pytest.fixture
def offline(monkeypatch):
    """The official sources become a port that refuses connections: no test reaches the network."""
    for name, remote in download.REMOTES.items():
        monkeypatch.setitem(download.REMOTES, name, dataclasses.replace(remote, official=("http://127.0.0.1:9/",)))


def _idx(array: np.ndarray) -> bytes:
    return ((0x0800 + array.ndim).to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
            + array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("damage", ["truncated", "bit-flipped"])
def test_a_damaged_gz_in_the_cache_is_one_line_naming_it(damage, sandbox, offline, capsys):
    raw = sandbox[0] / "cache" / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for stem, array in (("t10k-images-idx3-ubyte", rng.integers(0, 256, (20, 28, 28))),
                        ("t10k-labels-idx1-ubyte", rng.integers(0, 10, 20))):
        (raw / f"{stem}.gz").write_bytes(gzip.compress(_idx(array)))
    images = raw / "t10k-images-idx3-ubyte.gz"
    content = bytearray(images.read_bytes())
    if damage == "truncated":
        content = content[: len(content) // 2]
    else:
        content[len(content) // 2] ^= 0x04
    images.write_bytes(bytes(content))
    before = snapshot(*sandbox)
    code, _, err = run(capsys, "evaluate", "--checkpoint", "mnist-lstm")
    assert code == 2
    text = one_line_error(err, "evaluate")
    assert text.startswith(f"{images} cannot be read: it is truncated or damaged")
    assert "Downloading it again failed: could not download train-images-idx3-ubyte.gz of mnist" in text
    assert snapshot(*sandbox) == before


# ============================================================================ subprocesses: real faults, real exit codes

def _env(tmp_path: Path) -> dict[str, str]:
    root = Path(__file__).resolve().parents[1]
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
            "LATTICE_LAB_CACHE": str(tmp_path / "cache"), "LATTICE_LAB_QUIET": "1", "LATTICE_LAB_FAST": "1",
            "MPLBACKEND": "Agg"}


@pytest.fixture(scope="module")
def matplotlib_cache_built():
    """matplotlib builds its font cache on first import; build it before a file-size limit would refuse it."""
    subprocess.run([sys.executable, "-c", "import matplotlib.pyplot"], check=True, capture_output=True)


def _lattice_lab(tmp_path: Path, *argv, limit: str | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "lattice_lab.cli", *map(str, argv)]
    if limit is not None:
        command = ["prlimit", f"--fsize={limit}", *command]
    return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=_env(tmp_path))


def test_a_truncated_checkpoint_in_a_subprocess_exits_2_without_a_traceback(tmp_path):
    done = _lattice_lab(tmp_path, "evaluate", "--checkpoint", _truncated(tmp_path))
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stdout == ""
    assert done.stderr.startswith("lattice-lab evaluate: error: ") and done.stderr.count("\n") == 1


needs_prlimit = pytest.mark.skipif(shutil.which("prlimit") is None, reason="needs prlimit (util-linux)")


@needs_prlimit
def test_results_written_past_a_file_size_limit_leave_the_earlier_results_byte_for_byte(tmp_path,
                                                                                        matplotlib_cache_built):
    out = tmp_path / "results"
    out.mkdir()
    old = {name: f"earlier {name}\n".encode() for name in ("results.json", "results.csv")}
    for name, content in old.items():
        (out / name).write_bytes(content)
    done = _lattice_lab(tmp_path, "compare", "--checkpoint", "digits-lstm", "--methods", "magnitude", "random",
                        "--amounts", "0.1", "0.3", "0.5", "0.7", "0.9", "--out", out, "--overwrite", limit="2048")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "File too large" in done.stderr and done.stderr.count("\n") == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == old  # no temporary file left either


@needs_prlimit
def test_a_checkpoint_written_past_a_file_size_limit_leaves_the_earlier_one_byte_for_byte(tmp_path):
    argv = ["train", "--dataset", "digits", "--model", "lstm", "--hidden", "32", "--epochs", "1", "--out", "m.pt"]
    assert cli.main([*argv[:-1], str(tmp_path / "m.pt")]) == 0  # the earlier checkpoint (in-process: faster)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    done = _lattice_lab(tmp_path, *argv[:-2], "--seed", "3", "--out", "m.pt", limit="4096")
    assert done.returncode == 1 and "File too large" in done.stderr and "Traceback" not in done.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


def test_sigint_between_the_two_writes_of_a_checkpoint_exits_130_and_the_card_is_repaired_on_load(tmp_path):
    driver = """
import os, signal, sys
from lattice_lab import checkpoints, cli
# Python turns SIGINT into KeyboardInterrupt only where it was not ignored at start-up, and a shell
# ignores it in what it starts in the background (a CI rehearsal run with `&` exited 0 here): a
# terminal's Ctrl-C reaches a foreground process, which has this handler.
signal.signal(signal.SIGINT, signal.default_int_handler)
real = checkpoints.atomic_write
def write(path, content):
    if str(path).endswith(".json"):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, after the .pt was replaced
    return real(path, content)
checkpoints.atomic_write = write
sys.exit(cli.main(sys.argv[1:]))
"""
    argv = ["train", "--dataset", "digits", "--model", "gru", "--hidden", "6", "--epochs", "1", "--out", "m.pt"]
    assert cli.main([*argv[:-1], str(tmp_path / "m.pt")]) == 0  # the earlier checkpoint (in-process: faster)
    old_card = (tmp_path / "m.json").read_text()
    done = subprocess.run([sys.executable, "-c", driver, *argv[:-2], "--seed", "5", "--out", "m.pt"],
                          capture_output=True, text=True, cwd=tmp_path, env=_env(tmp_path))
    assert done.returncode == 130 and done.stderr == "lattice-lab train: interrupted\n"
    assert (tmp_path / "m.json").read_text() == old_card  # the old card: whole, not half
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["m.json", "m.pt"]
    _, card = checkpoints.load(tmp_path / "m.pt")
    assert card["seed"] == 5 and json.loads((tmp_path / "m.json").read_text()) == card


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode: the patched cases cover it")
def test_an_unreadable_checkpoint_is_one_line_naming_it(sandbox, capsys):
    path = sandbox[0] / "secret.pt"
    shutil.copy(SHIPPED / "digits-lstm.pt", path)
    path.chmod(0)
    code, _, err = run(capsys, "evaluate", "--checkpoint", path)
    assert code == 2 and one_line_error(err, "evaluate") == f"[Errno 13] Permission denied: '{path}'"
