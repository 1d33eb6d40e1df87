"""Tests for lattice_lab.posets: known lattices, lattice laws, DM completion, Möbius."""
from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lattice_lab.posets import (
    Poset,
    antichain,
    boolean_lattice,
    chain,
    dedekind_macneille,
)

# ----------------------------------------------------------------------------------------------
# Fixtures and independent brute-force helpers
# ----------------------------------------------------------------------------------------------
M3_PAIRS = [(0, 1), (0, 2), (0, 3), (1, 4), (2, 4), (3, 4)]
N5_PAIRS = [(0, 1), (1, 2), (2, 4), (0, 3), (3, 4)]  # 0 < 1 < 2 < 4, 0 < 3 < 4


def m3() -> Poset:
    return Poset.from_relation(5, M3_PAIRS)


def n5() -> Poset:
    return Poset.from_relation(5, N5_PAIRS)


def small_lattices() -> list[tuple[str, Poset]]:
    return [("B3", boolean_lattice(3)), ("D60", Poset.from_divisors(60)), ("N5", n5()),
            ("M3", m3()), ("chain5", chain(5)), ("D30", Poset.from_divisors(30))]


def upper_covers(leq: np.ndarray, x: int) -> list[int]:
    """Minimal elements of the strict up-set of x, straight from the definition."""
    above = [y for y in range(len(leq)) if leq[x, y] and y != x]
    return [y for y in above if not any(leq[z, y] for z in above if z != y)]


def lower_covers(leq: np.ndarray, x: int) -> list[int]:
    return upper_covers(leq.T, x)


def number_theoretic_mobius(d: int) -> int:
    result, p = 1, 2
    while p * p <= d:
        if d % p == 0:
            d //= p
            if d % p == 0:
                return 0
            result = -result
        p += 1
    return -result if d > 1 else result


def is_prime_power(d: int) -> bool:
    primes = [p for p in range(2, d + 1) if d % p == 0 and all(p % q for q in range(2, p))]
    return len(primes) == 1


def brute_height_width(leq: np.ndarray) -> tuple[int, int]:
    n = len(leq)
    height = width = 0
    for r in range(1, n + 1):
        for subset in itertools.combinations(range(n), r):
            pairs = list(itertools.combinations(subset, 2))
            if all(leq[a, b] or leq[b, a] for a, b in pairs):
                height = max(height, r)
            if not any(leq[a, b] or leq[b, a] for a, b in pairs):
                width = max(width, r)
    return height, width


@st.composite
def random_dags(draw, max_n: int = 9) -> Poset:
    n = draw(st.integers(1, max_n))
    forward = list(itertools.combinations(range(n), 2))
    edges = draw(st.lists(st.sampled_from(forward), max_size=len(forward), unique=True)) if forward else []
    perm = draw(st.permutations(range(n)))
    return Poset.from_relation(n, [(perm[i], perm[j]) for i, j in edges])


@st.composite
def random_preorders(draw, max_n: int = 9) -> Poset:
    n = draw(st.integers(1, max_n))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=2 * n))
    return Poset.from_relation(n, pairs)


@st.composite
def random_height_two(draw) -> Poset:
    """Minimal elements below maximal ones by a random incidence: a formal context, whose
    completion (its concept lattice) is usually much larger than the poset."""
    low, high = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    incidence = draw(st.lists(st.booleans(), min_size=low * high, max_size=low * high))
    pairs = [(i, low + j) for (i, j), on in zip(itertools.product(range(low), range(high)), incidence) if on]
    return Poset.from_relation(low + high, pairs)


random_posets = st.one_of(random_dags(), random_preorders(), random_height_two())


