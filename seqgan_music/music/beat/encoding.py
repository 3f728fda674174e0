"""The beat-grid melody encoding (`encoding = "beat"`), as pure numpy functions.

Where the paper's encoding samples a pitch every 0.4 s, this one lays the melody on the file's own
beat grid (Magenta's melody representation): one step per sixteenth note (`steps_per_quarter` = 4,
configurable), counted in the file's ticks, so tempo changes do not move the grid.

Token layout (vocabulary 90, fixed):

    0        rest
    1        hold: the note sounding at the previous step goes on
    2 .. 89  note-on of MIDI pitch 21..108 (A0..C8): token = pitch - 19

A note of d steps is one note-on and d - 1 holds; a repeated pitch is two note-ons (it is
re-struck, not merged). A hold with no note before it (at the start, or after a rest) has nothing
to hold and decodes as a rest; `canonical` rewrites it so. Windows begin on bar lines (the time
signatures of the file), so a window is whole bars wherever the bar length divides its length; a
window that starts in the middle of a note begins with that note's note-on, so every window
decodes on its own.

Quantising: onsets and ends are rounded to the nearest step; a note shorter than half a step still
gets one. Where notes overlap, the highest sounding pitch wins each step (the paper's rule); a
lower note that sounds on after a higher one ends is re-struck. `quantize_notes` counts what this
loses for input that is not on the grid (see `QUANTIZE_COUNTS`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from seqgan_music.music.pitch import HIGHEST_PITCH, LOWEST_PITCH

REST = 0
HOLD = 1
NOTE_OFFSET = LOWEST_PITCH - 2  # token = pitch - 19: MIDI 21 -> 2, MIDI 108 -> 89
BEAT_VOCAB_SIZE = HIGHEST_PITCH - NOTE_OFFSET + 1  # 88 note-ons + rest + hold = 90
GRID_TOLERANCE = 0.05  # a time within 5% of a step of a grid line counts as on the grid
DEFAULT_TIME_SIGNATURE = (4, 4)
QUANTIZE_COUNTS = (
    "off_grid_notes",  # onset or end more than 5% of a step from a grid line: moved
    "lengthened_notes",  # shorter than half a step: given one step
    "dropped_notes",  # no step of their own (an onset in the same step as a higher note's)
    "shortened_notes",  # cut short by a higher note that starts while they sound
)


@dataclass(frozen=True)
class BeatEncodingConfig:
    """How tunes become beat-grid windows (see the module docstring)."""

    steps_per_quarter: int = 4  # 4: a step is a sixteenth note
    seq_len: int = 48  # steps per window: 3 bars of 4/4, 4 bars of 3/4 or 6/8 (README: why)
    stride_bars: int | None = None  # bars between window starts; None: windows do not overlap
    track: int | None = None  # None: the melody rule shared with the paper's encoding
    transpose: tuple[int, int] | None = None  # (lo, hi) semitones: train-split augmentation

    def __post_init__(self) -> None:
        if self.steps_per_quarter < 1 or self.seq_len < 1:
            raise ValueError(
                f"steps_per_quarter and seq_len must be at least 1, not "
                f"{self.steps_per_quarter}, {self.seq_len}"
            )
        if self.stride_bars is not None and self.stride_bars < 1:
            raise ValueError(f"stride_bars must be at least 1, not {self.stride_bars}")
        if self.transpose is not None:
            lo, hi = (int(v) for v in self.transpose)
            if lo > hi:
                raise ValueError(f"transpose must be (lo, hi) with lo <= hi, not {self.transpose}")
            object.__setattr__(self, "transpose", (lo, hi))

    @property
    def name(self) -> str:
        return "beat"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["transpose"] = list(self.transpose) if self.transpose is not None else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BeatEncodingConfig:
        kw = {k: v for k, v in d.items() if k in {f.name for f in fields(cls)}}
        if kw.get("transpose") is not None:
            kw["transpose"] = tuple(kw["transpose"])
        return cls(**kw)


# ---- pitches <-> tokens -------------------------------------------------------------------------


def pitch_to_note_on(pitches: np.ndarray) -> np.ndarray:
    """MIDI pitch (21..108) -> note-on token (2..89)."""
    return np.asarray(pitches, dtype=np.int64) - NOTE_OFFSET


def note_on_to_pitch(tokens: np.ndarray) -> np.ndarray:
    """Note-on token (2..89) -> MIDI pitch (21..108); mask rests and holds first."""
    return np.asarray(tokens, dtype=np.int64) + NOTE_OFFSET


# ---- notes <-> tokens ---------------------------------------------------------------------------


def quantize_notes(
    onsets: np.ndarray, offsets: np.ndarray, pitches: np.ndarray, n_steps: int
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """The monophonic frame of a note list given in (fractional) steps: per step the sounding
    pitch (0: none) and the index of the note it belongs to (-1: none); plus the loss counts.

    Pitches must already be in 21..108 (`pitch.fold_into_range`)."""
    on_f = np.asarray(onsets, dtype=np.float64)
    off_f = np.asarray(offsets, dtype=np.float64)
    pitches = np.asarray(pitches, dtype=np.int64)
    on = np.rint(on_f).astype(np.int64)
    off = np.rint(off_f).astype(np.int64)
    off_grid = (np.abs(on_f - on) > GRID_TOLERANCE) | (np.abs(off_f - off) > GRID_TOLERANCE)
    short = off <= on
    off = np.where(short, on + 1, off)
    on, off = np.clip(on, 0, n_steps), np.clip(off, 0, n_steps)
    pitch = np.zeros(n_steps, dtype=np.int64)
    owner = np.full(n_steps, -1, dtype=np.int64)
    for i in np.argsort(pitches, kind="stable"):  # ascending: higher pitches overwrite lower ones
        pitch[on[i] : off[i]] = pitches[i]
        owner[on[i] : off[i]] = i
    kept = np.zeros(len(pitches), dtype=bool)
    sounded = np.bincount(owner[owner >= 0], minlength=len(pitches))
    inside = on < n_steps
    kept[inside] = owner[on[inside]] == np.flatnonzero(inside)
    counts = {
        "off_grid_notes": int(off_grid.sum()),
        "lengthened_notes": int(short.sum()),
        "dropped_notes": int((~kept & inside).sum()),
        "shortened_notes": int((kept & (sounded < off - on)).sum()),
    }
    return pitch, owner, counts


def frame_to_beat_tokens(pitch: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """(sounding pitch, owning note) per step -> tokens: a note-on where a new note takes over,
    a hold where the same note goes on, a rest where nothing sounds."""
    pitch, owner = np.asarray(pitch, dtype=np.int64), np.asarray(owner, dtype=np.int64)
    prev = np.concatenate([[-1], owner[:-1]]) if owner.size else owner
    tokens = np.where(owner == prev, HOLD, pitch_to_note_on(np.maximum(pitch, LOWEST_PITCH)))
    return np.where(owner < 0, REST, tokens).astype(np.int64)


def notes_to_beat_tokens(
    onsets: np.ndarray, offsets: np.ndarray, pitches: np.ndarray, n_steps: int
) -> np.ndarray:
    """Notes (start and end in steps, possibly fractional; MIDI pitches 21..108) -> `n_steps`
    tokens. Exact inverse of `beat_tokens_to_notes` for monophonic notes on the grid."""
    pitch, owner, _ = quantize_notes(onsets, offsets, pitches, n_steps)
    return frame_to_beat_tokens(pitch, owner)


def beat_tokens_to_notes(tokens: np.ndarray | Sequence[int]) -> list[tuple[int, int, int]]:
    """Tokens -> (start step, end step, MIDI pitch) notes: a note-on and the holds after it are one
    note; a hold with nothing to hold is a rest."""
    t = np.asarray(tokens, dtype=np.int64).ravel()
    if t.size and (t.min() < 0 or t.max() >= BEAT_VOCAB_SIZE):
        raise ValueError(f"tokens must be in 0..{BEAT_VOCAB_SIZE - 1}, got {t.min()}..{t.max()}")
    starts = np.flatnonzero(t > HOLD)
    notes = []
    for k in starts:
        j = k + 1
        while j < t.size and t[j] == HOLD:
            j += 1
        notes.append((int(k), int(j), int(note_on_to_pitch(t[k]))))
    return notes


def canonical(tokens: np.ndarray) -> np.ndarray:
    """The same music with every hold that has nothing to hold written as a rest."""
    t = np.asarray(tokens, dtype=np.int64).copy()
    sounding = False
    for k in range(t.size):
        if t[k] > HOLD:
            sounding = True
        elif t[k] == REST or not sounding:
            t[k], sounding = REST, False
    return t


def beat_tokens_to_frames(tokens: np.ndarray) -> np.ndarray:
    """Windows (N, T) of beat tokens -> the sounding pitch per step in the paper's token space
    (0 rest, 1..88 = MIDI 21..108): what pitch metrics and MSE read."""
    t = np.atleast_2d(np.asarray(tokens, dtype=np.int64))
    n, length = t.shape
    idx = np.where(t != HOLD, np.arange(length), -1)
    last = np.maximum.accumulate(idx, axis=1)  # the last non-hold step at or before each step
    source = np.take_along_axis(t, np.maximum(last, 0), axis=1)
    source = np.where(last >= 0, source, REST)  # leading holds: nothing to hold
    return np.where(source > HOLD, source - 1, 0).astype(np.int64)


# ---- bars and windows ---------------------------------------------------------------------------


def bar_steps(numerator: int, denominator: int, steps_per_quarter: int) -> int:
    """Steps in one bar of numerator/denominator (at least 1)."""
    return max(1, round(numerator * 4 * steps_per_quarter / denominator))


def bar_starts(
    time_signatures: Sequence[tuple[int, int, int]], n_steps: int, steps_per_quarter: int
) -> np.ndarray:
    """Steps where bars begin, from (step, numerator, denominator) changes (none: 4/4 from 0)."""
    changes = sorted(time_signatures) or [(0, *DEFAULT_TIME_SIGNATURE)]
    out: list[int] = [0]  # before a first signature that starts later: one partial bar (pickup)
    for i, (start, num, den) in enumerate(changes):
        stop = changes[i + 1][0] if i + 1 < len(changes) else n_steps
        out.extend(range(start, max(start, stop), bar_steps(num, den, steps_per_quarter)))
    return np.array(sorted(set(out)), dtype=np.int64)


def _sounding_note_on(tokens: np.ndarray, k: int) -> int:
    """The note-on of the note sounding at step k (REST when none)."""
    j = k
    while j >= 0 and tokens[j] == HOLD:
        j -= 1
    return int(tokens[j]) if j >= 0 and tokens[j] > HOLD else REST


def beat_windows(
    tokens: np.ndarray, bars: np.ndarray, seq_len: int, stride_bars: int | None = None
) -> tuple[np.ndarray, int]:
    """Windows (n, seq_len) starting on bar lines `bars`, and how many of them end mid-bar.

    Consecutive windows start `stride_bars` bars apart, or (None) at the first bar line at or
    after the previous window's end. A window that starts inside a note begins with its note-on;
    windows with no note-on are dropped; a short tail is dropped."""
    t = np.asarray(tokens, dtype=np.int64).ravel()
    bars = np.asarray(bars, dtype=np.int64)
    lines = set(bars.tolist()) | {t.size}
    starts, i = [], 0
    while i < len(bars) and bars[i] + seq_len <= t.size:
        starts.append(int(bars[i]))
        if stride_bars is not None:
            i += stride_bars
        else:
            i = int(np.searchsorted(bars, bars[i] + seq_len))
    out, mid_bar = [], 0
    for s in starts:
        w = t[s : s + seq_len].copy()
        if w[0] == HOLD:
            w[0] = _sounding_note_on(t, s)
        w = canonical(w)
        if not np.any(w > HOLD):
            continue
        out.append(w)
        mid_bar += (s + seq_len) not in lines
    windows = np.stack(out) if out else np.zeros((0, seq_len), dtype=np.int64)
    return windows, mid_bar


def transpose_beat_windows(windows: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Augment: each window at every shift in lo..hi semitones that keeps its notes on the 88 keys
    (rests and holds stay); the unshifted window first. Returns (m, seq_len), m >= n."""
    w = np.asarray(windows, dtype=np.int64)
    notes = w > HOLD
    low = np.where(notes, w, BEAT_VOCAB_SIZE).min(axis=1)
    high = np.where(notes, w, 0).max(axis=1)
    out = [w]
    for shift in range(lo, hi + 1):
        if shift == 0:
            continue
        ok = (low + shift >= HOLD + 1) & (high + shift <= BEAT_VOCAB_SIZE - 1)
        out.append(np.where(notes[ok], w[ok] + shift, w[ok]))
    return np.concatenate(out, axis=0)


def shift_note_ons(tokens: np.ndarray, shifts: np.ndarray | int) -> np.ndarray:
    """Tokens (N, T) with each row's note-ons moved by its shift in semitones (rests and holds
    stay); a note pushed off the 88 keys goes an octave back onto them."""
    t = np.atleast_2d(np.asarray(tokens, dtype=np.int64))
    moved = t + np.broadcast_to(np.asarray(shifts, dtype=np.int64).reshape(-1, 1), t.shape)
    moved = np.where(moved > BEAT_VOCAB_SIZE - 1, moved - 12, moved)
    moved = np.where(moved < HOLD + 1, moved + 12, moved)
    return np.where(t > HOLD, moved, t)


def nearest_shift(from_pc: int, to_pc: int) -> int:
    """The semitones (-6..5) that move pitch class `from_pc` to `to_pc` by the shortest way."""
    return (to_pc - from_pc + 6) % 12 - 6


def steps_for(end_quarters: float, steps_per_quarter: int) -> int:
    """Steps in a tune that ends at `end_quarters` (a last partial step counts unless under 1%)."""
    return max(0, math.ceil(end_quarters * steps_per_quarter - 0.01))
