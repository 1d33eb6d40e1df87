"""Random sparse layer masks with prescribed degrees, to test whether expansion matters.

Three families of 0/1 masks ``(out, in)`` at the same density, built to differ only in how well
they expand (the controlled test of Kalra et al.'s claim, ``benchmarks.structure_claims``):

* :func:`degree_sequence_mask`: a uniformly random simple bipartite graph with the given row and
  column degrees (configuration model, then degree-preserving swaps that remove repeated edges).
  With balanced degrees (:func:`balanced_degrees`) it is (c, d)-biregular, or as close to it as the
  shape allows, and such random masks are near-Ramanujan expanders.
* :func:`erdos_renyi_mask`: the same number of edges placed uniformly at random (degrees vary;
  some nodes may be isolated).
* :func:`block_mask`: a poor expander with *exactly the same degree multisets* as the balanced
  random mask: rows and columns are split into ``blocks`` equal groups, each block is a random
  balanced mask, and a small ``cross_fraction`` of the edges is then rewired between blocks by
  degree-preserving double-edge swaps. Its second singular value stays close to the first, so
  its Δ_r is far below zero.

Must not import anything from the package (except validation).

Examples
--------
>>> M = block_mask(32, 32, 192, blocks=4, cross_fraction=0.1, seed=0)
>>> R = degree_sequence_mask(balanced_degrees(32, 192), balanced_degrees(32, 192), seed=0)
>>> sorted(M.sum(axis=1)) == sorted(R.sum(axis=1)), sorted(M.sum(axis=0)) == sorted(R.sum(axis=0))
(True, True)
"""
from __future__ import annotations

import numpy as np

from .validation import check_float, check_int, check_range

_MAX_SWAP_TRIES = 100_000


def balanced_degrees(n: int, edges: int) -> np.ndarray:
    """Degrees of ``n`` nodes summing to ``edges``, as equal as possible (the first ``edges % n`` get one more).

    >>> balanced_degrees(4, 10).tolist()
    [3, 3, 2, 2]
    """
    n = check_range(n, "n", "balanced_degrees", "units")
    edges = check_int(edges, "edges", "balanced_degrees", low=0)
    degrees = np.full(n, edges // n, dtype=np.int64)
    degrees[: edges % n] += 1
    return degrees


def degree_sequence_mask(row_degrees, col_degrees, seed: int = 0) -> np.ndarray:
    """A random simple 0/1 mask whose row and column sums are exactly ``row_degrees`` and ``col_degrees``.

    Configuration model: the column stubs are randomly permuted against the row stubs; every
    repeated edge is then swapped with a random other edge (r2, c2) such that neither (r, c2) nor
    (r2, c) exists yet, which keeps every degree. Repairs always succeed for sparse masks (every
    degree at most half of the other side); a ValueError says when a repair found no partner.

    Examples
    --------
    >>> M = degree_sequence_mask([2, 2, 2], [3, 3], seed=1)
    >>> M.tolist()
    [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]
    >>> M = degree_sequence_mask(balanced_degrees(64, 384), balanced_degrees(48, 384), seed=0)
    >>> int(M.sum()), set(M.sum(axis=1).tolist()), set(M.sum(axis=0).tolist())
    (384, {6.0}, {8.0})
    """
    rows_deg = np.asarray(row_degrees, dtype=np.int64)
    cols_deg = np.asarray(col_degrees, dtype=np.int64)
    if rows_deg.ndim != 1 or cols_deg.ndim != 1 or rows_deg.size == 0 or cols_deg.size == 0:
        raise ValueError("row_degrees and col_degrees must be nonempty 1-D sequences of integers")
    if rows_deg.min() < 0 or cols_deg.min() < 0:
        raise ValueError("degrees must be >= 0")
    if rows_deg.sum() != cols_deg.sum():
        raise ValueError(f"the row degrees sum to {rows_deg.sum()} but the column degrees to {cols_deg.sum()}")
    if rows_deg.max() > cols_deg.size or cols_deg.max() > rows_deg.size:
        raise ValueError("a degree exceeds the number of nodes on the other side")
    seed = check_range(seed, "seed", "degree_sequence_mask", "seed")
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(rows_deg.size), rows_deg)
    cols = rng.permutation(np.repeat(np.arange(cols_deg.size), cols_deg))
    counts = np.zeros((rows_deg.size, cols_deg.size), dtype=np.int32)
    np.add.at(counts, (rows, cols), 1)
    _repair_repeated_edges(rows, cols, counts, rng)
    return (counts > 0).astype(float)


def _repair_repeated_edges(rows: np.ndarray, cols: np.ndarray, counts: np.ndarray,
                           rng: np.random.Generator) -> None:
    """Swap away repeated edges in place, keeping every degree (see :func:`degree_sequence_mask`).

    ``spectral._repair_multi_edges`` (behind ``spectral.biregular_mask``) does the same swaps but
    visits the repeated edges in another order, so the two draw different masks from one seed. They
    stay apart on purpose: merging them would change every stored mask of one family, the expansion
    runs of ``benchmarks.structure_claims`` (hours of training) or the Ramanujan masks behind the
    course's committed results.
    """
    for k in np.flatnonzero(counts[rows, cols] > 1):
        r, col = rows[k], cols[k]
        if counts[r, col] <= 1:
            continue  # already fixed by an earlier swap
        for _ in range(_MAX_SWAP_TRIES):
            j = rng.integers(rows.size)
            r2, col2 = rows[j], cols[j]
            if r2 != r and col2 != col and counts[r, col2] == 0 and counts[r2, col] == 0:
                counts[r, col] -= 1
                counts[r2, col2] -= 1
                counts[r, col2] += 1
                counts[r2, col] += 1
                cols[k], cols[j] = col2, col
                break
        else:
            raise ValueError("could not remove a repeated edge: the degrees are too dense for a simple mask")