# ----------------------------------------------------------------------------------------------
# Known lattices
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_boolean_lattice_irreducibles_are_atoms_and_coatoms(k):
    B = boolean_lattice(k)
    sizes = np.array([bin(m).count("1") for m in range(2**k)])
    assert B.join_irreducibles().tolist() == np.flatnonzero(sizes == 1).tolist()
    assert B.meet_irreducibles().tolist() == np.flatnonzero(sizes == k - 1).tolist()
    assert B.is_lattice()


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_boolean_lattice_mobius_is_minus_one_to_the_size_difference(k):
    B = boolean_lattice(k)
    mu = B.mobius_matrix()
    for s, t in itertools.product(range(2**k), repeat=2):
        expected = (-1) ** bin(t & ~s).count("1") if s & t == s else 0
        assert mu[s, t] == expected
    for s in range(2**k):
        assert B.mobius(0, s) == (-1) ** bin(s).count("1")


@pytest.mark.parametrize("n", [1, 2, 5, 9])
def test_chain_mobius_and_irreducibles(n):
    C = chain(n)
    expected = np.eye(n, dtype=np.int64) - np.eye(n, k=1, dtype=np.int64)
    assert np.array_equal(C.mobius_matrix(), expected)
    assert [C.mobius(i, j) for i in range(n) for j in range(n)] == expected.ravel().tolist()
    assert C.join_irreducibles().tolist() == list(range(1, n))
    assert C.meet_irreducibles().tolist() == list(range(n - 1))
    assert (C.height(), C.width()) == (n, 1)


@pytest.mark.parametrize("n", [2, 3, 6])
def test_antichain_is_not_a_lattice_and_all_elements_are_irreducible_in_dm(n):
    A = antichain(n)
    assert not A.is_lattice()
    lattice, embedding = dedekind_macneille(A)
    assert lattice.size == n + 2
    assert sorted(embedding.tolist()) == list(range(1, n + 1))
    assert A.meet_irreducibles().tolist() == list(range(n))
    assert A.join_irreducibles().tolist() == list(range(n))
    assert (A.height(), A.width()) == (1, n)


@pytest.mark.parametrize("n", [3, 4, 5])
def test_completion_of_standard_example_is_boolean_lattice(n):
    # S_n: a_i < b_j iff i != j; DM(S_n) is B_n with the a's as atoms and the b's as coatoms
    S = Poset.from_relation(2 * n, [(i, n + j) for i in range(n) for j in range(n) if i != j])
    lattice, embedding = dedekind_macneille(S)
    assert nx.is_isomorphic(lattice.hasse(), boolean_lattice(n).hasse())
    assert S.join_irreducibles().tolist() == list(range(n))
    assert S.meet_irreducibles().tolist() == list(range(n, 2 * n))
    assert [int(lattice.rank()[e]) for e in embedding] == [1] * n + [n - 1] * n


def test_single_element_is_a_lattice_without_irreducibles():
    one = antichain(1)
    assert one.is_lattice()
    assert one.meet_irreducibles().size == 0 and one.join_irreducibles().size == 0


def test_m3_atoms_are_meet_and_join_irreducible():
    P = m3()
    assert P.is_lattice()
    assert P.meet_irreducibles().tolist() == [1, 2, 3]
    assert P.join_irreducibles().tolist() == [1, 2, 3]
    assert P.mobius(0, 4) == 2  # μ(0̂, 1̂) = n - 1 for the diamond with n atoms


def test_n5_middle_elements_are_meet_and_join_irreducible():
    P = n5()
    assert P.is_lattice()
    assert P.meet_irreducibles().tolist() == [1, 2, 3]
    assert P.join_irreducibles().tolist() == [1, 2, 3]
    assert P.meet(2, 3) == 0 and P.join(1, 3) == 4
    # μ(0,a) = -1, μ(0,b) = 0, μ(0,c) = -1, so μ(0,1) = -(1 - 1 + 0 - 1) = 1
    assert [P.mobius(0, x) for x in range(5)] == [1, -1, 0, -1, 1]


