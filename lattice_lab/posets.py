"""Finite posets and lattices: order, Hasse diagram, Dedekind–MacNeille completion, Möbius function.

This module is the order-theory room of lattice_lab. It turns a relation, a DAG or the (possibly
cyclic) influence adjacency of a recurrent network into a finite poset, and answers the questions
the lattice-pruning method asks of it: covers, down-/up-sets, linear extensions, height and width,
meets and joins, the meet- and join-irreducibles of the Dedekind–MacNeille completion (computed
without building the lattice), the completion itself for small posets, and the Möbius function.

Conventions
-----------
* Elements are the integers ``0 .. size - 1``. A relation with cycles is a *preorder*; its strongly
  connected components are collapsed, so an element is a component: ``component_of[v]`` maps an
  original vertex ``v`` to its element and ``components[e]`` lists the vertices of element ``e``.
* ``leq_matrix[a, b]`` is True iff ``a <= b``.

References used throughout: B. A. Davey and H. A. Priestley, *Introduction to Lattices and Order*,
2nd ed., Cambridge University Press 2002 ("D&P"); R. P. Stanley, *Enumerative Combinatorics*
vol. 1, 2nd ed., Cambridge University Press 2012 ("EC1"); B. Ganter and R. Wille, *Formal Concept
Analysis*, Springer 1999 ("G&W").

Pure numpy, scipy and networkx: never torch, never matplotlib. Hasse diagrams are drawn by
:func:`lattice_lab.hasse_drawing.draw_hasse`, which imports this module; this module knows nothing
of drawing (no import back, so the two make no circle).
Must not import anything from the package (except memory and validation).

Examples
--------
>>> from lattice_lab.posets import Poset
>>> P = Poset.from_relation(["a", "b", "c", "d"], [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
>>> P.is_lattice(), P.meet(1, 2), P.join(1, 2)
(True, 0, 3)
>>> P.meet_irreducibles().tolist(), P.mobius(0, 3)
([1, 2], 1)
"""
from __future__ import annotations

import numbers
from collections.abc import Hashable, Iterable, Sequence
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, maximum_bipartite_matching

from .memory import check_fits
from .validation import check_float, check_instance, check_int, check_range, fail

__all__ = [
    "Poset",
    "antichain",
    "boolean_lattice",
    "chain",
    "dedekind_macneille",
    "random_poset",
]

_INT64_SAFE = 2**62


