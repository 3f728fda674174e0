"""Shared fixtures. Real corpora live in ../shared/data beside the checkout; tests that need them
skip with a clear reason when it is absent (they are never copied into the repository)."""

from pathlib import Path

import pytest
import torch

# Test tensors are tiny: one intra-op thread is faster than two, and keeps the suite's timing
# steady when the machine's two cores are shared.
torch.set_num_threads(1)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real corpora not available: {SHARED_DATA} is absent")
    return SHARED_DATA
