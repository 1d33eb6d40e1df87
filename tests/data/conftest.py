"""Fixtures of the data tests."""
import pytest


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Every test writes only into its own cache and sees no data root or fast mode by default."""
    monkeypatch.setenv("LATTICE_LAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("LATTICE_LAB_DATA", raising=False)
    monkeypatch.delenv("LATTICE_LAB_FAST", raising=False)
