"""Two small explorers for the theory notebooks: Hasse diagrams and spectral gaps.

:class:`HasseExplorer` draws random posets (or one given poset) as Hasse diagrams with their
meet-irreducibles; :class:`SpectralGapExplorer` shows regular graphs and biregular masks against
the Ramanujan bound. Each has ``.controls``, ``.state`` and a pure compute function
(:func:`hasse_state`, :func:`spectral_state`) that tests and learners can call without a browser;
bad combinations of controls show a message instead of raising.

Must not import: cli, compare.

Examples
--------
>>> explorer = HasseExplorer(n=6, density=0.4)
>>> explorer.controls["complete"].value = True
>>> explorer.state.is_lattice
True
>>> round(SpectralGapExplorer("cycle", n=8).state.trivial, 6)
2.0
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as W
import numpy as np

from .. import spectral
from ..posets import Poset, dedekind_macneille, draw_hasse, random_poset
from ..validation import check_bool, check_choice, check_float, check_instance, check_int
from .plots import figure_png, new_figure, table_html

SEED_MAX = 10**6
HASSE_N_MAX = 40
SPECTRAL_N_MAX = 256
SPECTRAL_DEGREE_MAX = 64


# ==================================================================================== Hasse diagrams

@dataclass(frozen=True)
class HasseState:
    """Readouts of :class:`HasseExplorer`; ``poset`` (for drawing) is left out of comparisons."""

    size: int = 0
    height: int = 0
    width: int = 0
    is_lattice: bool = False
    meet_irreducibles: tuple = ()
    join_irreducibles: tuple = ()
    error: str | None = None
    poset: Poset | None = field(default=None, compare=False, repr=False)


def hasse_state(poset: Poset, complete: bool = False) -> HasseState:
    """Size, height, width, lattice test and irreducibles of ``poset`` (or of its Dedekind–MacNeille completion).

    >>> s = hasse_state(random_poset(5, 0.0), complete=True)   # 5 incomparable elements + ⊥ + ⊤
    >>> s.size, s.height, s.is_lattice, len(s.meet_irreducibles)
    (7, 3, True, 5)
    """
    check_instance(poset, "poset", "hasse_state", Poset, "a Poset")
    check_bool(complete, "complete", "hasse_state")
    try:
        shown = dedekind_macneille(poset)[0] if complete else poset
    except ValueError as error:
        return HasseState(error=f"the completion is too large to draw: {error}")
    return HasseState(size=shown.size, height=shown.height(), width=shown.width(), is_lattice=shown.is_lattice(),
                      meet_irreducibles=tuple(int(i) for i in shown.meet_irreducibles()),
                      join_irreducibles=tuple(int(i) for i in shown.join_irreducibles()), poset=shown)


class _Explorer:
    """Shared plumbing: controls -> pure state -> one figure and a readout table."""

    def __init__(self) -> None:
        self.image = W.Image(format="png", layout=W.Layout(max_width="560px"))
        self.readout = W.HTML().add_class("ll-readouts")
        self.status = W.HTML().add_class("ll-status")

    def _watch(self) -> None:
        for widget in self.controls.values():
            widget.observe(lambda _: self._update(), names="value")

    def _update(self) -> None:
        try:
            self.refresh()
        except Exception as error:  # noqa: BLE001 - the UI shows it instead of raising
            self.status.value = f"<span style='color:#b00020'>{html.escape(f'{type(error).__name__}: {error}')}</span>"

    def _repr_mimebundle_(self, **kwargs: Any):
        return self.widget._repr_mimebundle_(**kwargs)


class HasseExplorer(_Explorer):
    """Random posets (or one given poset) drawn as Hasse diagrams, meet-irreducibles in red.

    Controls: ``n`` (1 to 40), ``density`` (0 to 1), ``seed`` (ignored when a poset is given) and
    ``complete`` (show the Dedekind–MacNeille completion). ``state`` is a :class:`HasseState`.

    >>> explorer = HasseExplorer(n=6, density=0.4)
    >>> explorer.controls["complete"].value = True
    >>> explorer.state.is_lattice
    True
    """

    def __init__(self, poset: Poset | None = None, *, n: int = 8, density: float = 0.3, seed: int = 0):
        super().__init__()
        if poset is not None:
            check_instance(poset, "poset", "HasseExplorer", Poset, "a Poset or None")
        n = check_int(n, "n", "HasseExplorer", low=1, high=HASSE_N_MAX)
        density = check_float(density, "density", "HasseExplorer", low=0, high=1)
        seed = check_int(seed, "seed", "HasseExplorer", low=0, high=SEED_MAX)
        self.fixed = poset
        fixed = poset is not None
        self.controls = {
            "n": W.IntSlider(value=n, min=1, max=HASSE_N_MAX, description="n", continuous_update=False,
                             disabled=fixed),
            "density": W.FloatSlider(value=density, min=0.0, max=1.0, step=0.05, description="density",
                                     continuous_update=False, disabled=fixed),
            "seed": W.BoundedIntText(value=seed, min=0, max=SEED_MAX, description="seed", disabled=fixed,
                                     layout=W.Layout(width="160px")),
            "complete": W.Checkbox(value=False, description="Dedekind–MacNeille completion", indent=False),
        }
        self.state: HasseState | None = None
        self.widget = W.VBox([W.HBox([self.controls["n"], self.controls["density"], self.controls["seed"]]),
                              self.controls["complete"], self.status, W.HBox([self.image, self.readout])])
        self._watch()
        self.refresh()

    def poset(self) -> Poset:
        """The poset the controls describe (the given one, or a random one)."""
        if self.fixed is not None:
            return self.fixed
        c = self.controls
        return random_poset(int(c["n"].value), float(c["density"].value), int(c["seed"].value))

    def refresh(self) -> HasseState:
        """Recompute the state from the controls and redraw."""
        self.state = hasse_state(self.poset(), complete=self.controls["complete"].value)
        if self.state.error:
            self.status.value = f"<span style='color:#b00020'>{html.escape(self.state.error)}</span>"
            return self.state
        self.status.value = ""
        fig = new_figure(4.5, 3.6)
        ax = fig.add_subplot()
        draw_hasse(self.state.poset, ax, highlight=list(self.state.meet_irreducibles))
        ax.set_title("Hasse diagram (red: meet-irreducible)", fontsize=9)
        self.image.value = figure_png(fig)
        s = self.state
        self.readout.value = table_html([("elements", s.size), ("height", s.height), ("width", s.width),
                                         ("lattice", s.is_lattice), ("meet-irreducibles", len(s.meet_irreducibles)),
                                         ("join-irreducibles", len(s.join_irreducibles))])
        return self.state


# ==================================================================================== spectral gaps

SPECTRAL_FAMILIES = {"random d-regular graph": "regular", "cycle": "cycle", "complete graph": "complete",
                     "random biregular mask": "biregular"}
"""The explorer's families: dropdown label -> :func:`spectral_state` family."""


