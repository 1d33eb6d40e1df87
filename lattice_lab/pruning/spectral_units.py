"""Spectral pruning of recurrent networks: keep the hidden units that best reconstruct the rest.

One idea: the ``spectral`` method on a network — the hidden-state covariance Σ̂ of each layer,
the choice of units on it, and the compressed layer. The module is named ``spectral_units``
(spectral pruning of hidden *units*) because :mod:`lattice_lab.spectral` is the spectra of
graphs, a different idea; the numpy-only linear algebra it applies (ridge reconstruction,
losses, greedy and leverage selection, the bound) is :mod:`lattice_lab.ridge`. The old path
``lattice_lab.pruning.spectral`` re-exports both for one release.

Method: Furuya et al., "Spectral Pruning for Recurrent Neural Networks", AISTATS 2022 (arXiv
2105.10832), built on Suzuki et al., "Spectral pruning", IJCAI 2020. Only the abstracts were
readable, so the formulas below are **[reconstructed]** (see ``METHODS.md`` §2):

- Σ̂ = (1/N) Σ_i Σ_t h_t h_tᵀ over every step of n training sequences (N = n·T state vectors),
  uncentred by default, accumulated batch by batch (memory does not grow with n·T).
- For the kept units J (F = all units) and a ridge λ > 0: Â_J = Σ̂_{F,J}(Σ̂_{J,J} + λI)⁻¹, the
  ridge regression of the whole state on the kept units.
- Residual R(J) = Σ̂ − Σ̂_{F,J}(Σ̂_{J,J} + λI)⁻¹Σ̂_{J,F}; input loss L_A(J) = Tr R(J) (the
  minimum of E‖h − A h_J‖² + λ‖A‖²_F over A); output loss L_B(J) = Tr[Z R(J) Zᵀ] with Z the
  weights that consume h (every gate block of W_hh, the next layer's W_ih, the top-down W_td of
  the layer below, the readout). J minimizes L_A + θ·L_B, greedily (:func:`spectral` rescales θ
  by m/‖Z‖²_F so that its θ does not depend on the scale of the weights).
- Compressed layer: W_hh♯ = W_hh[J,:] Â_J (per gate block), W_ih♯ = W_ih[J,:], biases sliced;
  every consumer of h is re-weighted through Â_J (readout W_out Â_J, the next layer's W_ih
  columns, the top-down columns of the layer below). ``reconstruct=False`` slices without Â_J.

The greedy choice is exact and incremental (:func:`lattice_lab.ridge.greedy_select`).

LSTM/GRU (the extension, not in the paper): the same J in every gate block, Σ̂ of h only; the
LSTM cell state c is not reconstructed (each kept unit keeps its own c, whose update only sees
the reconstructed h). Multi-layer models are compressed bottom-up, and Σ̂ of layer k is taken
from the model whose layers below k are already compressed, so the choice at layer k sees (and
its Â_J partly corrects) the error made below. Bidirectional layers keep the same J in both
directions; each direction gets its own Σ̂ and Â_J (the block-diagonal approximation: the
losses of the two directions add).

For notebooks and benchmarks: :func:`hidden_moments` and :func:`hidden_covariance` (Σ̂ of one
layer, streamed); :func:`diagnostics` is the per-layer report that ``lattice-lab analyze`` can
print.

Must not import: widgets, cli, compare, train.

Examples
--------
>>> import torch
>>> from lattice_lab.models import build
>>> from lattice_lab.pruning import prune
>>> model = build({"kind": "lstm", "input_size": 4, "hidden_size": 16, "num_classes": 3})
>>> x = torch.randn(64, 10, 4)
>>> result = prune(model, "spectral", 0.5, data=x)
>>> result.model.config["hidden_size"], len(result.kept_units[0])
([8], 8)
>>> sorted(result.info)[:4]
['L_A', 'L_A_rel', 'L_B', 'bound']
"""
from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Iterable
from typing import Any, Sequence

import numpy as np
import torch

from ..models import SequenceClassifier, attached_view, get_weight, hidden_sizes
from ..ridge import (bound_terms, check_subset, degrees_of_freedom, greedy_select, input_loss, leverage_select,
                     output_loss, reconstruction_matrix)