# ----------------------------------------------------------------------------------------------
# Building blocks: components, closure, covers
# ----------------------------------------------------------------------------------------------
def _strong_components(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Map each vertex to its strongly connected component, numbered by smallest member.

    Tarjan's algorithm as implemented by ``scipy.sparse.csgraph.connected_components``; the
    renumbering makes a DAG's components coincide with its vertices.
    """
    graph = sp.csr_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    _, raw = connected_components(graph, directed=True, connection="strong")
    _, first = np.unique(raw, return_index=True)  # first vertex of each raw label
    renumber = np.empty(len(first), dtype=np.int64)
    renumber[np.argsort(first)] = np.arange(len(first))
    return renumber[raw]


def _reachability(k: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Reflexive-transitive closure of a DAG on ``k`` vertices as a boolean matrix.

    Vertices are processed in reverse topological order; the reach set of a vertex is its own bit
    OR-ed with the packed bit rows of its successors (the bitset form of the DAG closure, e.g.
    Aho, Garey & Ullman, "The transitive reduction of a directed graph", SIAM J. Comput. 1972).
    Cost O(k + m * k / 8) bytes touched for m edges.
    """
    order = list(nx.topological_sort(_digraph(k, src, dst)))
    by_src = np.argsort(src, kind="stable")
    succ = dst[by_src]
    indptr = np.searchsorted(src[by_src], np.arange(k + 1))
    rows = np.zeros((k, (k + 7) // 8), dtype=np.uint8)
    idx = np.arange(k)
    rows[idx, idx >> 3] = (0x80 >> (idx & 7)).astype(np.uint8)
    for v in reversed(order):
        s = succ[indptr[v]:indptr[v + 1]]
        if len(s):
            rows[v] |= np.bitwise_or.reduce(rows[s], axis=0)
    return np.unpackbits(rows, axis=1, count=k).astype(bool)


def _digraph(k: int, src: np.ndarray, dst: np.ndarray) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(range(k))
    graph.add_edges_from(zip(src.tolist(), dst.tolist()))
    return graph


def _two_step(less: np.ndarray) -> np.ndarray:
    """``out[a, b]`` is True iff some c has a < c < b (a float32 BLAS product, exact for n < 2**24)."""
    f = less.astype(np.float32)
    return (f @ f) > 0


def _covers_among(leq: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Cover pairs of an order, found among the edges of any relation generating it.

    The Hasse diagram of a DAG's reachability order is its transitive reduction, a subset of the
    edges (Aho, Garey & Ullman 1972). An edge a → b is a cover iff b lies in no strict up-set of a
    successor of a: if a < c < b then c is at or above some successor s, and b is above s.
    Cost O(m * n / 8) bytes for m edges, instead of the O(n³) matrix product.
    """
    n = leq.shape[0]
    strict_up = np.packbits(leq & ~np.eye(n, dtype=bool), axis=1)
    by_src = np.lexsort((dst, src))
    src, dst = src[by_src], dst[by_src]
    indptr = np.searchsorted(src, np.arange(n + 1))
    is_cover = np.zeros(len(src), dtype=bool)
    for a in np.flatnonzero(np.diff(indptr)):
        lo, hi = indptr[a], indptr[a + 1]
        s = dst[lo:hi]
        blocked = np.bitwise_or.reduce(strict_up[s], axis=0)
        is_cover[lo:hi] = (blocked[s >> 3] >> (7 - (s & 7)) & 1) == 0
    return np.column_stack([src[is_cover], dst[is_cover]])


def _grouped_and(rows: np.ndarray, keys: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AND the packed ``rows[members]`` grouped by ``keys``; return (distinct keys, AND per key)."""
    order = np.argsort(keys, kind="stable")
    keys, members = keys[order], members[order]
    distinct, starts = np.unique(keys, return_index=True)
    return distinct, np.bitwise_and.reduceat(rows[members], starts, axis=0)


def _check_labels(labels: Sequence[Hashable], n: int, name: str = "labels") -> list:
    labels = list(labels)
    if len(labels) != n:
        raise ValueError(f"{name} must have one entry per vertex ({n}), got {len(labels)}")
    try:
        distinct = len(set(labels))
    except TypeError as err:
        raise TypeError(f"{name} must be hashable, got {labels!r}") from err
    if distinct != n:
        raise ValueError(f"{name} must be distinct, got duplicates in {labels!r}")
    return labels


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


# ----------------------------------------------------------------------------------------------
# The poset class
# ----------------------------------------------------------------------------------------------
class Poset:
    """A finite partially ordered set, immutable, stored as its boolean order matrix.

    Build one with a constructor: :meth:`from_relation`, :meth:`from_dag`, :meth:`from_adjacency`,
    :meth:`from_leq_matrix`, :meth:`from_divisors`, or the module functions :func:`chain`,
    :func:`antichain`, :func:`boolean_lattice`. ``Poset(M)`` is ``Poset.from_leq_matrix(M)``.

    Attributes
    ----------
    leq_matrix : ndarray of bool, shape (size, size)
        ``leq_matrix[a, b]`` iff ``a <= b``; reflexive, antisymmetric, transitive; read-only.
    labels : list
        One label per element: the vertex label, or a tuple of vertex labels for a collapsed
        component of a preorder.
    element_labels : list
        The labels of the original vertices (before collapsing cycles).
    component_of : ndarray of int
        ``component_of[v]`` is the element containing original vertex ``v``.
    components : list of ndarray
        ``components[e]`` are the original vertices of element ``e`` (sorted).
    size : int
        The number of elements (components).

    Examples
    --------
    >>> import numpy as np
    >>> P = Poset(np.array([[1, 1], [0, 1]], dtype=bool))
    >>> P.size, P.leq(0, 1), P.leq(1, 0)
    (2, True, False)
    """

    def __init__(self, leq_matrix: Any, labels: Sequence[Hashable] | None = None) -> None:
        leq = self._validated_leq(leq_matrix)
        self._setup(leq, labels, None, None)

    # -- construction ------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Poset is immutable; cannot set {name!r}")

    def _setup(self, leq: np.ndarray, labels: Sequence[Hashable] | None,
               component_of: np.ndarray | None, element_labels: list | None,
               generators: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        k = leq.shape[0]
        if component_of is None:
            component_of = np.arange(k)
        if element_labels is None:
            element_labels = list(range(len(component_of))) if labels is None else list(labels)
        element_labels = _check_labels(element_labels, len(component_of))
        by_element = np.argsort(component_of, kind="stable")
        cuts = np.searchsorted(component_of[by_element], np.arange(1, k))
        components = [_readonly(c) for c in np.split(by_element, cuts)] if k else []
        elem_labels = [element_labels[int(c[0])] if len(c) == 1 else tuple(element_labels[int(v)] for v in c)
                       for c in components]
        set_ = object.__setattr__
        set_(self, "_leq", _readonly(leq))
        set_(self, "_labels", tuple(elem_labels))
        set_(self, "_element_labels", tuple(element_labels))
        set_(self, "_component_of", _readonly(component_of))
        set_(self, "_components", tuple(components))
        set_(self, "_generators", generators)  # edges whose closure is the order, when known

    @classmethod
    def _trusted(cls, leq: np.ndarray, labels: Sequence[Hashable] | None = None,
                 component_of: np.ndarray | None = None, element_labels: list | None = None,
                 generators: tuple[np.ndarray, np.ndarray] | None = None) -> Poset:
        poset = object.__new__(cls)
        poset._setup(np.asarray(leq, dtype=bool), labels, component_of, element_labels, generators)
        return poset

    @staticmethod
    def _validated_leq(matrix: Any) -> np.ndarray:
        m = np.asarray(matrix)
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            raise ValueError(f"leq_matrix must be a square 2-D array, got shape {m.shape}")
        if m.dtype != bool:
            if not np.issubdtype(m.dtype, np.number) or not np.isin(m, (0, 1)).all():
                raise ValueError("leq_matrix must be boolean or hold only 0 and 1")
            m = m.astype(bool)
        if not np.diag(m).all():
            raise ValueError("leq_matrix is not reflexive: some diagonal entry is False")
        if (m & m.T & ~np.eye(len(m), dtype=bool)).any():
            raise ValueError("leq_matrix is not antisymmetric: a <= b and b <= a for some a != b "
                             "(use Poset.from_relation to collapse a preorder)")
        if (_two_step(m) & ~m).any():
            raise ValueError("leq_matrix is not transitive")
        return m

    @classmethod
    def from_leq_matrix(cls, matrix: Any, labels: Sequence[Hashable] | None = None) -> Poset:
        """Poset from a validated order matrix (``matrix[a, b]`` iff ``a <= b``).

        Parameters
        ----------
        matrix : array_like, shape (n, n)
            Boolean or 0/1; must be reflexive, antisymmetric and transitive (D&P ch. 1).
        labels : sequence, optional
            Distinct labels, default ``0 .. n - 1``.

        Examples
        --------
        >>> Poset.from_leq_matrix([[1, 0], [1, 1]], labels=["top", "bottom"]).minimal_elements().tolist()
        [1]
        """
        return cls(matrix, labels)

    @classmethod
    def _from_edges(cls, n: int, src: np.ndarray, dst: np.ndarray, labels: list) -> Poset:
        """Reachability preorder of a digraph, collapsed to its condensation (D&P ch. 1, pre-orders)."""
        if n == 0:
            return cls._trusted(np.zeros((0, 0), dtype=bool), element_labels=[])
        off_loop = src != dst  # self-loops add nothing to an order
        src, dst = src[off_loop], dst[off_loop]
        comp = _strong_components(n, src, dst)
        k = int(comp.max()) + 1
        cs, cd = comp[src], comp[dst]
        between = cs != cd
        codes = np.unique(cs[between] * k + cd[between])
        generators = (codes // k, codes % k)
        leq = _reachability(k, *generators)
        return cls._trusted(leq, component_of=comp, element_labels=labels, generators=generators)

    @classmethod
    def from_relation(cls, elements: int | Sequence[Hashable],
                      pairs: Iterable[tuple[Hashable, Hashable]]) -> Poset:
        """Poset generated by pairs ``(a, b)`` meaning ``a <= b`` (equivalently ``a < b``).

        Takes the reflexive-transitive closure; if the relation has cycles it is a preorder and its
        strongly connected components are collapsed into single elements (D&P ch. 1, pre-orders).

        Parameters
        ----------
        elements : int or sequence
            Either the number of elements (labels ``0 .. n - 1``) or the distinct labels.
        pairs : iterable of pairs
            Relations between labels.

        Examples
        --------
        >>> P = Poset.from_relation(4, [(0, 1), (1, 2), (2, 0), (2, 3)])
        >>> P.size, P.labels, P.component_of.tolist()
        (2, [(0, 1, 2), 3], [0, 0, 0, 1])
        """
        if isinstance(elements, numbers.Integral) and not isinstance(elements, bool):
            labels = list(range(check_int(elements, "elements", "Poset.from_relation", low=0)))
        elif isinstance(elements, (str, bytes)) or not isinstance(elements, Iterable):
            fail("elements", "Poset.from_relation", "an int >= 0 or a sequence of labels", elements)
        else:
            labels = list(elements)
            labels = _check_labels(labels, len(labels), "elements")
        index = {label: i for i, label in enumerate(labels)}
        src, dst = [], []
        for pair in pairs:
            if len(pair) != 2:
                raise ValueError(f"pairs must hold (a, b) pairs, got {pair!r}")
            for end in pair:
                if end not in index:
                    raise ValueError(f"pair {pair!r} names {end!r}, which is not among the elements")
            src.append(index[pair[0]])
            dst.append(index[pair[1]])
        return cls._from_edges(len(labels), np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64),
                               labels)

    @classmethod
    def from_dag(cls, graph: nx.DiGraph) -> Poset:
        """Poset of a directed acyclic graph: ``u <= v`` iff v is reachable from u.

        Parameters
        ----------
        graph : networkx.DiGraph
            Acyclic (no self-loops), at least one node; node names become labels.

        Raises
        ------
        ValueError
            For an empty graph or a cyclic one (use :meth:`from_relation` to collapse cycles).

        Examples
        --------
        >>> import networkx as nx
        >>> Poset.from_dag(nx.DiGraph([("x", "y"), ("y", "z")])).height()
        3
        """
        check_instance(graph, "graph", "Poset.from_dag", nx.DiGraph, "a networkx.DiGraph")
        if graph.number_of_nodes() == 0:
            raise ValueError("graph is an empty graph (0 nodes); a poset needs at least one element")
        if not nx.is_directed_acyclic_graph(graph):
            raise ValueError("graph is a cyclic relation where a DAG is required; "
                             "use Poset.from_relation or Poset.from_adjacency to collapse cycles")
        labels = list(graph.nodes)
        index = {label: i for i, label in enumerate(labels)}
        edges = np.array([(index[u], index[v]) for u, v in graph.edges], dtype=np.int64).reshape(-1, 2)
        return cls._from_edges(len(labels), edges[:, 0], edges[:, 1], labels)

    @classmethod
    def from_adjacency(cls, adjacency: Any, labels: Sequence[Hashable] | None = None) -> Poset:
        """Poset of an influence graph: ``A[i, j]`` nonzero means i < j ("i influences j").

        The influence relation of a recurrent network has cycles, so it is a preorder; its strongly
        connected components are collapsed and the condensation is the poset (D&P ch. 1, pre-orders).
        Diagonal entries (self-influence) are ignored; the weights' values only matter through
        being nonzero.

        Parameters
        ----------
        adjacency : array_like or scipy.sparse matrix, shape (n, n)
            Real or boolean, finite, n >= 1.
        labels : sequence, optional
            Distinct vertex labels, default ``0 .. n - 1``.

        Examples
        --------
        >>> import numpy as np
        >>> A = np.array([[0, 0.5, 0], [0.2, 0, 1.0], [0, 0, 0]])
        >>> P = Poset.from_adjacency(A)
        >>> P.size, [c.tolist() for c in P.components], P.leq(0, 1)
        (2, [[0, 1], [2]], True)
        """
        if sp.issparse(adjacency):
            coo = sp.coo_matrix(adjacency)
            shape, values, rows, cols = coo.shape, coo.data, coo.row, coo.col
        else:
            dense = np.asarray(adjacency)
            shape, values = dense.shape, dense
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(f"adjacency must be a square 2-D array, got shape {shape}")
        if values.dtype != bool and not (np.issubdtype(values.dtype, np.integer)
                                         or np.issubdtype(values.dtype, np.floating)):
            raise TypeError(f"adjacency must be real or boolean, got dtype {values.dtype}")
        if shape[0] == 0:
            raise ValueError("adjacency is an empty graph (0 x 0); a poset needs at least one element")
        if values.dtype != bool and not np.isfinite(values).all():
            raise ValueError("adjacency has NaN or infinite entries; clean the weights first")
        if sp.issparse(adjacency):
            nonzero = values != 0
            src, dst = rows[nonzero].astype(np.int64), cols[nonzero].astype(np.int64)
        else:
            src, dst = np.nonzero(values)
        n = shape[0]
        labels = list(range(n)) if labels is None else _check_labels(labels, n)
        return cls._from_edges(n, src.astype(np.int64), dst.astype(np.int64), labels)

    @classmethod
    def from_divisors(cls, n: int) -> Poset:
        """The divisor lattice of n: the divisors of n ordered by divisibility (D&P ch. 1).

        Examples
        --------
        >>> D = Poset.from_divisors(12)
        >>> D.labels, D.join_irreducibles().tolist()
        ([1, 2, 3, 4, 6, 12], [1, 2, 3])
        """
        n = check_int(n, "n", "Poset.from_divisors", low=1)
        divisors = np.array([d for d in range(1, n + 1) if n % d == 0], dtype=np.int64)
        leq = divisors[None, :] % divisors[:, None] == 0
        return cls._trusted(leq, labels=divisors.tolist())

    # -- plain attributes --------------------------------------------------------------------
    @property
    def leq_matrix(self) -> np.ndarray:
        return self._leq

    @property
    def labels(self) -> list:
        return list(self._labels)

    @property
    def element_labels(self) -> list:
        return list(self._element_labels)

    @property
    def component_of(self) -> np.ndarray:
        return self._component_of

    @property
    def components(self) -> list[np.ndarray]:
        return list(self._components)

    @property
    def size(self) -> int:
        return self._leq.shape[0]

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return (f"Poset(size={self.size}, vertices={len(self._component_of)}, "
                f"covers={len(self.covers)})")

    def index(self, label: Hashable) -> int:
        """Element (component) index of an original vertex label.

        Examples
        --------
        >>> Poset.from_relation(["p", "q", "r"], [("p", "q"), ("q", "p")]).index("r")
        1
        """
        try:
            vertex = self._element_labels.index(label)
        except ValueError:
            raise ValueError(f"label {label!r} is not a vertex of this poset") from None
        return int(self._component_of[vertex])

    def _element(self, x: Any, name: str, caller: str) -> int:
        """``x`` as an element index of this poset (an int in ``0 .. size - 1``)."""
        if self.size == 0:
            raise ValueError(f"the poset is an empty graph; it has no element {name}={x!r}")
        return check_int(x, name, caller, low=0, high=self.size - 1)

    # -- order queries -----------------------------------------------------------------------
    def leq(self, a: int, b: int) -> bool:
        """True iff ``a <= b``.

        Examples
        --------
        >>> chain(3).leq(0, 2)
        True
        """
        return bool(self._leq[self._element(a, "a", "Poset.leq"), self._element(b, "b", "Poset.leq")])

    def less(self, a: int, b: int) -> bool:
        """True iff ``a < b``.

        Examples
        --------
        >>> chain(3).less(1, 1)
        False
        """
        return self.leq(a, b) and a != b

    def down_set(self, x: int) -> np.ndarray:
        """Indices of the principal down-set ``↓x = {z : z <= x}`` (D&P ch. 1).

        Examples
        --------
        >>> chain(4).down_set(2).tolist()
        [0, 1, 2]
        """
        return np.flatnonzero(self._leq[:, self._element(x, "x", "Poset.down_set")])

    def up_set(self, x: int) -> np.ndarray:
        """Indices of the principal up-set ``↑x = {z : x <= z}`` (D&P ch. 1).

        Examples
        --------
        >>> chain(4).up_set(2).tolist()
        [2, 3]
        """
        return np.flatnonzero(self._leq[self._element(x, "x", "Poset.up_set")])

    def minimal_elements(self) -> np.ndarray:
        """Elements with nothing strictly below them.

        Examples
        --------
        >>> antichain(3).minimal_elements().tolist()
        [0, 1, 2]
        """
        return np.flatnonzero(self._down_counts == 1)

    def maximal_elements(self) -> np.ndarray:
        """Elements with nothing strictly above them.

        Examples
        --------
        >>> chain(3).maximal_elements().tolist()
        [2]
        """
        return np.flatnonzero(self._leq.sum(axis=1) == 1)

    @cached_property
    def _down_counts(self) -> np.ndarray:
        return self._leq.sum(axis=0)

    def linear_extension(self) -> np.ndarray:
        """A linear extension (topological order): ``a < b`` implies a comes before b.

        Sorting by ``|↓x|`` works because ``a < b`` implies ``↓a ⊊ ↓b`` (Szpilrajn's theorem,
        D&P ch. 1, in its finite form).

        Examples
        --------
        >>> Poset.from_relation(3, [(2, 1), (1, 0)]).linear_extension().tolist()
        [2, 1, 0]
        """
        return np.argsort(self._down_counts, kind="stable")

    @cached_property
    def covers(self) -> np.ndarray:
        """Cover pairs ``(a, b)`` with ``a ⋖ b`` (a < b, nothing between), shape (m, 2), sorted.

        ``a < b`` and not ``a < c < b`` (D&P ch. 1): among the generating edges when the poset was
        built from a relation, else with one boolean matrix product.
        """
        if self._generators is not None:
            pairs = _covers_among(self._leq, *self._generators)
        else:
            less = self._leq & ~np.eye(self.size, dtype=bool)
            pairs = np.argwhere(less & ~_two_step(less))
        pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))].astype(np.int64)
        pairs.setflags(write=False)
        return pairs

    def hasse(self) -> nx.DiGraph:
        """The Hasse diagram: a DiGraph with an edge a → b for each cover ``a ⋖ b`` (D&P ch. 1).

        Nodes are element indices with attributes ``label`` and ``size`` (component size).

        Examples
        --------
        >>> sorted(boolean_lattice(2).hasse().edges)
        [(0, 1), (0, 2), (1, 3), (2, 3)]
        """
        graph = nx.DiGraph()
        for e in range(self.size):
            graph.add_node(e, label=self._labels[e], size=len(self._components[e]))
        graph.add_edges_from(map(tuple, self.covers.tolist()))
        return graph

    def rank(self) -> np.ndarray:
        """Length of the longest chain from a minimal element up to each element (edges, not nodes).

        Dynamic programming over a linear extension (longest path in a DAG, e.g. Cormen et al.,
        *Introduction to Algorithms*, 22.4 / 24.2).

        Examples
        --------
        >>> Poset.from_relation(4, [(0, 1), (1, 3), (2, 3)]).rank().tolist()
        [0, 1, 0, 2]
        """
        lower, upper = self.covers[:, 0], self.covers[:, 1]
        by_upper = np.argsort(upper, kind="stable")
        lower = lower[by_upper]
        indptr = np.searchsorted(upper[by_upper], np.arange(self.size + 1))
        rank = np.zeros(self.size, dtype=np.int64)
        for x in self.linear_extension():
            below = lower[indptr[x]:indptr[x + 1]]
            if len(below):
                rank[x] = rank[below].max() + 1
        return rank

    def levels(self) -> list[np.ndarray]:
        """Elements grouped by :meth:`rank`, level 0 first (the layers of a Hasse drawing).

        Examples
        --------
        >>> [level.tolist() for level in boolean_lattice(2).levels()]
        [[0], [1, 2], [3]]
        """
        rank = self.rank()
        return [np.flatnonzero(rank == r) for r in range(int(rank.max()) + 1 if self.size else 0)]

    def height(self) -> int:
        """Number of elements in a longest chain (0 for the empty poset).

        Examples
        --------
        >>> boolean_lattice(3).height()
        4
        """
        return int(self.rank().max()) + 1 if self.size else 0

    def width(self) -> int:
        """Size of a largest antichain.

        Dilworth's theorem (Dilworth, Ann. Math. 1950) via König: the width
        is ``n`` minus a maximum matching of the bipartite graph with an edge ``(a, b)`` for each
        ``a < b`` (Fulkerson, Proc. AMS 1956), found by Hopcroft–Karp.

        Examples
        --------
        >>> boolean_lattice(3).width()
        3
        """
        if self.size == 0:
            return 0
        less = sp.csr_matrix(self._leq & ~np.eye(self.size, dtype=bool))
        matching = maximum_bipartite_matching(less, perm_type="column")
        return self.size - int((matching >= 0).sum())

    # -- meets, joins, lattices --------------------------------------------------------------
    def _greatest_of(self, mask: np.ndarray) -> int | None:
        """The greatest element of a down-closed set, or None if it has none."""
        members = np.flatnonzero(mask)
        if len(members) == 0:
            return None
        top = int(members[np.argmax(self._down_counts[members])])
        return top if self._down_counts[top] == len(members) else None

    def meet(self, a: int, b: int) -> int | None:
        """Greatest lower bound ``a ∧ b``, or None when it does not exist (D&P ch. 2).

        Examples
        --------
        >>> P = antichain(2)
        >>> P.meet(0, 1) is None, P.meet(0, 0)
        (True, 0)
        """
        a, b = self._element(a, "a", "Poset.meet"), self._element(b, "b", "Poset.meet")
        return self._greatest_of(self._leq[:, a] & self._leq[:, b])

    def join(self, a: int, b: int) -> int | None:
        """Least upper bound ``a ∨ b``, or None when it does not exist (D&P ch. 2).

        Examples
        --------
        >>> Poset.from_divisors(12).join(2, 3)  # lcm(3, 4) = 12 is element 5
        5
        """
        a, b = self._element(a, "a", "Poset.join"), self._element(b, "b", "Poset.join")
        uppers = np.flatnonzero(self._leq[a] & self._leq[b])
        if len(uppers) == 0:
            return None
        up_counts = self._leq[uppers].sum(axis=1)
        least = int(uppers[np.argmax(up_counts)])
        return least if up_counts.max() == len(uppers) else None

    def is_lattice(self) -> bool:
        """True iff every pair has a meet and a join; the empty poset is not a lattice.

        A finite nonempty poset with a top in which every pair has a meet is a lattice (D&P ch. 2).
        Meets are built row by row in a linear extension with the recursion of Freese, Ježek &
        Nation, *Free Lattices* (AMS 1995), ch. 11: for incomparable a, b the meet ``a ∧ b`` is the
        greatest of the ``c ∧ b`` over the lower covers c of a, and fails to exist when they have
        no greatest element. O(n · #covers), vectorized per row.

        Examples
        --------
        >>> boolean_lattice(3).is_lattice(), antichain(2).is_lattice()
        (True, False)
        """
        n = self.size
        if n == 0 or not self._leq.all(axis=0).any():
            return False
        order = self.linear_extension()
        position = np.empty(n, dtype=np.int64)
        position[order] = np.arange(n)
        lower, upper = self.covers[:, 0], self.covers[:, 1]
        by_upper = np.argsort(upper, kind="stable")
        lower = lower[by_upper]
        indptr = np.searchsorted(upper[by_upper], np.arange(n + 1))
        meets = np.empty((n, n), dtype=np.int64)
        for a in order:
            below, above = self._leq[:, a], self._leq[a]
            row = np.where(below, np.arange(n), a)
            free = np.flatnonzero(~(below | above))
            if len(free):
                covers = lower[indptr[a]:indptr[a + 1]]
                if len(covers) == 0:
                    return False
                candidates = meets[np.ix_(covers, free)]
                best = candidates[np.argmax(position[candidates], axis=0), np.arange(len(free))]
                if not self._leq[candidates, best[None, :]].all():
                    return False
                row[free] = best
            meets[a] = row
        return True

    def meet_irreducibles(self) -> np.ndarray:
        """Meet-irreducible elements of the Dedekind–MacNeille completion DM(P), sorted.

        DM(P) is meet-dense over P, so its meet-irreducibles are embedded elements (D&P ch. 7,
        G&W ch. 1); ``x`` is meet-irreducible iff ``↓x ≠ ⋂_{y > x} ↓y``, the empty intersection
        (x maximal) being all of P. The intersection only needs the upper covers of x. Computed with
        packed bit rows, without enumerating the (possibly exponential) lattice. For a lattice this
        is the usual notion: x ≠ top with exactly one upper cover.

        Examples
        --------
        >>> antichain(3).meet_irreducibles().tolist()
        [0, 1, 2]
        >>> chain(3).meet_irreducibles().tolist()
        [0, 1]
        """
        return self._irreducibles(self._leq.T, self.covers[:, 0], self.covers[:, 1],
                                  self.maximal_elements())

    def join_irreducibles(self) -> np.ndarray:
        """Join-irreducible elements of DM(P), sorted: ``↑x ≠ ⋂_{y < x} ↑y`` (dual of
        :meth:`meet_irreducibles`; DM(P^op) = DM(P)^op, D&P ch. 7).

        Examples
        --------
        >>> boolean_lattice(3).join_irreducibles().tolist()  # the atoms {0}, {1}, {2}
        [1, 2, 4]
        """
        return self._irreducibles(self._leq, self.covers[:, 1], self.covers[:, 0],
                                  self.minimal_elements())

    def _irreducibles(self, principal: np.ndarray, below: np.ndarray, above: np.ndarray,
                      extremal: np.ndarray) -> np.ndarray:
        """Elements x whose principal set differs from the intersection over their covers.

        ``principal[x]`` is ↓x (or ↑x); ``(below[i], above[i])`` are the cover pairs seen from x;
        ``extremal`` elements have no cover and are irreducible unless their set is everything.
        """
        n = self.size
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        packed = np.packbits(principal, axis=1)
        found = [extremal[~principal[extremal].all(axis=1)]]
        if len(below):
            xs, meets = _grouped_and(packed, below, above)
            found.append(xs[(meets != packed[xs]).any(axis=1)])
        return np.sort(np.concatenate(found)).astype(np.int64)

    # -- Möbius function ---------------------------------------------------------------------
    def mobius(self, x: int, y: int) -> int:
        """The Möbius function μ(x, y), exactly, from its recursive definition (EC1 §3.7).

        ``μ(x, x) = 1``, ``μ(x, y) = -Σ_{x <= z < y} μ(x, z)`` for x < y, 0 if not x <= y.
        Computed on the interval [x, y] only, with Python integers.

        Examples
        --------
        >>> Poset.from_divisors(30).mobius(0, 7)  # μ(1, 30) = (-1)**3
        -1
        """
        x, y = self._element(x, "x", "Poset.mobius"), self._element(y, "y", "Poset.mobius")
        if not self._leq[x, y]:
            return 0
        interval = np.flatnonzero(self._leq[x] & self._leq[:, y])
        interval = interval[np.argsort(self._down_counts[interval], kind="stable")]
        sub = self._leq[np.ix_(interval, interval)]
        values = [1]
        for j in range(1, len(interval)):
            values.append(-sum(v for v, below in zip(values, sub[:j, j]) if below))
        return values[-1]

    def mobius_matrix(self) -> np.ndarray:
        """The matrix of μ, the inverse of the zeta matrix ``leq_matrix`` (EC1 §3.6–3.7).

        In a linear extension the zeta matrix is unitriangular, so ``μ = ζ⁻¹`` follows by integer
        back substitution: row x is ``e_x - Σ_{z > x} μ(z, ·)``. Exact: int64 while a bound on the
        partial sums stays below 2**62, Python integers (dtype object) beyond.

        Examples
        --------
        >>> chain(3).mobius_matrix().tolist()
        [[1, -1, 0], [0, 1, -1], [0, 0, 1]]
        """
        n = self.size
        mu = np.zeros((n, n), dtype=np.int64)
        largest = 1
        for x in self.linear_extension()[::-1]:
            above = np.flatnonzero(self._leq[x])
            above = above[above != x]
            if mu.dtype != object and len(above) * largest >= _INT64_SAFE:
                mu = mu.astype(object)
            row = -mu[above].sum(axis=0) if len(above) else np.zeros(n, dtype=mu.dtype)
            row[x] = 1
            mu[x] = row
            if mu.dtype != object:
                largest = max(largest, int(np.abs(row).max()))
        return mu


# ----------------------------------------------------------------------------------------------
# Teaching constructors
# ----------------------------------------------------------------------------------------------
def _check_elements(n: Any, caller: str, bytes_per_pair: int, low: int = 0) -> int:
    """``n`` elements, within ``RANGES["elements"]``, once their ``n x n`` matrices are known to fit in memory."""
    n = check_range(n, "n", caller, "elements", low=low)
    check_fits(bytes_per_pair * n * n, f"{caller}({n}) (an {n} x {n} relation)")
    return n


def chain(n: int) -> Poset:
    """The chain ``0 < 1 < ... < n-1`` (D&P ch. 1).

    Examples
    --------
    >>> chain(4).covers.tolist()
    [[0, 1], [1, 2], [2, 3]]
    """
    n = _check_elements(n, "chain", 1)
    steps = np.arange(max(n - 1, 0))
    return Poset._trusted(np.triu(np.ones((n, n), dtype=bool)), generators=(steps, steps + 1))


def antichain(n: int) -> Poset:
    """n pairwise incomparable elements (D&P ch. 1).

    Examples
    --------
    >>> antichain(3).width()
    3
    """
    n = _check_elements(n, "antichain", 1)
    return Poset._trusted(np.eye(n, dtype=bool))


def random_poset(n: int, density: float, seed: int = 0) -> Poset:
    """A random poset on ``n`` elements: each pair i < j related with probability ``density``, then closed.

    The relation is drawn on the pairs ``i < j`` only, so it is acyclic and its transitive closure
    is a partial order (a random graph order; Albert and Frieze, "Random graph orders", Order 6, 1989).

    Examples
    --------
    >>> random_poset(6, 1.0).height(), random_poset(6, 0.0).width()
    (6, 6)
    """
    n = _check_elements(n, "random_poset", 9, low=1)
    density = check_float(density, "density", "random_poset", low=0, high=1)
    seed = check_range(seed, "seed", "random_poset", "seed")
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((n, n)) < density, k=1)
    return Poset.from_relation(n, list(zip(*np.nonzero(upper))))


def boolean_lattice(k: int) -> Poset:
    """The subsets of ``{0, ..., k-1}`` ordered by inclusion; element i is the subset with bitmask i.

    Labels are strings such as ``"∅"`` and ``"{0,2}"`` (D&P ch. 1). ``k <= 12`` keeps the order
    matrix at 16 MB.

    Examples
    --------
    >>> B = boolean_lattice(2)
    >>> B.labels, B.meet_irreducibles().tolist()
    (['∅', '{0}', '{1}', '{0,1}'], [1, 2])
    """
    k = check_int(k, "k", "boolean_lattice", low=0, high=12)
    masks = np.arange(2**k)
    leq = (masks[:, None] & masks[None, :]) == masks[:, None]
    labels = ["{" + ",".join(str(b) for b in range(k) if m >> b & 1) + "}" if m else "∅" for m in masks]
    lower, bit = np.nonzero((masks[:, None] >> np.arange(k)[None, :] & 1) == 0)
    return Poset._trusted(leq, labels=labels, generators=(lower, lower | (1 << bit)))


# ----------------------------------------------------------------------------------------------
# Dedekind–MacNeille completion
# ----------------------------------------------------------------------------------------------
def dedekind_macneille(poset: Poset, max_size: int = 5000) -> tuple[Poset, np.ndarray]:
    """The Dedekind–MacNeille completion DM(P), the smallest lattice containing P.

    Its elements are the cuts ``A = L(U(A))`` (D&P ch. 7; the concept lattice of the context
    ``(P, P, <=)``, G&W ch. 1). The cuts are exactly the intersections of principal
    down-sets (the closure system they generate, with the empty intersection being P), built by
    intersecting the family so far with each principal down-set, using Python ints as bitsets.

    Parameters
    ----------
    poset : Poset
        The poset to complete (elements are its components).
    max_size : int
        Largest number of cuts allowed; DM(P) can be exponential in ``|P|``.

    Returns
    -------
    lattice : Poset
        The cuts ordered by inclusion, in order of size (index 0 is the bottom). Labels: the
        element's label for a principal cut ``↓x``, ``"⊥"``/``"⊤"`` for the empty / full cut when
        they are not principal, else ``"⋁{...}"`` over the cut's maximal elements.
    embedding : ndarray of int
        ``embedding[x]`` is the index in ``lattice`` of the cut ``↓x``; an order embedding.

    Raises
    ------
    ValueError
        If the completion has more than ``max_size`` cuts.

    Examples
    --------
    >>> lattice, embedding = dedekind_macneille(antichain(2))
    >>> lattice.labels, embedding.tolist(), lattice.is_lattice()
    (['⊥', 0, 1, '⊤'], [1, 2], True)
    """
    check_instance(poset, "poset", "dedekind_macneille", Poset, "a Poset")
    max_size = check_int(max_size, "max_size", "dedekind_macneille", low=1)
    n = poset.size
    leq = poset.leq_matrix
    weights = [1 << i for i in range(n)]
    downs = [sum(w for w, inside in zip(weights, leq[:, x]) if inside) for x in range(n)]
    family = {(1 << n) - 1}
    for d in downs:
        family |= {f & d for f in family}
        if len(family) > max_size:
            raise ValueError(f"the Dedekind–MacNeille completion has more than max_size={max_size} "
                             f"cuts; raise max_size or use meet_irreducibles(), which needs no lattice")
    cuts = sorted(family, key=lambda c: (c.bit_count(), c))
    nbytes = max(1, (n + 7) // 8)
    members = np.array([np.unpackbits(np.frombuffer(c.to_bytes(nbytes, "little"), dtype=np.uint8),
                                      bitorder="little", count=n) for c in cuts], dtype=np.float32)
    contained = (members @ (1 - members).T) == 0  # A_i ⊆ A_j
    position = {c: i for i, c in enumerate(cuts)}
    embedding = np.array([position[d] for d in downs], dtype=np.int64)
    labels = [_cut_label(poset, members[i].astype(bool), i, len(cuts)) for i in range(len(cuts))]
    for x, i in enumerate(embedding):
        labels[i] = poset.labels[x]
    return Poset._trusted(contained, element_labels=_distinct(labels)), embedding


def _cut_label(poset: Poset, cut: np.ndarray, i: int, k: int) -> str:
    if i == 0 and not cut.any():
        return "⊥"
    if i == k - 1 and cut.all():
        return "⊤"
    inside = np.flatnonzero(cut)
    tops = inside[poset.leq_matrix[np.ix_(inside, inside)].sum(axis=1) == 1]
    return "⋁{" + ", ".join(str(poset.labels[t]) for t in tops) + "}"


def _distinct(labels: list) -> list:
    """Make labels unique by suffixing repeats (a non-principal cut may print like an element)."""
    seen: dict = {}
    out = []
    for label in labels:
        count = seen.get(label, 0)
        seen[label] = count + 1
        out.append(label if count == 0 else f"{label}#{count}")
    return out
