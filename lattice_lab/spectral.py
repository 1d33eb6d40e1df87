"""Spectra of graphs and of bipartite layers: gaps, Ramanujan bounds, Δ_r, Cheeger, expander masks.

Two kinds of object are measured here.

* **Undirected graphs** (a symmetric adjacency matrix, dense or sparse, or a networkx graph):
  adjacency and Laplacian spectra, spectral gaps, the Cheeger inequality and the Ramanujan
  property of d-regular graphs.
* **Bipartite layers**: a weight of shape ``(out, in)`` with a 0/1 mask ``M`` is a bipartite graph
  whose rows are the outputs and whose columns are the inputs; ``M`` is its biadjacency matrix, so
  the graph's adjacency eigenvalues are ``±σ_i(M)`` (and zeros). ``μ̂ = σ₂(M)`` measures how far the
  layer is from an ideal expander: biregular Ramanujan bounds and the irregular-mask score Δ_r of
  Pal et al. (ICML 2022), which Kalra et al. (arXiv 2403.11100) track while pruning RNN layers.

References
----------
- F. R. K. Chung, *Spectral Graph Theory*, CBMS 92, AMS 1997 (Laplacians, Cheeger inequality).
- S. Hoory, N. Linial, A. Wigderson, "Expander graphs and their applications", Bull. AMS 43 (2006).
- A. Lubotzky, R. Phillips, P. Sarnak, "Ramanujan graphs", Combinatorica 8 (1988).
- B. Pal, A. Biswas, S. Kolay, P. Mitra, B. Basu, "A Study on the Ramanujan Graph Property of
  Winning Lottery Tickets", ICML 2022 (Δ_r for irregular bipartite layers).
- S. A. Kalra, A. Biswas, P. Mitra, B. Basu, "Graph Expansion in Pruned Recurrent Neural Network
  Layers Preserve Performance", arXiv 2403.11100 (2024).

Pure numpy / scipy / networkx: never torch, never matplotlib. The mask generators refuse, before
allocating, a size whose dense mask could not fit in memory (:func:`lattice_lab.memory.check_fits`).
Must not import anything from the package (except memory and validation).

Examples
--------
>>> import networkx as nx
>>> from lattice_lab import spectral
>>> G = nx.petersen_graph()
>>> spectral.adjacency_spectrum(G).round(6).tolist()
[3.0, 1.0, 1.0, 1.0, 1.0, 1.0, -2.0, -2.0, -2.0, -2.0]
>>> spectral.is_ramanujan_regular(G)
True
>>> M = spectral.biregular_mask(128, 128, 8, seed=0)
>>> spectral.is_ramanujan_biregular(M)
True
"""
from __future__ import annotations

import math
from collections.abc import Collection, Hashable
from typing import Literal, Union

import networkx as nx
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

from .memory import check_fits
from .validation import check_choice, check_float, check_int, check_range

GraphLike = Union[np.ndarray, sp.spmatrix, sp.sparray, nx.Graph]
"""A symmetric adjacency matrix (numpy or scipy sparse) or an undirected networkx graph."""

MaskLike = Union[np.ndarray, sp.spmatrix, sp.sparray]
"""A 2-D 0/1 biadjacency matrix (numpy, bool or float, or scipy sparse)."""

#: Bipartite components whose smaller side has at most this many nodes use a dense SVD.
DENSE_SVD_MAX_DIM = 64

_SPECTRUM_KINDS = ("adjacency", "laplacian", "normalized")
_MAX_BRUTE_FORCE_NODES = 16


# ----------------------------------------------------------------------------------------------
# Input handling
# ----------------------------------------------------------------------------------------------
def _adjacency(G: GraphLike, name: str = "G") -> np.ndarray:
    """Return a dense float copy of an undirected graph's (weighted) adjacency matrix."""
    if isinstance(G, nx.Graph):
        if G.is_directed():
            raise ValueError(
                f"{name} is a directed graph; these spectra are defined for undirected graphs: "
                f"pass {name}.to_undirected() (or symmetrize its adjacency, e.g. (A + A.T) / 2)"
            )
        A = nx.to_numpy_array(G, weight="weight", dtype=float)
    elif sp.issparse(G):
        A = G.toarray().astype(float)
    else:
        try:
            A = np.array(G, dtype=float)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"{name} must be a networkx graph or a numeric square matrix, got "
                f"{type(G).__name__}"
            ) from err
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square adjacency matrix, got shape {A.shape}")
    if not np.isfinite(A).all():
        raise ValueError(f"{name} must contain only finite values (found NaN or inf)")
    asym = float(np.max(np.abs(A - A.T)))
    if asym > 1e-10 * max(1.0, float(np.max(np.abs(A)))):
        raise ValueError(
            f"{name} is not symmetric (max |A - A.T| = {asym:.3g}); these spectra are for "
            "undirected graphs: symmetrize first, e.g. (A + A.T) / 2 or np.maximum(A, A.T)"
        )
    return A


def _nonnegative_adjacency(G: GraphLike, name: str = "G") -> np.ndarray:
    A = _adjacency(G, name)
    if (A < 0).any():
        raise ValueError(f"{name} has negative edge weights; Laplacians need weights >= 0")
    return A


def _require_nodes(n: int, at_least: int, what: str) -> None:
    if n < at_least:
        raise ValueError(f"{what} needs a graph with at least {at_least} nodes, got {n}")