from ..settings import fast
from ..surgery import make_permanent, remove_units, unit_index_plan
from ..validation import check_bool, check_choice, check_float, check_instance, check_int, check_range, fail
from .base import PruneResult, check_amount, register, units_to_keep
from .spectral_foreign import spectral_on_view

SELECTIONS = ("greedy", "leverage")
MIN_STATES_PER_UNIT = 10  # fewer state vectors than this many per hidden dimension: warn


# --------------------------------------------------------------------------- hidden states

def _inputs(data: Any, caller: str) -> torch.Tensor:
    inputs = getattr(data, "inputs", data)
    if not isinstance(inputs, torch.Tensor) or inputs.dim() != 3:
        fail("data", caller, "a dataset with .inputs (N, T, F) (lattice_lab.data.load) or a tensor of shape "
             "(N, T, F)", type(data).__name__)
    if inputs.shape[0] == 0:
        raise ValueError("data holds no sequences")
    return inputs


def _choose_sequences(inputs: torch.Tensor, n_samples: int | None, seed: int, caller: str) -> torch.Tensor:
    """``n_samples`` sequences: all if there are no more, else a seeded subset (order kept)."""
    n_samples = check_range(n_samples, "n_samples", caller, "samples", allow_none=True)
    n = (500 if fast() else 2000) if n_samples is None else n_samples
    if n >= inputs.shape[0]:
        return inputs
    index = torch.randperm(inputs.shape[0], generator=torch.Generator().manual_seed(seed))[:n]
    return inputs[torch.sort(index).values]


def hidden_moments(model: SequenceClassifier, data: Any, layer: int = 0, n_samples: int | None = None,
                   batch_size: int = 256, seed: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """Streaming first and second moments of one layer's hidden states over every time step.

    Per direction d: ``second[d] = (1/N) Σ h hᵀ`` and ``mean[d] = (1/N) Σ h`` over the N = n·T
    state vectors of ``n_samples`` sequences (a seeded subset when ``data`` has more; default
    2000, 500 in fast mode). Batches are accumulated in float64 and dropped, so memory does not
    grow with n·T.

    Returns
    -------
    (second (D, H, H), mean (D, H), N) — D = 2 for a bidirectional layer, else 1.

    Raises
    ------
    ValueError on NaN/inf hidden states; a UserWarning when N < 10·D·H (Σ̂ is then unstable).

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> model = build({"kind": "gru", "input_size": 2, "hidden_size": 3, "num_classes": 2})
    >>> second, mean, count = hidden_moments(model, torch.randn(40, 5, 2))
    >>> second.shape, mean.shape, count
    ((1, 3, 3), (1, 3), 200)
    """
    check_instance(model, "model", "hidden_moments", SequenceClassifier, "a lattice_lab SequenceClassifier")
    sizes = hidden_sizes(model)
    layer = check_int(layer, "layer", "hidden_moments", low=0, high=len(sizes) - 1)
    batch_size = check_range(batch_size, "batch_size", "hidden_moments", "batch_size")
    inputs = _choose_sequences(_inputs(data, "hidden_moments"), n_samples, seed, "hidden_moments")
    directions, size = (2 if model.config["bidirectional"] else 1), sizes[layer]
    second = np.zeros((directions, size, size))
    total = np.zeros((directions, size))
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, inputs.shape[0], batch_size):
                batch = inputs[start:start + batch_size].to(device)
                _, states = model(batch, return_states=True)
                h = states[layer].reshape(-1, directions, size).double().cpu()
                if not torch.isfinite(h).all():
                    raise ValueError(f"layer {layer} produced NaN or infinite hidden states; check the "
                                     "model's weights and the input data")
                second += torch.einsum("ndi,ndj->dij", h, h).numpy()
                total += h.sum(dim=0).numpy()
    finally:
        model.train(was_training)
    count = inputs.shape[0] * inputs.shape[1]
    needed = MIN_STATES_PER_UNIT * directions * size
    if count < needed:
        warnings.warn(f"Σ̂ of layer {layer} comes from only {count} state vectors ({inputs.shape[0]} sequences "
                      f"x {inputs.shape[1]} steps) for {directions * size} hidden dimensions; it is unstable. "
                      f"Use at least {needed} state vectors, i.e. n_samples >= "
                      f"{math.ceil(needed / inputs.shape[1])} sequences.", UserWarning, stacklevel=2)
    return second / count, total / count, count