@dataclass(frozen=True)
class SpectralState:
    """Readouts of :class:`SpectralGapExplorer`.

    ``values``: adjacency eigenvalues (graphs, descending) or singular values (masks);
    ``trivial``: the top one (d, or σ₁ = √(cd)); ``second``: ``max(|λ₂|, |λₙ|)`` or ``μ̂ = σ₂``;
    ``bound``: the Ramanujan bound (2√(d−1), or √(c−1)+√(d−1)); ``gap``: ``λ₁ − λ₂`` or ``σ₁ − σ₂``;
    ``delta_r``: Δ_r when the average degrees are ≥ 3, else None.
    """

    family: str
    values: tuple = ()
    trivial: float | None = None
    second: float | None = None
    bound: float | None = None
    gap: float | None = None
    delta_r: float | None = None
    ramanujan: bool | None = None
    degrees: tuple = ()
    error: str | None = None


def spectral_state(family: str, n: int, degree: int = 3, seed: int = 0, n_in: int | None = None) -> SpectralState:
    """Spectrum, gap and Ramanujan test of one graph or mask; bad combinations give ``error``, not an exception.

    Parameters
    ----------
    family : ``regular`` (random d-regular graph on n nodes), ``cycle``, ``complete``, or
        ``biregular`` (a random ``n x n_in`` mask with ``degree`` ones per row).
    n, degree, seed, n_in : sizes, degree (ignored by cycle and complete) and seed.

    >>> s = spectral_state("complete", 5)
    >>> round(s.trivial, 6), round(s.second, 6), s.ramanujan
    (4.0, 1.0, True)
    >>> spectral_state("regular", 5, 3).error
    'n * d must be even for a d-regular graph, got n=5, d=3'
    """
    import networkx as nx

    check_choice(family, "family", "spectral_state", sorted(SPECTRAL_FAMILIES.values()))
    try:
        if family == "biregular":
            n_in = n if n_in is None else n_in
            mask = spectral.biregular_mask(n, n_in, degree, seed=seed)
            values = spectral.mask_singular_values(mask)
            ok, c, d = spectral.is_biregular(mask)
            bound = spectral.ramanujan_bound_biregular(c, d) if c >= 1 and d >= 1 else None
            return SpectralState(family, tuple(float(v) for v in values), float(values[0]),
                                 float(values[1]) if len(values) > 1 else 0.0, bound,
                                 float(values[0] - (values[1] if len(values) > 1 else 0.0)), _delta_r(mask),
                                 spectral.is_ramanujan_biregular(mask), (c, d))
        if family == "regular":
            adjacency = spectral.random_regular_mask(n, degree, seed=seed)
        elif family == "cycle":
            if n < 3:
                raise ValueError(f"a cycle needs n >= 3 nodes, got n={n}")
            adjacency = nx.to_numpy_array(nx.cycle_graph(n))
        else:
            if n < 2:
                raise ValueError(f"a complete graph needs n >= 2 nodes, got n={n}")
            adjacency = nx.to_numpy_array(nx.complete_graph(n))
        d = int(adjacency[0].sum())
        if d < 1:
            raise ValueError("the graph has no edges (degree 0): its spectrum is all zeros")
        values = spectral.adjacency_spectrum(adjacency)
        return SpectralState(family, tuple(float(v) for v in values), float(values[0]),
                             spectral.second_largest_abs_eigenvalue(adjacency), spectral.ramanujan_bound_regular(d),
                             spectral.spectral_gap(adjacency), _delta_r(adjacency),
                             spectral.is_ramanujan_regular(adjacency), (d,))
    except (ValueError, TypeError) as error:
        return SpectralState(family, error=str(error))