def _as_mask(mask: MaskLike, name: str = "mask") -> sp.csr_matrix:
    """Validate a 0/1 biadjacency matrix and return it as a new float64 CSR matrix."""
    if sp.issparse(mask):
        shape = mask.shape
        values = np.asarray(mask.tocoo().data)
    else:
        try:
            dense = np.asarray(mask)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must be 0/1 valued, got {type(mask).__name__}") from err
        shape = dense.shape
        values = dense
    if len(shape) != 2:
        raise ValueError(f"{name} must be 2-D (out, in), got shape {shape}")
    if shape[0] == 0 or shape[1] == 0:
        raise ValueError(f"{name} is an empty layer (shape {shape}); it has no bipartite graph")
    if values.dtype != bool:
        if not (np.issubdtype(values.dtype, np.number)):
            raise ValueError(f"{name} must be 0/1 valued, got dtype {values.dtype}")
        if not np.isfinite(values).all():
            raise ValueError(f"{name} must be 0/1 valued; found NaN or inf")
        if not ((values == 0) | (values == 1)).all():
            bad = values[(values != 0) & (values != 1)].ravel()[0]
            raise ValueError(f"{name} must be 0/1 valued; found the value {bad!r}")
    X = sp.csr_matrix(mask if sp.issparse(mask) else values, dtype=np.float64, copy=True)
    X.eliminate_zeros()
    return X


def _weighted_layer(mask: sp.csr_matrix, weights: ArrayLike) -> sp.csr_matrix:
    """Return ``|W ⊙ M|`` as CSR, validating ``weights`` against the mask's shape."""
    W = weights.toarray() if sp.issparse(weights) else weights
    try:
        W = np.asarray(W, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"weights must be a numeric array, got {type(weights).__name__}") from err
    if W.shape != mask.shape:
        raise ValueError(f"weights must have the mask's shape {mask.shape}, got {W.shape}")
    if not np.isfinite(W).all():
        raise ValueError("weights must contain only finite values (found NaN or inf)")
    X = sp.csr_matrix(mask.multiply(np.abs(W)))
    X.eliminate_zeros()  # a zero weight is no edge: keeps the component split exact
    return X


def _drop_isolated(mask: sp.csr_matrix, X: sp.csr_matrix) -> sp.csr_matrix:
    """Drop from X the rows and columns that are all-zero in ``mask`` (isolated nodes)."""
    rows = np.flatnonzero(mask.getnnz(axis=1))
    cols = np.flatnonzero(mask.getnnz(axis=0))
    return X[rows][:, cols]


# ----------------------------------------------------------------------------------------------
# Graph spectra
# ----------------------------------------------------------------------------------------------
def adjacency_spectrum(G: GraphLike) -> np.ndarray:
    """Eigenvalues of the adjacency matrix of an undirected graph, in descending order.

    Parameters
    ----------
    G : GraphLike
        Symmetric (weighted) adjacency matrix or undirected networkx graph (edge attribute
        ``"weight"``, default 1).

    Returns
    -------
    numpy.ndarray
        ``λ1 ≥ λ2 ≥ ... ≥ λn``. For a d-regular graph ``λ1 = d`` (Chung 1997, §1; HLW 2006, §2.4).

    Examples
    --------
    >>> import networkx as nx
    >>> adjacency_spectrum(nx.complete_graph(4)).round(6).tolist()
    [3.0, -1.0, -1.0, -1.0]
    """
    return np.linalg.eigvalsh(_adjacency(G))[::-1].copy()


def laplacian_spectrum(G: GraphLike) -> np.ndarray:
    """Eigenvalues of the combinatorial Laplacian ``L = D − A``, in ascending order.

    Parameters
    ----------
    G : GraphLike
        Undirected graph with non-negative edge weights.

    Returns
    -------
    numpy.ndarray
        ``0 = μ1 ≤ μ2 ≤ ... ≤ μn``; the multiplicity of 0 is the number of connected components.

    Examples
    --------
    >>> import networkx as nx
    >>> (laplacian_spectrum(nx.complete_graph(4)).round(6) + 0.0).tolist()   # + 0.0 turns a -0.0 into 0.0
    [0.0, 4.0, 4.0, 4.0]
    """
    A = _nonnegative_adjacency(G)
    return np.linalg.eigvalsh(np.diag(A.sum(axis=1)) - A)


def normalized_laplacian_spectrum(G: GraphLike) -> np.ndarray:
    """Eigenvalues of the normalized Laplacian ``ℒ = D^{-1/2} (D − A) D^{-1/2}``, ascending.

    Chung's definition (Spectral Graph Theory, §1.2): rows and columns of isolated vertices are
    zero. All eigenvalues lie in ``[0, 2]``; 2 is attained iff a component is bipartite.

    Parameters
    ----------
    G : GraphLike
        Undirected graph with non-negative edge weights.

    Returns
    -------
    numpy.ndarray
        ``0 = λ1 ≤ λ2 ≤ ... ≤ λn ≤ 2``.

    Examples
    --------
    >>> import networkx as nx
    >>> normalized_laplacian_spectrum(nx.cycle_graph(4)).round(6).tolist()
    [0.0, 1.0, 1.0, 2.0]
    """
    A = _nonnegative_adjacency(G)
    deg = A.sum(axis=1)
    inv_sqrt = np.zeros_like(deg)
    inv_sqrt[deg > 0] = 1.0 / np.sqrt(deg[deg > 0])
    L = np.diag((deg > 0).astype(float)) - inv_sqrt[:, None] * A * inv_sqrt[None, :]
    return np.linalg.eigvalsh(L)