def hidden_covariance(model: SequenceClassifier, data: Any, layer: int = 0, n_samples: int | None = None,
                      batch_size: int = 256, *, center: bool = False, seed: int = 0) -> np.ndarray:
    """Σ̂ of one layer's hidden state (uncentred by default), streaming over sequences and steps.

    Returns an (H, H) matrix, or (2H, 2H) for a bidirectional layer with the directions' blocks
    on the diagonal and zeros across (each direction is reconstructed on its own). See
    :func:`hidden_moments` for sampling, warnings and errors.

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> model = build({"kind": "lstm", "input_size": 3, "hidden_size": 4, "num_classes": 2})
    >>> cov = hidden_covariance(model, torch.randn(20, 6, 3))
    >>> cov.shape, bool(np.allclose(cov, cov.T))
    ((4, 4), True)
    """
    second, mean, _ = hidden_moments(model, data, layer, n_samples, batch_size, seed)
    blocks = second - np.einsum("di,dj->dij", mean, mean) if center else second
    size = blocks.shape[1]
    cov = np.zeros((blocks.shape[0] * size,) * 2)
    for d, block in enumerate(blocks):
        cov[d * size:(d + 1) * size, d * size:(d + 1) * size] = block
    return cov


# --------------------------------------------------------------------------- the network

def _suffix(direction: int) -> str:
    return "_l0_reverse" if direction else "_l0"


def _consumers(model: SequenceClassifier, k: int) -> list[tuple[str, int, int, str]]:
    """Every weight that reads layer k's hidden state: (weight, direction of h it reads, column
    block holding that direction, bias of the same pre-activation)."""
    directions = 2 if model.config["bidirectional"] else 1
    last = len(model.layers) - 1
    found = []
    for d in range(directions):
        found.append((f"layers.{k}.weight_hh{_suffix(d)}", d, 0, f"layers.{k}.bias_hh{_suffix(d)}"))
        if k < last:
            for e in range(directions):
                found.append((f"layers.{k + 1}.weight_ih{_suffix(e)}", d, d, f"layers.{k + 1}.bias_ih{_suffix(e)}"))
        else:
            found.append(("readout.weight", d, d, "readout.bias"))
    if model.kind == "feedback" and k > 0:
        found.append((f"layers.{k - 1}.weight_td_l0", 0, 0, f"layers.{k - 1}.bias_hh_l0"))
    return found


def _consumer_weights(model: SequenceClassifier, k: int) -> list[np.ndarray]:
    """Per direction, Z: the consumers' columns for that direction's units, stacked by rows."""
    size = hidden_sizes(model)[k]
    directions = 2 if model.config["bidirectional"] else 1
    rows: list[list[np.ndarray]] = [[] for _ in range(directions)]
    for name, d, block, _ in _consumers(model, k):
        w = get_weight(model, name).detach().double().cpu().numpy()
        rows[d].append(w[:, block * size:(block + 1) * size])
    return [np.concatenate(r, axis=0) for r in rows]


def _compress_layer(model: SequenceClassifier, k: int, keep: torch.Tensor,
                    recon: list[np.ndarray] | None, shift: list[np.ndarray] | None) -> SequenceClassifier:
    """Remove the units of layer k outside ``keep`` and re-weight every consumer of its state
    through ``recon[d]`` (H × |J| per direction); ``shift[d]`` (H) adds W·shift to the bias."""
    keeps = [torch.arange(size) for size in hidden_sizes(model)]
    keeps[k] = keep
    small = remove_units(model, keeps)
    if recon is None:
        return small
    plan = unit_index_plan(model, keeps)
    size, new_size = hidden_sizes(model)[k], keep.numel()
    with torch.no_grad():
        for name, d, block, bias_name in _consumers(model, k):
            rows = plan[name][0]
            w = get_weight(model, name).detach()
            w = (w if rows is None else w[rows.to(w.device)])[:, block * size:(block + 1) * size].double().cpu()
            target = get_weight(small, name)
            target[:, block * new_size:(block + 1) * new_size] = (w @ torch.from_numpy(recon[d])).to(target)
            if shift is not None:
                bias = get_weight(small, bias_name)
                bias += (w @ torch.from_numpy(shift[d])).to(bias)
    return small


def _lambda_grid(scale: float) -> np.ndarray:
    return scale * np.logspace(-4, 1, 11)


