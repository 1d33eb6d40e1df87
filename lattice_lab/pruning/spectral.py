"""Spectral pruning of recurrent networks: keep the hidden units that best reconstruct the rest.

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

The greedy update is exact: adding unit j to J is a Schur-complement step on Σ̂_{J,J} + λI with
pivot R_jj + λ, so R(J ∪ {j}) = R(J) − R[:,j] R[j,:] / (R_jj + λ) and the objective drops by
R[:,j]ᵀ (I + θZᵀZ) R[:,j] / (R_jj + λ). :func:`greedy_select` keeps R in factored form
(R = Σ̂ − LLᵀ, like a pivoted Cholesky), so one step costs two m×m matrix-vector products.

LSTM/GRU (the extension, not in the paper): the same J in every gate block, Σ̂ of h only; the
LSTM cell state c is not reconstructed (each kept unit keeps its own c, whose update only sees
the reconstructed h). Multi-layer models are compressed bottom-up, and Σ̂ of layer k is taken
from the model whose layers below k are already compressed, so the choice at layer k sees (and
its Â_J partly corrects) the error made below. Bidirectional layers keep the same J in both
directions; each direction gets its own Σ̂ and Â_J (the block-diagonal approximation: the
losses of the two directions add).

Pure functions for notebooks and benchmarks: :func:`hidden_covariance`, :func:`degrees_of_freedom`,
:func:`reconstruction_matrix`, :func:`input_loss`, :func:`output_loss`, :func:`greedy_select`,
:func:`leverage_select`, :func:`bound_terms`; :func:`diagnostics` is the per-layer report that
``lattice-lab analyze`` can print.

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
import warnings
from typing import Any, Sequence

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from ..models import SequenceClassifier, get_weight, hidden_sizes
from ..settings import fast
from ..surgery import make_permanent, remove_units, unit_index_plan
from .base import PruneResult, check_amount, register, units_to_keep

SELECTIONS = ("greedy", "leverage")
MIN_STATES_PER_UNIT = 10  # fewer state vectors than this many per hidden dimension: warn


# --------------------------------------------------------------------------- validation

def _check_lam(lam: Any) -> float:
    if isinstance(lam, bool) or not isinstance(lam, (int, float, np.floating)) or not math.isfinite(lam) \
            or lam <= 0:
        raise ValueError(f"lam must be a finite number > 0 (the ridge λ), got {lam!r}")
    return float(lam)


def _check_cov(cov: Any) -> np.ndarray:
    cov = np.asarray(cov, dtype=np.float64)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or cov.shape[0] == 0:
        raise ValueError(f"cov must be a square (m, m) matrix, got shape {cov.shape}")
    if not np.all(np.isfinite(cov)):
        raise ValueError("cov has NaN or infinite entries")
    return cov


def _check_subset(J: Any, m: int) -> np.ndarray:
    J = np.asarray(J, dtype=np.int64).reshape(-1)
    if J.size == 0:
        raise ValueError("J must hold at least one unit index")
    if J.min() < 0 or J.max() >= m or np.unique(J).size != J.size:
        raise ValueError(f"J must hold distinct unit indices in [0, {m}), got {J.tolist()}")
    return J


def _check_count(name: str, k: Any, m: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= m:
        raise ValueError(f"{name} must be an integer in [1, {m}] (units kept), got {k!r}")
    return int(k)


# --------------------------------------------------------------------------- pure linear algebra

def degrees_of_freedom(eigenvalues: Any, lam: Any) -> np.ndarray | float:
    """N̂(λ) = Tr[Σ̂(Σ̂ + λI)⁻¹] = Σ_i σ_i / (σ_i + λ), the effective dimension of Σ̂ at ridge λ.

    Parameters
    ----------
    eigenvalues : array of the eigenvalues σ_i ≥ 0 of Σ̂ (tiny negative round-off is clipped).
    lam : a ridge λ > 0, or an array of them.

    Returns
    -------
    float for a scalar ``lam``, else an array of the shape of ``lam``.

    Examples
    --------
    >>> float(degrees_of_freedom([1.0, 1.0, 0.0], 1.0))
    1.0
    >>> degrees_of_freedom([3.0, 1.0], [1.0, 3.0]).round(3).tolist()
    [1.25, 0.75]
    """
    sigma = np.clip(np.asarray(eigenvalues, dtype=np.float64).reshape(-1), 0.0, None)
    lams = np.asarray(lam, dtype=np.float64)
    for value in lams.reshape(-1):
        _check_lam(float(value))
    dof = (sigma[:, None] / (sigma[:, None] + lams.reshape(1, -1))).sum(axis=0)
    return float(dof[0]) if lams.ndim == 0 else dof.reshape(lams.shape)


def reconstruction_matrix(cov: Any, J: Any, lam: float) -> np.ndarray:
    """Â_J = Σ̂_{F,J}(Σ̂_{J,J} + λI)⁻¹, shape (m, |J|): ĥ = Â_J h_J reconstructs the full state.

    Examples
    --------
    >>> cov = np.array([[2.0, 2.0], [2.0, 2.0]])       # unit 1 copies unit 0
    >>> reconstruction_matrix(cov, [0], 1e-9).round(6).tolist()
    [[1.0], [1.0]]
    """
    cov = _check_cov(cov)
    J = _check_subset(J, cov.shape[0])
    lam = _check_lam(lam)
    gram = cov[np.ix_(J, J)] + lam * np.eye(J.size)
    return np.linalg.solve(gram, cov[J, :]).T  # gram is symmetric: (gram⁻¹ Σ_{J,F})ᵀ


def residual_matrix(cov: Any, J: Any, lam: float) -> np.ndarray:
    """R(J) = Σ̂ − Σ̂_{F,J}(Σ̂_{J,J} + λI)⁻¹Σ̂_{J,F}, the (ridge) covariance left unexplained by J.

    Examples
    --------
    >>> residual_matrix(np.eye(2), [0], 1.0).tolist()
    [[0.5, 0.0], [0.0, 1.0]]
    """
    cov = _check_cov(cov)
    J = _check_subset(J, cov.shape[0])
    return cov - reconstruction_matrix(cov, J, lam) @ cov[J, :]


def input_loss(cov: Any, J: Any, lam: float) -> float:
    """L_A(J) = Tr R(J) = min_A E‖h − A h_J‖² + λ‖A‖²_F (the minimum is at A = Â_J).

    Examples
    --------
    >>> round(input_loss(np.diag([4.0, 1.0]), [0], 1.0), 12)    # 4 - 16/5 for the kept unit, 1 for the other
    1.8
    """
    return float(np.trace(residual_matrix(cov, J, lam)))


def output_loss(cov: Any, J: Any, lam: float, Z: Any) -> float:
    """L_B(J) = Tr[Z R(J) Zᵀ]: the input loss seen through the weights Z (p, m) that consume h.

    Examples
    --------
    >>> output_loss(np.diag([4.0, 1.0]), [0], 1.0, np.array([[0.0, 2.0]]))   # only unit 1 is read
    4.0
    """
    Z = np.asarray(Z, dtype=np.float64)
    residual = residual_matrix(cov, J, lam)
    if Z.ndim != 2 or Z.shape[1] != residual.shape[0]:
        raise ValueError(f"Z must have shape (p, {residual.shape[0]}), got {Z.shape}")
    return float(np.einsum("pi,ij,pj->", Z, residual, Z))


def _as_blocks(cov: Any, Z: Any) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """Covariances as a (D, m, m) stack and one Z (or None) per block."""
    cov = np.asarray(cov, dtype=np.float64)
    if cov.ndim == 2:
        cov = cov[None]
        Z = None if Z is None else [Z]
    if cov.ndim != 3 or cov.shape[1] != cov.shape[2] or cov.shape[1] == 0:
        raise ValueError(f"cov must have shape (m, m) or (D, m, m), got {cov.shape}")
    if not np.all(np.isfinite(cov)):
        raise ValueError("cov has NaN or infinite entries")
    if Z is None:
        return cov, [None] * cov.shape[0]
    if len(Z) != cov.shape[0]:
        raise ValueError(f"Z needs one matrix per covariance block ({cov.shape[0]}), got {len(Z)}")
    blocks = []
    for z in Z:
        z = np.asarray(z, dtype=np.float64)
        if z.ndim != 2 or z.shape[1] != cov.shape[1]:
            raise ValueError(f"Z must have shape (p, {cov.shape[1]}), got {z.shape}")
        blocks.append(z)
    return cov, blocks


def greedy_select(cov: Any, k: int, lam: float, theta: float = 0.0, Z: Any = None) -> np.ndarray:
    """Choose k units one at a time, each minimizing L_A + θ·L_B given those already chosen.

    Exact incremental algorithm. With R the current residual (R = Σ̂ for J = ∅) and
    W = I + θZᵀZ, adding unit j is a Schur-complement step on Σ̂_{J,J} + λI with pivot
    R_jj + λ:  R ← R − R[:,j]R[j,:]/(R_jj + λ), and the objective Tr[W R] drops by
    g_j = R[:,j]ᵀ W R[:,j] / (R_jj + λ). R is stored as Σ̂ − LLᵀ (L grows by the column
    R[:,j]/√(R_jj + λ) per step) and the numerators R[:,j]ᵀWR[:,j] and the diagonal of R are
    updated in O(m·|J|) plus two m×m matrix-vector products per step: O(k·m²) in all.

    Parameters
    ----------
    cov : (m, m) covariance Σ̂, or a (D, m, m) stack (e.g. the two directions of a
        bidirectional layer) whose losses add and which share J.
    k : units to keep, 1 ≤ k ≤ m.
    lam : ridge λ > 0.
    theta : weight θ ≥ 0 of the output loss.
    Z : (p, m) consumer weights (one per block for a stack); needed when ``theta > 0``.

    Returns
    -------
    int array of k unit indices **in the order chosen** (so ``[:j]`` is the greedy choice of j).

    Examples
    --------
    >>> cov = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 0.5]])
    >>> greedy_select(cov, 2, 1e-3).tolist()            # one of the correlated pair, then the third
    [0, 2]
    """
    covs, Zs = _as_blocks(cov, Z)
    D, m, _ = covs.shape
    k = _check_count("k", k, m)
    lam = _check_lam(lam)
    if isinstance(theta, bool) or not isinstance(theta, (int, float)) or not math.isfinite(theta) or theta < 0:
        raise ValueError(f"theta must be a finite number >= 0, got {theta!r}")
    if theta > 0 and any(z is None for z in Zs):
        raise ValueError("theta > 0 needs Z, the weights that consume the hidden state")
    grams = [None if theta == 0 else z.T @ z for z in Zs]
    # per block: numerators num_j = R[:,j]ᵀ W R[:,j], diagonal of R, factor L (k, m)
    nums = np.empty((D, m))
    diags = np.empty((D, m))
    for d in range(D):
        weighted = covs[d] if grams[d] is None else covs[d] + theta * grams[d] @ covs[d]
        nums[d] = np.einsum("ij,ij->j", covs[d], weighted)
        diags[d] = np.diag(covs[d]).copy()
    factors = np.zeros((D, k, m))
    chosen = np.zeros(m, dtype=bool)
    order = np.empty(k, dtype=np.int64)
    with threadpool_limits(1, user_api="blas"):  # matrix-vector products: threads only contend
        for step in range(k):
            _greedy_step(covs, grams, theta, lam, nums, diags, factors, chosen, order, step)
    return order


def _greedy_step(covs, grams, theta, lam, nums, diags, factors, chosen, order, step) -> None:
    """One step of :func:`greedy_select`: pick the best unit, then update nums, diags and the
    factor row ``step`` of every block in place (R = Σ̂ − LᵀL with L = factors[d, :step])."""
    gains = (nums / (diags + lam)).sum(axis=0)
    gains[chosen] = -np.inf
    j = int(np.argmax(gains))
    order[step], chosen[j] = j, True
    for d in range(covs.shape[0]):
        done = factors[d, :step]
        r = covs[d][:, j] - done.T @ done[:, j]  # R[:, j]
        pivot = diags[d, j] + lam
        wr = r if grams[d] is None else r + theta * (grams[d] @ r)
        rwr = covs[d] @ wr - done.T @ (done @ wr)  # R W r
        nums[d] += -2.0 * r * rwr / pivot + r * r * float(r @ wr) / pivot ** 2
        diags[d] -= r * r / pivot
        factors[d, step] = r / math.sqrt(pivot)


def leverage_scores(cov: Any, lam: float) -> np.ndarray:
    """Ridge leverage scores τ_j = [Σ̂(Σ̂ + λI)⁻¹]_jj; they sum to N̂(λ).

    Examples
    --------
    >>> leverage_scores(np.diag([3.0, 1.0]), 1.0).tolist()
    [0.75, 0.5]
    """
    cov = _check_cov(cov)
    lam = _check_lam(lam)
    sigma, U = np.linalg.eigh(cov)
    sigma = np.clip(sigma, 0.0, None)
    return np.einsum("ji,i,ji->j", U, sigma / (sigma + lam), U)


def leverage_select(cov: Any, k: int, lam: float, seed: int = 0) -> np.ndarray:
    """Sample k distinct units with probabilities proportional to their ridge leverage scores.

    The sampling scheme of Suzuki et al. (2020) (after Bach, 2017): with
    m♯ ≳ N̂(λ) log N̂(λ) samples, L_A(J) ≤ 4λ with high probability. Sampling here is without
    replacement (``numpy.random.Generator.choice``), seeded. A (D, m, m) stack sums the scores.

    Returns
    -------
    int array of k unit indices, sorted.

    Examples
    --------
    >>> leverage_select(np.diag([5.0, 4.0, 1e-6, 1e-6]), 2, 0.1).tolist()
    [0, 1]
    """
    covs, _ = _as_blocks(cov, None)
    k = _check_count("k", k, covs.shape[1])
    scores = sum(leverage_scores(c, lam) for c in covs)
    scores = np.clip(scores, 1e-300, None)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(scores.size, size=k, replace=False, p=scores / scores.sum()))


def bound_terms(eigenvalues: Any, m_sharp: Any, lam: Any, n: int) -> dict[str, np.ndarray]:
    """Bias and variance terms of the generalization bound, over grids of m♯ and λ.

    **[reconstructed]** after Suzuki et al. (IJCAI 2020), Thm. 1–2, with every constant and
    Lipschitz factor of the network dropped — only the shapes in m♯ and λ are meaningful:

    - ``required[λ] = 5 N̂(λ) log(80 N̂(λ))`` (at least 1): the number of units for which
      leverage sampling guarantees L_A(J) ≤ 4λ; ``feasible[m♯, λ] = m♯ ≥ required[λ]``.
    - ``bias[m♯, λ] = 2√λ`` where feasible, else ``inf``: the RMS state reconstruction error
      √L_A it guarantees (it reaches the output through Lipschitz layers).
    - ``variance[m♯] = √(m♯² log(n) / n)``: a Rademacher-style term, the parameter count of the
      compressed m♯ × m♯ recurrent matrix times log n, over n training sequences.
    - ``total = bias + variance``; ``best_lam[m♯]`` the smallest grid λ that is feasible (NaN if
      none): more units allow a smaller λ (less bias) at the price of more variance.

    Parameters
    ----------
    eigenvalues : eigenvalues of Σ̂.
    m_sharp : units kept (int or 1-D grid of ints ≥ 1).
    lam : ridge λ > 0 (number or 1-D grid).
    n : number of training sequences behind Σ̂ (≥ 2).

    Examples
    --------
    >>> terms = bound_terms([4.0, 1.0, 0.01], [1, 3], [0.01, 100.0], n=1000)
    >>> terms["feasible"].tolist()           # a small λ needs far more than 3 units
    [[False, True], [False, True]]
    >>> terms["bias"][:, 1].tolist(), terms["best_lam"].tolist()
    ([20.0, 20.0], [100.0, 100.0])
    """
    ms = np.atleast_1d(np.asarray(m_sharp))
    if ms.ndim != 1 or not np.issubdtype(ms.dtype, np.integer) or np.any(ms < 1):
        raise ValueError(f"m_sharp must be an integer or 1-D array of integers >= 1, got {m_sharp!r}")
    lams = np.atleast_1d(np.asarray(lam, dtype=np.float64))
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2 (training sequences), got {n!r}")
    dof = np.atleast_1d(degrees_of_freedom(eigenvalues, lams))
    required = np.maximum(5.0 * dof * np.log(np.maximum(80.0 * dof, 1.0)), 1.0)
    feasible = ms[:, None] >= required[None, :]
    bias = np.where(feasible, 2.0 * np.sqrt(lams)[None, :], np.inf)
    variance = np.sqrt(ms.astype(np.float64) ** 2 * math.log(n) / n)
    masked = np.where(feasible, lams[None, :], np.inf).min(axis=1)
    return {"m_sharp": ms, "lam": lams, "dof": dof, "required": required, "feasible": feasible,
            "bias": bias, "variance": variance, "total": bias + variance[:, None],
            "best_lam": np.where(np.isfinite(masked), masked, np.nan)}


# --------------------------------------------------------------------------- hidden states

def _inputs(data: Any) -> torch.Tensor:
    inputs = getattr(data, "inputs", data)
    if not isinstance(inputs, torch.Tensor) or inputs.dim() != 3:
        raise TypeError("data must be a dataset with .inputs (N, T, F) (lattice_lab.data.load) or a "
                        f"tensor of shape (N, T, F), got {type(data).__name__}")
    if inputs.shape[0] == 0:
        raise ValueError("data holds no sequences")
    return inputs


def _choose_sequences(inputs: torch.Tensor, n_samples: int | None, seed: int) -> torch.Tensor:
    """``n_samples`` sequences: all if there are no more, else a seeded subset (order kept)."""
    default = 500 if fast() else 2000
    n = default if n_samples is None else n_samples
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n_samples must be a positive integer (sequences), got {n_samples!r}")
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
    if not isinstance(model, SequenceClassifier):
        raise TypeError(f"model must be a lattice_lab SequenceClassifier, got {type(model).__name__}")
    sizes = hidden_sizes(model)
    if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < len(sizes):
        raise ValueError(f"layer must be an integer in [0, {len(sizes)}), got {layer!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    inputs = _choose_sequences(_inputs(data), n_samples, seed)
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
    size, kept = hidden_sizes(model)[k], keep.numel()
    with torch.no_grad():
        for name, d, block, bias_name in _consumers(model, k):
            rows = plan[name][0]
            w = get_weight(model, name).detach()
            w = (w if rows is None else w[rows.to(w.device)])[:, block * size:(block + 1) * size].double().cpu()
            target = get_weight(small, name)
            target[:, block * kept:(block + 1) * kept] = (w @ torch.from_numpy(recon[d])).to(target)
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
    ``bound`` (:func:`bound_terms` over an m♯ grid and the λ grid), ``n_samples`` and, when
    ``kept`` (unit indices) is given, ``L_A``, ``L_A_rel`` (L_A / Tr Σ̂) and ``L_B`` of that
    choice. Options as in :func:`spectral`.

    Examples
    --------
    >>> from lattice_lab.models import build
    >>> model = build({"kind": "rnn", "input_size": 2, "hidden_size": 6, "num_classes": 2})
    >>> report = diagnostics(model, torch.randn(30, 5, 2), kept=[0, 1, 2])
    >>> len(report["eigenvalues"]), 0 < report["L_A_rel"] < 1
    (6, True)
    """
    if lam is not None:
        _check_lam(lam)
    _check_lam(lam_scale)
    inputs = _choose_sequences(_inputs(data), n_samples, seed)
    covs, _, lam, Zs = _layer_statistics(model, inputs, layer, lam, lam_scale, center, batch_size, seed)
    keep = None if kept is None else _check_subset(kept, covs.shape[1])
    return dict(_layer_report(covs, keep, lam, Zs, inputs.shape[0]), n_samples=int(inputs.shape[0]))


