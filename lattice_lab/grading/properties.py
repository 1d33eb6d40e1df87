"""The random models and data the labs' hidden tests draw: shapes, sizes and seeds a learner has not seen.

Every draw is seeded, so a submission gets the same grade each time it is graded, and the hidden
tests say only which seeds they use. Models are untrained (random weights are continuous, so no two
have the same ``|w|``: a right answer is unique); data are a seeded subset of the digits, with the
input size of the model.

Must not import: widgets, cli, compare.

Examples
--------
>>> model = random_model(3)
>>> model.kind in KINDS, len(model.config["hidden_size"]) in (1, 2)
(True, True)
>>> len(digits_sample(40, seed=1)), digits_sample(40, seed=1).input_size
(40, 8)
"""
from __future__ import annotations

import torch

from .. import data, models
from ..data.sequences import SequenceDataset

KINDS = ("lstm", "gru", "rnn")


def random_model(seed: int, *, input_size: int = 8, num_classes: int = 10) -> models.SequenceClassifier:
    """An untrained model of a random kind, depth (1 or 2 layers), width (5-24 units) and direction."""
    generator = torch.Generator().manual_seed(seed)

    def draw(low: int, high: int) -> int:
        return int(torch.randint(low, high + 1, (1,), generator=generator))

    layers = draw(1, 2)
    config = {"kind": KINDS[draw(0, len(KINDS) - 1)], "input_size": input_size, "num_classes": num_classes,
              "hidden_size": [draw(5, 24) for _ in range(layers)], "bidirectional": bool(draw(0, 1))}
    torch.manual_seed(seed)
    return models.build(config)


def digits_sample(size: int, *, seed: int) -> SequenceDataset:
    """A seeded subset of ``size`` digits test sequences (8 steps of 8 features, 10 classes)."""
    return data.load("digits", "test", subset=size, seed=seed)
