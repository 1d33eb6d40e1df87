"""Issue 29, part B: every number a user gives has a range from its meaning, checked before anything is built.

Four classes, several cases each: sizes, seeds, epochs, rounds, learning rates and lists beyond their
range (:data:`lattice_lab.validation.RANGES`) are refused naming the parameter, on the API and on the
command line (exit 2, one line, the value quoted at most ~80 characters); ``--option`` values that are
deep or huge are refused before they are parsed; an evaluation whose outputs are not finite says so
(the NaN policy of :mod:`lattice_lab.train`) instead of reporting an accuracy counted from NaN; and a
method that is not a name, or a list of amounts or seeds that repeats an entry, gets a clear message.
A case that could exhaust memory or time runs under the ``under_limits`` fixture (tests/conftest.py):
its own process, 6 GiB of address space, a 60 s kill, and the four assertions of the issue.
"""
from __future__ import annotations

import json
import re

import pytest
import torch

from lattice_lab import checkpoints, cli, compare, data, models, train
from lattice_lab.memory import MemoryLimitError
from lattice_lab.pruning import prune
from lattice_lab.validation import QUOTE_LENGTH, RANGES, InvalidParameterError, check_choice, check_range, quote

HUGE = 2 ** 64


def cli_source(*argv) -> str:
    return f"from lattice_lab import cli\nraise SystemExit(cli.main({[str(a) for a in argv]!r}))"


def usage_error(capsys, *argv) -> str:
    """The one stderr line of a command argparse refuses (exit 2), without its prefix."""
    with pytest.raises(SystemExit) as stop:
        cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert stop.value.code == 2 and out == "" and len(lines) == 1 and "Traceback" not in err, err
    prefix = f"lattice-lab {argv[0]}: error: "
    assert lines[0].startswith(prefix), lines[0]
    return lines[0][len(prefix):]


def one_line(capsys, expected_code, *argv) -> str:
    """The one stderr line of a command that fails inside ``main`` with ``expected_code``."""
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == expected_code and out == "" and len(lines) == 1 and "Traceback" not in err, (code, err)
    return lines[0]


# ============================================================================ the ranges themselves

def test_every_range_is_an_interval_with_a_reason():
    for kind, bounds in RANGES.items():
        assert bounds.low < bounds.high and len(bounds.why) > 10, kind
        assert check_range(bounds.high if bounds.integer else float(bounds.high), "x", "f", kind) == bounds.high
        with pytest.raises(InvalidParameterError, match=r"must be an? (int|float) in .*\(" + re.escape(bounds.why)):
            check_range(bounds.high + 1, "x", "f", kind)


def test_the_seed_range_is_what_numpy_and_torch_both_accept():
    import numpy as np

    top = RANGES["seed"].high
    np.random.seed(top)  # numpy's legacy seeding takes 0..2**32-1 and no more
    torch.manual_seed(top)
    with pytest.raises(ValueError):
        np.random.seed(top + 1)
    assert check_range(top, "seed", "fit", "seed") == top


@pytest.mark.parametrize("value, expected", [
    (0.5, "0.5"), ("x" * 1000, "'" + "x" * 59 + "... (1,002 characters)"),
    (10 ** 100000, "an int of about 100001 digits"), (list(range(100000)), "[0, 1, 2, 3"),
], ids=["float", "long str", "huge int", "long list"])
def test_a_quoted_value_is_at_most_about_80_characters(value, expected):
    assert quote(value).startswith(expected) and len(quote(value)) <= QUOTE_LENGTH + 10


def test_a_50_mb_string_is_not_echoed_back():
    with pytest.raises(InvalidParameterError) as error:
        check_choice("y" * 50_000_000, "split", "load", ("train", "test"))
    assert len(str(error.value)) < 200 and "50,000,002 characters" in str(error.value)


# ============================================================================ the API: sizes, seeds, epochs, rounds, lr

