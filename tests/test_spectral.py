"""Tests for lattice_lab.spectral: known spectra, Cheeger, Ramanujan bounds, Δ_r, generators."""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from lattice_lab import spectral as S


def paley_graph(q: int) -> nx.Graph:
    """Paley graph on Z_q (q prime, q ≡ 1 mod 4): i ~ j iff i − j is a nonzero square mod q."""
    squares = {(x * x) % q for x in range(1, q)}
    G = nx.Graph()
    G.add_nodes_from(range(q))
    G.add_edges_from((i, j) for i in range(q) for j in range(i + 1, q) if (j - i) % q in squares)
    return G


def union_of(*graphs: nx.Graph) -> nx.Graph:
    return nx.disjoint_union_all(list(graphs))


# ----------------------------------------------------------------------------------------------
# Known spectra
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [2, 5, 8])
def test_complete_graph_spectra(n):
    G = nx.complete_graph(n)
    np.testing.assert_allclose(S.adjacency_spectrum(G), [n - 1] + [-1] * (n - 1), atol=1e-10)
    np.testing.assert_allclose(S.laplacian_spectrum(G), [0] + [n] * (n - 1), atol=1e-10)
    np.testing.assert_allclose(
        S.normalized_laplacian_spectrum(G), [0] + [n / (n - 1)] * (n - 1), atol=1e-10
    )


@pytest.mark.parametrize("n", [5, 6, 11])
def test_cycle_spectra_are_cosines(n):
    lam = 2 * np.cos(2 * np.pi * np.arange(n) / n)
    G = nx.cycle_graph(n)
    np.testing.assert_allclose(S.adjacency_spectrum(G), np.sort(lam)[::-1], atol=1e-10)
    np.testing.assert_allclose(S.laplacian_spectrum(G), np.sort(2 - lam), atol=1e-10)
    np.testing.assert_allclose(S.normalized_laplacian_spectrum(G), np.sort(1 - lam / 2), atol=1e-10)


def test_complete_bipartite_graph_and_all_ones_mask():
    c, d = 3, 5
    root = math.sqrt(c * d)
    expected = [root] + [0.0] * (c + d - 2) + [-root]
    np.testing.assert_allclose(
        S.adjacency_spectrum(nx.complete_bipartite_graph(c, d)), expected, atol=1e-10
    )
    M = np.ones((c, d))
    np.testing.assert_allclose(S.mask_singular_values(M), [root, 0, 0], atol=1e-10)
    assert S.mu_hat(M) == pytest.approx(0.0, abs=1e-10)
    assert S.is_biregular(M) == (True, d, c)
    assert S.is_ramanujan_biregular(M)
    assert S.singular_value_gap(M) == pytest.approx(root)
    assert S.singular_value_gap(M, weights=-2 * M) == pytest.approx(2 * root)


def test_petersen_spectrum_and_ramanujan_property():
    G = nx.petersen_graph()
    np.testing.assert_allclose(S.adjacency_spectrum(G), [3] + [1] * 5 + [-2] * 4, atol=1e-10)
    assert S.spectral_gap(G) == pytest.approx(2.0)
    assert S.second_largest_abs_eigenvalue(G) == pytest.approx(2.0)
    assert S.is_ramanujan_regular(G)  # 2 <= 2√2
    assert S.delta_r(nx.to_numpy_array(G)) == pytest.approx(2 * math.sqrt(2) - 2)


@pytest.mark.parametrize("q", [13, 17])
def test_paley_graph_spectrum(q):
    G = paley_graph(q)
    k = (q - 1) // 2
    expected = [k] + [(-1 + math.sqrt(q)) / 2] * k + [(-1 - math.sqrt(q)) / 2] * k
    np.testing.assert_allclose(S.adjacency_spectrum(G), expected, atol=1e-10)
    assert S.is_ramanujan_regular(G)  # (1 + √q)/2 <= 2√(k−1) for these q


def test_numpy_sparse_and_networkx_inputs_agree():
    G = nx.petersen_graph()
    A = nx.to_numpy_array(G)
    for form in (A, sp.csr_matrix(A), A.astype(int).tolist()):
        np.testing.assert_allclose(S.adjacency_spectrum(form), S.adjacency_spectrum(G))
        np.testing.assert_allclose(S.laplacian_spectrum(form), S.laplacian_spectrum(G))


