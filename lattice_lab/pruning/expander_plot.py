"""The Δ_r trajectory plot of the expander methods: accuracy and each tensor's Ramanujan gap,
round by round, against the measured sparsity.

One idea: drawing the ``info`` that ``ramanujan-imp``, ``imp`` and ``expander`` return (it was
part of :mod:`lattice_lab.pruning.expander`, which re-exports it for one release). matplotlib is
imported when a plot is drawn, so importing this module costs nothing.

Must not import anything from the package (matplotlib only, imported on first use).
"""
from __future__ import annotations


def plot_delta_r_trajectory(info: dict, ax=None, *, title: str | None = None):
    """Accuracy (if recorded) and every tensor's Δ_r against the measured sparsity, round by round.

    The Δ_r = 0 line is drawn; an undefined Δ_r (degree < 3) is an ``x`` on that line, and the
    round at which a tensor froze is a dotted vertical line, so the breakdown point is visible.
    Δ_r is on a symlog axis (the dense Δ_r is large; what matters is where it crosses 0).
    Works with the ``info`` of ``ramanujan-imp``, ``imp`` and ``expander``. Returns the axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> info = {"sparsity_initial": 0.0, "sparsity_per_round": [0.5, 0.8], "accuracy_per_round": [0.9, 0.7],
    ...         "delta_r_initial": {"W": 4.0}, "delta_r": {"W": [2.0, None]}, "frozen": {"W": None}}
    >>> ax = plot_delta_r_trajectory(info)
    >>> ax.get_xlabel()
    'sparsity in scope'
    """
    import matplotlib.pyplot as plt

    for key in ("sparsity_per_round", "delta_r"):
        if key not in info:
            raise ValueError(f"info has no {key!r}: pass the info of a ramanujan-imp, imp or expander result")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    initial = "sparsity_initial" in info
    x = ([info["sparsity_initial"]] if initial else []) + list(info["sparsity_per_round"])
    delta_ax = ax
    if info.get("accuracy_per_round"):
        start = [info["accuracy_initial"]] if initial and "accuracy_initial" in info else []
        ax.plot(x[len(x) - len(start) - len(info["sparsity_per_round"]):], start + list(info["accuracy_per_round"]),
                "k-o", label="accuracy")
        ax.set_ylabel("accuracy")
        delta_ax = ax.twinx()
    delta_ax.axhline(0.0, color="grey", lw=0.8)
    for index, (name, values) in enumerate(info["delta_r"].items()):
        colour = f"C{index}"
        series = ([info["delta_r_initial"][name]] if initial else []) + list(values)
        points = [(s, d) for s, d in zip(x, series) if d is not None]
        if points:
            delta_ax.plot(*zip(*points), "--s", color=colour, label=f"Δ_r {name}")
        undefined = [s for s, d in zip(x, series) if d is None]
        delta_ax.plot(undefined, [0.0] * len(undefined), "x", color=colour, ms=9)
        frozen = (info.get("frozen") or {}).get(name)
        if frozen is not None:
            last_pruned = min(max(frozen - 1 - (not initial), 0), len(x) - 1)  # its mask of round frozen-1
            delta_ax.axvline(x[last_pruned], color=colour, ls=":", label=f"{name} frozen (round {frozen})")
    delta_ax.set_yscale("symlog", linthresh=1.0)  # the dense Δ_r is large; the sign change matters
    delta_ax.set_ylabel("Δ_r, symlog  (≥ 0: Ramanujan; x: undefined)")
    ax.set_xlabel("sparsity in scope")
    handles = [h for a in dict.fromkeys([ax, delta_ax]) for h in a.get_legend_handles_labels()[0]]
    ax.legend(handles=handles, fontsize="small", loc="lower left")
    if title:
        ax.set_title(title)
    return ax
