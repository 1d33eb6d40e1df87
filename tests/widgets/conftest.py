"""Fixtures of the widget tests (``digits`` and ``model`` come from tests/conftest.py)."""
import pytest

from lattice_lab.pruning import REGISTRY, MethodSpec
from lattice_lab.pruning.base import ALL_KINDS


@pytest.fixture
def register(monkeypatch):
    """``register(name, function, ...)`` adds a method to the registry for one test only."""

    def register(name, function, *, level="weight", needs_data=False, kinds=ALL_KINDS, options=None,
                 diagnostic_labels=None, diagnostic_plots=()):
        monkeypatch.setitem(REGISTRY, name, MethodSpec(name, function, level, f"test method {name}", needs_data,
                                                       tuple(kinds), dict(options or {}),
                                                       diagnostic_labels=dict(diagnostic_labels or {}),
                                                       diagnostic_plots=tuple(diagnostic_plots)))

    return register