@pytest.mark.parametrize("config, words", [
    ({"hidden_size": 2 ** 62}, ["'hidden_size' parameter of build", "1048576", "4611686018427387904"]),
    ({"hidden_size": 2 ** 63}, ["'hidden_size'", "9223372036854775808"]),
    ({"hidden_size": [4, 2 ** 63]}, ["'hidden_size'", "9223372036854775808"]),
    ({"input_size": 2 ** 63}, ["'input_size' parameter of build"]),
    ({"num_classes": 2 ** 62}, ["'num_classes' parameter of build"]),
    ({"hidden_size": 1, "num_layers": 200000}, ["'num_layers' parameter of build", "[1, 100]", "200000"]),
    ({"hidden_size": [1] * 5000}, ["'num_layers' parameter of build", "5000"]),
])
def test_model_sizes_beyond_their_range_are_refused_before_torch_sees_them(config, words):
    full = {"kind": "lstm", "input_size": 8, "hidden_size": 4, "num_classes": 10, **config}
    for device in ("cpu", "meta"):
        with torch.device(device), pytest.raises(InvalidParameterError) as error:
            models.build(full)
        for word in words:
            assert word in str(error.value), (word, str(error.value))


def test_200000_layers_of_one_unit_are_refused_within_limits_also_on_the_meta_device(under_limits):
    under_limits.refused("import torch\nfrom lattice_lab import models\nwith torch.device('meta'):\n"
                         "    models.build({'kind': 'lstm', 'input_size': 8, 'hidden_size': 1, 'num_classes': 10,"
                         " 'num_layers': 200000})", "num_layers", "200000")


def test_check_fits_counts_layers_not_only_weights(monkeypatch):
    """100 one-unit layers hold a few thousand weights but some 1.6 MB of modules: the estimate counts both."""
    config = {"kind": "lstm", "input_size": 1, "hidden_size": 1, "num_classes": 2, "num_layers": 100}
    count = models.parameter_count(config)
    monkeypatch.setattr("lattice_lab.memory.machine_bytes", lambda device="cpu": 4 * count + 10 * models.LAYER_BYTES)
    with pytest.raises(MemoryLimitError, match=r"hidden_size \[1, 1, [^]]*\] \([\d,]+ float32 parameters\) would need "
                                               r"about 1.6 MB"):
        models.build(config)
    config["num_layers"] = 5
    assert models.parameter_count(config) == sum(p.numel() for p in models.build(config).parameters())


@pytest.mark.parametrize("kwargs, words", [
    ({"n": 10 ** 12}, ["'n' parameter of load", "100000000", "1000000000000"]),
    ({"n": 2 ** 63}, ["'n' parameter of load"]),
    ({"n": 10 ** 7, "length": 10 ** 4}, ["load('parity', n=10000000, length=10000)", "memory"]),
    ({"length": 2 ** 62}, ["'length' parameter of load"]),
    ({"seed": HUGE}, ["'seed' parameter of load", "4294967295"]),
    ({"subset": 10 ** 12}, ["'subset' parameter of load"]),
])
def test_data_sizes_beyond_what_can_run_are_refused_within_limits(kwargs, words, under_limits):
    under_limits.refused(f"from lattice_lab import data\ndata.load('parity', **{kwargs!r})", *words)


@pytest.mark.parametrize("kwargs, words", [
    ({"epochs": HUGE}, ["'epochs' parameter of fit", "10000"]),
    ({"lr": 1e308}, ["'lr' parameter of fit", "learning rate"]),
    ({"lr": float("inf")}, ["'lr' parameter of fit"]),
    ({"seed": HUGE}, ["'seed' parameter of fit", "18446744073709551616"]),
    ({"batch_size": 2 ** 63}, ["'batch_size' parameter of fit"]),
])
def test_fit_refuses_numbers_beyond_their_range_before_training(kwargs, words, digits):
    model = models.build({"kind": "rnn", "input_size": 8, "hidden_size": 4, "num_classes": 10})
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(InvalidParameterError) as error:
        train.fit(model, digits[0], **{"epochs": 1, **kwargs}, device="cpu", progress=False)
    for word in words:
        assert word in str(error.value)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_imp_with_a_billion_rounds_is_refused_by_range_within_limits(under_limits):
    under_limits.refused("from lattice_lab import checkpoints, data\nfrom lattice_lab.pruning import prune\n"
                         "model = checkpoints.load('digits-lstm')[0]\n"
                         "prune(model, 'imp', 0.5, data.load('digits', 'train'), rounds=1000000000)",
                         "'rounds' parameter of imp", "[1, 1000]")