def spectral_gap(
    G: GraphLike, kind: Literal["adjacency", "laplacian", "normalized"] = "adjacency"
) -> float:
    """Spectral gap of an undirected graph.

    Parameters
    ----------
    G : GraphLike
        Undirected graph (weighted allowed; Laplacian kinds need non-negative weights).
    kind : {"adjacency", "laplacian", "normalized"}
        ``"adjacency"``: ``λ1 − λ2`` of the adjacency matrix (``d − λ2`` for a d-regular graph,
        HLW 2006 §2.4). ``"laplacian"``: the algebraic connectivity ``μ2(D − A)`` (Fiedler 1973).
        ``"normalized"``: ``λ2`` of the normalized Laplacian (Chung 1997, §1.2), the quantity in
        the Cheeger inequality.

    Returns
    -------
    float

    Examples
    --------
    >>> import networkx as nx
    >>> round(spectral_gap(nx.petersen_graph()), 6)
    2.0
    >>> round(spectral_gap(nx.petersen_graph(), kind="normalized"), 6)
    0.666667
    """
    check_choice(kind, "kind", "spectral_gap", _SPECTRUM_KINDS)
    if kind == "adjacency":
        ev = adjacency_spectrum(G)
        _require_nodes(ev.size, 2, "spectral_gap")
        return float(ev[0] - ev[1])
    ev = laplacian_spectrum(G) if kind == "laplacian" else normalized_laplacian_spectrum(G)
    _require_nodes(ev.size, 2, "spectral_gap")
    return float(ev[1])


def second_largest_abs_eigenvalue(G: GraphLike) -> float:
    """``λ(G) = max(|λ2|, |λn|)`` of the adjacency matrix (HLW 2006, §2.4).

    Counted with multiplicity, so a disconnected or bipartite d-regular graph has ``λ(G) = d``.

    Examples
    --------
    >>> import networkx as nx
    >>> round(second_largest_abs_eigenvalue(nx.petersen_graph()), 6)
    2.0
    """
    ev = adjacency_spectrum(G)
    _require_nodes(ev.size, 2, "second_largest_abs_eigenvalue")
    return float(max(abs(ev[1]), abs(ev[-1])))


def algebraic_connectivity(G: GraphLike) -> float:
    """Second smallest eigenvalue of ``L = D − A`` (Fiedler 1973); > 0 iff G is connected.

    Examples
    --------
    >>> import networkx as nx
    >>> round(algebraic_connectivity(nx.complete_graph(5)), 6)
    5.0
    """
    return spectral_gap(G, kind="laplacian")


# ----------------------------------------------------------------------------------------------
# Cheeger inequality
# ----------------------------------------------------------------------------------------------
def _node_indices(G: GraphLike, S: Collection[Hashable], n: int) -> np.ndarray:
    if isinstance(G, nx.Graph):
        position = {node: i for i, node in enumerate(G.nodes)}
        missing = [s for s in S if s not in position]
        if missing:
            raise ValueError(f"S contains nodes not in G: {missing[:5]}")
        idx = np.array([position[s] for s in S], dtype=int)
    else:
        idx = np.asarray(list(S))
        integral = np.issubdtype(idx.dtype, np.integer)
        if idx.size and (not integral or idx.min() < 0 or idx.max() >= n):
            raise ValueError(
                f"S must hold node indices in [0, {n}) for a matrix input, got {list(S)[:5]}"
            )
    idx = np.unique(idx.astype(int))
    if idx.size == 0 or idx.size == n:
        raise ValueError(
            f"S must be a non-empty proper subset of the {n} nodes, got {idx.size} nodes"
        )
    return idx


def _require_no_isolated(A: np.ndarray, what: str) -> np.ndarray:
    deg = A.sum(axis=1)
    if (deg <= 0).any():
        raise ValueError(
            f"{what} is defined for graphs without isolated vertices; nodes "
            f"{np.flatnonzero(deg <= 0)[:5].tolist()} have degree 0"
        )
    return deg


def conductance(G: GraphLike, S: Collection[Hashable]) -> float:
    """Conductance ``h(S) = w(S, S̄) / min(vol S, vol S̄)`` of a vertex set (Chung 1997, §2.2).

    ``vol S`` is the sum of the (weighted) degrees in S and ``w(S, S̄)`` the weight of the edges
    leaving S.

    Parameters
    ----------
    G : GraphLike
        Undirected graph with non-negative weights and no isolated vertices.
    S : collection of nodes
        Node labels for a networkx graph, row indices for a matrix; non-empty and proper.

    Examples
    --------
    >>> import networkx as nx
    >>> conductance(nx.cycle_graph(8), [0, 1, 2, 3])
    0.25
    """
    A = _nonnegative_adjacency(G)
    deg = _require_no_isolated(A, "conductance")
    idx = _node_indices(G, S, A.shape[0])
    inside = np.zeros(A.shape[0], dtype=bool)
    inside[idx] = True
    cut = float(A[np.ix_(inside, ~inside)].sum())
    return cut / float(min(deg[inside].sum(), deg[~inside].sum()))


def cheeger_constant(G: GraphLike) -> float:
    """Cheeger constant (conductance) ``h_G = min_S h(S)`` by brute force over all vertex sets.

    Exponential in the number of nodes: only for graphs with at most 16 nodes (it is used to
    check :func:`cheeger_bounds` on small graphs).

    Examples
    --------
    >>> import networkx as nx
    >>> round(cheeger_constant(nx.complete_graph(4)), 6)   # S = two vertices: 4 / 6
    0.666667
    """
    A = _nonnegative_adjacency(G)
    n = A.shape[0]
    _require_nodes(A.shape[0], 2, "cheeger_constant")
    if n > _MAX_BRUTE_FORCE_NODES:
        raise ValueError(
            f"cheeger_constant enumerates all vertex sets: at most {_MAX_BRUTE_FORCE_NODES} nodes, "
            f"got {n}"
        )
    deg = _require_no_isolated(A, "cheeger_constant")
    # Sets containing the last node are complements of sets that do not, so fix it outside S.
    codes = np.arange(1, 2 ** (n - 1), dtype=np.int64)
    X = ((codes[:, None] >> np.arange(n - 1)) & 1).astype(float)
    X = np.hstack([X, np.zeros((X.shape[0], 1))])
    L = np.diag(deg) - A
    cut = ((X @ L) * X).sum(axis=1)  # x^T L x = weight of the edges leaving S
    vol = X @ deg
    return float(np.min(cut / np.minimum(vol, deg.sum() - vol)))


