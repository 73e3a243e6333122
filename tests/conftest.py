"""Shared fixtures: a pinned terminal for CLI tests and small known-MI tables."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner


@pytest.fixture(autouse=True)
def _pinned_terminal(monkeypatch):
    """Rich/Typer output must not depend on the terminal the tests run in."""
    monkeypatch.setenv("TERMINAL_WIDTH", "120")
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("_TYPER_FORCE_DISABLE_TERMINAL", "1")
    monkeypatch.delenv("MITOOL_DEBUG", raising=False)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def gauss_csv(tmp_path):
    """A 1-D Gaussian pair (true MI 0.5 nats, 2,000 rows) as CSV."""
    from mitool.data import synthetic

    d = synthetic.gaussian(2000, 1, 1, mi=0.5, seed=11)
    path = tmp_path / "g.csv"
    d.to_frame().to_csv(path, index=False)
    return path
