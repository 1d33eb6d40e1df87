"""Small explorers for the theory notebooks: Hasse diagrams, spectral gaps, IMP round by round,
and the units spectral pruning keeps.

:class:`HasseExplorer` draws random posets (or one given poset) as Hasse diagrams with their
meet-irreducibles; :class:`SpectralGapExplorer` shows regular graphs and biregular masks against
the Ramanujan bound; :class:`ImpRoundExplorer` steps through the rounds of an ``imp`` or
``ramanujan-imp`` result (the mask, its singular values against the bound, Δ_r so far);
:class:`SpectralKeepExplorer` shows which units spectral pruning's greedy choice keeps, and what
that costs in L_A and L_B, as the ridge λ, the weight θ and the number of units move. Each has
``.controls``, ``.state`` and a pure compute function (:func:`hasse_state`, :func:`spectral_state`,
:func:`imp_round_state`, :func:`spectral_keep_state`) that tests and learners can call without a
browser; bad combinations of controls show a message instead of raising.

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
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as W
import numpy as np

from .. import ridge, spectral
from ..hasse_drawing import draw_hasse
from ..posets import Poset, dedekind_macneille, random_poset
from ..validation import InvalidParameterError, check_bool, check_choice, check_float, check_instance, check_int
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


# ==================================================================================== IMP round by round

@dataclass(frozen=True)
class ImpRoundState:
    """Readouts of :class:`ImpRoundExplorer`: one tensor's mask after one round (0 = before pruning).

    ``values``: the singular values of the mask (its bipartite graph's eigenvalues are ± these);
    ``d_left``, ``d_right``: average row and column degrees (isolated nodes removed); ``bound``:
    √(d̄_L − 1) + √(d̄_R − 1); ``mu_hat``: σ₂; ``delta_r``: bound − μ̂ (None where undefined, with the
    reason in ``note``); ``lower_bound``: |√(d̄_L − 1) − √(d̄_R − 1)|, the lower end of the biregular
    Ramanujan window (Pal et al. and this project test the upper end only); ``delta_r_series`` and
    ``sparsity_series``: one entry per round of the same view (stacked or one gate block);
    ``frozen_round``: the round whose candidate the stopping rule rejected, or None.
    """

    tensor: str = ""
    round: int = 0
    rounds: int = 0
    view: str = "stacked"
    sparsity: float | None = None
    accuracy: float | None = None
    d_left: float | None = None
    d_right: float | None = None
    bound: float | None = None
    lower_bound: float | None = None
    mu_hat: float | None = None
    delta_r: float | None = None
    values: tuple = ()
    delta_r_series: tuple = ()
    sparsity_series: tuple = ()
    frozen_round: int | None = None
    note: str = ""
    error: str | None = None
    mask: np.ndarray | None = field(default=None, compare=False, repr=False)


def _imp_info(source: Any, caller: str) -> Mapping:
    info = getattr(source, "info", source)
    check_instance(info, "info", caller, Mapping, "a PruneResult of ramanujan-imp or imp, or its info dict")
    if "mask_history" not in info:
        raise InvalidParameterError(f"The 'info' parameter of {caller} must be the info of a ramanujan-imp or imp "
                                    f"result (with 'mask_history'). Got a dict with keys {sorted(info)[:6]} instead.")
    return info


def _view_mask(mask: np.ndarray, blocks: int, block: int | None) -> np.ndarray:
    return mask if block is None else np.split(mask, blocks, axis=0)[block]


def imp_round_state(info: Any, tensor: str | None = None, round: int | None = None,
                    block: int | None = None) -> ImpRoundState:
    """The mask of ``tensor`` after ``round`` rounds of IMP, its spectrum against the Ramanujan bound.

    Parameters
    ----------
    info : a ``ramanujan-imp`` / ``imp`` :class:`~lattice_lab.pruning.PruneResult` or its ``info``
        (it records ``mask_history``: the mask before pruning, then after every round).
    tensor : a tensor in scope (default: the first).
    round : 0 (before pruning) to the number of rounds run (default: the last).
    block : None for the stacked mask (what the stopping rule judges), or a gate block 0, 1, ...

    Examples
    --------
    >>> import torch
    >>> from lattice_lab.data import load
    >>> from lattice_lab.models import build
    >>> from lattice_lab.pruning import prune
    >>> model = build({"kind": "lstm", "input_size": 8, "hidden_size": 16, "num_classes": 10})
    >>> result = prune(model, "imp", 0.5, load("digits", subset=64), rounds=2, finetune_epochs=0)
    >>> s = imp_round_state(result, round=2)
    >>> s.rounds, round(s.sparsity, 6), s.delta_r == result.info["delta_r"][s.tensor][-1]
    (2, 0.5, True)
    >>> imp_round_state(result, round=0).delta_r_series == imp_round_state(result, round=2).delta_r_series
    True
    """
    info = _imp_info(info, "imp_round_state")
    history = info["mask_history"]
    names = list(history)
    tensor = names[0] if tensor is None else check_choice(tensor, "tensor", "imp_round_state", names)
    masks = history[tensor]
    rounds = len(masks) - 1
    round = rounds if round is None else check_int(round, "round", "imp_round_state", low=0, high=rounds)
    blocks = _gate_blocks(info, tensor)
    block = check_int(block, "block", "imp_round_state", low=0, high=blocks - 1, allow_none=True)
    arrays = [_view_mask(np.asarray(m, dtype=np.float64), blocks, block) for m in masks]
    mask = arrays[round]
    spectrum = spectral.mask_spectrum(mask)
    values = spectrum["values"]
    d_left, d_right = spectrum["d_left"], spectrum["d_right"]
    lower = abs(math.sqrt(d_left - 1) - math.sqrt(d_right - 1)) if min(d_left, d_right) >= 1 else None
    accuracy = info.get("accuracy_initial") if round == 0 else (info.get("accuracy_per_round") or [None] * rounds)[
        round - 1]
    return ImpRoundState(
        tensor=tensor, round=round, rounds=rounds, view="stacked" if block is None else f"gate block {block}",
        sparsity=1.0 - float(mask.mean()), accuracy=None if accuracy is None else float(accuracy),
        d_left=d_left, d_right=d_right, bound=spectrum["bound"], lower_bound=lower,
        mu_hat=float(values[1]) if len(values) > 1 else 0.0, delta_r=spectrum["delta_r"],
        values=tuple(float(v) for v in values), delta_r_series=tuple(_delta_r(a) for a in arrays),
        sparsity_series=tuple(1.0 - float(a.mean()) for a in arrays),
        frozen_round=(info.get("frozen") or {}).get(tensor), note=spectrum["note"], mask=mask)


def _gate_blocks(info: Mapping, tensor: str) -> int:
    """Gate blocks stacked in ``tensor``: as many as Δ_r was recorded for per block (1 when not)."""
    per_round = (info.get("delta_r_blocks") or {}).get(tensor) or [[None]]
    return max(len(per_round[0]), 1)


class ImpRoundExplorer(_Explorer):
    """Step through the rounds of an ``imp`` / ``ramanujan-imp`` result: mask, spectrum, Δ_r.

    Three panels: the 0/1 mask of the chosen round, its singular values against the bound
    √(d̄_L − 1) + √(d̄_R − 1) (μ̂ = σ₂ marked), and Δ_r round by round with the chosen round
    marked (and the round whose candidate the stopping rule rejected). Controls: ``round``,
    ``tensor`` and ``view`` (the stacked mask the stopping rule judges, or one gate block).
    ``state`` is an :class:`ImpRoundState`.

    >>> from lattice_lab.data import load
    >>> from lattice_lab.models import build
    >>> from lattice_lab.pruning import prune
    >>> model = build({"kind": "gru", "input_size": 8, "hidden_size": 12, "num_classes": 10})
    >>> explorer = ImpRoundExplorer(prune(model, "imp", 0.6, load("digits", subset=64), rounds=3, finetune_epochs=0))
    >>> explorer.controls["round"].value = 0
    >>> explorer.state.sparsity, explorer.state.view
    (0.0, 'stacked')
    """

    def __init__(self, result: Any, *, tensor: str | None = None, round: int | None = None,
                 block: int | None = None):
        super().__init__()
        self.info = _imp_info(result, "ImpRoundExplorer")
        first = imp_round_state(self.info, tensor, round, block)  # validates every argument
        blocks = _gate_blocks(self.info, first.tensor)
        views = [("stacked", None)] + [(f"gate block {b}", b) for b in range(blocks)] if blocks > 1 else [
            ("stacked", None)]
        self.controls = {
            "round": W.IntSlider(value=first.round, min=0, max=first.rounds, description="round",
                                 continuous_update=False),
            "tensor": W.Dropdown(options=list(self.info["mask_history"]), value=first.tensor, description="tensor"),
            "view": W.Dropdown(options=views, value=block, description="view"),
        }
        self.state: ImpRoundState | None = None
        c = self.controls
        self.widget = W.VBox([W.HBox([c["round"], c["tensor"], c["view"]]), self.status,
                              W.HBox([self.image, self.readout])])
        self.image.layout.max_width = "820px"
        self._watch()
        self.refresh()

    def refresh(self) -> ImpRoundState:
        """Recompute the state from the controls and redraw."""
        c = self.controls
        self.state = s = imp_round_state(self.info, c["tensor"].value, int(c["round"].value), c["view"].value)
        self.status.value = "" if s.delta_r is not None else (
            f"<span style='color:#b00020'>Δ_r undefined: {html.escape(s.note)}</span>")
        fig = new_figure(10.0, 3.2)
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.17, top=0.88, wspace=0.35)
        mask_ax, spectrum_ax, delta_ax = fig.subplots(1, 3, width_ratios=[1, 1.3, 1.3])
        mask_ax.imshow(s.mask, cmap="gray_r", interpolation="nearest", aspect="auto")
        mask_ax.set_title(f"{s.view} mask, round {s.round}: {s.sparsity:.0%} pruned", fontsize=8)
        mask_ax.set(xticks=[], yticks=[])
        index = np.arange(1, len(s.values) + 1)
        spectrum_ax.plot(index, s.values, ".", ms=3, color="0.35", label="σ_i of the mask")
        spectrum_ax.plot([2], [s.mu_hat], "o", color="tab:blue", label=f"μ̂ = σ₂ = {s.mu_hat:.2f}")
        if s.bound is not None:
            spectrum_ax.axhline(s.bound, color="tab:red", ls="--", lw=1,
                                label=f"√(d̄_L−1)+√(d̄_R−1) = {s.bound:.2f}")
        spectrum_ax.set_yscale("symlog", linthresh=1.0)  # σ₁ is far above the rest
        spectrum_ax.set_xlabel("index i", fontsize=8)
        spectrum_ax.set_title("singular values (symlog) against the bound", fontsize=8)
        spectrum_ax.legend(fontsize=7, loc="upper right")
        rounds = np.arange(len(s.delta_r_series))
        defined = [(r, d) for r, d in zip(rounds, s.delta_r_series) if d is not None]
        if defined:
            delta_ax.plot(*zip(*defined), "s--", color="tab:purple", ms=4, label="Δ_r")
        delta_ax.axhline(0.0, color="k", lw=0.8)
        delta_ax.axvline(s.round, color="tab:blue", lw=6, alpha=0.2, label=f"round {s.round}")
        if s.frozen_round is not None:
            delta_ax.axvline(s.frozen_round, color="tab:red", ls=":", label=f"rejected in round {s.frozen_round}")
        delta_ax.set_yscale("symlog", linthresh=1.0)
        delta_ax.set_xlabel("round", fontsize=8)
        delta_ax.set_xticks(rounds if len(rounds) <= 12 else rounds[::max(len(rounds) // 6, 1)])
        delta_ax.set_title("Δ_r per round (≥ 0: Ramanujan)", fontsize=8)
        delta_ax.legend(fontsize=7, loc="upper right")
        for ax in (spectrum_ax, delta_ax):
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
        self.image.value = figure_png(fig)
        self.readout.value = table_html([
            ("round", f"{s.round} of {s.rounds}"), ("sparsity", s.sparsity), ("accuracy", s.accuracy),
            ("d̄_L, d̄_R", (s.d_left, s.d_right)), ("σ₁", s.values[0] if s.values else None),
            ("√(d̄_L·d̄_R)", math.sqrt(s.d_left * s.d_right)), ("μ̂ = σ₂", s.mu_hat), ("bound", s.bound),
            ("Δ_r", s.delta_r), ("lower end |√(d̄_L−1)−√(d̄_R−1)|", s.lower_bound)])
        return s


# ==================================================================================== units spectral keeps

@dataclass(frozen=True)
class SpectralKeepState:
    """Readouts of :class:`SpectralKeepExplorer`.

    ``kept``: the units greedy selection keeps (sorted), ``order``: the same in the order chosen;
    ``lam``: the ridge λ = ``lam_scale`` · Tr Σ̂ / m; ``dof``: N̂(λ); ``L_A_rel``: L_A / Tr Σ̂;
    ``L_B``: the output loss (None without Z); ``leverage``: every unit's ridge leverage score
    (they sum to N̂(λ)); ``changed_by_theta``: kept units that the θ = 0 choice (input loss only)
    does not keep; ``top_variance_kept``: how many of the ``units`` largest-variance units are kept.
    """

    units: int = 0
    lam: float | None = None
    lam_scale: float | None = None
    theta: float | None = None
    theta_raw: float | None = None
    kept: tuple = ()
    order: tuple = ()
    dof: float | None = None
    L_A_rel: float | None = None
    L_B: float | None = None
    leverage: tuple = ()
    variance: tuple = ()
    changed_by_theta: tuple = ()
    top_variance_kept: int = 0
    error: str | None = None


def _covariance(cov: Any, caller: str) -> np.ndarray:
    array = np.asarray(cov, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] != array.shape[1] or array.shape[0] < 2 or not np.all(np.isfinite(array)):
        raise InvalidParameterError(f"The 'cov' parameter of {caller} must be a finite square covariance of at "
                                    f"least 2 units. Got an array of shape {array.shape} instead.")
    if np.trace(array) <= 0:
        raise InvalidParameterError(f"The 'cov' parameter of {caller} must have a positive trace (some state "
                                    f"varies). Got trace {np.trace(array)!r} instead.")
    return array


def _consumers(Z: Any, m: int, caller: str) -> np.ndarray | None:
    if Z is None:
        return None
    array = np.asarray(Z, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != m or not np.all(np.isfinite(array)):
        raise InvalidParameterError(f"The 'Z' parameter of {caller} must be None or a finite (p, {m}) matrix of "
                                    f"the weights that read the state. Got an array of shape {array.shape} instead.")
    return array


def spectral_keep_state(cov: Any, units: int, lam_scale: float = 1e-3, theta: float = 3.0,
                        Z: Any = None) -> SpectralKeepState:
    """Which ``units`` units greedy spectral selection keeps at ridge ``lam_scale`` and weight ``theta``.

    The choice is the ``spectral`` method's (:func:`lattice_lab.ridge.greedy_select` on L_A + θ'·L_B
    with the scale-free θ' = θ·m/‖Z‖²_F), so with the method's Σ̂, its Z (every weight that reads the
    state) and its defaults it keeps the same units.

    Parameters
    ----------
    cov : (m, m) hidden-state covariance Σ̂.
    units : units kept, 1 ≤ units ≤ m.
    lam_scale : λ relative to the mean state variance Tr Σ̂ / m (the method's default 1e-3).
    theta : weight of the output loss (0: input loss only); > 0 needs ``Z``.
    Z : (p, m) weights that consume the state, or None.

    Examples
    --------
    >>> cov = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 0.5]])
    >>> s = spectral_keep_state(cov, 2, theta=0.0)
    >>> s.kept, round(s.dof, 3), round(sum(s.leverage), 3) == round(s.dof, 3)
    ((0, 2), 2.99, True)
    >>> spectral_keep_state(cov, 2, theta=1.0).error
    'θ > 0 needs Z, the weights that read the hidden state'
    """
    cov = _covariance(cov, "spectral_keep_state")
    m = cov.shape[0]
    units = check_int(units, "units", "spectral_keep_state", low=1, high=m)
    lam_scale = check_float(lam_scale, "lam_scale", "spectral_keep_state", low=0, low_open=True)
    theta = check_float(theta, "theta", "spectral_keep_state", low=0)
    Z = _consumers(Z, m, "spectral_keep_state")
    if theta > 0 and Z is None:
        return SpectralKeepState(units=units, lam_scale=lam_scale, theta=theta,
                                 error="θ > 0 needs Z, the weights that read the hidden state")
    lam = lam_scale * float(np.trace(cov)) / m
    norm = 0.0 if Z is None else float(np.sum(Z ** 2))
    theta_raw = theta * m / norm if theta > 0 and norm > 0 else 0.0
    order = ridge.greedy_select(cov, units, lam, theta_raw, Z if theta_raw > 0 else None)
    input_only = order if theta_raw == 0 else ridge.greedy_select(cov, units, lam)
    kept = np.sort(order)
    eigenvalues = np.clip(np.linalg.eigvalsh(cov), 0.0, None)
    variance = np.diag(cov)
    top_variance = np.argsort(-variance, kind="stable")[:units]
    return SpectralKeepState(
        units=units, lam=lam, lam_scale=lam_scale, theta=theta, theta_raw=theta_raw,
        kept=tuple(int(j) for j in kept), order=tuple(int(j) for j in order),
        dof=float(ridge.degrees_of_freedom(eigenvalues, lam)),
        L_A_rel=ridge.input_loss(cov, kept, lam) / float(np.trace(cov)),
        L_B=None if Z is None else ridge.output_loss(cov, kept, lam, Z),
        leverage=tuple(float(v) for v in ridge.leverage_scores(cov, lam)),
        variance=tuple(float(v) for v in variance),
        changed_by_theta=tuple(int(j) for j in np.setdiff1d(kept, input_only)),
        top_variance_kept=int(np.isin(top_variance, kept).sum()))


LOG_LAM_MIN, LOG_LAM_MAX = -6.0, 1.0
THETA_MAX = 10.0


class SpectralKeepExplorer(_Explorer):
    """Which hidden units spectral pruning keeps, as λ, θ and the number of units move.

    Left: every unit's variance Σ̂_jj and its ridge leverage score at λ (they sum to N̂(λ)), units
    sorted by variance, the kept ones in green and those kept only because of the output loss
    (θ > 0) outlined; right: N̂ as a function of λ with the current λ and the number of kept
    units marked. Controls: ``units``,
    ``log10 λ/σ̄²`` (λ relative to the mean state variance; -3 is the method's default) and
    ``theta``. ``state`` is a :class:`SpectralKeepState`.

    >>> cov = np.diag([4.0, 2.0, 1.0, 0.5, 0.1])
    >>> explorer = SpectralKeepExplorer(cov, units=2, theta=0.0)
    >>> explorer.state.kept
    (0, 1)
    >>> explorer.controls["units"].value = 3
    >>> explorer.state.kept
    (0, 1, 2)
    """

    def __init__(self, cov: Any, Z: Any = None, *, units: int | None = None, lam_scale: float = 1e-3,
                 theta: float = 3.0):
        super().__init__()
        self.cov = _covariance(cov, "SpectralKeepExplorer")
        m = self.cov.shape[0]
        self.Z = _consumers(Z, m, "SpectralKeepExplorer")
        units = check_int(m // 2 if units is None else units, "units", "SpectralKeepExplorer", low=1, high=m)
        lam_scale = check_float(lam_scale, "lam_scale", "SpectralKeepExplorer", low=10 ** LOG_LAM_MIN,
                                high=10 ** LOG_LAM_MAX)
        theta = check_float(theta, "theta", "SpectralKeepExplorer", low=0, high=THETA_MAX)
        self.controls = {
            "units": W.IntSlider(value=units, min=1, max=m, description="units kept", continuous_update=False),
            "log_lam": W.FloatSlider(value=math.log10(lam_scale), min=LOG_LAM_MIN, max=LOG_LAM_MAX, step=0.25,
                                     description="log10 λ/σ̄²", continuous_update=False),
            "theta": W.FloatSlider(value=theta, min=0.0, max=THETA_MAX, step=0.5, description="θ",
                                   continuous_update=False, disabled=self.Z is None),
        }
        self.state: SpectralKeepState | None = None
        c = self.controls
        self.widget = W.VBox([W.HBox([c["units"], c["log_lam"], c["theta"]]), self.status,
                              W.HBox([self.image, self.readout])])
        self.image.layout.max_width = "760px"
        self._dof_grid = 10.0 ** np.linspace(LOG_LAM_MIN, LOG_LAM_MAX, 57) * np.trace(self.cov) / m
        self._eigenvalues = np.clip(np.linalg.eigvalsh(self.cov), 0.0, None)
        self._watch()
        self.refresh()

    def refresh(self) -> SpectralKeepState:
        """Recompute the state from the controls and redraw."""
        c = self.controls
        theta = float(c["theta"].value) if self.Z is not None else 0.0
        self.state = s = spectral_keep_state(self.cov, int(c["units"].value), 10.0 ** float(c["log_lam"].value),
                                             theta, self.Z)
        if s.error:
            self.status.value = f"<span style='color:#b00020'>{html.escape(s.error)}</span>"
            self.readout.value = ""
            return s
        self.status.value = ""
        fig = new_figure(9.0, 3.6)
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.9, wspace=0.3, hspace=0.5)
        grid = fig.add_gridspec(2, 2, width_ratios=[1.6, 1])
        variance_ax, leverage_ax, dof_ax = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0]), \
            fig.add_subplot(grid[:, 1])
        ranked = np.argsort(-np.array(s.variance), kind="stable")  # units by their variance Σ̂_jj
        colours = np.where(np.isin(ranked, s.kept), "tab:green", "0.75")
        changed = np.flatnonzero(np.isin(ranked, s.changed_by_theta))
        for ax, values, label in ((variance_ax, np.array(s.variance), "variance Σ̂_jj"),
                                  (leverage_ax, np.array(s.leverage), "leverage τ_j at λ")):
            ax.bar(np.arange(len(ranked)), values[ranked], color=colours, width=1.0)
            ax.bar(changed, values[ranked][changed], width=1.0, fill=False, edgecolor="k", lw=0.8)
            ax.set_ylabel(label, fontsize=8)
        variance_ax.set_title(f"{s.units} units kept (green; outlined: kept only because of L_B)", fontsize=8)
        leverage_ax.set_xlabel(f"units, by variance; the leverage scores sum to N̂(λ) = {s.dof:.1f}", fontsize=8)
        dof_ax.semilogx(self._dof_grid, ridge.degrees_of_freedom(self._eigenvalues, self._dof_grid), color="0.3",
                        label="N̂(λ)")
        dof_ax.axvline(s.lam, color="tab:blue", ls=":", label=f"λ: N̂ = {s.dof:.1f}")
        dof_ax.axhline(s.units, color="tab:green", ls="--", lw=1, label=f"units kept = {s.units}")
        dof_ax.set_xlabel("ridge λ", fontsize=8)
        dof_ax.set_title("degrees of freedom", fontsize=8)
        dof_ax.legend(fontsize=7, loc="upper right")
        for ax in (variance_ax, leverage_ax, dof_ax):
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
        self.image.value = figure_png(fig)
        self.readout.value = table_html([
            ("units kept", s.units), ("λ", s.lam), ("N̂(λ)", s.dof), ("L_A / Tr Σ̂", s.L_A_rel), ("L_B", s.L_B),
            ("θ (raw weight of L_B)", (s.theta, s.theta_raw)),
            ("kept only because of L_B", len(s.changed_by_theta)),
            (f"of the {s.units} largest-variance units, kept", s.top_variance_kept)])
        return s
