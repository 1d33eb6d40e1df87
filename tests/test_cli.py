"""The lattice-lab command line, end to end on digits: train -> evaluate -> prune -> evaluate."""
import json
import subprocess
import sys

import pytest
import torch

from lattice_lab import checkpoints, data, prune, train
from lattice_lab.cli import main


def run_json(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "digits-lstm.pt"
    assert main(["train", "--dataset", "digits", "--model", "lstm", "--hidden", "32", "--epochs", "8",
                 "--lr", "0.005", "--out", str(path)]) == 0
    return path


def test_train_writes_a_checkpoint_with_a_complete_card(trained):
    _, card = checkpoints.load(str(trained))
    for key in ("dataset", "epochs", "seed", "device", "test_accuracy", "torch_version", "sha256", "command"):
        assert key in card, key
    assert card["dataset"] == "digits" and card["epochs"] == 8
    assert "train --dataset digits" in card["command"]
    assert trained.with_suffix(".json").exists()


def test_round_trip_train_evaluate_prune_evaluate(trained, tmp_path, capsys):
    evaluated = run_json(capsys, "evaluate", "--checkpoint", str(trained))
    assert evaluated["n_samples"] == 360
    assert evaluated["accuracy"] > 0.8  # a real, trained model
    _, card = checkpoints.load(str(trained))
    assert evaluated["accuracy"] == pytest.approx(card["test_accuracy"], abs=1e-9)

    pruned_path = tmp_path / "pruned.pt"
    pruned = run_json(capsys, "prune", "--checkpoint", str(trained), "--method", "magnitude", "--amount", "0.5",
                      "--finetune-epochs", "1", "--out", str(pruned_path))
    for key in ("method", "amount", "sparsity", "hidden_units", "params_nonzero", "accuracy", "accuracy_finetuned",
                "scope", "sparsity_recurrent", "sparsity_input"):
        assert key in pruned, key
    assert pruned["scope"] == "recurrent" and pruned["sparsity"] == pytest.approx(0.5, abs=1e-3)
    assert pruned["sparsity_input"] == 0.0 and pruned["hidden_units"] == 32

    again = run_json(capsys, "evaluate", "--checkpoint", str(pruned_path))
    assert again["accuracy"] == pytest.approx(pruned["accuracy_finetuned"], abs=1e-9)
    model, _ = checkpoints.load(str(pruned_path))
    weight = model.layers[0].weight_hh_l0
    assert (weight == 0).float().mean().item() == pytest.approx(0.5, abs=1e-3)


def test_prune_can_distil_from_the_dense_checkpoint_while_finetuning(trained, capsys):
    pruned = run_json(capsys, "prune", "--checkpoint", str(trained), "--method", "magnitude", "--amount", "0.75",
                      "--finetune-epochs", "1", "--finetune-lr", "3e-4", "--distill")
    assert pruned["distill"] is True and pruned["finetune_lr"] == 3e-4
    model, card = checkpoints.load(str(trained))
    by_hand = prune(model, "magnitude", 0.75).model
    train.finetune(by_hand, data.load("digits", "train"), lr=3e-4, seed=0, device="cpu", teacher=model)
    assert pruned["accuracy_finetuned"] == train.evaluate(by_hand, data.load("digits", "test"), device="cpu")["accuracy"]


def test_distill_without_finetuning_is_refused(trained, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["prune", "--checkpoint", str(trained), "--method", "magnitude", "--amount", "0.5", "--distill"])
    assert exit_info.value.code == 2 and "--finetune-epochs" in capsys.readouterr().err


def test_unit_level_prune_counts_removed_weights(trained, capsys):
    pruned = run_json(capsys, "prune", "--checkpoint", str(trained), "--method", "magnitude-units", "--amount", "0.5")
    assert pruned["hidden_units"] == 16
    assert pruned["sparsity"] == pytest.approx(0.75)  # 16x16 of 32x32 recurrent weights remain


def test_scope_input_prunes_only_input_weights(trained, capsys):
    pruned = run_json(capsys, "prune", "--checkpoint", str(trained), "--method", "random", "--amount", "0.3",
                      "--scope", "input")
    assert pruned["sparsity_input"] == pytest.approx(0.3, abs=1e-3) and pruned["sparsity_recurrent"] == 0.0


@pytest.mark.parametrize("argv, message", [
    (["prune", "--method", "nope", "--amount", "0.5"], "unknown method"),
    (["prune", "--method", "magnitude", "--amount", "1.5"], "amount"),
])
def test_bad_input_gives_a_clear_error_and_exit_code_2(trained, capsys, argv, message):
    assert main([argv[0], "--checkpoint", str(trained), *argv[1:]]) == 2
    assert message in capsys.readouterr().err


def test_tampered_checkpoint_is_refused(trained, tmp_path, capsys):
    payload = torch.load(trained, weights_only=True)
    payload["state_dict"]["readout.bias"] += 1.0
    tampered = tmp_path / "tampered.pt"
    torch.save(payload, tampered)
    assert main(["evaluate", "--checkpoint", str(tampered)]) == 2
    assert "sha256" in capsys.readouterr().err


def test_missing_checkpoint_and_unknown_dataset(capsys):
    assert main(["evaluate", "--checkpoint", "no-such-checkpoint"]) == 2
    assert "no-such-checkpoint" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--dataset", "imagenet", "--model", "lstm", "--hidden", "8", "--epochs", "1", "--out", "x.pt"])


def test_hidden_size_zero_is_refused_and_nothing_is_written(tmp_path, capsys):
    out = tmp_path / "zero.pt"
    assert main(["train", "--dataset", "digits", "--model", "rnn", "--hidden", "0", "--epochs", "1",
                 "--out", str(out)]) == 2
    assert "hidden_size" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("command", ["demo", "train", "evaluate", "prune", "compare", "analyze", "fetch"])
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0 and f"usage: lattice-lab {command}" in capsys.readouterr().out


def test_console_script_entry_point_runs():
    done = subprocess.run([sys.executable, "-m", "lattice_lab.cli", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "demo" in done.stdout


def test_demo_writes_results_table_and_plot(tmp_path, capsys):
    rows = run_json(capsys, "demo", "--out", str(tmp_path / "out"))
    methods = {row["method"] for row in rows}
    assert {"random", "magnitude", "random-units", "magnitude-units"} <= methods
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert len(saved) == len(rows)
    assert (tmp_path / "out" / "accuracy.png").stat().st_size > 10_000


def test_fetch_downloads_verified_files_from_a_mirror_and_says_where(tmp_path, monkeypatch, capsys):
    from pathlib import Path

    shared = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if not (shared / "FashionMNIST" / "raw").is_dir():
        pytest.skip(f"the real Fashion-MNIST files are not beside the clone ({shared} is absent)")
    monkeypatch.setenv("LATTICE_LAB_CACHE", str(tmp_path / "cache"))
    printed = run_json(capsys, "fetch", "fashion-mnist", "--mirror", shared.as_uri())
    folder = tmp_path / "cache" / "data" / "FashionMNIST" / "raw"
    assert printed == [{"dataset": "fashion-mnist", "folder": str(folder),
                        "files": [f.name for f in data.download.REMOTES["fashion-mnist"].files]}]
    assert all((folder / name).read_bytes() == (shared / "FashionMNIST" / "raw" / name).read_bytes()
               for name in printed[0]["files"])
    assert main(["fetch", "fashion-mnist", "--mirror", "http://127.0.0.1:9/"]) == 0  # valid already: no download
    assert capsys.readouterr().out == f"fashion-mnist: 4 files verified (sha256) in {folder}\n"
