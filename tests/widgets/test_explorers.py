"""The theory notebooks' explorers, headless: HasseExplorer and SpectralGapExplorer."""
import math

import matplotlib

matplotlib.use("Agg")

import pytest

from lattice_lab import spectral, widgets
from lattice_lab.posets import Poset
from lattice_lab.validation import InvalidParameterError


def test_hasse_explorer_readouts_match_the_poset():
    explorer = widgets.HasseExplorer(n=9, density=0.3, seed=4)
    poset = widgets.random_poset(9, 0.3, 4)
    assert explorer.state.height == poset.height() and explorer.state.width == poset.width()
    assert explorer.state.meet_irreducibles == tuple(poset.meet_irreducibles().tolist())
    explorer.controls["density"].value = 1.0
    assert explorer.state.height == 9 and explorer.state.width == 1 and explorer.state.is_lattice
    explorer.controls["density"].value = 0.0
    explorer.controls["complete"].value = True
    assert explorer.state.size == 11 and explorer.state.is_lattice and len(explorer.state.meet_irreducibles) == 9
    assert len(explorer.image.value) > 0


def test_hasse_explorer_shows_a_given_poset_and_disables_the_random_controls():
    poset = Poset.from_divisors(12)
    explorer = widgets.HasseExplorer(poset)
    assert explorer.controls["n"].disabled and explorer.state.size == 6 and explorer.state.is_lattice
    assert explorer.state.height == poset.height()


def test_spectral_gap_explorer_computes_the_right_readouts():
    explorer = widgets.SpectralGapExplorer("regular", n=32, degree=4, seed=1)
    adjacency = spectral.random_regular_mask(32, 4, seed=1)
    assert explorer.state.trivial == pytest.approx(4.0)
    assert explorer.state.bound == pytest.approx(2 * math.sqrt(3))
    assert explorer.state.ramanujan == spectral.is_ramanujan_regular(adjacency)
    assert explorer.state.gap == pytest.approx(spectral.spectral_gap(adjacency))
    explorer.controls["family"].value = "biregular"
    explorer.controls["n_in"].value = 64
    explorer.controls["degree"].value = 16
    c, d = 16, 32 * 16 // 64
    assert explorer.state.degrees == (c, d) and explorer.state.trivial == pytest.approx(math.sqrt(c * d))
    assert explorer.state.bound == pytest.approx(math.sqrt(c - 1) + math.sqrt(d - 1))
    explorer.controls["family"].value = "regular"
    explorer.controls["n"].value = 33
    explorer.controls["degree"].value = 3
    assert "must be even" in explorer.state.error and "must be even" in explorer.status.value


def test_explorers_refuse_what_their_controls_cannot_show_instead_of_clipping():
    with pytest.raises(InvalidParameterError, match="The 'n' parameter of HasseExplorer must be an int in "
                                                    r"\[1, 40\]. Got 41 instead."):
        widgets.HasseExplorer(n=41)
    with pytest.raises(InvalidParameterError, match="'density' parameter of HasseExplorer"):
        widgets.HasseExplorer(density=1.5)
    with pytest.raises(InvalidParameterError, match="'poset' parameter of HasseExplorer must be a Poset or None"):
        widgets.HasseExplorer([[0, 1]])
    with pytest.raises(InvalidParameterError, match="'family' parameter of SpectralGapExplorer must be one of"):
        widgets.SpectralGapExplorer("petersen")
    with pytest.raises(InvalidParameterError, match="'degree' parameter of SpectralGapExplorer"):
        widgets.SpectralGapExplorer(degree=0)
    with pytest.raises(InvalidParameterError, match="'family' parameter of spectral_state"):
        widgets.spectral_state("petersen", 8)
    assert widgets.spectral_state("cycle", 2).error == "a cycle needs n >= 3 nodes, got n=2"  # an error, not raised