def _layer_report(covs: np.ndarray, keep: np.ndarray | None, lam: float, Zs: list[np.ndarray], n: int) -> dict:
    """Diagnostics of one layer: spectrum, N̂ over a λ grid, the losses of J, the bound terms."""
    directions, size, _ = covs.shape
    eigenvalues = np.sort(np.concatenate([np.linalg.eigvalsh(c) for c in covs]))[::-1]
    eigenvalues = np.clip(eigenvalues, 0.0, None)
    trace = float(sum(np.trace(c) for c in covs))
    grid = np.unique(np.append(_lambda_grid(trace / (directions * size)), lam))
    ms = np.unique(np.linspace(1, size, num=min(size, 16)).round().astype(np.int64))
    report = {"eigenvalues": eigenvalues, "dof": {"lam": grid, "dof": degrees_of_freedom(eigenvalues, grid)},
              "lam": lam, "bound": bound_terms(eigenvalues, ms, grid, max(n, 2))}
    if keep is not None:
        l_a = sum(input_loss(c, keep, lam) for c in covs)
        report.update(L_A=l_a, L_A_rel=l_a / trace if trace > 0 else 0.0,
                      L_B=sum(output_loss(c, keep, lam, z) for c, z in zip(covs, Zs)))
    return report


def _layer_statistics(model: SequenceClassifier, inputs: torch.Tensor, layer: int, lam: float | None,
                      lam_scale: float, center: bool, batch_size: int, seed: int):
    """(covariance stack (D, H, H), means (D, H), λ, consumer weights Z per direction)."""
    second, mean, _ = hidden_moments(model, inputs, layer, inputs.shape[0], batch_size, seed)
    covs = second - np.einsum("di,dj->dij", mean, mean) if center else second
    if lam is None:
        lam = lam_scale * float(np.trace(covs.sum(axis=0))) / (covs.shape[0] * covs.shape[1])
        if lam <= 0:
            raise ValueError(f"layer {layer}'s hidden states are all zero on the data (Tr Σ̂ = 0): nothing to "
                             "select by; pass lam explicitly or check the model")
    return covs, mean, lam, _consumer_weights(model, layer)


def diagnostics(model: SequenceClassifier, data: Any, layer: int = 0, kept: Any = None, *,
                lam: float | None = None, lam_scale: float = 1e-3, center: bool = False,
                n_samples: int | None = None, batch_size: int = 256, seed: int = 0) -> dict[str, Any]:
    """The spectral view of one layer, for ``lattice-lab analyze`` and the notebooks.

    Returns a dict with ``eigenvalues`` (of Σ̂, descending; both directions of a bidirectional
    layer together), ``dof`` (``{"lam": grid, "dof": N̂(λ)}``), ``lam`` (the ridge used),
    ``bound`` (:func:`lattice_lab.ridge.bound_terms` over an m♯ grid and the λ grid),
    ``n_samples`` and, when ``kept`` (unit indices) is given, ``L_A``, ``L_A_rel``
    (L_A / Tr Σ̂) and ``L_B`` of that choice. Options as in :func:`spectral`.

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> model = build({"kind": "rnn", "input_size": 2, "hidden_size": 6, "num_classes": 2})
    >>> report = diagnostics(model, torch.randn(30, 5, 2), kept=[0, 1, 2])
    >>> len(report["eigenvalues"]), 0 < report["L_A_rel"] < 1
    (6, True)
    """
    _check_ridge(lam, lam_scale, "diagnostics")
    inputs = _choose_sequences(_inputs(data, "diagnostics"), n_samples, seed, "diagnostics")
    covs, _, lam, Zs = _layer_statistics(model, inputs, layer, lam, lam_scale, center, batch_size, seed)
    keep = None if kept is None else check_subset(kept, covs.shape[1])
    return dict(_layer_report(covs, keep, lam, Zs, inputs.shape[0]), n_samples=int(inputs.shape[0]))


def _raw_theta(theta: float, Zs: list[np.ndarray]) -> float:
    """θ·m/‖Z‖²_F (over all directions): the weight of L_B that makes ``theta`` scale-free."""
    norm = sum(float(np.sum(z ** 2)) for z in Zs)
    return theta * sum(z.shape[1] for z in Zs) / norm if theta > 0 and norm > 0 else 0.0