@pytest.mark.parametrize("method, options, words", [
    ("imp", {"finetune_epochs": HUGE}, ["'finetune_epochs' parameter of imp"]),
    ("imp", {"lr": 1e308}, ["'lr' parameter of imp"]),
    ("ramanujan-imp", {"rounds": 2 ** 63}, ["'rounds' parameter of ramanujan-imp"]),
    ("expander", {"epochs": HUGE}, ["'epochs' parameter of expander"]),
    ("gradual-magnitude", {"epochs": HUGE}, ["'epochs' parameter of gradual-magnitude"]),
    ("jacobian", {"samples": 10 ** 12}, ["'samples' parameter of jacobian"]),
    ("spectral", {"n_samples": 10 ** 12}, ["'n_samples' parameter of spectral"]),
])
def test_method_options_beyond_their_range_are_refused(method, options, words, model, digits):
    with pytest.raises(InvalidParameterError) as error:
        prune(model, method, 0.5, digits[0], **options)
    for word in words:
        assert word in str(error.value)


def test_a_seed_of_2_to_the_64_is_refused_naming_the_seed_everywhere(model, digits):
    for call in (lambda: prune(model, "magnitude", 0.5, seed=HUGE),
                 lambda: compare.sweep(model, digits[1], methods=["magnitude"], amounts=[0.5], seeds=[HUGE]),
                 lambda: data.load("digits", "train", subset=10, seed=HUGE)):
        with pytest.raises(InvalidParameterError, match=r"'seeds?' parameter of \w+ must be .*4294967295"):
            call()


# ============================================================================ the command line

@pytest.mark.parametrize("argv, words", [
    (["train", "--dataset", "digits", "--model", "rnn", "--hidden", "4", "--epochs", HUGE, "--out", "m.pt"],
     ["--epochs", "[0, 10000]", "18446744073709551616"]),
    (["train", "--dataset", "digits", "--model", "rnn", "--hidden", "4", "--epochs", "1", "--lr", "1e308",
      "--out", "m.pt"], ["--lr", "learning rate", "1e+308"]),
    (["train", "--dataset", "digits", "--model", "rnn", "--hidden", 2 ** 62, "--epochs", "1", "--out", "m.pt"],
     ["--hidden", "4611686018427387904"]),
    (["train", "--dataset", "digits", "--model", "rnn", "--hidden", "4", "--layers", "300000", "--epochs", "1",
      "--out", "m.pt"], ["--layers", "[1, 100]"]),
    (["train", "--dataset", "digits", "--model", "rnn", "--hidden", "4", "--epochs", "1", "--seed", HUGE,
      "--out", "m.pt"], ["--seed", "4294967295"]),
    (["train", "--dataset", "digits", "--model", "rnn", "--hidden", "4", "--epochs", "1", "--batch-size", 2 ** 63,
      "--out", "m.pt"], ["--batch-size"]),
    (["prune", "--checkpoint", "digits-lstm", "--method", "magnitude", "--amount", "0.5", "--finetune-epochs", HUGE],
     ["--finetune-epochs"]),
    (["prune", "--checkpoint", "digits-lstm", "--method", "magnitude", "--amount", "0.5", "--finetune-epochs", "1",
      "--finetune-lr", "1e308"], ["--finetune-lr", "learning rate"]),
    (["compare", "--checkpoint", "digits-lstm", "--seeds", "0", HUGE], ["--seeds"]),
    (["compare", "--checkpoint", "digits-lstm", "--jobs", 10 ** 6], ["--jobs", "[1, 1024]"]),
])
def test_every_number_flag_beyond_its_range_is_one_line_and_exit_2(argv, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    message = usage_error(capsys, *argv)
    for word in words:
        assert word in message, (word, message)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [
    ["train", "--dataset", "digits", "--model", "rnn", "--hidden", "4", "--epochs", "9" * 100000, "--out", "m.pt"],
    ["prune", "--checkpoint", "digits-lstm", "--method", "magnitude", "--amount", "0." + "5" * 100000],
    ["prune", "--checkpoint", "digits-lstm", "--method", "imp", "--amount", "0.5", "--option", "rounds=" + "9" * 100000],
    ["prune", "--checkpoint", "digits-lstm", "--method", "imp", "--amount", "0.5", "--option", "r" * 100000 + "=1"],
    ["evaluate", "--checkpoint", "digits-lstm", "--dataset", "z" * 100000],
])
def test_a_100000_character_value_is_not_echoed_back(argv, capsys):
    message = usage_error(capsys, *argv)
    assert len(message) < 400, message