@pytest.mark.parametrize("n", [12, 30, 60, 360])
def test_divisor_lattice_join_irreducibles_are_prime_powers_and_mobius_is_classical(n):
    D = Poset.from_divisors(n)
    divisors = D.labels
    assert divisors == [d for d in range(1, n + 1) if n % d == 0]
    assert [divisors[i] for i in D.join_irreducibles()] == [d for d in divisors if is_prime_power(d)]
    # distributive lattices have as many meet- as join-irreducibles (Birkhoff duality)
    assert len(D.meet_irreducibles()) == len(D.join_irreducibles())
    mu = D.mobius_matrix()
    for j, d in enumerate(divisors):
        assert mu[0, j] == number_theoretic_mobius(d) == D.mobius(0, j)


@pytest.mark.parametrize("name,lattice", small_lattices())
def test_lattice_laws_hold_for_meet_and_join(name, lattice):
    n = lattice.size
    meet = np.array([[lattice.meet(a, b) for b in range(n)] for a in range(n)])
    join = np.array([[lattice.join(a, b) for b in range(n)] for a in range(n)])
    idx = np.arange(n)
    assert np.array_equal(meet[idx, idx], idx) and np.array_equal(join[idx, idx], idx)
    assert np.array_equal(meet, meet.T) and np.array_equal(join, join.T)
    for a, b, c in itertools.product(range(n), repeat=3):
        assert meet[meet[a, b], c] == meet[a, meet[b, c]]
        assert join[join[a, b], c] == join[a, join[b, c]]
    for a, b in itertools.product(range(n), repeat=2):
        assert meet[a, join[a, b]] == a and join[a, meet[a, b]] == a
        assert (meet[a, b] == a) == lattice.leq(a, b) == (join[a, b] == b)


def test_non_lattice_has_pairs_without_meet_or_join():
    bowtie = Poset.from_relation(4, [(0, 2), (0, 3), (1, 2), (1, 3)])
    assert not bowtie.is_lattice()
    assert bowtie.meet(2, 3) is None and bowtie.join(0, 1) is None
    assert not Poset.from_relation(0, []).is_lattice()
    # bounded but not a lattice: 2 and 3 have the two maximal common lower bounds 0 and 1
    bounded_bowtie = Poset.from_relation(6, [(4, 0), (4, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 5), (3, 5)])
    assert not bounded_bowtie.is_lattice()
    assert bounded_bowtie.meet(2, 3) is None and bounded_bowtie.join(0, 1) is None


# ----------------------------------------------------------------------------------------------
# Properties on random posets
# ----------------------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_posets)
def test_irreducibles_match_brute_force_on_explicit_completion(P):
    lattice, embedding = dedekind_macneille(P)
    L = lattice.leq_matrix
    meet_irr = {i for i in range(lattice.size) if len(upper_covers(L, i)) == 1}
    join_irr = {i for i in range(lattice.size) if len(lower_covers(L, i)) == 1}
    embedded = set(embedding.tolist())
    assert meet_irr <= embedded and join_irr <= embedded
    back = {int(e): x for x, e in enumerate(embedding)}
    assert P.meet_irreducibles().tolist() == sorted(back[i] for i in meet_irr)
    assert P.join_irreducibles().tolist() == sorted(back[i] for i in join_irr)


@settings(max_examples=150, deadline=None)
@given(random_posets)
def test_completion_is_a_lattice_with_a_dense_order_embedding(P):
    lattice, embedding = dedekind_macneille(P)
    L = lattice.leq_matrix
    assert lattice.is_lattice()
    assert np.array_equal(L[np.ix_(embedding, embedding)], P.leq_matrix)  # preserves and reflects
    for z in range(lattice.size):  # join-dense and meet-dense characterise DM(P) (D&P ch. 7)
        below = embedding[L[embedding, z]]
        above = embedding[L[z, embedding]]
        upper_bounds = np.flatnonzero(L[below].all(axis=0))
        lower_bounds = np.flatnonzero(L[:, above].all(axis=1))
        assert L[z, upper_bounds].all() and L[lower_bounds, z].all()
    if P.is_lattice():
        assert lattice.size == P.size
        assert np.array_equal(np.sort(embedding), np.arange(P.size))


