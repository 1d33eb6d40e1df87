"""The user's data and score: a ``Dataset``, a ``DataLoader`` or an ``(inputs, targets)`` pair, and
``score(model, data) -> float`` (higher is better; default: argmax accuracy).

Inputs may be anything the user's model takes as its first argument (features ``(N, T, F)``,
token ids ``(N, T)``, time-major sequences): nothing here looks inside them but the batch dimension
(dimension 0, or the batch of the ``DataLoader``).

Must not import anything from the package.

Examples
--------
>>> import torch
>>> from torch import nn
>>> model = nn.Linear(3, 2)
>>> pair = (torch.eye(3)[:2], torch.tensor([0, 1]))
>>> with torch.no_grad():
...     _ = model.weight.copy_(torch.eye(2, 3)), model.bias.zero_()
>>> accuracy(model, pair), example_inputs(pair, 1).shape
(1.0, torch.Size([1, 3]))
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

_WHAT = "a torch Dataset of (inputs, target) items, a DataLoader, or an (inputs, targets) pair of tensors"


def check_data(data: Any, caller: str) -> Any:
    """``data`` if it is one of the three accepted forms; else a ValueError naming the parameter."""
    pair = isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data)
    if pair and len(data[0]) != len(data[1]):
        raise ValueError(f"The 'data' parameter of {caller} must pair as many inputs as targets. Got {len(data[0])} "
                         f"inputs and {len(data[1])} targets instead.")
    if not (pair or isinstance(data, (Dataset, DataLoader))):
        raise ValueError(f"The 'data' parameter of {caller} must be {_WHAT}. Got {type(data).__name__} instead.")
    return data


def as_dataset(data: Any) -> Dataset:
    """``data`` as a ``Dataset`` (what the training loop and the methods read): a pair becomes a
    ``TensorDataset``, a ``DataLoader`` gives its dataset."""
    check_data(data, "as_dataset")
    if isinstance(data, DataLoader):
        return data.dataset
    return data if isinstance(data, Dataset) else TensorDataset(*data)


def batches(data: Any, batch_size: int = 256) -> Iterator[tuple[Any, torch.Tensor]]:
    """``(inputs, targets)`` batches of any accepted form, in order."""
    check_data(data, "batches")
    if isinstance(data, DataLoader):
        yield from ((x, y) for x, y in data)
    elif isinstance(data, Dataset):
        yield from DataLoader(data, batch_size=batch_size)
    else:
        inputs, targets = data
        for start in range(0, len(inputs), batch_size):
            yield inputs[start:start + batch_size], targets[start:start + batch_size]


def example_inputs(data: Any, count: int = 8) -> Any:
    """The first ``count`` inputs of ``data`` (what the view traces the model on)."""
    inputs, _ = next(iter(batches(data, count)))
    return inputs[:count]


def accuracy(model: nn.Module, data: Any) -> float:
    """Fraction of samples whose output's argmax (over the last dimension) is the target.

    A model with an output per time step (``(N, T, C)``) is scored on every step against ``(N, T)`` targets.
    """
    correct = total = 0
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for inputs, targets in batches(data):
                predicted = model(inputs).argmax(dim=-1)
                correct += int((predicted == targets.to(predicted.device)).sum())
                total += targets.numel()
    finally:
        model.train(was_training)
    return correct / max(total, 1)


def score_of(model: nn.Module, data: Any, score: Callable[[nn.Module, Any], float] | None = None) -> float:
    """``score(model, data)`` as a float (default :func:`accuracy`); a ValueError if it is not a finite number."""
    with torch.no_grad():
        value = (score or accuracy)(model, data)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"The 'score' parameter must return a float (higher is better). Got {value!r} instead.") \
            from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"The 'score' parameter must return a finite float. Got {value} instead.")
    return value