@pytest.mark.parametrize("value", ["[" * 100000, "[" * 400 + "]" * 400, "{\"a\":" * 20000, "[[[[1]]]]"],
                         ids=["100000 open", "400 closed", "20000 objects", "shallow list"])
def test_a_deep_option_value_is_refused_within_limits_with_exit_2(value, under_limits):
    outcome = under_limits.refused(cli_source("prune", "--checkpoint", "digits-lstm", "--method", "imp",
                                              "--amount", "0.5", "--option", f"rounds={value}"), "rounds")
    assert outcome.returncode == 2 and len(outcome.stderr.strip().splitlines()) == 1, outcome


@pytest.mark.parametrize("argv, words", [
    (["prune", "--checkpoint", "digits-lstm", "--method", "imp", "--amount", "0.5", "--option", "rounds=1000000000"],
     ["'rounds' parameter of imp", "[1, 1000]"]),
    (["train", "--dataset", "digits", "--model", "rnn", "--hidden", "1", "--layers", "300000", "--epochs", "1",
      "--out", "m.pt"], ["--layers"]),
    (["train", "--dataset", "digits", "--model", "lstm", "--hidden", 2 ** 20, "--layers", "100", "--epochs", "1",
      "--out", "m.pt"], ["memory", "float32 parameters"]),
    (["train", "--dataset", "digits", "--model", "rnn", "--hidden", "4", "--epochs", "1", "--subset", 10 ** 12,
      "--out", "m.pt"], ["--subset"]),
])
def test_cli_sizes_that_could_exhaust_memory_exit_2_within_limits(argv, words, under_limits, tmp_path):
    outcome = under_limits.refused(cli_source(*argv), *words)
    assert outcome.returncode == 2 and len(outcome.stderr.strip().splitlines()) == 1, outcome
    assert not (tmp_path / "m.pt").exists()


def test_the_cli_docstring_and_epilog_document_exit_code_2_for_usage_errors():
    assert "- 2: the command cannot run with what it was given: an invalid argument" in cli.__doc__
    assert "2 it cannot run with what it was given" in cli.EXIT_CODES and cli.EXIT_USAGE == 2


# ============================================================================ NaN outputs

@pytest.fixture
def overflowing(tmp_path):
    """A ReLU RNN with finite weights (1e19) whose activations overflow on digits: its logits are all NaN."""
    model = models.build({"kind": "irnn", "input_size": 8, "hidden_size": 16, "num_classes": 10})
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(1e19)
        model.readout.weight[:, 1::2] = -1e19  # +inf and -inf summed: NaN
    path = checkpoints.save(tmp_path / "overflow.pt", model, {"dataset": "digits", "layout": "rows"})
    return model, path


def test_the_overflowing_model_really_has_finite_weights_and_nan_logits(overflowing, digits):
    model, _ = overflowing
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())
    logits = train.predict_logits(model, digits[1], device="cpu")
    assert bool(torch.isnan(logits).all())


def test_evaluate_says_the_outputs_are_not_finite_instead_of_an_accuracy(overflowing, digits):
    with pytest.raises(train.NonFiniteOutputError, match=r"not finite .* for 360 of 360 samples"):
        train.evaluate(overflowing[0], digits[1], device="cpu")


@pytest.mark.parametrize("command", [["evaluate"], ["evaluate", "--json"], ["prune", "--method", "magnitude",
                                                                             "--amount", "0.5", "--json"]])
def test_evaluate_and_prune_json_exit_1_naming_the_non_finite_outputs(command, overflowing, capsys):
    line = one_line(capsys, 1, command[0], "--checkpoint", overflowing[1], *command[1:])
    assert "not finite" in line and "accuracy 0." not in line and "0.1" not in line


def test_a_sweep_of_an_overflowing_model_reports_no_accuracy(overflowing, digits):
    with pytest.raises(train.NonFiniteOutputError):
        compare.sweep(overflowing[0], digits[1], methods=["magnitude"], amounts=[0.5], cache=False)


