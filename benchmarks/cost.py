"""Cost benchmark: how the run time of each method's analysis grows with the hidden size n.

Three analyses, each timed for n = 128, 256, ..., 4096 (fast mode: 64, 128, 256) and fitted on a
log-log scale (``numpy.polyfit`` of log seconds on log n; time ~ n^k):

- **lattice**: ``Poset.from_adjacency`` (reachability, SCC condensation) plus
  ``meet_irreducibles`` (the bitset test that never enumerates the lattice), on three graphs:
  a random DAG (each of 4n candidate edges i -> j kept when i < j: the poset keeps all n
  elements), a random sparse digraph (average out-degree 1.5: cycles, many components), and a
  random Gaussian W thresholded at its 0.9 quantile of |w| (as the lattice method does with
  ``threshold=0.9``: one big strongly connected component, a tiny poset).
- **spectral**: ``lattice_lab.ridge.greedy_select`` keeping 25% and 50% of n units
  from a covariance with a decaying spectrum (rank n/4 signal plus a ridge), theta = 0.
- **expander**: ``lattice_lab.spectral.delta_r`` on random n x n masks of density 0.1 and 0.05.

Inputs are generated outside the timed region; each time is the median of ``--repeats`` calls
after one untimed warm-up call (no warm-up above n = 1024, where one call takes long enough),
fewer for large n once ``--budget`` seconds are spent on one size (the count is recorded).

Usage::

    python -m benchmarks.cost [--sizes 128 256 ...] [--repeats 3] [--budget 60] [--out DIR]

Writes ``cost.json`` and ``cost.png`` (``cost_fast.*`` in fast mode) under ``--out``
(default ``benchmarks/results``).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

from lattice_lab.posets import Poset
from lattice_lab.ridge import greedy_select
from lattice_lab.settings import fast
from lattice_lab.spectral import delta_r

from .common import (RESULTS, command_line, fitted_exponent, machine_info, median_seconds, report_path,
                     save_figure, write_report)

SIZES = (128, 256, 512, 1024, 2048, 4096)
FAST_SIZES = (64, 128, 256)


def random_dag(n: int, seed: int = 0) -> sp.csr_matrix:
    """A random DAG on n nodes: 4n random pairs (i, j), kept when i < j (about 2n edges)."""
    rng = np.random.default_rng(seed)
    src, dst = rng.integers(0, n, 4 * n), rng.integers(0, n, 4 * n)
    keep = src < dst
    return sp.csr_matrix((np.ones(int(keep.sum())), (src[keep], dst[keep])), shape=(n, n))


def random_digraph(n: int, seed: int = 0, degree: float = 1.5) -> sp.csr_matrix:
    """A random sparse digraph on n nodes with average out-degree ``degree`` (cycles allowed)."""
    rng = np.random.default_rng(seed)
    m = int(round(degree * n))
    return sp.csr_matrix((np.ones(m), (rng.integers(0, n, m), rng.integers(0, n, m))), shape=(n, n))


def thresholded_weights(n: int, seed: int = 0, quantile: float = 0.9) -> np.ndarray:
    """A Gaussian n x n W as a binary adjacency: |w| at or above its ``quantile`` (the lattice default)."""
    w = np.abs(np.random.default_rng(seed).standard_normal((n, n)))
    return w >= np.quantile(w, quantile)


def state_covariance(n: int, seed: int = 0) -> np.ndarray:
    """A hidden-state-like covariance: a rank n/4 signal with decaying scales plus a small ridge."""
    rng = np.random.default_rng(seed)
    rank = max(1, n // 4)
    basis = rng.standard_normal((n, rank)) * (1.0 / np.sqrt(1.0 + np.arange(rank)))
    return basis @ basis.T / rank + 0.01 * np.eye(n)


def random_mask(n: int, density: float, seed: int = 0) -> sp.csr_matrix:
    """A random n x n 0/1 mask with each entry kept with probability ``density``."""
    return sp.random(n, n, density=density, format="csr", random_state=seed, data_rvs=np.ones)


def _lattice(graph: Any) -> Callable[[], Any]:
    return lambda: Poset.from_adjacency(graph).meet_irreducibles()


def analyses() -> dict[str, tuple[str, Callable[[int], Callable[[], Any]]]]:
    """Name -> (the method it belongs to, a factory: n -> the zero-argument call to time)."""
    return {
        "lattice: random DAG": ("lattice", lambda n: _lattice(random_dag(n))),
        "lattice: random digraph": ("lattice", lambda n: _lattice(random_digraph(n))),
        "lattice: thresholded W (0.9)": ("lattice", lambda n: _lattice(thresholded_weights(n))),
        "spectral: greedy keep 25%": ("spectral", lambda n: _greedy(n, 0.25)),
        "spectral: greedy keep 50%": ("spectral", lambda n: _greedy(n, 0.5)),
        "expander: delta_r density 0.1": ("expander", lambda n: _delta(n, 0.1)),
        "expander: delta_r density 0.05": ("expander", lambda n: _delta(n, 0.05)),
    }


def _greedy(n: int, keep: float) -> Callable[[], Any]:
    cov = state_covariance(n)
    return lambda: greedy_select(cov, max(1, int(keep * n)), 1e-3)


def _delta(n: int, density: float) -> Callable[[], Any]:
    mask = random_mask(n, density)
    return lambda: delta_r(mask)


def _describe(name: str, n: int) -> dict[str, Any]:
    """Size facts of the lattice inputs (poset elements, meet-irreducibles) for the report."""
    if not name.startswith("lattice"):
        return {}
    graph = {"lattice: random DAG": random_dag, "lattice: random digraph": random_digraph,
             "lattice: thresholded W (0.9)": thresholded_weights}[name](n)
    poset = Poset.from_adjacency(graph)
    return {"poset_size": poset.size, "meet_irreducibles": int(len(poset.meet_irreducibles()))}


def plot(entries: list[dict[str, Any]], path: Path) -> Path:
    """Log-log plot of median seconds against n, one line per analysis, with its fitted exponent."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    styles = {"lattice": "o-", "spectral": "s-", "expander": "^-"}
    for entry in entries:
        ax.plot(entry["sizes"], entry["median_s"], styles[entry["method"]],
                label=f"{entry['name']} (k = {entry['exponent']:.2f})")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("hidden size n")
    ax.set_ylabel("median seconds")
    ax.set_title("Cost of each method's analysis (time ~ n^k)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Time every analysis at every size; write the JSON report and the plot; return the report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cost", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help=f"hidden sizes n (default {list(SIZES)}; fast mode {list(FAST_SIZES)})")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per size (default 3; fast 2)")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="stop repeating one size after this many seconds (default 60)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON and PNG")
    args = parser.parse_args(argv)
    sizes = args.sizes or list(FAST_SIZES if fast() else SIZES)
    if min(sizes) < 64:
        parser.error(f"--sizes must be >= 64 (delta_r needs average degree >= 3 at density 0.05), got {sizes}")
    repeats = args.repeats or (2 if fast() else 3)
    machine = machine_info(command_line("cost", argv))
    entries = []
    for name, (method, factory) in analyses().items():
        timings = []
        for n in sizes:
            call = factory(n)
            timing = median_seconds(call, repeats, warmup=1 if n <= 1024 else 0, budget_s=args.budget)
            timings.append({"n": n, **timing, **_describe(name, n)})
            print(f"{name:34s} n={n:5d}: {timing['median_s']:.4g} s (median of {timing['repeats']})", flush=True)
        medians = [t["median_s"] for t in timings]
        entries.append({"name": name, "method": method, "sizes": sizes, "median_s": medians,
                        "exponent": fitted_exponent(sizes, medians), "timings": timings})
    png = plot(entries, report_path(args.out, "cost", ".png"))
    report = {"benchmark": "cost", "machine": machine, "settings": {"sizes": sizes, "repeats": repeats,
                                                                     "budget_s": args.budget},
              "analyses": entries, "plot": png.name}
    path = write_report(report, args.out, "cost")
    for entry in entries:
        print(f"{entry['name']:34s} fitted exponent {entry['exponent']:.2f}")
    print(f"wrote {path} and {png}")
    return json.loads(path.read_text())


if __name__ == "__main__":
    main()
