"""Benchmarks of lattice_lab: quality, the expander schedule, spectral pruning of LSTMs, controlled tests of the papers'
claims (structure_claims), cost, speed, training speed, the live budget of the PruningLab, the scaling of sweeps over
worker processes, the memory and time of every notebook's kernel, a kernel's memory after forty lab settings, and the
cost of the bounded file readers.

Each benchmark is a module with ``main(argv=None) -> dict`` that writes a JSON report under
``benchmarks/results/`` (``python -m benchmarks.<name> --help`` lists its options);
``python -m benchmarks [names...]`` runs all or some of them and then regenerates the tables
of the top-level README (:func:`benchmarks.common.update_readme`). ``LATTICE_LAB_FAST=1``
shrinks every benchmark to a seconds-long smoke test that writes ``<name>_fast.json``.

Must not be imported by the ``lattice_lab`` package.
"""

BENCHMARKS = ("quality", "expander", "spectral_lstm", "structure_claims", "cost", "speed", "train_speed", "live_budget",
              "sweep_scaling", "notebook_memory", "lab_memory", "own_rnn", "bounds_cost")
"""Every benchmark module, in the order ``python -m benchmarks`` runs them."""