def cheeger_bounds(G: GraphLike) -> tuple[float, float]:
    """Cheeger inequality ``λ2/2 ≤ h_G ≤ √(2 λ2)`` from the normalized Laplacian.

    ``h_G`` is the conductance version of the Cheeger constant (see :func:`cheeger_constant`),
    ``λ2`` the second smallest eigenvalue of the normalized Laplacian (Chung 1997, Lemma 2.1 and
    Theorem 2.2: ``2 h_G ≥ λ2 > h_G² / 2``).

    Parameters
    ----------
    G : GraphLike
        Undirected graph with non-negative weights, at least 2 nodes and no isolated vertices.

    Returns
    -------
    (lower, upper) : tuple of float

    Examples
    --------
    >>> import networkx as nx
    >>> lower, upper = cheeger_bounds(nx.cycle_graph(8))
    >>> lower <= cheeger_constant(nx.cycle_graph(8)) <= upper
    True
    """
    A = _nonnegative_adjacency(G)
    _require_nodes(A.shape[0], 2, "cheeger_bounds")
    _require_no_isolated(A, "cheeger_bounds")
    lam2 = max(float(normalized_laplacian_spectrum(A)[1]), 0.0)  # PSD: drop round-off below 0
    return lam2 / 2.0, math.sqrt(2.0 * lam2)


# ----------------------------------------------------------------------------------------------
# Regular graphs: Ramanujan property
# ----------------------------------------------------------------------------------------------
def ramanujan_bound_regular(d: float) -> float:
    """Alon–Boppana / Ramanujan bound ``2√(d−1)`` for d-regular graphs (LPS 1988).

    Examples
    --------
    >>> ramanujan_bound_regular(5)
    4.0
    """
    d = check_float(d, "d", "ramanujan_bound_regular", low=1)
    return 2.0 * math.sqrt(d - 1)


def _regular_degree(A: np.ndarray, name: str) -> int:
    if not ((A == 0) | (A == 1)).all() or np.diag(A).any():
        raise ValueError(f"{name} must be a simple graph (0/1 adjacency, no self-loops)")
    deg = A.sum(axis=1)
    if deg.min() != deg.max() or deg[0] == 0:
        raise ValueError(
            f"{name} must be d-regular with d >= 1; "
            f"degrees range {int(deg.min())}..{int(deg.max())}"
        )
    return int(deg[0])


def is_ramanujan_regular(G: GraphLike) -> bool:
    """Whether a d-regular graph is Ramanujan (Lubotzky–Phillips–Sarnak 1988).

    Standard definition (Lubotzky–Phillips–Sarnak 1988; Hoory–Linial–Wigderson 2006, Def. 5.11): a
    **connected** d-regular graph whose every adjacency eigenvalue ``λ`` with ``|λ| ≠ d`` satisfies
    ``|λ| ≤ 2√(d−1)``. The trivial eigenvalues ``±d`` are excluded, so bipartite Ramanujan graphs
    count; a disconnected graph is not Ramanujan (its eigenvalue d is repeated: spectral gap 0),
    even when each component is. ``networkx.is_regular_expander`` and :func:`delta_r` instead use
    ``λ(G) = max(|λ2|, |λn|)`` with multiplicity, which is ``d`` for disconnected or bipartite graphs.

    Parameters
    ----------
    G : GraphLike
        Simple d-regular undirected graph (0/1 adjacency, no self-loops).

    Raises
    ------
    ValueError
        If G is not a simple regular graph.

    Examples
    --------
    >>> import networkx as nx
    >>> is_ramanujan_regular(nx.petersen_graph())        # |λ| ∈ {1, 2} <= 2√2
    True
    >>> is_ramanujan_regular(nx.cycle_graph(6))          # 2-regular: bound 2
    True
    >>> is_ramanujan_regular(nx.disjoint_union(nx.petersen_graph(), nx.petersen_graph()))   # not connected
    False
    """
    A = _adjacency(G)
    d = _regular_degree(A, "G")
    if connected_components(sp.csr_matrix(A), directed=False)[0] > 1:
        return False
    ev = np.abs(np.linalg.eigvalsh(A))
    nontrivial = ev[ev < d - 1e-9 * d]
    if nontrivial.size == 0:
        return True
    bound = ramanujan_bound_regular(d)
    return bool(nontrivial.max() <= bound + 1e-9 * max(bound, 1.0))


# ----------------------------------------------------------------------------------------------
# Bipartite layers: singular values
# ----------------------------------------------------------------------------------------------
def _component_top_two(Y: sp.csr_matrix) -> np.ndarray:
    """Two largest singular values of a connected bipartite block (its σ1 is simple)."""
    if min(Y.shape) <= DENSE_SVD_MAX_DIM:
        s = np.linalg.svd(Y.toarray(), compute_uv=False)
        return np.pad(s[:2], (0, max(0, 2 - s.size)))
    # Lanczos on the Gram matrix of the smaller side. By Perron–Frobenius the top singular value
    # of a connected non-negative block is simple, so one start vector finds σ1 and σ2.
    left = Y.shape[0] <= Y.shape[1]
    Yt = Y.T.tocsr()
    N = min(Y.shape)
    if left:
        op = LinearOperator((N, N), matvec=lambda x: Y @ (Yt @ x), dtype=np.float64)
    else:
        op = LinearOperator((N, N), matvec=lambda x: Yt @ (Y @ x), dtype=np.float64)
    v0 = np.random.default_rng(0).uniform(0.5, 1.5, N)  # fixed: deterministic results
    try:
        lam = eigsh(op, k=2, which="LA", v0=v0, ncv=32, tol=1e-10, return_eigenvectors=False)
    except ArpackNoConvergence:
        s = np.linalg.svd(Y.toarray(), compute_uv=False)
        return s[:2]
    return np.sqrt(np.clip(np.sort(lam)[::-1], 0.0, None))  # Gram is PSD: clip round-off


