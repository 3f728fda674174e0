"""Per-window feature vectors of melodies for the distribution metrics (core/fidelity.py).

The MGEval / MusPy descriptors (Yang & Lerch 2018; Dong et al. 2020) on pitch frames (0 rest,
1..88 sounding pitch per step), as one row per window: pitch-class histogram (12), interval
histogram between successive notes (-12..12 semitones, wider leaps in the end bins: 25),
note-length histogram (1..8 steps, longer in the last bin: 8), and five scalars (rest share,
pitch range, mean pitch, distinct pitches, notes per step). A note is a run of equal pitch.
"""

from __future__ import annotations

import numpy as np

OCTAVE = 12
MAX_INTERVAL = 12
MAX_LENGTH = 8
N_FEATURES = OCTAVE + (2 * MAX_INTERVAL + 1) + MAX_LENGTH + 5


def melody_features(frames: np.ndarray) -> np.ndarray:
    """(N, T) pitch frames -> (N, N_FEATURES) feature rows (histograms as shares)."""
    frames = np.asarray(frames, dtype=np.int64)
    out = np.zeros((len(frames), N_FEATURES))
    for i, row in enumerate(frames):
        out[i] = _row_features(row)
    return out


def _row_features(row: np.ndarray) -> np.ndarray:
    change = np.flatnonzero(np.diff(row)) + 1
    starts = np.r_[0, change]  # note (or rest) onsets
    lengths = np.diff(np.r_[starts, len(row)])
    pitches = row[starts]
    sounding = pitches > 0
    notes, note_lengths = pitches[sounding], lengths[sounding]
    pc = np.bincount((notes - 1) % OCTAVE, weights=note_lengths, minlength=OCTAVE)
    intervals = np.clip(np.diff(notes), -MAX_INTERVAL, MAX_INTERVAL) + MAX_INTERVAL
    iv = np.bincount(intervals, minlength=2 * MAX_INTERVAL + 1).astype(np.float64)
    ln = np.bincount(np.minimum(note_lengths, MAX_LENGTH) - 1, minlength=MAX_LENGTH)
    steps = row[row > 0]
    scalars = [
        1.0 - len(steps) / len(row),
        float(steps.max() - steps.min()) if len(steps) else 0.0,
        float(steps.mean()) if len(steps) else 0.0,
        float(len(np.unique(steps))),
        len(notes) / len(row),
    ]
    return np.concatenate([_share(pc), _share(iv), _share(ln.astype(np.float64)), scalars])


def _share(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total > 0 else counts