def _raw_theta(theta: float, Zs: list[np.ndarray]) -> float:
    """θ·m/‖Z‖²_F (over all directions): the weight of L_B that makes ``theta`` scale-free."""
    norm = sum(float(np.sum(z ** 2)) for z in Zs)
    return theta * sum(z.shape[1] for z in Zs) / norm if theta > 0 and norm > 0 else 0.0


def _units_per_layer(sizes: list[int], amount: float, hidden_units: Any) -> list[int]:
    if hidden_units is None:
        return [units_to_keep(size, check_amount(amount)) for size in sizes]
    wanted = [hidden_units] * len(sizes) if isinstance(hidden_units, (int, np.integer)) else list(hidden_units)
    if len(wanted) != len(sizes):
        raise ValueError(f"hidden_units needs one count per layer ({len(sizes)}), got {hidden_units!r}")
    for k, (count, size) in enumerate(zip(wanted, sizes)):
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or not 0 < count < size:
            raise ValueError(f"hidden_units[{k}] (m♯) must be an integer with 0 < m♯ < {size} "
                             f"(layer {k} has {size} units), got {count!r}")
    return [int(c) for c in wanted]


@register("spectral", level="unit", needs_data=True,
          summary="keep the hidden units whose states best reconstruct the layer (ridge on the "
                  "state covariance), re-weighting their consumers through the reconstruction",
          colour="#2ca02c", diagnostic_labels={"dof": "N̂(λ)", "lam": "λ", "theta": "θ"}, diagnostic_plots=("dof",))
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
        Default 3: on a row-MNIST LSTM-128 (98.88% dense) keeping 64 units gave, over three
        subsets of Σ̂'s sequences, 96.8% (θ = 0), 97.3% (θ = 1) and 97.6% (θ = 3) mean accuracy.
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
    descending), ``dof`` (``{"lam": grid, "dof": N̂}``), ``bound`` (see :func:`bound_terms`) —
    each a list with one entry per layer — and ``n_samples``, ``n_states``, ``reconstruct``,
    ``selection``, ``theta``, ``center``. A layer that keeps all its units is left unchanged
    (Â = I), so ``amount=0`` returns an exact copy.
    """
    if not isinstance(model, SequenceClassifier):
        raise TypeError(f"model must be a lattice_lab SequenceClassifier, got {type(model).__name__}")
    if data is None:
        raise ValueError("spectral pruning needs data: a dataset from lattice_lab.data.load or an (N, T, F) tensor")
    if selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {SELECTIONS}, got {selection!r}")
    if lam is not None:
        _check_lam(lam)
    _check_lam(lam_scale)
    if isinstance(theta, bool) or not isinstance(theta, (int, float)) or not math.isfinite(theta) or theta < 0:
        raise ValueError(f"theta must be a finite number >= 0, got {theta!r}")
    sizes = hidden_sizes(model)
    counts = _units_per_layer(sizes, amount, hidden_units)
    inputs = _choose_sequences(_inputs(data), n_samples, seed)
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