def _group_by_label(labels: np.ndarray, n_groups: int) -> list[np.ndarray]:
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(n_groups + 1))
    return [order[bounds[i] : bounds[i + 1]] for i in range(n_groups)]


def _top_two_singular_values(X: sp.csr_matrix) -> tuple[float, float]:
    """``(σ1, σ2)`` of a non-negative sparse matrix, zero-padded past ``min(X.shape)``.

    The bipartite graph is split into connected components first: a repeated top singular value
    (one per component) is exactly what a single-vector Lanczos run can miss.
    """
    m = X.shape[0]
    if X.nnz == 0:
        return 0.0, 0.0
    B = sp.bmat([[None, X], [X.T, None]], format="csr")
    n_comp, labels = connected_components(B, directed=False)
    if n_comp == 1:
        s1, s2 = _component_top_two(X)
        return float(s1), float(s2)
    row_groups = _group_by_label(labels[:m], n_comp)
    col_groups = _group_by_label(labels[m:], n_comp)
    tops: list[float] = []
    for rows, cols in zip(row_groups, col_groups):
        if rows.size and cols.size:  # otherwise an isolated node
            tops.extend(_component_top_two(X[rows][:, cols]).tolist())
    tops.sort(reverse=True)
    return float(tops[0]), float(tops[1]) if len(tops) > 1 else 0.0


def mask_singular_values(mask: MaskLike, k: int | None = None) -> np.ndarray:
    """Singular values of a 0/1 layer mask, descending.

    Parameters
    ----------
    mask : MaskLike
        0/1 biadjacency matrix of shape ``(out, in)``.
    k : int, optional
        Return only the ``k`` largest (``1 <= k <= min(out, in)``). ``k <= 2`` uses the fast
        sparse path of :func:`mu_hat`; otherwise, and for ``k=None`` (all ``min(out, in)``
        values), a dense SVD is used.

    Examples
    --------
    >>> import numpy as np
    >>> mask_singular_values(np.ones((2, 8))).round(6).tolist()   # K_{2,8}: σ = √16, 0
    [4.0, 0.0]
    """
    X = _as_mask(mask)
    n = min(X.shape)
    if k is not None:
        k = check_int(k, "k", "mask_singular_values", low=1, high=n)
        if k <= 2:
            return np.array(_top_two_singular_values(X)[:k])
    s = np.linalg.svd(X.toarray(), compute_uv=False)
    return s if k is None else s[:k]


def mu_hat(mask: MaskLike) -> float:
    """``μ̂ = σ₂(M)``, the second largest singular value of a 0/1 layer mask.

    The bipartite graph of M has adjacency eigenvalues ``±σ_i(M)``; ``σ₁`` is the trivial one
    (``√(cd)`` for a (c, d)-biregular mask) and ``μ̂`` the largest non-trivial one (HLW 2006,
    §2.4; Pal et al. 2022). Equal to 0 when ``min(out, in) == 1``.

    Computed with ARPACK Lanczos (``eigsh``, k=2, fixed start vector) on ``M Mᵀ`` or ``Mᵀ M``
    per connected component; components with at most ``DENSE_SVD_MAX_DIM`` nodes on a side use
    a dense SVD. ``σ₂²`` is converged to a relative accuracy of ``1e-10`` (ARPACK ``tol``), so
    ``σ₂`` is accurate to about ``1e-10`` relative unless it is tiny next to ``σ₁``.

    Examples
    --------
    >>> import numpy as np
    >>> round(mu_hat(np.ones((3, 5))), 6)   # complete bipartite: rank one
    0.0
    >>> round(mu_hat(np.eye(4)), 6)   # a perfect matching: four components, all σ = 1
    1.0
    """
    return _top_two_singular_values(_as_mask(mask))[1]


def singular_value_gap(mask: MaskLike, weights: ArrayLike | None = None) -> float:
    """Spectral gap ``σ₁ − σ₂`` of a layer's bipartite graph (of ``|W ⊙ M|`` when weighted).

    Parameters
    ----------
    mask : MaskLike
        0/1 biadjacency matrix ``(out, in)``.
    weights : array_like, optional
        The layer's weights, same shape; the gap of ``|W ⊙ M|`` is returned (scale dependent).

    Examples
    --------
    >>> import numpy as np
    >>> round(singular_value_gap(np.ones((4, 4))), 6)
    4.0
    """
    X = _as_mask(mask)
    if weights is not None:
        X = _weighted_layer(X, weights)
    s1, s2 = _top_two_singular_values(X)
    return s1 - s2


# ----------------------------------------------------------------------------------------------
# Bipartite layers: degrees and Ramanujan bounds
# ----------------------------------------------------------------------------------------------
def bipartite_degrees(mask: MaskLike) -> tuple[np.ndarray, np.ndarray]:
    """Row degrees (inputs per output) and column degrees (outputs per input) of a mask.

    Examples
    --------
    >>> import numpy as np
    >>> r, c = bipartite_degrees(np.array([[1, 1, 0], [0, 1, 1]]))
    >>> r.tolist(), c.tolist()
    ([2, 2], [1, 2, 1])
    """
    X = _as_mask(mask)
    return X.getnnz(axis=1).astype(np.int64), X.getnnz(axis=0).astype(np.int64)


def is_biregular(mask: MaskLike) -> tuple[bool, int | None, int | None]:
    """Whether every row has the same degree c and every column the same degree d.

    Returns
    -------
    (biregular, c, d) : tuple
        ``c`` is the row degree (each output has c inputs), ``d`` the column degree (each input
        feeds d outputs); both ``None`` when the mask is not biregular. ``out * c == in * d``.

    Examples
    --------
    >>> import numpy as np
    >>> is_biregular(np.ones((2, 6)))
    (True, 6, 2)
    >>> is_biregular(np.eye(3)[:, :2])
    (False, None, None)
    """
    rows, cols = bipartite_degrees(mask)
    if rows.min() == rows.max() and cols.min() == cols.max():
        return True, int(rows[0]), int(cols[0])
    return False, None, None


