"""Committed runs of the methods that train from scratch, for the lab to show without training.

Pruning at initialisation (``jacobian``) never uses the trained weights it is given: it scores a
fresh seeded initialisation of the same architecture and trains the sparse network from there, so
its result depends on the architecture, the data, the amount, the scope and the seed only. A run
committed with the same ones stands for it: :func:`committed_run` finds it among the runs of
``structure_claims.json`` (:func:`lattice_lab.course.results_file`: a checkout's
``benchmarks/results``, else the installed package's copy). Its sparsity is the run's own (the
lab matches it to the nearest slider position) and its budget the run's (``options``), which the
lab shows with the number.

Must not import: cli, compare, widgets.lab, widgets.plots.

Examples
--------
>>> config = {"kind": "lstm", "hidden_size": [128], "num_layers": 1, "bidirectional": False}
>>> run = committed_run(config, "mnist", "jacobian", 0.95, "recurrent", 0)
>>> run["accuracy"], run["sparsity"], run["file"]
(0.9794, 0.953125, 'structure_claims.json')
>>> committed_run(config, "mnist", "jacobian", 0.5, "recurrent", 0) is None
True
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from ..course import results_file

FROM_SCRATCH = ("jacobian",)
"""Methods that train from scratch at every amount: the lab serves their committed runs and computes others on request."""
RUNS_FILE = "structure_claims.json"


@functools.lru_cache(maxsize=4)
def _runs(path: str) -> tuple[dict, ...]:
    return tuple(json.loads(Path(path).read_text()).get("runs", ()))


def committed_runs(path: str | Path | None = None) -> tuple[dict, ...]:
    """Every committed run (``{"spec": ..., "accuracy": ..., "sparsity": ...}``); () when the file is missing."""
    try:
        path = results_file(RUNS_FILE) if path is None else Path(path)
    except FileNotFoundError:
        return ()
    return _runs(str(path)) if Path(path).is_file() else ()


def committed_run(config: dict, dataset: str, method: str, amount: float, scope: str, seed: int, *,
                  tolerance: float = 0.025, path: str | Path | None = None) -> dict[str, Any] | None:
    """The committed run of ``method`` on this architecture and dataset nearest ``amount`` (within
    ``tolerance``), with this scope and seed; None when there is none.

    Returns ``accuracy``, ``sparsity``, ``options`` (the run's budget), ``epochs`` and ``file``.
    """
    if config.get("num_layers", 1) != 1 or config.get("bidirectional", False):
        return None
    hidden = config["hidden_size"][0] if isinstance(config["hidden_size"], (list, tuple)) else config["hidden_size"]
    best = None
    for run in committed_runs(path):
        spec = run.get("spec", {})
        if (spec.get("method"), spec.get("dataset"), spec.get("model"), spec.get("hidden"), spec.get("scope"),
                spec.get("seed")) != (method, dataset, config["kind"], hidden, scope, seed):
            continue
        if spec.get("start") is not None or abs(run["sparsity"] - amount) > tolerance:
            continue
        if best is None or abs(run["sparsity"] - amount) < abs(best["sparsity"] - amount):
            best = run
    if best is None:
        return None
    return {"accuracy": best["accuracy"], "sparsity": best["sparsity"], "options": dict(best["spec"].get("options", {})),
            "epochs": best["spec"].get("epochs"), "file": Path(path).name if path is not None else RUNS_FILE}