@settings(max_examples=150, deadline=None)
@given(random_posets)
def test_mobius_inverts_zeta_exactly(P):
    mu = P.mobius_matrix()
    zeta = P.leq_matrix.astype(np.int64)
    assert np.array_equal(mu @ zeta, np.eye(P.size, dtype=np.int64))
    assert np.array_equal(zeta @ mu, np.eye(P.size, dtype=np.int64))
    x, y = np.unravel_index(np.argmax(np.abs(mu)), mu.shape)
    assert P.mobius(int(x), int(y)) == mu[x, y]


@settings(max_examples=150, deadline=None)
@given(random_posets)
def test_linear_extension_rank_and_covers_agree_with_the_order(P):
    order = P.linear_extension()
    position = np.empty(P.size, dtype=int)
    position[order] = np.arange(P.size)
    less = P.leq_matrix & ~np.eye(P.size, dtype=bool)
    a, b = np.nonzero(less)
    assert (position[a] < position[b]).all()
    expected = sorted((x, y) for x in range(P.size) for y in upper_covers(P.leq_matrix, x))
    assert [tuple(c) for c in P.covers.tolist()] == expected
    assert np.array_equal(Poset.from_leq_matrix(P.leq_matrix).covers, P.covers)
    rank = P.rank()
    assert (rank[a] < rank[b]).all()
    assert set(rank[P.minimal_elements()].tolist()) == {0}


def brute_greatest(leq: np.ndarray, members: list[int]) -> int | None:
    tops = [m for m in members if all(leq[z, m] for z in members)]
    return tops[0] if tops else None


@settings(max_examples=150, deadline=None)
@given(random_posets)
def test_meet_join_and_is_lattice_match_brute_force(P):
    leq, n = P.leq_matrix, P.size
    all_exist = True
    for a, b in itertools.product(range(n), repeat=2):
        meet = brute_greatest(leq, [z for z in range(n) if leq[z, a] and leq[z, b]])
        join = brute_greatest(leq.T, [z for z in range(n) if leq[a, z] and leq[b, z]])
        assert P.meet(a, b) == meet and P.join(a, b) == join
        all_exist &= meet is not None and join is not None
    assert P.is_lattice() == all_exist


@settings(max_examples=100, deadline=None)
@given(random_posets.filter(lambda P: P.size <= 7))
def test_height_and_width_match_enumeration(P):
    assert (P.height(), P.width()) == brute_height_width(P.leq_matrix)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 8).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=2 * n))))
def test_preorder_collapse_matches_reachability(relation):
    n, pairs = relation
    P = Poset.from_relation(n, pairs)
    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(pairs)
    reach = np.array([[v == u or nx.has_path(graph, u, v) for v in range(n)] for u in range(n)])
    comp = P.component_of
    assert np.array_equal(comp[:, None] == comp[None, :], reach & reach.T)
    assert np.array_equal(P.leq_matrix[np.ix_(comp, comp)], reach)
    for c, members in enumerate(P.components):
        assert (comp[members] == c).all() and members[0] == np.flatnonzero(comp == c)[0]


def test_irreducibles_at_scale_match_the_definition_over_all_upper_elements():
    rng = np.random.default_rng(7)
    n = 400
    src, dst = rng.integers(0, n, 4 * n), rng.integers(0, n, 4 * n)
    A = np.zeros((n, n), dtype=bool)
    A[np.minimum(src, dst), np.maximum(src, dst)] = True
    P = Poset.from_adjacency(A)
    leq = P.leq_matrix
    expected = []
    for x in range(n):
        above = np.flatnonzero(leq[x] & (np.arange(n) != x))
        meet_of_above = leq[:, above].all(axis=1)  # all of P when x is maximal
        if not np.array_equal(meet_of_above, leq[:, x]):
            expected.append(x)
    assert P.meet_irreducibles().tolist() == expected
    assert Poset.from_leq_matrix(leq).meet_irreducibles().tolist() == expected


