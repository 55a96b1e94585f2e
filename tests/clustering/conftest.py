"""Fixtures for the clustering tests (no Flask app needed)."""

import os
from pathlib import Path

import pytest

POLIS = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets" / "polis"


def polis_dataset(name: str) -> Path:
    """Path to a shared Pol.is export; skip if absent (fail when CI=true)."""
    path = POLIS / name
    if not (path / "votes.csv").is_file():
        msg = f"Pol.is dataset {name} not found at {path}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def polis_dir():
    return polis_dataset
