"""Tests for lattice_lab.train: real training on sklearn digits, determinism, masks, evaluation."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from torch.utils.data import Dataset, TensorDataset

from lattice_lab import prune
from lattice_lab.models import build, clone, get_weight
from lattice_lab.surgery import get_masks
from lattice_lab.train import _Distillation, evaluate, finetune, fit, predict_logits

CONFIG = {"kind": "lstm", "input_size": 8, "hidden_size": 32, "num_classes": 10}


class Rows(Dataset):
    """Minimal in-memory dataset with ``.inputs`` / ``.targets`` (the fast slicing path)."""

    def __init__(self, inputs: torch.Tensor, targets: torch.Tensor):
        self.inputs, self.targets = inputs, targets

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index):
        return self.inputs[index], self.targets[index]


class Items(Dataset):
    """A dataset with neither ``.inputs`` nor ``.tensors``: forces the DataLoader path."""

    def __init__(self, inputs: torch.Tensor, targets: torch.Tensor):
        self._x, self._y = inputs, targets

    def __len__(self) -> int:
        return len(self._y)

    def __getitem__(self, index):
        return self._x[index], self._y[index]


@pytest.fixture(scope="module")
def digits() -> tuple[Rows, Rows]:
    """sklearn digits as 8 steps (rows) x 8 features, standardized; 1500 train / 297 test."""
    bunch = load_digits()
    x = torch.tensor(bunch.data, dtype=torch.float32).view(-1, 8, 8) / 16.0
    x = (x - 0.3) / 0.4
    y = torch.tensor(bunch.target, dtype=torch.long)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    x, y = x[order], y[order]
    return Rows(x[:1500], y[:1500]), Rows(x[1500:], y[1500:])


@pytest.fixture(scope="module")
def trained(digits) -> tuple[torch.nn.Module, list[dict]]:
    torch.manual_seed(0)
    model = build(CONFIG)
    history = fit(model, digits[0], epochs=4, lr=1e-2, batch_size=32, device="cpu", val_data=digits[1])
    return model, history


def test_fit_learns_digits_above_85_percent(digits, trained):
    model, history = trained
    accuracy = evaluate(model, digits[1], device="cpu")["accuracy"]
    assert accuracy > 0.85
    assert history[-1]["val_accuracy"] == accuracy
    assert history[-1]["train_loss"] < history[0]["train_loss"]


def test_history_has_one_record_per_epoch_with_documented_keys(trained):
    _, history = trained
    assert [record["epoch"] for record in history] == list(range(1, 5))
    expected = {"epoch", "train_loss", "train_accuracy", "val_accuracy", "val_loss", "seconds", "samples_per_second"}
    for record in history:
        assert set(record) == expected
        assert 0.0 <= record["train_accuracy"] <= 1.0 and 0.0 <= record["val_accuracy"] <= 1.0
        assert record["seconds"] > 0 and record["samples_per_second"] > 0


def test_history_without_val_data_has_no_val_keys(digits):
    model = build(CONFIG)
    history = fit(model, Rows(digits[0].inputs[:64], digits[0].targets[:64]), epochs=1, device="cpu")
    assert set(history[0]) == {"epoch", "train_loss", "train_accuracy", "seconds", "samples_per_second"}


def test_zero_epochs_leaves_weights_unchanged(digits):
    model = build(CONFIG)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert fit(model, digits[0], epochs=0, device="cpu") == []
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def _train_once(data: Dataset, seed: int) -> dict[str, torch.Tensor]:
    torch.manual_seed(123)  # same initial weights every time
    model = build(CONFIG)
    fit(model, data, epochs=1, lr=1e-2, batch_size=64, device="cpu", seed=seed)
    return model.state_dict()


@pytest.mark.parametrize("wrap", [lambda d: d, lambda d: Items(d.inputs, d.targets)], ids=["tensors", "dataloader"])
def test_same_seed_gives_identical_weights_after_one_epoch(digits, wrap):
    data = wrap(Rows(digits[0].inputs[:512], digits[0].targets[:512]))
    first, second, other = _train_once(data, 0), _train_once(data, 0), _train_once(data, 1)
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_fit_does_not_change_global_rng_state(digits):
    model = build(CONFIG)
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    fit(model, Rows(digits[0].inputs[:64], digits[0].targets[:64]), epochs=1, device="cpu", seed=3)
    assert torch.equal(torch.rand(3), expected)


def test_fit_accepts_tensor_dataset_and_generic_dataset(digits):
    x, y = digits[0].inputs[:96], digits[0].targets[:96]
    for data in (TensorDataset(x, y), Items(x, y)):
        history = fit(build(CONFIG), data, epochs=1, batch_size=40, device="cpu")
        assert history[0]["samples_per_second"] > 0
        assert history[0]["train_loss"] > 0


def test_pruned_weights_stay_zero_through_training_and_finetune(digits):
    torch.manual_seed(0)
    pruned = prune(build(CONFIG), "magnitude", 0.7, scope="all").model
    masks_before = get_masks(pruned)
    zero_before = {name: get_weight(pruned, name) == 0 for name in masks_before}
    orig_ids = {id(p) for p in pruned.parameters()}
    data = Rows(digits[0].inputs[:512], digits[0].targets[:512])
    fit(pruned, data, epochs=1, lr=1e-2, batch_size=64, device="cpu", weight_decay=1e-3)
    finetune(pruned, data, batch_size=64, device="cpu")
    masks_after = get_masks(pruned)
    assert masks_after.keys() == masks_before.keys()
    assert all(torch.equal(masks_before[n], masks_after[n]) for n in masks_before)
    assert {id(p) for p in pruned.parameters()} == orig_ids
    for name, zero in zero_before.items():
        weight = get_weight(pruned, name)
        assert torch.all(weight[masks_before[name] == 0] == 0)
        assert torch.equal(weight == 0, zero | (masks_before[name] == 0))
        assert torch.count_nonzero(weight) == int(masks_before[name].sum())


def test_finetune_defaults_are_one_epoch_at_small_lr(digits, monkeypatch):
    import lattice_lab.train as train

    seen = {}

    def fake_fit(model, data, **kwargs):
        seen.update(kwargs)
        return []

    monkeypatch.setattr(train, "fit", fake_fit)
    train.finetune(build(CONFIG), digits[0], batch_size=16)
    assert seen == {"epochs": 1, "lr": 1e-4, "batch_size": 16}


@pytest.mark.parametrize("training", [True, False])
def test_evaluate_restores_mode_and_device_and_weights(digits, training):
    model = build(CONFIG).train(training)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    evaluate(model, digits[1], device="auto")
    assert model.training is training
    assert all(p.device.type == "cpu" for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_evaluate_matches_manual_accuracy_and_loss(digits, trained):
    model, _ = trained
    data = digits[1]
    scores = evaluate(model, data, device="cpu", batch_size=50)
    with torch.no_grad():
        logits = model.eval()(data.inputs)
    assert scores["n_samples"] == len(data)
    assert scores["accuracy"] == (logits.argmax(1) == data.targets).sum().item() / len(data)
    assert scores["loss"] == pytest.approx(torch.nn.functional.cross_entropy(logits, data.targets).item(), rel=1e-5)
    assert torch.allclose(predict_logits(model, data, device="cpu", batch_size=64), logits, atol=1e-6)


def test_noisy_evaluation_is_deterministic_per_seed_and_hurts(digits, trained):
    model, _ = trained
    data = digits[1]
    first = evaluate(model, data, device="cpu", noise_std=1.5, seed=4)
    again = evaluate(model, data, device="cpu", noise_std=1.5, seed=4)
    other = evaluate(model, data, device="cpu", noise_std=1.5, seed=5)
    clean = evaluate(model, data, device="cpu")
    assert first == again
    assert first["loss"] != other["loss"]
    assert first["accuracy"] < clean["accuracy"]
    assert torch.equal(predict_logits(model, data, device="cpu", noise_std=1.5, seed=4),
                       predict_logits(model, data, device="cpu", noise_std=1.5, seed=4))


@pytest.mark.parametrize("kwargs, match", [
    ({"epochs": -1}, "epochs"), ({"epochs": 1.5}, "epochs"), ({"epochs": True}, "epochs"),
    ({"lr": 0}, "lr"), ({"lr": -1e-3}, "lr"), ({"lr": float("nan")}, "lr"),
    ({"batch_size": 0}, "batch_size"), ({"clip": 0.0}, "clip"), ({"weight_decay": -1.0}, "weight_decay"),
    ({"seed": -1}, "seed"), ({"progress": "yes"}, "progress"), ({"device": "tpu"}, "device"),
    ({"amp": "yes"}, "amp"),
])
def test_fit_rejects_bad_arguments(digits, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit(build(CONFIG), digits[0], **kwargs)


def test_bad_data_and_model_are_rejected(digits):
    with pytest.raises(TypeError, match="train_data"):
        fit(build(CONFIG), [(torch.zeros(8, 8), 0)], epochs=1)
    with pytest.raises(ValueError, match="empty"):
        fit(build(CONFIG), TensorDataset(torch.zeros(0, 8, 8), torch.zeros(0, dtype=torch.long)))
    with pytest.raises(TypeError, match="model"):
        evaluate("not a model", digits[1])
    with pytest.raises(ValueError, match="noise_std"):
        evaluate(build(CONFIG), digits[1], noise_std=-0.1)
    with pytest.raises(ValueError, match="batch_size"):
        evaluate(build(CONFIG), digits[1], batch_size=0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU fallback")
def test_amp_on_cpu_warns_and_trains_in_float32(digits):
    small = Rows(digits[0].inputs[:64], digits[0].targets[:64])
    torch.manual_seed(0)
    with_amp = build(CONFIG)
    without = build(CONFIG)
    without.load_state_dict(with_amp.state_dict())
    with pytest.warns(RuntimeWarning, match="amp=True needs a CUDA device"):
        fit(with_amp, small, epochs=1, device="cpu", amp=True)
    fit(without, small, epochs=1, device="cpu")
    assert all(torch.equal(a, b) for a, b in zip(with_amp.state_dict().values(), without.state_dict().values()))


def test_progress_is_quiet_under_pytest_and_with_env(monkeypatch, capsys, digits):
    small = Rows(digits[0].inputs[:64], digits[0].targets[:64])
    fit(build(CONFIG), small, epochs=2, device="cpu")
    assert capsys.readouterr().err == ""
    fit(build(CONFIG), small, epochs=2, device="cpu", progress=True)
    assert "epoch" in capsys.readouterr().err
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    monkeypatch.setenv("LATTICE_LAB_QUIET", "1")
    fit(build(CONFIG), small, epochs=2, device="cpu")
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("LATTICE_LAB_QUIET", "0")
    fit(build(CONFIG), small, epochs=2, device="cpu")
    assert "epoch" in capsys.readouterr().err


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_amp_training_learns_and_evaluate_returns_model_home(digits):
    torch.manual_seed(0)
    model = build(CONFIG)
    history = fit(model, digits[0], epochs=8, lr=1e-2, batch_size=32, device="cuda", amp=True)
    assert next(model.parameters()).device.type == "cuda"
    assert history[-1]["train_accuracy"] > 0.85
    cpu_model = build(CONFIG)
    evaluate(cpu_model, digits[1], device="cuda")
    assert all(p.device.type == "cpu" for p in cpu_model.parameters())
    pruned = prune(model, "magnitude", 0.7).model
    finetune(pruned, digits[0], device="cuda", amp=True)
    weight = get_weight(pruned, "layers.0.weight_hh_l0")
    assert torch.all(weight[pruned.layers[0].weight_hh_l0_mask == 0] == 0)
    assert np.isclose(float((weight == 0).float().mean()), 0.7, atol=1e-3)


# --------------------------------------------------------------------------- distillation

def test_distillation_with_weight_zero_is_plain_training(digits, trained):
    plain, distilled = build(CONFIG), build(CONFIG)
    distilled.load_state_dict(plain.state_dict())
    fit(plain, digits[0], epochs=1, device="cpu", seed=3)
    history = fit(distilled, digits[0], epochs=1, device="cpu", seed=3, teacher=trained[0], distill_weight=0.0)
    for a, b in zip(plain.state_dict().values(), distilled.state_dict().values()):
        assert torch.equal(a, b)
    assert history[0]["distill_loss"] > 0  # measured and reported even at weight 0


def test_an_identical_teacher_gives_zero_distillation_loss_and_gradient(digits, trained):
    """T²·KL(p_teacher ‖ p_student) is exactly 0 for a copy, and its gradient vanishes (to rounding)."""
    student, teacher = clone(trained[0]), clone(trained[0]).eval()
    x = digits[0].inputs[:64]
    term = _Distillation(teacher, 1.0, 4.0).term(student(x), _Distillation(teacher, 1.0, 4.0).teacher_log_probs(x))
    assert term.item() == 0.0
    term.backward()
    assert max(p.grad.abs().max().item() for p in student.parameters()) < 1e-7


def test_distillation_pulls_the_student_towards_the_teacher(digits, trained):
    """A fresh student distilled (weight 1) agrees with the teacher far more than one trained on labels."""
    teacher = trained[0]
    reference = predict_logits(teacher, digits[1], device="cpu").argmax(dim=1)
    agreement = {}
    for weight in (0.0, 1.0):
        torch.manual_seed(1)
        student = build(CONFIG)
        labels = Rows(digits[0].inputs, torch.randint(0, 10, (len(digits[0]),), generator=torch.Generator().manual_seed(5)))
        fit(student, labels, epochs=3, lr=1e-2, batch_size=32, device="cpu", teacher=teacher, distill_weight=weight)
        agreement[weight] = (predict_logits(student, digits[1], device="cpu").argmax(dim=1) == reference).float().mean()
    assert agreement[0.0] < 0.3 < 0.8 < agreement[1.0]  # random labels teach nothing; the teacher does


def test_distillation_leaves_the_teacher_as_it_was(digits, trained):
    teacher = clone(trained[0]).train()
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    finetune(clone(trained[0]), digits[0], device="cpu", teacher=teacher)
    assert teacher.training and all(torch.equal(before[k], v) for k, v in teacher.state_dict().items())
    assert all(p.grad is None for p in teacher.parameters())


@pytest.mark.parametrize("kwargs, error, match", [
    ({"teacher": "dense"}, TypeError, "teacher"),
    ({"distill_weight": 1.5}, ValueError, "distill_weight"),
    ({"distill_weight": -0.1}, ValueError, "distill_weight"),
    ({"temperature": 0.0}, ValueError, "temperature"),
    ({"teacher": build(dict(CONFIG, num_classes=3))}, ValueError, "same outputs"),
])
def test_distillation_rejects_bad_arguments(digits, kwargs, error, match):
    kwargs = {"teacher": build(CONFIG), **kwargs}
    with pytest.raises(error, match=match):
        fit(build(CONFIG), digits[0], epochs=1, device="cpu", **kwargs)


def test_a_model_cannot_be_its_own_teacher(digits):
    model = build(CONFIG)
    with pytest.raises(ValueError, match="separate model"):
        fit(model, digits[0], epochs=1, device="cpu", teacher=model)
