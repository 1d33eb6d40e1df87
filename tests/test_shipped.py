"""Shipped checkpoints: each loads into today's model classes, matches its hash, and
reproduces its card's test accuracy (within 0.2 points) when its data are present."""
import json

import pytest

from lattice_lab import checkpoints, data, train
from lattice_lab.models import build

SHIPPED = checkpoints.list_shipped()
CARD_KEYS = ("dataset", "n_train", "n_test", "epochs", "seed", "device", "test_accuracy", "torch_version", "sha256",
             "command", "config")


def test_the_course_ships_its_checkpoints():
    assert {"digits-lstm", "mnist-lstm"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_loads_and_its_card_is_complete(name):
    model, card = checkpoints.load(name)  # refuses a hash mismatch
    for key in CARD_KEYS:
        assert key in card, f"{name}: card misses {key!r}"
    assert model.config == build(card["config"]).config
    assert card["command"].startswith("lattice-lab train")
    human = json.loads(checkpoints.resolve(name).with_suffix(".json").read_text())
    assert human["sha256"] == card["sha256"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_reproduces_its_card_accuracy(name):
    model, card = checkpoints.load(name)
    if not data.available(card["dataset"]):
        pytest.skip(f"{card['dataset']} is not available here (set LATTICE_LAB_DATA)")
    test = data.load(card["dataset"], "test", layout=card.get("layout", "rows"), subset=card["n_test"])
    assert len(test) == card["n_test"]
    accuracy = train.evaluate(model, test, device="cpu")["accuracy"]
    assert abs(accuracy - card["test_accuracy"]) <= 0.002, (name, accuracy, card["test_accuracy"])
