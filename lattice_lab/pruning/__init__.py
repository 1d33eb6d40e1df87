"""Pruning methods and their registry: ``prune(model, method, amount, data=None, **options)``.

Importing this package registers every method module below; a new method is one new module
that calls :func:`register` and one import line here (:mod:`~lattice_lab.pruning.baselines` is
the template to copy). Modules: ``base`` (the contract and the registry), ``baselines``,
``lattice``, ``spectral_units`` (the ``spectral`` method), ``expander`` (``ramanujan-imp``,
``imp``, ``expander``) with ``expander_plot``; ``spectral`` is the old path of
``spectral_units``, kept for one release.

Must not import: widgets, cli, compare.

Examples
--------
>>> from lattice_lab.pruning import REGISTRY
>>> {"random", "magnitude", "random-units", "magnitude-units"} <= set(REGISTRY)
True
"""
from .base import REGISTRY, MethodSpec, PruneResult, foreign_methods, get_method, prune, register
from . import baselines  # noqa: F401  (registers random, magnitude, random-units, magnitude-units)
from . import spectral_units  # noqa: F401  (registers spectral)
from . import lattice  # noqa: F401  (registers lattice)
from . import expander  # noqa: F401  (registers ramanujan-imp, imp, expander)
from . import gradual  # noqa: F401  (registers gradual-magnitude)
from . import jacobian  # noqa: F401  (registers jacobian)
from . import spectral  # noqa: F401  (the old path of spectral_units and ridge, kept for one release)

__all__ = ["REGISTRY", "MethodSpec", "PruneResult", "foreign_methods", "get_method", "prune", "register"]
