"""The old home of spectral pruning, kept for one release: a re-export of every name it had.

The method and the hidden-state covariance now live in :mod:`lattice_lab.pruning.spectral_units`
and the numpy-only linear algebra (ridge reconstruction, losses, greedy and leverage selection,
the bound) in :mod:`lattice_lab.ridge`; the split ended the clash of this module's name with
:mod:`lattice_lab.spectral` (the spectra of graphs). Import from those two; this path goes in
the next release.

Must not import: widgets, cli, compare, train.

Examples
--------
>>> from lattice_lab.pruning import spectral as spectral_pruning
>>> from lattice_lab import ridge
>>> spectral_pruning.greedy_select is ridge.greedy_select
True
"""
from ..ridge import (bound_terms, degrees_of_freedom, greedy_select, input_loss, leverage_scores, leverage_select,
                     output_loss, reconstruction_matrix, residual_matrix)
from .spectral_units import (MIN_STATES_PER_UNIT, SELECTIONS, diagnostics, hidden_covariance, hidden_moments,
                             spectral)

__all__ = ["MIN_STATES_PER_UNIT", "SELECTIONS", "bound_terms", "degrees_of_freedom", "diagnostics", "greedy_select",
           "hidden_covariance", "hidden_moments", "input_loss", "leverage_scores", "leverage_select", "output_loss",
           "reconstruction_matrix", "residual_matrix", "spectral"]
