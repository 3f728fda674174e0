"""The one split rule every domain shares: train/valid/test, and a seeded split by item.

Items (tunes, text lines) are split, never windows, so no item's windows sit in two splits.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

SPLITS: tuple[str, ...] = ("train", "valid", "test")
HELD_OUT_EVERY = 10  # one item in ten goes to valid, one in ten to test
# The seeded split's seed: its own setting (`split_seed`), fixed by default, so that training with
# another --seed keeps the same items held out and runs with different seeds stay comparable.
DEFAULT_SPLIT_SEED = 0

Item = TypeVar("Item", bound=Hashable)


def held_out_count(n: int) -> int:
    """Items in each of valid and test: a tenth, rounded down, but at least one from 3 items up
    (so a small corpus still has something to validate on)."""
    return max(n // HELD_OUT_EVERY, 1 if n >= 3 else 0)


def seeded_split(items: Sequence[Item], seed: int) -> dict[Item, str]:
    """{item: split}: a seeded permutation, the first tenth valid, the next tenth test, the rest
    train. The dict is in permutation order (the order a split's items are laid out in)."""
    import numpy as np  # here, so that the registry (which names SPLITS) stays cheap to import

    order = np.random.default_rng(seed).permutation(len(items))
    n_held = held_out_count(len(items))
    names = ["valid"] * n_held + ["test"] * n_held + ["train"] * (len(items) - 2 * n_held)
    return {items[i]: names[k] for k, i in enumerate(order)}