def test_weighted_graph_uses_weight_attribute():
    G = nx.Graph()
    G.add_edge(0, 1, weight=3.0)
    np.testing.assert_allclose(S.adjacency_spectrum(G), [3.0, -3.0])
    np.testing.assert_allclose(S.laplacian_spectrum(G), [0.0, 6.0], atol=1e-12)


def test_spectral_gap_kinds():
    G = nx.complete_graph(5)
    assert S.spectral_gap(G, "adjacency") == pytest.approx(5.0)  # 4 − (−1)
    assert S.spectral_gap(G, "laplacian") == pytest.approx(5.0)
    assert S.algebraic_connectivity(G) == pytest.approx(5.0)
    assert S.spectral_gap(G, "normalized") == pytest.approx(5 / 4)
    path = nx.path_graph(6)
    assert S.algebraic_connectivity(path) == pytest.approx(2 - 2 * math.cos(math.pi / 6))
    two_parts = union_of(nx.complete_graph(3), nx.complete_graph(3))
    assert S.algebraic_connectivity(two_parts) == pytest.approx(0.0, abs=1e-10)
    with pytest.raises(ValueError, match="The 'kind' parameter of spectral_gap must be one of 'adjacency', 'laplacian', 'normalized'. Got 'signless'"):
        S.spectral_gap(G, kind="signless")


def test_second_largest_abs_eigenvalue_of_bipartite_graph_is_degree():
    assert S.second_largest_abs_eigenvalue(nx.cycle_graph(6)) == pytest.approx(2.0)