def _delta_r(mask: np.ndarray) -> float | None:
    try:
        return spectral.delta_r(mask)
    except ValueError:
        return None


class SpectralGapExplorer(_Explorer):
    """Spectra of regular graphs and biregular masks against the Ramanujan bound.

    Controls: ``family``, ``n`` (2 to 256), ``degree`` (1 to 64), ``n_in`` (biregular masks only,
    2 to 256), ``seed``. ``state`` is a :class:`SpectralState`.

    >>> explorer = SpectralGapExplorer()
    >>> explorer.controls["family"].value = "cycle"
    >>> round(explorer.state.trivial, 6)
    2.0
    """

    def __init__(self, family: str = "regular", *, n: int = 32, degree: int = 4, n_in: int = 32, seed: int = 0):
        super().__init__()
        check_choice(family, "family", "SpectralGapExplorer", list(SPECTRAL_FAMILIES.values()))
        n = check_int(n, "n", "SpectralGapExplorer", low=2, high=SPECTRAL_N_MAX)
        degree = check_int(degree, "degree", "SpectralGapExplorer", low=1, high=SPECTRAL_DEGREE_MAX)
        n_in = check_int(n_in, "n_in", "SpectralGapExplorer", low=2, high=SPECTRAL_N_MAX)
        seed = check_int(seed, "seed", "SpectralGapExplorer", low=0, high=SEED_MAX)
        self.controls = {
            "family": W.Dropdown(options=list(SPECTRAL_FAMILIES.items()), value=family, description="family"),
            "n": W.IntSlider(value=n, min=2, max=SPECTRAL_N_MAX, description="n (rows)", continuous_update=False),
            "degree": W.IntSlider(value=degree, min=1, max=SPECTRAL_DEGREE_MAX, description="degree",
                                  continuous_update=False),
            "n_in": W.IntSlider(value=n_in, min=2, max=SPECTRAL_N_MAX, description="n_in (cols)",
                                continuous_update=False),
            "seed": W.BoundedIntText(value=seed, min=0, max=SEED_MAX, description="seed",
                                     layout=W.Layout(width="160px")),
        }
        self.state: SpectralState | None = None
        c = self.controls
        self.widget = W.VBox([W.HBox([c["family"], c["seed"]]), W.HBox([c["n"], c["degree"], c["n_in"]]),
                              self.status, W.HBox([self.image, self.readout])])
        self._watch()
        self.refresh()

    def refresh(self) -> SpectralState:
        """Recompute the state from the controls and redraw."""
        c = self.controls
        family = c["family"].value
        c["degree"].disabled = family in ("cycle", "complete")
        c["n_in"].disabled = family != "biregular"
        self.state = s = spectral_state(family, int(c["n"].value), int(c["degree"].value), int(c["seed"].value),
                                        int(c["n_in"].value))
        if s.error:
            self.status.value = f"<span style='color:#b00020'>{html.escape(s.error)}</span>"
            self.readout.value = ""
            return s
        self.status.value = ""
        fig = new_figure(4.8, 3.2)
        ax = fig.add_subplot()
        ax.plot(np.arange(1, len(s.values) + 1), s.values, ".", ms=5)
        if s.bound is not None:
            ax.axhline(s.bound, color="tab:red", ls="--", lw=1, label=f"Ramanujan bound {s.bound:.3g}")
            if family != "biregular":
                ax.axhline(-s.bound, color="tab:red", ls="--", lw=1)
        ax.set_xlabel("index", fontsize=8)
        ax.set_ylabel("singular value" if family == "biregular" else "adjacency eigenvalue", fontsize=8)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        self.image.value = figure_png(fig)
        second = "μ̂ = σ₂" if family == "biregular" else "max(|λ₂|, |λₙ|)"
        self.readout.value = table_html([("degrees", s.degrees), ("trivial", s.trivial), (second, s.second),
                                         ("Ramanujan bound", s.bound), ("spectral gap", s.gap),
                                         ("Δ_r", s.delta_r), ("Ramanujan", s.ramanujan)])
        return s
