"""Tests for lattice_lab.checkpoints: round trips, masks, tamper detection, weights_only, atomicity."""
from __future__ import annotations

import json
import os

import pytest
import torch

from lattice_lab import checkpoints, prune
from lattice_lab.checkpoints import list_shipped, load, make_card, pruned_card, save, weights_sha256
from lattice_lab.models import build, get_weight
from lattice_lab.surgery import get_masks

CONFIG = {"kind": "lstm", "input_size": 3, "hidden_size": 12, "num_classes": 4, "num_layers": 2}


def _card(model) -> dict:
    return make_card(dataset="toy", layout="rows", n_train=10, n_test=5, epochs=0, seed=0, device="cpu",
                     test_accuracy=0.5, command="pytest", config=model.config)


@pytest.fixture
def model():
    torch.manual_seed(0)
    return build(CONFIG)


@pytest.fixture
def inputs() -> torch.Tensor:
    return torch.randn(5, 7, 3, generator=torch.Generator().manual_seed(1))


def test_round_trip_gives_identical_outputs_and_card(tmp_path, model, inputs):
    card = _card(model)
    path = save(tmp_path / "m.pt", model, card)
    loaded, loaded_card = load(path)
    assert torch.equal(loaded(inputs), model(inputs))
    assert loaded.config == model.config
    assert not loaded.training
    assert loaded_card == {**card, "sha256": weights_sha256(model.state_dict()),
                           "masks_sha256": weights_sha256({}), "masked": []}
    assert json.loads((tmp_path / "m.json").read_text()) == loaded_card
    assert "sha256" not in card  # the caller's card is not modified


@pytest.mark.parametrize("config", [
    {"kind": "gru", "input_size": 2, "hidden_size": [6, 4], "num_classes": 3, "bidirectional": True},
    {"kind": "feedback", "input_size": 2, "hidden_size": [5, 3], "num_classes": 3},
    {"kind": "irnn", "input_size": 1, "hidden_size": 8, "num_classes": 2},
])
def test_round_trip_for_other_kinds(tmp_path, config):
    torch.manual_seed(0)
    original = build(config)
    x = torch.randn(2, 5, config["input_size"])
    loaded, _ = load(save(tmp_path / "k.pt", original, {"command": "pytest"}))
    assert torch.equal(loaded(x), original(x))


def test_masked_model_loads_back_pruned(tmp_path, model, inputs):
    pruned = prune(model, "magnitude", 0.6, scope="all").model
    masks = get_masks(pruned)
    path = save(tmp_path / "p.pt", pruned, _card(pruned))
    loaded, card = load(path)
    assert card["masked"] == sorted(masks)
    loaded_masks = get_masks(loaded)
    assert loaded_masks.keys() == masks.keys()
    assert all(torch.equal(loaded_masks[name], masks[name]) for name in masks)
    for name in masks:
        assert torch.equal(get_weight(loaded, name), get_weight(pruned, name))
        assert torch.all(get_weight(loaded, name)[masks[name] == 0] == 0)
    assert torch.equal(loaded(inputs), pruned(inputs))
    # the masks are real prune masks: they survive a gradient step
    loaded.train()
    loaded(inputs).sum().backward()
    with torch.no_grad():
        for parameter in loaded.parameters():
            parameter -= 0.1 * parameter.grad
    assert all(torch.all(get_weight(loaded, n)[masks[n] == 0] == 0) for n in masks)


def test_save_does_not_modify_the_model(tmp_path, model):
    pruned = prune(model, "magnitude", 0.5).model
    before = {k: v.clone() for k, v in pruned.state_dict().items()}
    save(tmp_path / "p.pt", pruned, {"command": "pytest"})
    after = pruned.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


def _tamper(path, edit) -> None:
    payload = torch.load(path, weights_only=True)
    edit(payload)
    torch.save(payload, path)


def test_modified_weights_are_detected(tmp_path, model):
    path = save(tmp_path / "m.pt", model, _card(model))

    def edit(payload):
        payload["state_dict"]["readout.weight"][0, 0] += 1.0

    _tamper(path, edit)
    with pytest.raises(ValueError, match="was modified: sha256"):
        load(path)


def test_modified_masks_are_detected(tmp_path, model):
    path = save(tmp_path / "p.pt", prune(model, "magnitude", 0.5).model, {"command": "pytest"})

    def edit(payload):
        payload["masks"]["layers.0.weight_hh_l0"].fill_(1.0)

    _tamper(path, edit)
    with pytest.raises(ValueError, match="was modified: masks_sha256"):
        load(path)


def test_wrong_expect_kind_names_both_kinds(tmp_path, model):
    path = save(tmp_path / "m.pt", model, _card(model))
    with pytest.raises(ValueError, match="'lstm'.*'gru'"):
        load(path, expect_kind="gru")
    assert load(path, expect_kind="lstm")[0].kind == "lstm"
    with pytest.raises(ValueError, match="expect_kind"):
        load(path, expect_kind="transformer")


