"""Shared fixtures. Real corpora live in ../shared/data beside the checkout; tests that need them
skip with a clear reason when it is absent (they are never copied into the repository)."""

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real corpora not available: {SHARED_DATA} is absent")
    return SHARED_DATA
