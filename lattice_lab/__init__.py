"""lattice_lab: the structure of recurrent networks and how to prune them by it.

The helper package of a Jupyter-first course: posets and dependency lattices, graph spectra
and expanders, spectral pruning, and live pruning of trained RNNs. This front door imports
every room eagerly but the heavy ones (``analysis``, ``graphs``, ``robustness``, ``widgets``),
which load on first use.

Must not import: cli.

Examples
--------
>>> import lattice_lab as ll
>>> model = ll.models.build({"kind": "lstm", "input_size": 8, "hidden_size": 16, "num_classes": 10})
>>> ll.prune(model, "magnitude", 0.5).sparsity
0.5
"""
from . import (checkpoints, compare, course, data, exercises, metrics, models, posets, pruning, recurrent, settings,
               spectral, surgery, train, verdicts)
from .pruning import PruneResult, prune

__version__ = "0.1.0"
_LAZY = ("analysis", "graphs", "robustness", "widgets")  # heavier imports (ipywidgets) load on first use


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
__all__ = ["checkpoints", "compare", "course", "data", "exercises", "metrics", "models", "posets", "pruning",
           "recurrent", "settings", "spectral", "surgery", "train", "verdicts", "PruneResult", "prune", "__version__"]