def test_weights_that_do_not_fit_the_config_are_a_value_error(tmp_path, model):
    path = save(tmp_path / "m.pt", model, _card(model))

    def edit(payload):
        payload["config"]["hidden_size"] = [16, 16]

    _tamper(path, edit)
    with pytest.raises(ValueError, match="do not fit its config"):
        load(path)


def test_unknown_name_lists_shipped_checkpoints():
    with pytest.raises(FileNotFoundError, match="shipped checkpoints: \\["):
        load("no-such-model")
    with pytest.raises(FileNotFoundError):
        load("/no/such/folder/model.pt")


def test_shipped_names_resolve_through_package_data(tmp_path, monkeypatch, model, inputs):
    monkeypatch.setattr(checkpoints, "_shipped_dir", lambda: tmp_path)
    assert list_shipped() == []
    save(tmp_path / "tiny-lstm.pt", model, _card(model))
    assert list_shipped() == ["tiny-lstm"]
    loaded, _ = load("tiny-lstm")
    assert torch.equal(loaded(inputs), model(inputs))


@pytest.mark.parametrize("name", list_shipped())
def test_saving_a_shipped_checkpoint_again_reproduces_its_hashes(tmp_path, name):
    model, card = load(name)  # that it loads into today's models is tests/test_shipped.py's
    _, again = load(save(tmp_path / f"{name}.pt", model, card))
    assert (again["sha256"], again["masks_sha256"], again["masked"]) == (card["sha256"], card["masks_sha256"],
                                                                         card["masked"])


def test_load_refuses_pickled_code(tmp_path):
    class Payload:
        def __reduce__(self):
            return (os.system, ("echo this must never run",))

    path = tmp_path / "evil.pt"
    torch.save({"config": {}, "state_dict": {}, "masks": {}, "card": Payload()}, path)
    with pytest.raises(ValueError, match="weights_only=True.*posix.system|weights_only=True.*nt.system"):
        load(path)


def test_garbage_and_foreign_files_are_value_errors(tmp_path):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="weights_only=True"):
        load(garbage)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(ValueError, match="not a lattice_lab checkpoint"):
        load(foreign)


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path, model, monkeypatch):
    path = save(tmp_path / "sub" / "m.pt", model, _card(model))
    assert sorted(p.name for p in path.parent.iterdir()) == ["m.json", "m.pt"]
    good = path.read_bytes()

    def failing_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", failing_save)
    other = build({**CONFIG, "hidden_size": 5})
    with pytest.raises(OSError, match="disk full"):
        save(path, other, _card(other))
    assert sorted(p.name for p in path.parent.iterdir()) == ["m.json", "m.pt"]
    assert path.read_bytes() == good


def test_save_validates_its_arguments(tmp_path, model):
    with pytest.raises(ValueError, match=r"\.pt"):
        save(tmp_path / "m.json", model, {})
    with pytest.raises(TypeError, match="SequenceClassifier"):
        save(tmp_path / "m.pt", torch.nn.Linear(2, 2), {})
    with pytest.raises(TypeError, match="JSON"):
        save(tmp_path / "m.pt", model, {"tensor": torch.zeros(1)})
    assert not list(tmp_path.iterdir())


def test_weights_sha256_depends_on_names_values_dtypes_and_shapes():
    base = {"a": torch.arange(6.0).view(2, 3), "b": torch.ones(2)}
    same = {"b": torch.ones(2), "a": torch.arange(6.0).view(2, 3).t().contiguous().t()}
    digest = weights_sha256(base)
    assert len(digest) == 64 and digest == weights_sha256(same)
    variants = [
        {"a": torch.arange(6.0).view(3, 2), "b": torch.ones(2)},
        {"a": torch.arange(6.0).view(2, 3).double(), "b": torch.ones(2)},
        {"c": torch.arange(6.0).view(2, 3), "b": torch.ones(2)},
        {"a": torch.arange(6.0).view(2, 3), "b": torch.tensor([1.0, 1.0 + 2 ** -20])},
    ]
    assert len({digest, *map(weights_sha256, variants)}) == 5
    assert weights_sha256({"x": torch.ones(3, dtype=torch.bfloat16)}) != weights_sha256({"x": torch.ones(3)})


def test_make_card_records_provenance(model):
    card = _card(model)
    for key in ("dataset", "layout", "n_train", "n_test", "epochs", "seed", "device", "test_accuracy",
                "command", "config", "torch_version", "python_version", "created"):
        assert key in card
    assert card["torch_version"] == str(torch.__version__) and card["config"] == model.config
    assert make_card(dataset="d", layout="rows", n_train=1, n_test=1, epochs=1, seed=0,
                     device="cuda (NVIDIA H200)", test_accuracy=None, command="c",
                     config={})["device"] == "cuda (NVIDIA H200)"
    json.dumps(card)