def test_mobius_matrix_stays_exact_beyond_int64():
    # ordinal sum 0̂ ⊕ A_3 ⊕ ... ⊕ A_3: μ(0̂, x) = -(1 - w)**(j - 1) on layer j
    width, layers = 3, 70
    layer = [[0]] + [list(range(1 + width * j, 1 + width * (j + 1))) for j in range(layers)]
    pairs = [(a, b) for lo, hi in zip(layer, layer[1:]) for a in lo for b in hi]
    P = Poset.from_relation(1 + width * layers, pairs)
    mu = P.mobius_matrix()
    for j in range(1, layers + 1):
        expected = -((1 - width) ** (j - 1))
        assert all(mu[0, x] == expected for x in layer[j])
    assert abs(mu[0, layer[-1][0]]) > 2**63
    assert P.mobius(0, layer[-1][0]) == -((1 - width) ** (layers - 1))


# ----------------------------------------------------------------------------------------------
# Construction: SCC collapse, constructors, immutability, bad input
# ----------------------------------------------------------------------------------------------
def test_three_cycle_with_tail_collapses_to_a_chain():
    edges = [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4)]
    A = np.zeros((5, 5))
    for a, b in edges:
        A[a, b] = 0.3
    for P in (Poset.from_relation(5, edges), Poset.from_adjacency(A)):
        assert P.size == 3
        assert P.component_of.tolist() == [0, 0, 0, 1, 2]
        assert [c.tolist() for c in P.components] == [[0, 1, 2], [3], [4]]
        assert P.labels == [(0, 1, 2), 3, 4]
        assert np.array_equal(P.leq_matrix, chain(3).leq_matrix)
        assert P.index(1) == 0 and P.index(4) == 2


