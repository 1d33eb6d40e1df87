"""Random layer masks with prescribed degrees: exact degrees, simple graphs, and expansion that differs."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lattice_lab import masks, spectral


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(4, 40), cols=st.integers(4, 40), density=st.floats(0.05, 0.45), seed=st.integers(0, 10**6))
def test_degree_sequence_mask_has_exactly_the_degrees_asked_for_and_no_repeated_edge(rows, cols, density, seed):
    edges = int(density * rows * cols)
    row_degrees, col_degrees = masks.balanced_degrees(rows, edges), masks.balanced_degrees(cols, edges)
    M = masks.degree_sequence_mask(row_degrees, col_degrees, seed=seed)
    assert set(np.unique(M)) <= {0.0, 1.0}  # a 0/1 mask: a repeated edge would have been counted once
    assert M.sum(axis=1).tolist() == row_degrees.tolist() and M.sum(axis=0).tolist() == col_degrees.tolist()


def test_balanced_degrees_sum_to_the_edges_and_differ_by_at_most_one():
    degrees = masks.balanced_degrees(7, 30)
    assert degrees.sum() == 30 and degrees.max() - degrees.min() == 1
    assert masks.balanced_degrees(4, 8).tolist() == [2, 2, 2, 2]


def test_degree_sequence_mask_refuses_degrees_that_cannot_form_a_mask():
    with pytest.raises(ValueError, match="sum to"):
        masks.degree_sequence_mask([2, 2], [1, 1, 1])
    with pytest.raises(ValueError, match="exceeds"):
        masks.degree_sequence_mask([2, 2], [4])


def test_erdos_renyi_mask_has_the_edges_asked_for_and_depends_on_the_seed():
    a, b = masks.erdos_renyi_mask(20, 10, 37, seed=0), masks.erdos_renyi_mask(20, 10, 37, seed=1)
    assert a.sum() == b.sum() == 37 and not np.array_equal(a, b)
    assert np.array_equal(a, masks.erdos_renyi_mask(20, 10, 37, seed=0))


@pytest.mark.parametrize("n_in, edges, blocks", [(128, 768, 4), (128, 1664, 8), (28, 128, 4)])
def test_the_poor_expander_has_the_degree_multisets_of_the_random_mask(n_in, edges, blocks):
    poor = masks.block_mask(128, n_in, edges, blocks=blocks, cross_fraction=0.05, seed=3)
    good = masks.degree_sequence_mask(masks.balanced_degrees(128, edges), masks.balanced_degrees(n_in, edges), seed=3)
    assert sorted(poor.sum(axis=1)) == sorted(good.sum(axis=1))
    assert sorted(poor.sum(axis=0)) == sorted(good.sum(axis=0))
    rows, cols = np.nonzero(poor)
    crossing = int(np.sum(rows // (128 // blocks) != cols // (n_in // blocks)))
    assert round(0.05 * edges) <= crossing <= round(0.05 * edges) + 1  # rewired until 5% cross (swaps add 1 or 2)


def test_without_rewiring_the_poor_expander_is_block_diagonal_and_its_delta_r_is_far_below_the_random_masks():
    diagonal = masks.block_mask(64, 64, 384, blocks=4, cross_fraction=0.0, seed=0)
    for b in range(4):
        off = np.ones((64, 64), dtype=bool)
        off[16 * b:16 * (b + 1), :] = False
        assert diagonal[~off].sum() == 96  # all of block b's edges sit in its diagonal block
    random = masks.degree_sequence_mask(np.full(128, 6), np.full(128, 6), seed=0)
    poor = masks.block_mask(128, 128, 768, blocks=4, cross_fraction=0.05, seed=0)
    assert spectral.delta_r(random) > 0 > spectral.delta_r(poor) + 1.0  # Δ_r ≪ 0 at equal degrees


def test_block_mask_refuses_blocks_that_do_not_divide_the_shape():
    with pytest.raises(ValueError, match="divide"):
        masks.block_mask(10, 12, 20, blocks=4)
    with pytest.raises(ValueError, match="cross_fraction"):
        masks.block_mask(8, 8, 16, blocks=2, cross_fraction=1.5)