def _check_ridge(lam: Any, lam_scale: Any, caller: str) -> None:
    check_float(lam, "lam", caller, low=0, low_open=True, allow_none=True)
    check_float(lam_scale, "lam_scale", caller, low=0, low_open=True)


def _is_count(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _units_per_layer(sizes: list[int], amount: float, hidden_units: Any) -> list[int]:
    """Units kept per layer: from ``amount``, or the m♯ of ``hidden_units`` (each in [1, H - 1])."""
    if hidden_units is None:
        return [units_to_keep(size, check_amount(amount)) for size in sizes]
    if _is_count(hidden_units):
        wanted = [hidden_units] * len(sizes)
    else:
        wanted = list(hidden_units) if isinstance(hidden_units, Iterable) and not isinstance(hidden_units, str) else []
    if len(wanted) != len(sizes) or not all(_is_count(c) and 0 < c < size for c, size in zip(wanted, sizes)):
        fail("hidden_units", "spectral", f"None, an int or one int per layer, each in [1, H - 1] for a layer of H "
             f"units (these layers have {sizes})", hidden_units)
    return [int(c) for c in wanted]


@register("spectral", level="unit", needs_data=True,
          summary="keep the hidden units whose states best reconstruct the layer (ridge on the "
                  "state covariance), re-weighting their consumers through the reconstruction",
          diagnostic_labels={"dof": "N̂(λ)", "lam": "λ", "theta": "θ"}, diagnostic_plots=("dof",))
def spectral(model: SequenceClassifier, amount: float, *, data=None, scope: str = "recurrent", seed: int = 0,
             lam: float | None = None, lam_scale: float = 1e-3, theta: float = 3.0,
             selection: str = "greedy", reconstruct: bool = True, center: bool = False,
             n_samples: int | None = None, batch_size: int = 256,
             hidden_units: int | Sequence[int] | None = None) -> PruneResult:
    """Spectral pruning (Furuya et al. 2022, [reconstructed]): remove ``amount`` of each layer's units.

    Parameters
    ----------
    model : the model (a private copy when called through :func:`~lattice_lab.pruning.prune`;
        called directly, the input is not modified either).
    amount : fraction of hidden units removed per layer; kept = ``units_to_keep(H, amount)``.
    data : a dataset with ``.inputs`` (N, T, F), or such a tensor: where Σ̂ comes from.
    scope : unused (units are removed from every weight that touches them); kept for the contract.
    seed : seeds the subset of sequences and leverage sampling.
    lam : absolute ridge λ > 0; default ``lam_scale · Tr Σ̂ / m`` per layer.
    lam_scale : λ relative to the mean state variance Tr Σ̂ / m (used when ``lam`` is None).
    theta : relative weight θ ≥ 0 of the output loss: J minimizes L_A + θ·(m/‖Z‖²_F)·L_B, so
        θ = 1 weighs both losses alike for an isotropic residual whatever the scale of the
        consumer weights Z (the raw weight θ·m/‖Z‖²_F is in ``info["theta_raw"]``). Greedy only.
        Default 3, the best of θ ∈ {0, 1, 3} on a row-MNIST LSTM-128 when it was chosen
        (``docs/METHODS.md``, "Measured in this project").
    selection : ``"greedy"`` (default) or ``"leverage"`` (ridge-leverage-score sampling).
    reconstruct : re-weight through Â_J (True, the method) or just slice the kept units (False).
    center : use the centred covariance and an affine reconstruction h ≈ μ + Â_J(h_J − μ_J),
        folding W(μ − Â_J μ_J) into the consumers' biases (the uncentred form is the paper's).
    n_samples : sequences used for Σ̂ (default 2000, 500 in fast mode).
    batch_size : sequences per forward pass while collecting states.
    hidden_units : units kept per layer (an int for every layer, or one per layer, each in
        (0, H)); overrides ``amount``.

    Returns
    -------
    PruneResult with the smaller model, ``kept_units`` and ``info``: ``kept``, ``lam``,
    ``L_A`` / ``L_A_rel`` (relative to Tr Σ̂) / ``L_B`` of the chosen J, ``eigenvalues`` (of Σ̂,
    descending), ``dof`` (``{"lam": grid, "dof": N̂}``), ``bound`` (see
    :func:`lattice_lab.ridge.bound_terms`) — each a list with one entry per layer — and
    ``n_samples``, ``n_states``, ``reconstruct``, ``selection``, ``theta``, ``center``. A layer
    that keeps all its units is left unchanged (Â = I), so ``amount=0`` returns an exact copy.
    """
    view = attached_view(model)  # a model of the user's own, through its recurrent view
    if view is None:
        check_instance(model, "model", "spectral", SequenceClassifier, "a lattice_lab SequenceClassifier")
    if data is None:
        raise ValueError("spectral pruning needs data: a dataset from lattice_lab.data.load or an (N, T, F) tensor")
    check_choice(selection, "selection", "spectral", SELECTIONS)
    _check_ridge(lam, lam_scale, "spectral")
    theta = check_float(theta, "theta", "spectral", low=0)
    check_bool(reconstruct, "reconstruct", "spectral")
    check_bool(center, "center", "spectral")
    if view is not None:
        return _spectral_foreign(model, view, amount, data, seed=seed, lam=lam, lam_scale=lam_scale, theta=theta,
                                 selection=selection, reconstruct=reconstruct, center=center, n_samples=n_samples,
                                 batch_size=batch_size, hidden_units=hidden_units)
    sizes = hidden_sizes(model)
    counts = _units_per_layer(sizes, amount, hidden_units)
    inputs = _choose_sequences(_inputs(data, "spectral"), n_samples, seed, "spectral")
    current = make_permanent(model)  # a copy; re-weighted matrices are dense anyway
    keys = ("lam", "L_A", "L_A_rel", "L_B", "eigenvalues", "dof", "bound")
    info: dict[str, Any] = {key: [] for key in ("kept", "theta_raw") + keys}
    for k, (size, count) in enumerate(zip(sizes, counts)):
        if count == size:  # nothing removed: Â = I, the layer stays exactly as it is
            info["kept"].append(torch.arange(size))
            for key in ("theta_raw",) + keys:
                info[key].append(None)
            continue
        covs, mean, layer_lam, Zs = _layer_statistics(current, inputs, k, lam, lam_scale, center, batch_size, seed)
        if selection == "greedy":
            raw = _raw_theta(theta, Zs)
            info["theta_raw"].append(raw)
            chosen = greedy_select(covs, count, layer_lam, raw, Zs if raw > 0 else None)
        else:
            info["theta_raw"].append(None)
            chosen = leverage_select(covs, count, layer_lam, seed)
        J = np.sort(chosen)
        recon = [reconstruction_matrix(c, J, layer_lam) for c in covs] if reconstruct else None
        shift = [mu - a @ mu[J] for mu, a in zip(mean, recon)] if (center and reconstruct) else None
        current = _compress_layer(current, k, torch.from_numpy(J), recon, shift)
        report = _layer_report(covs, J, layer_lam, Zs, inputs.shape[0])
        info["kept"].append(torch.from_numpy(J))
        for key in keys:
            info[key].append(report[key])
    info.update(n_samples=int(inputs.shape[0]), n_states=int(inputs.shape[0] * inputs.shape[1]),
                reconstruct=reconstruct, selection=selection, theta=theta, center=center)
    return PruneResult(model=current, kept_units=list(info["kept"]), info=info)


def _spectral_foreign(model, view, amount, data, *, seed, lam, lam_scale, theta, selection, reconstruct, center,
                      n_samples, batch_size, hidden_units) -> PruneResult:
    """:func:`spectral` on a model of the user's own (:mod:`lattice_lab.pruning.spectral_foreign`)."""
    if center:
        raise ValueError("The 'center' option of spectral is not offered on a model of the user's own: the affine "
                         "reconstruction needs a bias in every reader of the units.")
    n_samples = check_range(n_samples, "n_samples", "spectral", "samples", allow_none=True)
    batch_size = check_range(batch_size, "batch_size", "spectral", "batch_size")
    counts = _units_per_layer(view.hidden_sizes(), amount, hidden_units)
    small, info = spectral_on_view(model, view, data, counts, lam=lam, lam_scale=lam_scale, theta=theta,
                                   selection=selection, reconstruct=reconstruct,
                                   n_samples=n_samples,
                                   batch_size=batch_size, seed=seed, raw_theta=_raw_theta,
                                   layer_report=_layer_report)
    return PruneResult(model=small, kept_units=list(info["kept"]), info=info)