def test_graph_input_validation():
    with pytest.raises(ValueError, match="not symmetric.*symmetrize"):
        S.adjacency_spectrum(np.array([[0.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="directed graph.*to_undirected"):
        S.adjacency_spectrum(nx.DiGraph([(0, 1)]))
    with pytest.raises(ValueError, match="square"):
        S.adjacency_spectrum(np.ones((2, 3)))
    with pytest.raises(ValueError, match="finite"):
        S.adjacency_spectrum(np.array([[0.0, np.nan], [np.nan, 0.0]]))
    with pytest.raises(ValueError, match="negative edge weights"):
        S.laplacian_spectrum(np.array([[0.0, -1.0], [-1.0, 0.0]]))
    with pytest.raises(ValueError, match="at least 2 nodes"):
        S.spectral_gap(np.zeros((1, 1)))


# ----------------------------------------------------------------------------------------------
# Cheeger inequality
# ----------------------------------------------------------------------------------------------
def test_cheeger_constant_of_known_graphs():
    assert S.cheeger_constant(nx.cycle_graph(8)) == pytest.approx(2 / 8)  # half the cycle
    assert S.cheeger_constant(nx.complete_graph(4)) == pytest.approx(4 / 6)
    assert S.cheeger_constant(nx.path_graph(2)) == pytest.approx(1.0)
    two_parts = union_of(nx.cycle_graph(4), nx.cycle_graph(4))
    assert S.cheeger_constant(two_parts) == 0.0


def test_conductance_counts_cut_over_smaller_volume():
    G = nx.barbell_graph(4, 0)  # two K4 joined by one edge
    assert S.conductance(G, range(4)) == pytest.approx(1 / 13)  # vol = 4·3 + 1
    assert S.cheeger_constant(G) == pytest.approx(1 / 13)
    A = nx.to_numpy_array(nx.cycle_graph(6))
    assert S.conductance(A, [0, 1]) == pytest.approx(2 / 4)
    with pytest.raises(ValueError, match="proper subset"):
        S.conductance(A, range(6))
    with pytest.raises(ValueError, match="not in G"):
        S.conductance(G, ["x"])


def _small_graphs():
    rng = np.random.default_rng(3)
    graphs = [
        nx.path_graph(6),
        nx.cycle_graph(9),
        nx.petersen_graph(),
        nx.complete_graph(5),
        nx.barbell_graph(4, 1),
        nx.star_graph(6),
        union_of(nx.cycle_graph(3), nx.cycle_graph(4)),
    ]
    for seed in range(6):
        G = nx.gnp_random_graph(9, 0.35, seed=seed)
        G.remove_nodes_from([v for v in list(G) if G.degree(v) == 0])
        for u, v in G.edges:
            G.edges[u, v]["weight"] = float(rng.uniform(0.2, 2.0))
        graphs.append(G)
    return graphs


@pytest.mark.parametrize("G", _small_graphs())
def test_cheeger_bounds_hold_against_brute_force(G):
    lower, upper = S.cheeger_bounds(G)
    h = S.cheeger_constant(G)
    assert lower - 1e-12 <= h <= upper + 1e-12


def test_cheeger_rejects_isolated_vertices_and_large_graphs():
    G = nx.path_graph(3)
    G.add_node(9)
    with pytest.raises(ValueError, match="isolated"):
        S.cheeger_bounds(G)
    with pytest.raises(ValueError, match="at most 16 nodes"):
        S.cheeger_constant(nx.cycle_graph(17))


# ----------------------------------------------------------------------------------------------
# Ramanujan: regular graphs
# ----------------------------------------------------------------------------------------------
def test_is_ramanujan_regular_excludes_the_trivial_eigenvalues_and_requires_connectedness():
    # LPS definition: a *connected* d-regular graph, ±d excluded, so connected bipartite graphs qualify.
    cube = nx.hypercube_graph(4)  # 4-regular bipartite, eigenvalues 4, 2, 0, −2, −4
    assert S.is_ramanujan_regular(cube)
    assert S.delta_r(nx.to_numpy_array(cube)) == pytest.approx(2 * math.sqrt(3) - 4)
    # each component Ramanujan, the union not: its eigenvalue d is repeated, the spectral gap is 0
    for graph in (nx.complete_graph(4), nx.petersen_graph()):
        assert S.is_ramanujan_regular(graph)
        union = union_of(graph, graph)
        assert S.spectral_gap(union) == pytest.approx(0, abs=1e-9)
        assert not S.is_ramanujan_regular(union)
        assert S.delta_r(nx.to_numpy_array(union)) < 0  # λ(G) with multiplicity agrees


def test_is_ramanujan_biregular_rejects_a_disconnected_mask():
    block = np.ones((3, 4))  # K_{3,4}: μ̂ = 0, Ramanujan
    assert S.is_ramanujan_biregular(block)
    two = np.block([[block, np.zeros((3, 4))], [np.zeros((3, 4)), block]])  # (4, 3)-biregular, two components
    assert S.is_biregular(two) == (True, 4, 3)
    assert not S.is_ramanujan_biregular(two)  # σ₂ = σ₁ = √12 > √3 + √2


def test_is_ramanujan_regular_detects_a_large_nontrivial_eigenvalue():
    # The prism over C_20 is 3-regular with eigenvalues 2cos(2πk/20) ± 1, so λ2 = 1 + 2cos(π/10).
    G = nx.circular_ladder_graph(20)
    lam2 = 1 + 2 * math.cos(2 * math.pi / 20)
    assert lam2 > 2 * math.sqrt(2)
    assert not S.is_ramanujan_regular(G)
    assert S.ramanujan_bound_regular(3) == pytest.approx(2 * math.sqrt(2))


def test_is_ramanujan_regular_rejects_irregular_graphs():
    with pytest.raises(ValueError, match="d-regular"):
        S.is_ramanujan_regular(nx.path_graph(4))
    with pytest.raises(ValueError, match="simple graph"):
        S.is_ramanujan_regular(2 * nx.to_numpy_array(nx.cycle_graph(5)))


@pytest.mark.skipif(not hasattr(nx, "is_regular_expander"), reason="networkx < 3.3")
def test_delta_r_of_regular_graph_agrees_with_networkx_is_regular_expander():
    graphs = []
    for n, d in [(16, 3), (40, 4), (50, 3)]:
        for seed in range(20):
            G = nx.from_numpy_array(S.random_regular_mask(n, d, seed=seed))
            if nx.is_connected(G):
                graphs.append(G)
    rng_union = union_of(
        nx.random_regular_graph(3, 30, seed=1), nx.random_regular_graph(3, 30, seed=2)
    )
    graphs += [rng_union, union_of(nx.petersen_graph(), nx.petersen_graph()), nx.hypercube_graph(4)]
    verdicts = []
    for G in graphs:
        margin = S.delta_r(nx.to_numpy_array(G))
        assert abs(margin) > 1e-6  # away from the boundary where ≤ and < could differ
        verdicts.append(margin >= 0)
        assert (margin >= 0) == nx.is_regular_expander(G)
    assert any(verdicts) and not all(verdicts)
    assert sum(not v for v in verdicts) > 3  # some random regular graphs fail as well


# ----------------------------------------------------------------------------------------------
# Bipartite layers
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,density", [((200, 150), 0.1), ((90, 300), 0.05), ((40, 40), 0.2)])
def test_mu_hat_matches_dense_svd(shape, density):
    M = (np.random.default_rng(0).random(shape) < density).astype(float)
    s = np.linalg.svd(M, compute_uv=False)
    assert S.mu_hat(M) == pytest.approx(s[1], rel=1e-9)
    assert S.mu_hat(sp.csr_matrix(M)) == pytest.approx(s[1], rel=1e-9)
    np.testing.assert_allclose(S.mask_singular_values(M, k=2), s[:2], rtol=1e-9)
    np.testing.assert_allclose(S.mask_singular_values(M, k=5), s[:5], rtol=1e-9)
    np.testing.assert_allclose(S.mask_singular_values(M), s, rtol=1e-9, atol=1e-9)


def test_mu_hat_of_disconnected_mask_repeats_top_singular_value():
    # Two copies of the same (8, 8)-biregular block: σ1 = 8 twice, so μ̂ = 8 exactly.
    B = S.biregular_mask(100, 100, 8, seed=0)
    M = sp.block_diag([B, B], format="csr")
    assert S.mu_hat(M) == pytest.approx(8.0, rel=1e-9)
    assert not S.is_ramanujan_biregular(M)
    assert S.mu_hat(np.eye(5)) == pytest.approx(1.0)


def test_bipartite_degrees_and_biregularity():
    M = np.array([[1, 1, 0], [0, 1, 1]])
    rows, cols = S.bipartite_degrees(M)
    assert rows.tolist() == [2, 2] and cols.tolist() == [1, 2, 1]
    assert S.is_biregular(M) == (False, None, None)
    assert S.is_biregular(S.biregular_mask(12, 8, 4, seed=1)) == (True, 4, 6)
    with pytest.raises(ValueError, match="not biregular.*delta_r"):
        S.is_ramanujan_biregular(M)


def test_ramanujan_bound_biregular_values_and_validation():
    assert S.ramanujan_bound_biregular(5, 10) == pytest.approx(5.0)
    assert S.ramanujan_bound_biregular(1, 1) == 0.0
    with pytest.raises(ValueError, match="The 'c' parameter of ramanujan_bound_biregular must be a float >= 1. Got 0 instead"):
        S.ramanujan_bound_biregular(0, 4)


def test_delta_r_of_biregular_mask_is_bound_minus_mu_hat():
    M = S.biregular_mask(96, 64, 6, seed=2)  # c = 6, d = 9
    expected = math.sqrt(5) + math.sqrt(8) - np.linalg.svd(M, compute_uv=False)[1]
    assert S.delta_r(M) == pytest.approx(expected, rel=1e-9)
    assert S.delta_r(np.ones((4, 4))) == pytest.approx(2 * math.sqrt(3))


def test_delta_r_ignores_isolated_rows_and_columns():
    M = (np.random.default_rng(1).random((60, 50)) < 0.2).astype(float)
    padded = np.zeros((70, 65))
    padded[5:65, 10:60] = M
    assert S.delta_r(padded) == pytest.approx(S.delta_r(M), rel=1e-12)
    nnz = M.sum()
    d_left, d_right = nnz / (M.sum(1) > 0).sum(), nnz / (M.sum(0) > 0).sum()
    sigma2 = np.linalg.svd(M, compute_uv=False)[1]
    assert S.delta_r(M) == pytest.approx(math.sqrt(d_left - 1) + math.sqrt(d_right - 1) - sigma2)


def test_weighted_delta_r_is_normalized_weighted_sigma2():
    rng = np.random.default_rng(4)
    M = (rng.random((80, 70)) < 0.15).astype(float)
    W = rng.standard_normal((80, 70))
    A = np.abs(W * M)
    nnz = M.sum()
    bound = math.sqrt(nnz / (M.sum(1) > 0).sum() - 1) + math.sqrt(nnz / (M.sum(0) > 0).sum() - 1)
    expected = bound - np.linalg.svd(A, compute_uv=False)[1] / (A.sum() / nnz)
    assert S.delta_r(M, weights=W) == pytest.approx(expected, rel=1e-9)
    assert S.delta_r(M, weights=-0.01 * W) == pytest.approx(expected, rel=1e-9)  # scale/sign free
    assert S.delta_r(M, weights=np.full(M.shape, 7.0)) == pytest.approx(S.delta_r(M), rel=1e-9)


def test_functions_do_not_modify_inputs():
    M = S.biregular_mask(30, 30, 5, seed=0)
    W = np.random.default_rng(0).standard_normal(M.shape)
    M0, W0 = M.copy(), W.copy()
    S.delta_r(M, weights=W)
    S.mu_hat(M)
    S.singular_value_gap(M, weights=W)
    np.testing.assert_array_equal(M, M0)
    np.testing.assert_array_equal(W, W0)
    A = nx.to_numpy_array(nx.petersen_graph())
    A0 = A.copy()
    S.cheeger_bounds(A)
    S.normalized_laplacian_spectrum(A)
    np.testing.assert_array_equal(A, A0)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.array([[1.0, 0.5], [0.0, 1.0]]), "mask must be 0/1"),
        (np.array([[1, 2], [0, 1]]), "mask must be 0/1"),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), "mask must be 0/1"),
        (np.array([[1.0, -1.0], [0.0, 1.0]]), "mask must be 0/1"),
        (np.array([["a", "b"]]), "mask must be 0/1"),
        (sp.csr_matrix(np.array([[0.0, 3.0]])), "mask must be 0/1"),
        (np.zeros((0, 5)), "empty layer"),
        (np.ones(4), "must be 2-D"),
        (np.ones((2, 2, 2)), "must be 2-D"),
    ],
)
def test_bad_masks_raise(bad, match):
    for fn in (S.delta_r, S.mu_hat, S.bipartite_degrees, S.mask_singular_values):
        with pytest.raises(ValueError, match=match):
            fn(bad)


