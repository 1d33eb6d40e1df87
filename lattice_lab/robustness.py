"""Noise robustness: accuracy under additive Gaussian input noise, for one model or several.

Kalra et al. (arXiv 2403.11100) test whether pruned RNNs whose layers stay expanders keep
their robustness to noise. Here a model is evaluated on ``x + σ·ε``, ``ε ~ N(0, I)`` drawn from a
generator seeded with ``seed`` (:func:`lattice_lab.train.evaluate` with ``noise_std=σ``), so two
models compared at the same σ and seed see exactly the same noisy inputs. σ is in the units of
the dataset's inputs (``lattice_lab.data`` standardizes or scales them; say which in a report).

Must not import: pruning, graphs, compare, widgets, cli.

Examples
--------
>>> import torch
>>> from torch.utils.data import TensorDataset
>>> from lattice_lab.models import build
>>> model = build({"kind": "gru", "input_size": 3, "hidden_size": 8, "num_classes": 2})
>>> data = TensorDataset(torch.randn(20, 5, 3), torch.randint(0, 2, (20,)))
>>> rows = noise_curve(model, data, sigmas=(0.0, 1.0), device="cpu")
>>> [row["sigma"] for row in rows], sorted(rows[0])
([0.0, 1.0], ['accuracy', 'loss', 'sigma'])
"""
from __future__ import annotations

from typing import Any, Iterable

from torch import nn
from torch.utils.data import Dataset

from . import train
from .validation import check_float, check_instance, check_list, fail

DEFAULT_SIGMAS = (0.0, 0.1, 0.2, 0.4, 0.8)


def check_sigmas(sigmas: Any, caller: str = "noise_curve") -> list[float]:
    """``sigmas`` as a list of floats: a nonempty sequence of noise standard deviations >= 0.

    ``caller`` names the function in the error message.

    >>> check_sigmas((0, 0.5))
    [0.0, 0.5]
    >>> check_sigmas([-1.0])
    Traceback (most recent call last):
    ...
    lattice_lab.validation.InvalidParameterError: The 'sigmas' parameter of noise_curve must be a nonempty list of \
noise standard deviations (floats >= 0; 0 = clean inputs). Got [-1.0] instead.
    """
    return check_list(sigmas, "sigmas", caller, lambda sigma: check_float(sigma, "sigmas", caller, low=0),
                      "a nonempty list of noise standard deviations (floats >= 0; 0 = clean inputs)")


def noise_curve(model: nn.Module, data: Dataset, sigmas: Iterable[float] = DEFAULT_SIGMAS, *, seed: int = 0,
                device: str = "auto", batch_size: int = 1024) -> list[dict[str, float]]:
    """Accuracy and loss of ``model`` on ``data`` with Gaussian input noise of each σ in ``sigmas``.

    The model is not changed. At σ = 0 the row equals ``train.evaluate(model, data)``.

    Returns
    -------
    list of dict
        One per σ, in the given order: ``sigma``, ``accuracy``, ``loss``.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from lattice_lab.models import build
    >>> model = build({"kind": "rnn", "input_size": 2, "hidden_size": 4, "num_classes": 2})
    >>> data = TensorDataset(torch.randn(8, 3, 2), torch.zeros(8, dtype=torch.long))
    >>> noise_curve(model, data, [0.0], device="cpu")[0]["accuracy"] == train.evaluate(model, data, device="cpu")["accuracy"]
    True
    """
    rows = []
    for sigma in check_sigmas(sigmas):
        scores = train.evaluate(model, data, device=device, batch_size=batch_size, noise_std=sigma, seed=seed)
        rows.append({"sigma": sigma, "accuracy": scores["accuracy"], "loss": scores["loss"]})
    return rows


def compare_noise(models: dict[str, nn.Module], data: Dataset, sigmas: Iterable[float] = DEFAULT_SIGMAS, *,
                  seed: int = 0, device: str = "auto", batch_size: int = 1024) -> list[dict[str, Any]]:
    """:func:`noise_curve` of several models (e.g. ``{"dense": ..., "ramanujan-imp 95%": ...}``).

    Every model sees the same noisy inputs at a given σ (same seed and batch size).

    Returns
    -------
    list of dict
        One row per (model, σ): ``model`` (the dict key), ``sigma``, ``accuracy``, ``loss``.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from lattice_lab.models import build
    >>> data = TensorDataset(torch.randn(8, 3, 2), torch.zeros(8, dtype=torch.long))
    >>> models = {name: build({"kind": "rnn", "input_size": 2, "hidden_size": 4, "num_classes": 2})
    ...           for name in ("a", "b")}
    >>> [(r["model"], r["sigma"]) for r in compare_noise(models, data, [0.0, 0.5], device="cpu")]
    [('a', 0.0), ('a', 0.5), ('b', 0.0), ('b', 0.5)]
    """
    named = "a nonempty dict of name (str) -> model"
    check_instance(models, "models", "compare_noise", dict, named)
    if not models or not all(isinstance(name, str) for name in models):  # shown as name -> type of model
        fail("models", "compare_noise", named, {name: type(model).__name__ for name, model in models.items()})
    sigmas = check_sigmas(sigmas, "compare_noise")
    return [{"model": name, **row} for name, model in models.items()
            for row in noise_curve(model, data, sigmas, seed=seed, device=device, batch_size=batch_size)]


def plot_noise(rows: list[dict[str, Any]], ax=None, *, title: str | None = None):
    """Accuracy against σ, one line per model, from :func:`compare_noise` (or :func:`noise_curve`) rows.

    Returns the matplotlib axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> rows = [{"model": "dense", "sigma": 0.0, "accuracy": 0.99}, {"model": "dense", "sigma": 0.4, "accuracy": 0.9}]
    >>> plot_noise(rows).get_xlabel()
    'input noise σ'
    """
    import matplotlib.pyplot as plt

    if not rows:
        raise ValueError("rows is empty: nothing to plot (compute them with compare_noise)")
    for row in rows:
        if "sigma" not in row or "accuracy" not in row:
            raise ValueError(f"every row needs 'sigma' and 'accuracy' (rows of compare_noise), got {sorted(row)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    curves: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        curves.setdefault(str(row.get("model", "model")), []).append((row["sigma"], row["accuracy"]))
    for name, points in curves.items():
        ax.plot(*zip(*sorted(points)), "-o", label=name)
    ax.set_xlabel("input noise σ")
    ax.set_ylabel("accuracy")
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return ax