def erdos_renyi_mask(n_out: int, n_in: int, edges: int, seed: int = 0) -> np.ndarray:
    """``edges`` entries of an ``(n_out, n_in)`` mask set to 1, chosen uniformly at random (G(n, m)).

    >>> M = erdos_renyi_mask(8, 4, 10, seed=0)
    >>> M.shape, int(M.sum())
    ((8, 4), 10)
    """
    n_out = check_range(n_out, "n_out", "erdos_renyi_mask", "units")
    n_in = check_range(n_in, "n_in", "erdos_renyi_mask", "units")
    edges = check_int(edges, "edges", "erdos_renyi_mask", low=0, high=n_out * n_in)
    seed = check_range(seed, "seed", "erdos_renyi_mask", "seed")
    flat = np.zeros(n_out * n_in)
    flat[np.random.default_rng(seed).choice(n_out * n_in, size=edges, replace=False)] = 1.0
    return flat.reshape(n_out, n_in)


def block_mask(n_out: int, n_in: int, edges: int, *, blocks: int, cross_fraction: float = 0.05,
               seed: int = 0) -> np.ndarray:
    """A poor expander: ``blocks`` dense-ish diagonal blocks, with ``cross_fraction`` of the edges rewired across.

    Rows and columns are split into ``blocks`` contiguous groups of equal size (``blocks`` must
    divide both). Block b gets ``edges // blocks`` edges (the first ``edges % blocks`` one more)
    placed by :func:`degree_sequence_mask` with balanced degrees inside the block; when every
    block has the same floor degree on each side, the row and column degree multisets are exactly
    those of ``degree_sequence_mask(balanced_degrees(n_out, edges), balanced_degrees(n_in, edges))``.
    Then random pairs of edges in different blocks, (r1, c1) and (r2, c2), are swapped to
    (r1, c2) and (r2, c1) until about ``cross_fraction`` of all edges cross between blocks; the
    swaps keep every degree and create no repeated edge.

    Examples
    --------
    >>> M = block_mask(8, 8, 16, blocks=2, cross_fraction=0.0, seed=0)
    >>> int(M[:4, 4:].sum() + M[4:, :4].sum()), M.sum(axis=1).tolist()
    (0, [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    """
    n_out = check_range(n_out, "n_out", "block_mask", "units")
    n_in = check_range(n_in, "n_in", "block_mask", "units")
    edges = check_int(edges, "edges", "block_mask", low=0, high=n_out * n_in)
    blocks = check_int(blocks, "blocks", "block_mask", low=1)
    cross_fraction = check_float(cross_fraction, "cross_fraction", "block_mask", low=0, high=1, high_open=True)
    seed = check_range(seed, "seed", "block_mask", "seed")
    if n_out % blocks or n_in % blocks:
        raise ValueError(f"blocks={blocks} must divide both n_out={n_out} and n_in={n_in}")
    rows_per, cols_per = n_out // blocks, n_in // blocks
    per_block = balanced_degrees(blocks, edges)
    seeds = np.random.SeedSequence(seed).generate_state(blocks + 1)
    mask = np.zeros((n_out, n_in))
    for b, count in enumerate(per_block):
        block = degree_sequence_mask(balanced_degrees(rows_per, int(count)), balanced_degrees(cols_per, int(count)),
                                     seed=int(seeds[b]))
        mask[b * rows_per:(b + 1) * rows_per, b * cols_per:(b + 1) * cols_per] = block
    _rewire_across_blocks(mask, rows_per, cols_per, int(round(cross_fraction * edges)),
                          np.random.default_rng(int(seeds[-1])))
    return mask


def _rewire_across_blocks(mask: np.ndarray, rows_per: int, cols_per: int, target: int,
                          rng: np.random.Generator) -> None:
    """Degree-preserving swaps of edge pairs from different blocks until ``target`` edges cross."""
    rows, cols = np.nonzero(mask)
    crossing = int(np.sum(rows // rows_per != cols // cols_per))
    for _ in range(_MAX_SWAP_TRIES):
        if crossing >= target or rows.size < 2:
            return
        i, j = rng.choice(rows.size, size=2, replace=False)
        (r1, c1), (r2, c2) = (rows[i], cols[i]), (rows[j], cols[j])
        before = int(r1 // rows_per != c1 // cols_per) + int(r2 // rows_per != c2 // cols_per)
        after = int(r1 // rows_per != c2 // cols_per) + int(r2 // rows_per != c1 // cols_per)
        if after <= before or mask[r1, c2] or mask[r2, c1]:
            continue
        mask[r1, c1] = mask[r2, c2] = 0.0
        mask[r1, c2] = mask[r2, c1] = 1.0
        cols[i], cols[j] = c2, c1
        crossing += after - before
    raise ValueError(f"could not rewire {target} edges across blocks")