def test_delta_r_undefined_below_average_degree_three():
    with pytest.raises(ValueError, match="average degree < 3.*row degree is 1.*column degree is 1"):
        S.delta_r(np.eye(10))
    with pytest.raises(ValueError, match="average degree < 3"):
        S.delta_r(np.zeros((5, 5)))
    with pytest.raises(ValueError, match="average degree < 3.*column degree is 2"):
        S.delta_r(np.ones((2, 6)))  # rows have 6, columns only 2
    with pytest.raises(ValueError, match="weights must have the mask's shape"):
        S.delta_r(np.ones((4, 4)), weights=np.ones((4, 3)))
    with pytest.raises(ValueError, match="weights are zero"):
        S.delta_r(np.ones((4, 4)), weights=np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"The 'k' parameter of mask_singular_values must be an int in \[1, 3\]. Got 4 instead"):
        S.mask_singular_values(np.ones((3, 4)), k=4)


# ----------------------------------------------------------------------------------------------
# Generators
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "n_out, n_in, c", [(12, 8, 4), (64, 64, 3), (100, 40, 6), (40, 100, 15), (20, 10, 7), (9, 9, 9)]
)
def test_biregular_mask_has_exact_degrees(n_out, n_in, c):
    M = S.biregular_mask(n_out, n_in, c, seed=5)
    assert M.shape == (n_out, n_in)
    assert set(np.unique(M)) <= {0.0, 1.0}
    assert (M.sum(axis=1) == c).all()
    assert (M.sum(axis=0) == n_out * c // n_in).all()


def test_biregular_mask_is_seeded():
    a = S.biregular_mask(64, 32, 4, seed=0)
    np.testing.assert_array_equal(a, S.biregular_mask(64, 32, 4, seed=0))
    assert not np.array_equal(a, S.biregular_mask(64, 32, 4, seed=1))


def test_biregular_mask_rejects_impossible_degrees():
    with pytest.raises(ValueError, match="not an integer"):
        S.biregular_mask(10, 4, 3)  # 30 / 4
    with pytest.raises(ValueError, match=r"The 'out_degree' parameter of biregular_mask must be an int in \[1, 4\]. Got 5 instead"):
        S.biregular_mask(4, 4, 5)
    with pytest.raises(ValueError, match=r"The 'out_degree' parameter of biregular_mask must be an int in \[1, 4\]. Got 0 instead"):
        S.biregular_mask(4, 4, 0)


@pytest.mark.parametrize(
    "n_out, n_in, c",
    [(128, 128, 8), (128, 128, 16), (256, 256, 8), (512, 128, 8), (128, 512, 32), (1024, 256, 16)],
)
def test_documented_biregular_sizes_are_ramanujan(n_out, n_in, c):
    for seed in range(3):
        assert S.is_ramanujan_biregular(S.biregular_mask(n_out, n_in, c, seed=seed))


def test_random_regular_mask_is_symmetric_and_regular():
    A = S.random_regular_mask(30, 5, seed=2)
    np.testing.assert_array_equal(A, A.T)
    assert (np.diag(A) == 0).all() and (A.sum(axis=1) == 5).all()
    np.testing.assert_array_equal(A, S.random_regular_mask(30, 5, seed=2))
    with pytest.raises(ValueError, match="must be even"):
        S.random_regular_mask(9, 3)
    with pytest.raises(ValueError, match=r"The 'd' parameter of random_regular_mask must be an int in \[0, 3\]. Got 4 instead"):
        S.random_regular_mask(4, 4)


def test_generators_refuse_whole_floats_booleans_and_bad_seeds_as_both_value_and_type_errors():
    for call in (lambda: S.biregular_mask(4, 4, 2.0), lambda: S.biregular_mask(4, True, 1),
                 lambda: S.random_regular_mask(6, 2, seed=-1), lambda: S.biregular_mask(4, 4, 2, seed=None)):
        with pytest.raises(ValueError, match="parameter of (biregular_mask|random_regular_mask) must be an int"):
            call()
        with pytest.raises(TypeError):
            call()


def test_spectral_module_alone_imports_neither_matplotlib_nor_torch():
    # The package's __init__ imports torch, so spectral is loaded under an empty stand-in package:
    # what it imports (lattice_lab.validation included) is all that runs.
    folder = str(Path(S.__file__).parent)
    code = ("import importlib.util, sys, types; "
            "package = types.ModuleType('lattice_lab'); "
            f"package.__path__ = [{folder!r}]; sys.modules['lattice_lab'] = package; "
            f"spec = importlib.util.spec_from_file_location('lattice_lab.spectral', {S.__file__!r}); "
            "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module); "
            "assert module.ramanujan_bound_regular(5) == 4.0; "
            "print('matplotlib' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ------------------------------------------------------------------ ΔS and IMDB (Hoang et al. 2023)

def test_delta_s_of_a_complete_bipartite_graph_uses_its_top_eigenvalue():
    # K_{4,9}: λ₁ = √(4·9) = 6, μ̂ = 0, so ΔS = 2√5; Δ_r uses the average degrees 9 and 4 instead: √8 + √3
    mask = np.ones((4, 9))
    assert S.delta_s(mask) == pytest.approx(2 * np.sqrt(5))
    assert S.delta_r(mask) == pytest.approx(np.sqrt(8) + np.sqrt(3))


def test_delta_s_equals_delta_r_on_a_regular_bipartite_mask():
    mask = S.biregular_mask(96, 96, 7, seed=2)
    assert S.delta_s(mask) == pytest.approx(S.delta_r(mask), abs=1e-9)


def test_delta_s_is_undefined_below_average_degree_three():
    with pytest.raises(ValueError, match="undefined"):
        S.delta_s(np.eye(6))


def test_imdb_averages_delta_r_over_the_degree_classes_of_the_inputs():
    left = S.biregular_mask(40, 20, 5, seed=0)    # 20 inputs of degree 10
    right = S.biregular_mask(40, 10, 3, seed=1)   # 10 inputs of degree 12
    mask = np.concatenate([left, right], axis=1)
    expected = (S.delta_r(left) + S.delta_r(right)) / 2
    assert S.imdb(mask) == pytest.approx(expected)
    assert S.imdb(mask, "delta_s") == pytest.approx((S.delta_s(left) + S.delta_s(right)) / 2)


def test_imdb_skips_small_degree_classes_and_says_when_nothing_is_left():
    mask = S.biregular_mask(40, 20, 5, seed=0)
    extra = np.zeros((40, 2))
    extra[:12, :] = 1.0  # two inputs of degree 12: a class of fewer than 3 inputs, skipped
    assert S.imdb(np.concatenate([mask, extra], axis=1)) == pytest.approx(S.delta_r(mask))
    with pytest.raises(ValueError, match="IMDB is undefined"):
        S.imdb(np.eye(8))
    with pytest.raises(ValueError, match="measure"):
        S.imdb(mask, "cheeger")