def test_make_card_takes_the_config_from_the_model(model):
    card = make_card(model, dataset="toy", layout="rows", n_train=1, n_test=1, epochs=1, seed=0,
                     device="cpu", test_accuracy=None, command="c", history=[{"epoch": 1, "train_loss": 0.5}])
    assert card["config"] == model.config
    assert card["history"] == [{"epoch": 1, "train_loss": 0.5}]
    with pytest.raises(ValueError, match="model or its config"):
        make_card(dataset="toy", layout="rows", n_train=1, n_test=1, epochs=1, seed=0, device="cpu",
                  test_accuracy=None, command="c")


def _pruned_card_of(model, dense_card, **changes):
    arguments = dict(method="magnitude", amount=0.5, scope="recurrent", seed=3, options={"per_layer": True},
                     sparsity=0.5, hidden_units=12, accuracy=0.25, command="pytest", device="cpu")
    return pruned_card(dense_card, model, **(arguments | changes))


def test_pruned_card_describes_the_pruned_model_and_keeps_the_dense_card(model):
    dense_card = make_card(model, dataset="toy", layout="rows", n_train=10, n_test=5, epochs=2, seed=1,
                           device="cpu", test_accuracy=0.5, command="train", history=[{"epoch": 1}])
    pruned = prune(model, "magnitude-units", 0.5).model
    card = _pruned_card_of(pruned, dense_card, options={"per_layer": True, "weights": torch.ones(1)})
    assert card["config"] == pruned.config != dense_card["config"]
    assert card["test_accuracy"] == 0.25 and card["command"] == "pytest"
    assert (card["dataset"], card["n_train"], card["n_test"], card["epochs"], card["seed"]) == ("toy", 10, 5, 2, 1)
    assert card["dense_card"] == {k: v for k, v in dense_card.items() if k != "history"} and "history" not in card
    assert card["pruned"]["seed"] == 3 and card["pruned"]["options"] == {"per_layer": True,
                                                                         "weights": repr(torch.ones(1))}
    tuned = _pruned_card_of(pruned, dense_card, accuracy_finetuned=0.75, finetune_epochs=1, finetune_lr=1e-4,
                            n_test=3)
    assert tuned["test_accuracy"] == 0.75 and tuned["n_test"] == 3 and tuned["pruned"]["accuracy"] == 0.25
    assert tuned.keys() == card.keys() and tuned["pruned"].keys() == card["pruned"].keys()
    alone = _pruned_card_of(pruned, None)
    assert (alone["dataset"], alone["n_train"], alone["epochs"], alone["seed"], alone["dense_card"]) == (
        "unknown", 0, 0, 3, {})
    assert alone.keys() == card.keys()
    with pytest.raises(TypeError, match="The 'pruned_model' parameter of pruned_card must be a lattice_lab "
                                        "SequenceClassifier"):
        _pruned_card_of(pruned.state_dict(), dense_card)
    with pytest.raises(ValueError, match="The 'dense_card' parameter of pruned_card must be a checkpoint card"):
        _pruned_card_of(pruned, "digits-lstm")


def test_the_cli_and_the_lab_write_one_pruned_card_that_loads_back(tmp_path, capsys):
    from lattice_lab.cli import main
    from lattice_lab.data import load as load_data
    from lattice_lab.widgets import PruningLab

    assert main(["prune", "--checkpoint", "digits-lstm", "--method", "magnitude", "--amount", "0.5",
                 "--option", "per_layer=false", "--out",
                 str(tmp_path / "cli.pt"), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"checkpoint", "method", "amount", "scope", "sparsity", "sparsity_recurrent",
                            "sparsity_input", "hidden_units", "params_nonzero", "flops", "accuracy", "seed",
                            "diagnostics", "out"}  # the --json keys did not change
    dense, dense_card = load("digits-lstm")
    lab = PruningLab(dense, load_data("digits", "test"), quick=True, card=dense_card)
    cli_model, cli_card = load(tmp_path / "cli.pt")
    lab_model, lab_card = load(lab.export_checkpoint(tmp_path / "lab.pt"))
    assert cli_card.keys() == lab_card.keys()
    assert cli_card["pruned"].keys() == lab_card["pruned"].keys()
    assert cli_card["dense_card"] == lab_card["dense_card"] == {k: v for k, v in dense_card.items() if k != "history"}
    for key in ("method", "amount", "scope", "seed", "options", "sparsity", "sparsity_recurrent", "sparsity_input",
                "hidden_units", "params_nonzero", "flops", "accuracy"):
        assert cli_card["pruned"][key] == lab_card["pruned"][key], key
    assert cli_card["test_accuracy"] == lab_card["test_accuracy"] == printed["accuracy"]
    assert cli_card["pruned"]["source"] == "digits-lstm" and lab_card["pruned"]["source"] is None
    x = torch.randn(3, 8, 8, generator=torch.Generator().manual_seed(0))
    assert torch.equal(cli_model(x), lab_model(x))
