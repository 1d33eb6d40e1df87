"""Ridge reconstruction of a covariance by a subset of its coordinates: the linear algebra of
spectral pruning, in numpy only.

Given a covariance Σ̂ (m × m) of m hidden units and a ridge λ > 0, a subset J of kept units
reconstructs the whole state by the ridge regression Â_J = Σ̂_{F,J}(Σ̂_{J,J} + λI)⁻¹
(F = all units); what it leaves unexplained is the residual R(J) = Σ̂ − Σ̂_{F,J}(Σ̂_{J,J} +
λI)⁻¹Σ̂_{J,F}, whose trace is the input loss L_A(J) and whose image through consumer weights Z
is the output loss L_B(J) = Tr[Z R(J) Zᵀ]. This module chooses J (greedily, or by ridge
leverage-score sampling), measures it, and gives the degrees of freedom N̂(λ) and the terms of
the generalization bound that tie the number of units to λ. The formulas are **[reconstructed]**
after Suzuki et al., "Spectral pruning", IJCAI 2020, as used for RNNs by Furuya et al., AISTATS
2022 (``docs/METHODS.md`` §2); :mod:`lattice_lab.pruning.spectral_units` applies them to a network.

The greedy update is exact: adding unit j to J is a Schur-complement step on Σ̂_{J,J} + λI with
pivot R_jj + λ, so R(J ∪ {j}) = R(J) − R[:,j] R[j,:] / (R_jj + λ) and the objective drops by
R[:,j]ᵀ (I + θZᵀZ) R[:,j] / (R_jj + λ). :func:`greedy_select` keeps R in factored form
(R = Σ̂ − LLᵀ, like a pivoted Cholesky), so one step costs two m×m matrix-vector products.

Why a module of its own: the maths knows nothing about networks or torch (notebooks and
benchmarks call it on plain arrays), and its old home ``lattice_lab.pruning.spectral`` clashed
in name with :mod:`lattice_lab.spectral` (the spectra of graphs).

Numpy only (and ``threadpoolctl``); from the package it takes nothing but the validation vocabulary.
Must not import: models, surgery, devices, train, data, graphs, spectral, posets, pruning, compare, widgets, cli.

Examples
--------
>>> import numpy as np
>>> cov = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 0.5]])
>>> J = greedy_select(cov, 2, 1e-3)
>>> J.tolist(), round(input_loss(cov, J, 1e-3), 3)
([0, 2], 0.193)
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from .validation import check_float, check_int, fail

__all__ = ["bound_terms", "check_subset", "degrees_of_freedom", "greedy_select", "input_loss", "leverage_scores",
           "leverage_select", "output_loss", "reconstruction_matrix", "residual_matrix"]


# --------------------------------------------------------------------------- validation

def _check_lam(lam: Any, caller: str) -> float:
    return check_float(lam, "lam", caller, low=0, low_open=True)


def _check_cov(cov: Any) -> np.ndarray:
    cov = np.asarray(cov, dtype=np.float64)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or cov.shape[0] == 0:
        raise ValueError(f"cov must be a square (m, m) matrix, got shape {cov.shape}")
    if not np.all(np.isfinite(cov)):
        raise ValueError("cov has NaN or infinite entries")
    return cov


def check_subset(J: Any, m: int) -> np.ndarray:
    """``J`` as an int array of distinct unit indices in ``[0, m)`` (at least one).

    >>> check_subset([2, 0], 3).tolist()
    [2, 0]
    """
    J = np.asarray(J, dtype=np.int64).reshape(-1)
    if J.size == 0:
        raise ValueError("J must hold at least one unit index")
    if J.min() < 0 or J.max() >= m or np.unique(J).size != J.size:
        raise ValueError(f"J must hold distinct unit indices in [0, {m}), got {J.tolist()}")
    return J


# --------------------------------------------------------------------------- reconstruction and losses

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
        _check_lam(float(value), "degrees_of_freedom")
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
    J = check_subset(J, cov.shape[0])
    lam = _check_lam(lam, "reconstruction_matrix")
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
    J = check_subset(J, cov.shape[0])
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


# --------------------------------------------------------------------------- choosing the units

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
    k = check_int(k, "k", "greedy_select", low=1, high=m)
    lam = _check_lam(lam, "greedy_select")
    theta = check_float(theta, "theta", "greedy_select", low=0)
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
    lam = _check_lam(lam, "leverage_scores")
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
    k = check_int(k, "k", "leverage_select", low=1, high=covs.shape[1])
    scores = sum(leverage_scores(c, lam) for c in covs)
    scores = np.clip(scores, 1e-300, None)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(scores.size, size=k, replace=False, p=scores / scores.sum()))


# --------------------------------------------------------------------------- the bound

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
        fail("m_sharp", "bound_terms", "an int or a 1-D array of ints >= 1", m_sharp)
    lams = np.atleast_1d(np.asarray(lam, dtype=np.float64))
    n = check_int(n, "n", "bound_terms", low=2)
    dof = np.atleast_1d(degrees_of_freedom(eigenvalues, lams))
    required = np.maximum(5.0 * dof * np.log(np.maximum(80.0 * dof, 1.0)), 1.0)
    feasible = ms[:, None] >= required[None, :]
    bias = np.where(feasible, 2.0 * np.sqrt(lams)[None, :], np.inf)
    variance = np.sqrt(ms.astype(np.float64) ** 2 * math.log(n) / n)
    masked = np.where(feasible, lams[None, :], np.inf).min(axis=1)
    return {"m_sharp": ms, "lam": lams, "dof": dof, "required": required, "feasible": feasible,
            "bias": bias, "variance": variance, "total": bias + variance[:, None],
            "best_lam": np.where(np.isfinite(masked), masked, np.nan)}