def test_the_non_finite_output_error_survives_pickling():
    import pickle

    error = pickle.loads(pickle.dumps(train.NonFiniteOutputError("evaluate: not finite")))
    assert isinstance(error, FloatingPointError) and str(error) == "evaluate: not finite"
    assert cli.exit_code(error) == 1


# ============================================================================ methods and lists

@pytest.mark.parametrize("method", [["magnitude"], ("magnitude", "random"), None, 3])
def test_prune_with_a_method_that_is_no_name_says_so(method, model):
    with pytest.raises(InvalidParameterError, match=r"'method' parameter of prune must be the name of a registered "
                                                    r"method .*compare.sweep takes a list"):
        prune(model, method, 0.5)


@pytest.mark.parametrize("kwargs, message", [
    ({"amounts": [0.5] * 100000}, "of at most 10,000 entries. Got 100,000 entries instead."),
    ({"amounts": [0.5, 0.9, 0.5]}, "'amounts' parameter of sweep must not repeat an entry (each is a row of its own). "
                                   "Got 0.5 more than once."),
    ({"amounts": (a / 1e6 for a in range(10 ** 9))}, "Got more than 10,000 entries instead."),
    ({"seeds": [1, 2, 1]}, "'seeds' parameter of sweep must not repeat an entry"),
])
def test_duplicate_or_endless_amounts_and_seeds_are_refused_before_any_cell(kwargs, message, model, digits):
    with pytest.raises(InvalidParameterError) as error:
        compare.sweep(model, digits[1], methods=["magnitude"], cache=False, **{"amounts": [0.5], **kwargs})
    assert message in str(error.value)


def test_compare_with_100000_duplicate_amounts_exits_2_within_limits(under_limits):
    source = ("from lattice_lab import cli\nraise SystemExit(cli.main(['compare', '--checkpoint', 'digits-lstm', "
              "'--methods', 'magnitude', '--amounts', *['0.5'] * 100000]))")  # built there: an argv has a size limit
    outcome = under_limits.refused(source, "amounts", "10,000")
    assert outcome.returncode == 2


def test_an_option_value_is_json_when_it_is_and_text_otherwise():
    assert cli._parse_option("rounds=3") == ("rounds", 3)
    assert cli._parse_option("adjacency=binary") == ("adjacency", "binary")
    assert cli._parse_option("x=[1, 2]") == ("x", [1, 2])
    assert json.loads("[" * 250 + "]" * 250) is not None  # the deepest a 500-character value can nest parses


def test_the_readme_table_of_ranges_is_validation_ranges():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(\w+)` \| `([(\[][^`]*\])`", readme, re.MULTILINE))
    assert set(rows) == set(RANGES)
    for kind, text in rows.items():
        low, high = (eval(end, {"__builtins__": {}}) for end in text[1:-1].split(","))  # "2**32 - 1" and the like
        bounds = RANGES[kind]
        assert (low, high, text[0] == "(") == (bounds.low, bounds.high, bounds.low_open), kind


@pytest.mark.parametrize("config, words", [
    ({"hidden_size": 1, "num_layers": 200000}, ["num_layers", "200000"]),
    ({"hidden_size": 2 ** 63}, ["hidden_size", "9223372036854775808"]),
    ({"hidden_size": 2 ** 20, "num_layers": 100}, ["memory", "float32 parameters"]),
])
def test_a_card_of_absurd_sizes_is_refused_before_a_layer_is_built(config, words, under_limits, tmp_path):
    """A forged checkpoint of a few bytes whose config asks for 200000 layers or 2**63 units: exit 2, within limits."""
    path = tmp_path / "forged.pt"
    torch.save({"config": {"kind": "lstm", "input_size": 8, "num_classes": 10, **config}, "state_dict": {},
                "masks": {}, "card": {"sha256": checkpoints.weights_sha256({}),
                                      "masks_sha256": checkpoints.weights_sha256({}), "dataset": "digits"}}, path)
    outcome = under_limits.refused(cli_source("evaluate", "--checkpoint", path), "forged.pt", *words, files=[path])
    assert outcome.returncode == 2, outcome
