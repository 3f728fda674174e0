"""Rhythm metrics on beat-grid windows (beat/encoding.py tokens: 0 rest, 1 hold, 2.. note-on).

Per window: `notes_per_bar` (note-ons per bar of the model's time signature), `strong_beat_share`
(share of note-ons on the quarter-note grid: the beats of x/4 metres, every other eighth of 6/8),
`mean_note_duration` (steps). Pooled over a set: every note's duration and every inter-onset
interval (steps between consecutive note-ons of a window), compared with held-out data as the
overlapped area of their Gaussian-KDE densities (`metrics.distribution_overlap`, MGEval-style).
A note still sounding at a window's end counts with the length the window shows, on both sides.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.beat.encoding import HOLD, bar_starts, beat_tokens_to_frames
from seqgan_music.music.metrics import distribution_overlap


def _check(windows: np.ndarray) -> np.ndarray:
    w = np.asarray(windows, dtype=np.int64)
    if w.ndim != 2:
        raise SeqGANMusicError(f"rhythm metrics need windows of shape (N, T), got {w.shape}")
    return w


def note_durations(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(durations in steps of every note, the window each belongs to), in window order."""
    w = _check(windows)
    n, t = w.shape
    onset = w > HOLD
    sounding = beat_tokens_to_frames(w) > 0
    ids = np.cumsum(onset.ravel()) - 1  # the note each step belongs to (-1 before the first)
    counted = sounding.ravel() & (ids >= 0)
    total = int(onset.sum())
    durations = np.bincount(ids[counted], minlength=total)[:total]
    rows = np.broadcast_to(np.arange(n)[:, None], (n, t))[onset]
    return durations.astype(np.float64), rows


def inter_onset_intervals(windows: np.ndarray) -> np.ndarray:
    """Steps between consecutive note-ons inside each window, pooled."""
    w = _check(windows)
    rows, cols = np.nonzero(w > HOLD)  # row-major: onsets of a window are consecutive, in order
    same = rows[1:] == rows[:-1]
    return (cols[1:] - cols[:-1])[same].astype(np.float64)


def rhythm_metrics(
    windows: np.ndarray, steps_per_quarter: int, bar_steps: int
) -> dict[str, np.ndarray]:
    """Per-window rhythm descriptors (N,) each; NaN where undefined (no note)."""
    w = _check(windows)
    n, t = w.shape
    onset = w > HOLD
    notes = onset.sum(axis=1).astype(np.float64)
    on_beat = (onset & (np.arange(t) % steps_per_quarter == 0)).sum(axis=1)
    durations, rows = note_durations(w)
    total = np.bincount(rows, weights=durations, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "notes_per_bar": notes / (t / bar_steps),
            "strong_beat_share": np.where(notes > 0, on_beat / notes, np.nan),
            "mean_note_duration": np.where(notes > 0, total / notes, np.nan),
        }


def rhythm_overlaps(
    generated: np.ndarray, held_out: np.ndarray, steps_per_quarter: int, bar_steps: int
) -> dict[str, float]:
    """Overlap with held-out data of the pooled note-duration and inter-onset distributions and of
    each per-window rhythm descriptor (1 = indistinguishable)."""
    gen, real = _check(generated), _check(held_out)
    out = {
        "note_duration": distribution_overlap(note_durations(gen)[0], note_durations(real)[0]),
        "inter_onset_interval": distribution_overlap(
            inter_onset_intervals(gen), inter_onset_intervals(real)
        ),
    }
    g = rhythm_metrics(gen, steps_per_quarter, bar_steps)
    r = rhythm_metrics(real, steps_per_quarter, bar_steps)
    return out | {name: distribution_overlap(g[name], r[name]) for name in g}


# ---- what the music domain asks of every encoding (music/encodings.py) ------------------------


def pitch_frames(tokenizer: Any, windows: np.ndarray) -> np.ndarray:
    """The sounding key number per step (0 rest, 1..88): for MSE and the pitch metrics."""
    return beat_tokens_to_frames(windows)


def own_scores(samples: np.ndarray, references: np.ndarray, tokenizer: Any) -> dict[str, Any]:
    """Beat tokens carry rhythm: its metrics, and their overlaps with the references."""
    grid = (tokenizer.steps_per_quarter, tokenizer.bar_steps)
    overlaps = rhythm_overlaps(samples, references, *grid)
    return {**rhythm_metrics(samples, *grid), **{f"overlap_{k}": v for k, v in overlaps.items()}}


def bar_steps(tokenizer: Any) -> int:
    return tokenizer.bar_steps


def opening(path: Path, tokenizer: Any, bars: int) -> np.ndarray | None:
    """The first `bars` bars of a tune file in its own metre, as pitch frames (None: shorter)."""
    from seqgan_music.music.beat.tunes import read_beat_tune

    tokens, info = read_beat_tune(path, tokenizer.encoding)
    lines = bar_starts(info["time_signatures"], len(tokens), tokenizer.steps_per_quarter)
    return beat_tokens_to_frames(tokens[None, : lines[bars]])[0] if len(lines) > bars else None