def ramanujan_bound_biregular(c: float, d: float) -> float:
    """Ramanujan bound ``√(c−1) + √(d−1)`` for (c, d)-biregular bipartite graphs.

    The non-trivial singular values of a random (c, d)-biregular graph concentrate below this
    value (Feng–Li 1996 Alon–Boppana bound; Brito–Dumitriu–Harris 2022).

    Examples
    --------
    >>> ramanujan_bound_biregular(5, 10)
    5.0
    """
    c = check_float(c, "c", "ramanujan_bound_biregular", low=1)
    d = check_float(d, "d", "ramanujan_bound_biregular", low=1)
    return math.sqrt(c - 1) + math.sqrt(d - 1)


def is_ramanujan_biregular(mask: MaskLike) -> bool:
    """Whether a (c, d)-biregular mask is Ramanujan: ``μ̂ ≤ √(c−1) + √(d−1)``.

    ``μ̂`` is counted with multiplicity, so a disconnected mask (``σ₂ = σ₁``) is not Ramanujan.

    Raises
    ------
    ValueError
        If the mask is not biregular (use :func:`delta_r` for irregular masks).

    Examples
    --------
    >>> import numpy as np
    >>> is_ramanujan_biregular(np.ones((3, 4)))   # K_{3,4}: μ̂ = 0
    True
    """
    X = _as_mask(mask)
    ok, c, d = is_biregular(X)
    if not ok:
        rows, cols = bipartite_degrees(X)
        raise ValueError(
            f"mask is not biregular (row degrees {rows.min()}..{rows.max()}, column degrees "
            f"{cols.min()}..{cols.max()}); use delta_r for irregular masks"
        )
    if c == 0:
        raise ValueError("mask has no nonzero entries; the Ramanujan bound needs degrees >= 1")
    bound = ramanujan_bound_biregular(c, d)
    return bool(_top_two_singular_values(X)[1] <= bound + 1e-9 * bound)


def average_degrees(mask: MaskLike) -> tuple[float, float]:
    """``(d̄_L, d̄_R)``: the average row and column degree over the non-isolated nodes of a mask.

    These are the degrees of Pal et al.'s irregular Ramanujan bound (:func:`delta_r`); an
    all-zero mask has ``(0.0, 0.0)``.

    Examples
    --------
    >>> import numpy as np
    >>> average_degrees(np.array([[1, 1, 0], [0, 0, 0], [1, 1, 0]]))   # row 1 and column 2 are isolated
    (2.0, 2.0)
    """
    X = _as_mask(mask)
    rows, cols = np.count_nonzero(X.getnnz(axis=1)), np.count_nonzero(X.getnnz(axis=0))
    return (float(X.nnz / rows) if rows else 0.0), (float(X.nnz / cols) if cols else 0.0)


def irregular_ramanujan_bound(d_left: float, d_right: float) -> float:
    """``√(d̄_L − 1) + √(d̄_R − 1)``, the bound μ̂ is compared with in :func:`delta_r` (degrees ≥ 1).

    Examples
    --------
    >>> irregular_ramanujan_bound(5.0, 2.0)
    3.0
    """
    d_left = check_float(d_left, "d_left", "irregular_ramanujan_bound", low=1)
    d_right = check_float(d_right, "d_right", "irregular_ramanujan_bound", low=1)
    return math.sqrt(d_left - 1) + math.sqrt(d_right - 1)


def mask_spectrum(mask: MaskLike) -> dict:
    """Every singular value of a 0/1 mask, its average degrees, the irregular Ramanujan bound and Δ_r.

    Returns a dict: ``values`` (descending), ``d_left`` and ``d_right`` (:func:`average_degrees`),
    ``bound`` (:func:`irregular_ramanujan_bound`, None when a degree is below 1), ``delta_r``
    (:func:`delta_r`, None where it is undefined) and ``note`` (why Δ_r is undefined, else "").

    Examples
    --------
    >>> out = mask_spectrum(biregular_mask(32, 32, 8, seed=0))
    >>> round(float(out["values"][0]), 6), out["delta_r"] > 0, out["note"]
    (8.0, True, '')
    >>> mask_spectrum(np.eye(4))["delta_r"] is None
    True
    """
    X = _as_mask(mask)
    d_left, d_right = average_degrees(X)
    out = {"values": np.linalg.svd(X.toarray().astype(float), compute_uv=False), "d_left": d_left,
           "d_right": d_right, "bound": None, "delta_r": None, "note": ""}
    if d_left >= 1 and d_right >= 1:
        out["bound"] = irregular_ramanujan_bound(d_left, d_right)
    try:
        out["delta_r"] = delta_r(X)
    except ValueError as error:
        out["note"] = str(error)
    return out


