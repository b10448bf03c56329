"""Shared fixtures: where the POP909 data lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def find_data_dir() -> Path | None:
    """``$DIFFJAM_DATA`` if set, else ``<repo>/../shared/data``; None when neither holds
    POP909."""
    candidates = []
    if os.environ.get("DIFFJAM_DATA"):
        candidates.append(Path(os.environ["DIFFJAM_DATA"]))
    candidates.append(REPO.parent / "shared" / "data")
    for candidate in candidates:
        if (candidate / "pop909").is_dir():
            return candidate
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The data folder holding pop909/ and pop909_phrase/; skips the test when absent."""
    found = find_data_dir()
    if found is None:
        pytest.skip(
            "POP909 data not found: set DIFFJAM_DATA to the folder holding pop909/ "
            f"(also looked in {REPO.parent / 'shared' / 'data'})"
        )
    return found
