"""The ``digits`` dataset: scikit-learn's bundled 8x8 digit images as sequences, the offline default.

It never needs a file or the network. Pixels are divided by 16 and standardized with the train
set's mean and standard deviation (one scalar each); the split is 1437/360 by
``train_test_split(test_size=0.2, random_state=0, stratify=y)``, independent of ``seed``.
Never capped in fast mode.
Must not import anything from the package (except settings, validation and data).

Examples
--------
>>> from lattice_lab.data import load
>>> load("digits", "test", layout="pixels").inputs.shape
torch.Size([360, 64, 1])
"""
from __future__ import annotations

import numpy as np
import torch

from .request import Request
from .sequences import SequenceDataset, choose, image_layout

__all__ = ["read"]


def read(request: Request) -> SequenceDataset:
    """The split, layout and subset of digits that ``request`` asks for (see the module docstring)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = bunch.data.astype(np.float32) / 16.0
    y = bunch.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, random_state=0, stratify=y)
    mean, std = x_train.mean(), x_train.std()
    x, y = (x_train, y_train) if request.split == "train" else (x_test, y_test)
    if request.subset is not None:
        index = choose(len(y), request.subset, request.seed, "subset", "load")
        x, y = x[index], y[index]
    x = image_layout(((x - mean) / std).reshape(-1, 8, 8), request.layout)
    return SequenceDataset(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)),
                           torch.from_numpy(y), name=request.name, split=request.split, num_classes=10,
                           layout=request.layout, source="scikit-learn bundled digits (load_digits)")