def delta_r(mask: MaskLike, weights: ArrayLike | None = None) -> float:
    """Ramanujan gap ``Δ_r = √(d̄_L − 1) + √(d̄_R − 1) − μ̂`` of an irregular layer mask.

    Pal et al. (ICML 2022): all-zero rows and columns (isolated nodes) are removed first; ``d̄_L``
    is then the average row degree and ``d̄_R`` the average column degree, and ``μ̂ = σ₂`` of the
    remaining mask. ``Δ_r ≥ 0`` means the layer satisfies the Ramanujan bound of a biregular
    graph with its average degrees; for a biregular mask it is
    ``ramanujan_bound_biregular(c, d) − mu_hat(mask)``. For the symmetric mask A of a d-regular
    graph, ``σ₂(A) = max(|λ2|, |λn|)``, so ``delta_r(A) ≥ 0`` agrees with
    ``networkx.is_regular_expander`` (up to its strict inequality).

    Weighted variant [reconstructed]: with ``weights=W``, ``μ̂ = σ₂(|W ⊙ M|) / w̄`` where ``w̄`` is
    the mean of ``|W|`` over the kept entries of M. Equivalently it is the plain ``σ₂`` of the
    normalized weighted layer ``|W ⊙ M| / w̄``, whose weighted average degrees (row sums and
    column sums averaged over the non-isolated nodes) equal ``d̄_L`` and ``d̄_R`` exactly, so the
    bound is unchanged and Δ_r does not depend on the scale of W. The abstract of Pal et al. does
    not give the formula; the public code of Hoang et al. (ICLR 2023, which follows Pal et al.)
    pairs the mask's average degrees with the weighted eigenvalue without the normalization.

    Parameters
    ----------
    mask : MaskLike
        0/1 biadjacency matrix ``(out, in)``.
    weights : array_like, optional
        The layer's weights, same shape as the mask.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the mask is not 2-D, empty, not 0/1 valued or not finite; if either average degree is
        below 3 after isolated nodes are removed (Δ_r is undefined there); if the weights on the
        mask are all zero.

    Examples
    --------
    >>> import numpy as np
    >>> round(delta_r(np.ones((4, 4))), 6)   # K_{4,4}: 2√3 − 0
    3.464102
    >>> M = biregular_mask(256, 256, 8, seed=0)
    >>> delta_r(M) >= 0
    True
    >>> bool(np.isclose(delta_r(M, weights=3.0 * M), delta_r(M)))  # scale free
    True
    """
    full = _as_mask(mask)
    X = _drop_isolated(full, full)
    nnz = X.nnz
    d_left, d_right = average_degrees(full)
    if nnz == 0 or d_left < 3 or d_right < 3:
        raise ValueError(
            "Δ_r is undefined for average degree < 3: after removing isolated nodes the average "
            f"row degree is {d_left:.4g} and the average column degree is {d_right:.4g}"
        )
    bound = irregular_ramanujan_bound(d_left, d_right)
    if weights is None:
        return bound - _top_two_singular_values(X)[1]
    Wabs = _drop_isolated(full, _weighted_layer(full, weights))
    mean_weight = Wabs.sum() / nnz
    if mean_weight == 0:
        raise ValueError("weights are zero on every entry of the mask; weighted Δ_r is undefined")
    return bound - _top_two_singular_values(Wabs)[1] / mean_weight


# ----------------------------------------------------------------------------------------------
# Seeded generators
# ----------------------------------------------------------------------------------------------
def random_regular_mask(n: int, d: int, seed: int = 0) -> np.ndarray:
    """Symmetric 0/1 adjacency matrix of a random d-regular simple graph on n nodes.

    Uses ``networkx.random_regular_graph`` (Steger–Wormald pairing); ``n * d`` must be even and
    ``d < n``.

    Examples
    --------
    >>> A = random_regular_mask(10, 3, seed=1)
    >>> A.sum(axis=0).tolist() == [3.0] * 10, bool((A == A.T).all())
    (True, True)
    """
    n = check_range(n, "n", "random_regular_mask", "units")
    d = check_int(d, "d", "random_regular_mask", low=0, high=n - 1)  # a simple graph has degrees < n
    seed = check_range(seed, "seed", "random_regular_mask", "seed")
    if (n * d) % 2:
        raise ValueError(f"n * d must be even for a d-regular graph, got n={n}, d={d}")
    check_fits(8 * n * n + 200 * n * d, f"random_regular_mask({n}, {d}) (a dense {n} x {n} float64 matrix)")
    G = nx.random_regular_graph(d, n, seed=seed)
    return nx.to_numpy_array(G, nodelist=range(n), dtype=float)


def biregular_mask(n_out: int, n_in: int, out_degree: int, seed: int = 0) -> np.ndarray:
    """A random (c, d)-biregular 0/1 mask of shape ``(n_out, n_in)``.

    Every row has exactly ``c = out_degree`` ones and every column exactly
    ``d = n_out * out_degree / n_in`` ones. Built by a configuration model (a random pairing of
    row stubs with column stubs); the few repeated edges are then repaired one by one with
    degree-preserving double-edge swaps against a uniformly chosen other edge, so the degrees
    are exact and there are no multi-edges. When ``out_degree > n_in / 2`` the (sparser)
    complement is sampled and inverted.

    The result is usually, not always, Ramanujan (:func:`is_ramanujan_biregular`): less often at
    column degree 2 and, at a fixed degree, less often as the layer grows (for large random regular
    graphs only a constant fraction below one is Ramanujan; Huang, McKenzie, Yau 2024), so check,
    do not assume. How often, for several shapes: ``docs/METHODS.md``, "Measured in this project".

    Parameters
    ----------
    n_out, n_in : int
        Number of outputs (rows) and inputs (columns).
    out_degree : int
        Inputs per output, ``1 <= out_degree <= n_in``.
    seed : int
        Seed of the numpy generator.

    Raises
    ------
    ValueError
        If ``n_out * out_degree / n_in`` is not an integer or ``out_degree > n_in``.

    Examples
    --------
    >>> M = biregular_mask(6, 4, 2, seed=0)
    >>> M.sum(axis=1).tolist(), M.sum(axis=0).tolist()
    ([2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [3.0, 3.0, 3.0, 3.0])
    """
    n_out = check_range(n_out, "n_out", "biregular_mask", "units")
    n_in = check_range(n_in, "n_in", "biregular_mask", "units")
    c = check_int(out_degree, "out_degree", "biregular_mask", low=1, high=n_in)
    seed = check_range(seed, "seed", "biregular_mask", "seed")
    if (n_out * c) % n_in:
        raise ValueError(
            f"column degree n_out * out_degree / n_in = {n_out} * {c} / {n_in} is not an integer"
        )
    # int32 edge counts and the float64 mask (and its complement when that is what is sampled)
    check_fits(n_out * n_in * (12 if 2 * c <= n_in else 20),
               f"biregular_mask({n_out}, {n_in}, {c}) (dense {n_out} x {n_in} arrays)")
    if c == n_in:
        return np.ones((n_out, n_in))
    if 2 * c > n_in:
        # Sample the sparser complement: then a repairing swap always exists (see below).
        return 1.0 - biregular_mask(n_out, n_in, n_in - c, seed)
    d = n_out * c // n_in
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n_out), c)
    cols = rng.permutation(np.repeat(np.arange(n_in), d))
    counts = np.zeros((n_out, n_in), dtype=np.int32)
    np.add.at(counts, (rows, cols), 1)
    _repair_multi_edges(rows, cols, counts, rng)
    return (counts > 0).astype(float)


