"""Pitch helpers every encoding shares: the 88 piano keys, folding into them, key numbers.

A *key number* is 1..88 for MIDI 21..108 (A0..C8) and 0 for a rest. The paper's tokens are key
numbers, and every encoding can turn its tokens into key numbers per step ("pitch frames"), which
is what the pitch metrics and the MSE read.
"""

from __future__ import annotations

import numpy as np

REST = 0
LOWEST_PITCH = 21  # A0, key 1
HIGHEST_PITCH = 108  # C8, key 88
KEYS = HIGHEST_PITCH - LOWEST_PITCH + 1  # 88
PITCH_OFFSET = LOWEST_PITCH - 1  # MIDI pitch = key number + 20
OCTAVE = 12


def fold_into_range(pitches: np.ndarray) -> tuple[np.ndarray, int]:
    """Move pitches outside MIDI 21..108 by octaves into range; return them and how many moved."""
    p = np.asarray(pitches, dtype=np.int64)
    up = np.maximum(0, -((p - LOWEST_PITCH) // 12))  # octaves to raise pitches below 21
    down = np.maximum(0, -((HIGHEST_PITCH - p) // 12))  # octaves to lower pitches above 108
    folded = p + 12 * up - 12 * down
    return folded, int(np.count_nonzero(folded != p))


def pitch_to_key(pitches: np.ndarray) -> np.ndarray:
    """MIDI pitch (21..108) -> key number (1..88)."""
    return np.asarray(pitches, dtype=np.int64) - PITCH_OFFSET


def key_to_pitch(keys: np.ndarray) -> np.ndarray:
    """Key number (1..88) -> MIDI pitch (21..108); rests (0) map to 20, so mask them first."""
    return np.asarray(keys, dtype=np.int64) + PITCH_OFFSET
