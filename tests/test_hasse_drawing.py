"""Tests for lattice_lab.hasse_drawing: every element and cover drawn, labels, input checks."""
from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from lattice_lab.hasse_drawing import draw_hasse
from lattice_lab.posets import Poset, antichain, boolean_lattice, chain

matplotlib.use("Agg")


def test_draw_hasse_draws_every_element_and_cover_of_a_200_element_poset():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection, PathCollection
    from matplotlib.colors import to_rgba

    rng = np.random.default_rng(3)
    n = 240
    A = np.zeros((n, n), dtype=bool)
    src, dst = rng.integers(0, n, 2 * n), rng.integers(0, n, 2 * n)
    A[src, dst] = True  # with cycles: some elements are components
    P = Poset.from_adjacency(A)
    assert 100 < P.size < n
    highlight = P.meet_irreducibles()
    ax = draw_hasse(P, highlight=highlight)
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(points) == 1 and len(points[0].get_offsets()) == P.size
    assert len(lines[0].get_segments()) == len(P.covers)
    red = np.all(np.isclose(points[0].get_facecolors(), to_rgba("tab:red")), axis=1)
    assert np.flatnonzero(red).tolist() == highlight.tolist()
    y = np.asarray(points[0].get_offsets())[:, 1]
    assert np.array_equal(y, P.rank())
    assert not ax.texts  # too many elements for labels
    plt.close(ax.figure)


def test_draw_hasse_labels_small_posets_and_marks_component_sizes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    P = Poset.from_relation(5, [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4)])
    fig, ax = plt.subplots()
    assert draw_hasse(P, ax=ax) is ax
    assert sorted(t.get_text() for t in ax.texts) == ["3", "4", "{3}"]
    with pytest.raises(ValueError, match="empty graph"):
        draw_hasse(antichain(0), ax=ax)
    plt.close(fig)


def test_draw_hasse_refuses_highlights_that_are_not_element_indices():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    for bad in ([0.7, 1.2], [3], [-1], [True], "0"):
        with pytest.raises(ValueError, match="The 'highlight' parameter of draw_hasse must be a list of element "
                                             r"indices \(ints in \[0, 2\]\)"):
            draw_hasse(chain(3), ax=ax, highlight=bad)
    with pytest.raises(TypeError, match="The 'poset' parameter of draw_hasse must be a Poset"):
        draw_hasse(np.eye(2), ax=ax)
    with pytest.raises(ValueError, match="The 'labels' parameter of draw_hasse must be True or False"):
        draw_hasse(chain(3), ax=ax, labels="no")
    with pytest.raises(ValueError, match="The 'node_size' parameter of draw_hasse must be a float > 0"):
        draw_hasse(chain(3), ax=ax, node_size=0)
    plt.close(fig)


def test_draw_hasse_highlights_a_2d_array_of_indices_and_an_empty_list():
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba

    B = boolean_lattice(2)
    ax = draw_hasse(B, highlight=np.array([[1], [2]]))
    red = np.all(np.isclose(ax.collections[-1].get_facecolors(), to_rgba("tab:red")), axis=1)
    assert np.flatnonzero(red).tolist() == [1, 2]
    plt.close(ax.figure)
    ax = draw_hasse(B, highlight=[])
    red = np.all(np.isclose(ax.collections[-1].get_facecolors(), to_rgba("tab:red")), axis=1)
    assert not red.any()
    plt.close(ax.figure)