def test_from_dag_and_from_relation_agree_with_labels():
    G = nx.DiGraph([("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    P = Poset.from_dag(G)
    Q = Poset.from_relation(["a", "b", "c", "d"], [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    assert P.labels == Q.labels == ["a", "b", "c", "d"]
    assert np.array_equal(P.leq_matrix, Q.leq_matrix)
    assert np.array_equal(P.leq_matrix, boolean_lattice(2).leq_matrix)
    assert sorted(P.hasse().edges) == [(0, 1), (0, 2), (1, 3), (2, 3)]
    assert P.down_set(3).tolist() == [0, 1, 2, 3] and P.up_set(1).tolist() == [1, 3]


def test_sparse_adjacency_gives_the_same_poset_as_dense():
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    A = (rng.random((60, 60)) < 0.04) * rng.random((60, 60))
    dense, sparse = Poset.from_adjacency(A), Poset.from_adjacency(sp.csr_matrix(A))
    assert np.array_equal(dense.leq_matrix, sparse.leq_matrix)
    assert np.array_equal(dense.component_of, sparse.component_of)


def test_poset_is_immutable_and_inputs_are_untouched():
    A = np.array([[0, 1], [0, 0]], dtype=float)
    P = Poset.from_adjacency(A)
    A[1, 0] = 1.0
    assert P.size == 2
    with pytest.raises(ValueError):
        P.leq_matrix[0, 0] = False
    with pytest.raises(AttributeError, match="immutable"):
        P.size_hint = 3


def test_posets_module_alone_imports_neither_matplotlib_nor_torch():
    import lattice_lab.posets

    # The package's __init__ imports torch, so posets is loaded under an empty stand-in package:
    # what it imports (lattice_lab.validation included) is all that runs.
    folder = str(Path(lattice_lab.posets.__file__).parent)
    code = ("import importlib.util, sys, types; "
            "package = types.ModuleType('lattice_lab'); "
            f"package.__path__ = [{folder!r}]; sys.modules['lattice_lab'] = package; "
            f"spec = importlib.util.spec_from_file_location('lattice_lab.posets', {lattice_lab.posets.__file__!r}); "
            "spec.loader.exec_module(importlib.util.module_from_spec(spec)); "
            "print('matplotlib' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_bad_adjacency_raises_helpful_errors():
    with pytest.raises(ValueError, match="square"):
        Poset.from_adjacency(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN or infinite"):
        Poset.from_adjacency(np.array([[0, np.nan], [0, 0]]))
    with pytest.raises(ValueError, match="NaN or infinite"):
        Poset.from_adjacency(np.array([[0, np.inf], [0, 0]]))
    with pytest.raises(ValueError, match="empty graph"):
        Poset.from_adjacency(np.zeros((0, 0)))
    with pytest.raises(TypeError, match="real or boolean"):
        Poset.from_adjacency(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match="labels must have one entry per vertex"):
        Poset.from_adjacency(np.zeros((2, 2)), labels=["x"])


def test_bad_graphs_and_relations_raise_helpful_errors():
    with pytest.raises(ValueError, match="a cyclic relation where a DAG is required"):
        Poset.from_dag(nx.DiGraph([(0, 1), (1, 2), (2, 0)]))
    with pytest.raises(ValueError, match="empty graph"):
        Poset.from_dag(nx.DiGraph())
    with pytest.raises(TypeError, match="DiGraph"):
        Poset.from_dag(nx.Graph([(0, 1)]))
    with pytest.raises(ValueError, match="not among the elements"):
        Poset.from_relation(["a", "b"], [("a", "z")])
    with pytest.raises(ValueError, match="distinct"):
        Poset.from_relation(["a", "a"], [])
    with pytest.raises(ValueError, match="empty graph"):
        chain(0).leq(0, 0)
    with pytest.raises(ValueError, match=r"The 'b' parameter of Poset.meet must be an int in \[0, 2\]\. Got 3 instead"):
        chain(3).meet(0, 3)


def test_bad_leq_matrix_raises_helpful_errors():
    with pytest.raises(ValueError, match="reflexive"):
        Poset.from_leq_matrix([[0, 1], [0, 1]])
    with pytest.raises(ValueError, match="antisymmetric"):
        Poset.from_leq_matrix([[1, 1], [1, 1]])
    with pytest.raises(ValueError, match="transitive"):
        Poset.from_leq_matrix([[1, 1, 0], [0, 1, 1], [0, 0, 1]])
    with pytest.raises(ValueError, match="0 and 1"):
        Poset.from_leq_matrix([[1, 2], [0, 1]])


def test_completion_larger_than_max_size_is_refused():
    with pytest.raises(ValueError, match="max_size=5"):
        dedekind_macneille(antichain(10), max_size=5)
    with pytest.raises(ValueError, match="The 'max_size' parameter of dedekind_macneille must be an int >= 1"):
        dedekind_macneille(chain(2), max_size=0)


def test_constructors_validate_their_sizes():
    with pytest.raises(ValueError, match=r"The 'k' parameter of boolean_lattice must be an int in \[0, 12\]"):
        boolean_lattice(13)
    with pytest.raises(TypeError, match="The 'n' parameter of chain must be an int >= 0. Got 2.5 instead"):
        chain(2.5)
    with pytest.raises(ValueError, match="The 'n' parameter of Poset.from_divisors must be an int >= 1"):
        Poset.from_divisors(0)


# ----------------------------------------------------------------------------------------------
# Optional cross-check with passagemath / Sage
# ----------------------------------------------------------------------------------------------
def test_agrees_with_sage_on_completion_irreducibles_and_mobius():
    posets = pytest.importorskip("sage.combinat.posets.posets")
    cases = [(5, N5_PAIRS), (5, M3_PAIRS), (4, [(0, 2), (0, 3), (1, 2), (1, 3)]),
             (6, [(0, 3), (1, 3), (1, 4), (2, 4), (2, 5), (0, 5)])]
    for n, pairs in cases:
        ours = Poset.from_relation(n, pairs)
        theirs = posets.Poset((list(range(n)), [list(p) for p in pairs]))
        completion = theirs.completion_by_cuts()
        assert dedekind_macneille(ours)[0].size == completion.cardinality()
        assert len(ours.meet_irreducibles()) == len(completion.meet_irreducibles())
        assert len(ours.join_irreducibles()) == len(completion.join_irreducibles())
        for x, y in itertools.product(range(n), repeat=2):
            if ours.leq(x, y):
                assert ours.mobius(x, y) == theirs.moebius_function(x, y)