def _repair_multi_edges(
    rows: np.ndarray, cols: np.ndarray, counts: np.ndarray, rng: np.random.Generator
) -> None:
    """Swap away repeated edges in place, keeping every degree (helper of biregular_mask).

    ``masks._repair_repeated_edges`` is the same idea with another visiting order; why both stay:
    its docstring.

    A repeated edge (r, col) is swapped with an edge (r2, col2) where row r lacks col2 and row r2
    lacks col. With ``c <= n_in / 2`` (so ``d <= n_out / 2``) such an edge always exists: the
    rows lacking col carry more edge ends than the columns row r has can absorb.
    """
    order = np.lexsort((cols, rows))
    same = (rows[order][1:] == rows[order][:-1]) & (cols[order][1:] == cols[order][:-1])
    repeated = order[1:][same]  # every copy of an edge after its first
    n_edges = rows.size
    for k in repeated:
        r, col = rows[k], cols[k]
        if counts[r, col] <= 1:
            continue  # already fixed by an earlier swap
        while True:
            j = rng.integers(n_edges)
            r2, col2 = rows[j], cols[j]
            if r2 != r and col2 != col and counts[r, col2] == 0 and counts[r2, col] == 0:
                counts[r, col] -= 1
                counts[r2, col2] -= 1
                counts[r, col2] += 1
                counts[r2, col] += 1
                cols[k], cols[j] = col2, col
                break


# ----------------------------------------------------------------------------------------------
# Other expansion measures of a layer: ΔS and IMDB (Hoang et al., ICLR 2023)
# ----------------------------------------------------------------------------------------------
def delta_s(mask: MaskLike) -> float:
    """Spectral gap to the Ramanujan bound of the top eigenvalue: ``ΔS = 2√(λ₁ − 1) − μ̂``.

    Hoang, Liu, Chen, Wang, "Revisiting pruning at initialization through the lens of Ramanujan
    graph", ICLR 2023 (their public code, ``lib/graphs/scores.py``): after removing isolated
    nodes, ``λ₁ = σ₁`` and ``μ̂ = σ₂`` of the mask (the two largest eigenvalues of the bipartite
    graph); defined, like :func:`delta_r`, only when both average degrees are ≥ 3. For a
    d-regular graph ``λ₁ = d`` and ΔS is the Ramanujan margin ``2√(d−1) − μ̂``.

    Examples
    --------
    >>> round(delta_s(np.ones((4, 4))), 6)   # K_{4,4}: λ₁ = 4, μ̂ = 0
    3.464102
    >>> M = biregular_mask(128, 128, 8, seed=0)
    >>> bool(np.isclose(delta_s(M), delta_r(M)))   # biregular (8, 8): λ₁ = 8, the two bounds agree
    True
    """
    full = _as_mask(mask)
    d_left, d_right = average_degrees(full)
    if full.nnz == 0 or d_left < 3 or d_right < 3:
        raise ValueError(
            "ΔS is undefined for average degree < 3: after removing isolated nodes the average "
            f"row degree is {d_left:.4g} and the average column degree is {d_right:.4g}"
        )
    sigma_1, sigma_2 = _top_two_singular_values(_drop_isolated(full, full))
    return 2.0 * math.sqrt(sigma_1 - 1.0) - sigma_2


def imdb(mask: MaskLike, measure: Literal["delta_r", "delta_s"] = "delta_r", min_group: int = 3) -> float:
    """Iterative mean difference of bound (Hoang et al., ICLR 2023): the mean gap over degree classes.

    The inputs (columns) are grouped by their degree; every group of at least ``min_group``
    inputs of nonzero degree, with all the outputs, is a left-regular bipartite subgraph, and
    its ``measure`` (:func:`delta_r` or :func:`delta_s`, isolated outputs removed) is computed
    where defined. IMDB is the mean over those groups; a biregular mask has one group, so its
    IMDB is its Δ_r. Raises ValueError when no group has a defined measure.

    Examples
    --------
    >>> M = biregular_mask(64, 64, 8, seed=0)
    >>> bool(np.isclose(imdb(M), delta_r(M)))
    True
    """
    if measure not in ("delta_r", "delta_s"):
        raise ValueError(f"measure must be 'delta_r' or 'delta_s', got {measure!r}")
    score = delta_r if measure == "delta_r" else delta_s
    X = _as_mask(mask).tocsc()
    degrees = X.getnnz(axis=0)
    values = []
    for degree in np.unique(degrees[degrees > 0]):
        group = np.flatnonzero(degrees == degree)
        if group.size < min_group:
            continue
        try:
            values.append(score(X[:, group]))
        except ValueError:
            continue  # this degree class has an average degree below 3: no bound to compare with
    if not values:
        raise ValueError(f"IMDB is undefined: no degree class of at least {min_group} inputs has a defined {measure}")
    return float(np.mean(values))
