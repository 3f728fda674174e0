"""Notes <-> tokens <-> windows: the paper's melody encoding, as pure numpy functions.

A tune's melody is sampled every `step_seconds` (SeqGAN: 0.4 s). Tokens 1..88 are the 88 piano keys
(MIDI 21..108, token = pitch - 20) and 0 is a rest, so the vocabulary has 89 entries.

The sampling rule, which makes tokens -> MIDI -> tokens exact:
- step k covers [k*step, (k+1)*step) and is sampled at its centre, t_k = (k + 0.5) * step;
- a note sounds at t when start <= t < end; where several sound, the highest pitch wins;
- a tune of end time E (its last event) has ceil(E / step - 0.01) steps: a partial last step
  counts unless it is under 1% of a step.
Rendering step k as a note on [k*step, (k+1)*step) therefore samples back to the same token,
whatever its neighbours (a re-struck repeat included), with half a step of margin against tick
rounding; an end marker at n*step keeps trailing rests.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from seqgan_music.errors import ConfigError

REST = 0
LOWEST_PITCH = 21  # A0, token 1
HIGHEST_PITCH = 108  # C8, token 88
VOCAB_SIZE = HIGHEST_PITCH - LOWEST_PITCH + 2  # 88 keys + rest = 89
MAX_TUNE_SECONDS = 3600.0  # longer "tunes" come from absurd tempos or ticks: skipped as corrupt
MONOPHONY_TOLERANCE = 0.1  # a track is "monophonic" if at most this share of its notes overlap
MELODY_MIN_COVERAGE = 0.5  # a melody candidate sounds for at least this share of the longest


@dataclass(frozen=True)
class EncodingConfig:
    """How tunes become training windows. Defaults are the paper's setting (0.4 s, 32 steps)."""

    step_seconds: float = 0.4
    seq_len: int = 32
    stride: int = 32  # = seq_len: non-overlapping windows
    track: int | None = None  # None: the melody rule of `choose_melody_track`
    transpose: tuple[int, int] | None = None  # (lo, hi) semitones: train-split augmentation

    def __post_init__(self) -> None:
        if not self.step_seconds > 0:
            raise ConfigError(f"step_seconds must be positive, not {self.step_seconds}")
        if self.seq_len < 1 or self.stride < 1:
            raise ConfigError(
                f"seq_len and stride must be at least 1, not {self.seq_len}, {self.stride}"
            )
        if self.transpose is not None:
            lo, hi = (int(v) for v in self.transpose)
            if lo > hi:
                raise ConfigError(
                    f"transpose range must be (lo, hi) with lo <= hi, not {self.transpose}"
                )
            object.__setattr__(self, "transpose", (lo, hi))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["transpose"] = list(self.transpose) if self.transpose is not None else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EncodingConfig:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        if kw.get("transpose") is not None:
            kw["transpose"] = tuple(kw["transpose"])
        return cls(**kw)


# ---- pitches <-> tokens -------------------------------------------------------------------------


def fold_into_range(pitches: np.ndarray) -> tuple[np.ndarray, int]:
    """Move pitches outside MIDI 21..108 by octaves into range; return them and how many moved."""
    p = np.asarray(pitches, dtype=np.int64)
    up = np.maximum(0, -((p - LOWEST_PITCH) // 12))  # octaves to raise pitches below 21
    down = np.maximum(0, -((HIGHEST_PITCH - p) // 12))  # octaves to lower pitches above 108
    folded = p + 12 * up - 12 * down
    return folded, int(np.count_nonzero(folded != p))


def pitch_to_token(pitches: np.ndarray) -> np.ndarray:
    """MIDI pitch (21..108) -> token (1..88)."""
    return np.asarray(pitches, dtype=np.int64) - (LOWEST_PITCH - 1)


def token_to_pitch(tokens: np.ndarray) -> np.ndarray:
    """Token (1..88) -> MIDI pitch (21..108); rests (0) map to 20, so mask them first."""
    return np.asarray(tokens, dtype=np.int64) + (LOWEST_PITCH - 1)


# ---- notes <-> tokens ---------------------------------------------------------------------------


def steps_in(end_time: float, step_seconds: float) -> int:
    """Sample steps in a tune ending at `end_time`: ceil(E / step), a partial step included."""
    # The 1% slack keeps a rendered tune of n steps (n*step up to tick rounding) at exactly n.
    return max(0, math.ceil(end_time / step_seconds - 0.01))


def notes_to_tokens(
    starts: np.ndarray, ends: np.ndarray, pitches: np.ndarray, end_time: float, step_seconds: float
) -> np.ndarray:
    """Sample a note list at step centres (module docstring): the highest sounding pitch, or 0.

    Pitches must already be in 21..108 (`fold_into_range`).
    """
    n = steps_in(end_time, step_seconds)
    tokens = np.zeros(n, dtype=np.int64)
    if n == 0 or len(pitches) == 0:
        return tokens
    s = np.asarray(starts, dtype=np.float64) / step_seconds - 0.5
    e = np.asarray(ends, dtype=np.float64) / step_seconds - 0.5
    # sample k is inside [start, end) iff ceil(s) <= k < ceil(e)
    first = np.clip(np.ceil(s - 1e-9), 0, n).astype(np.int64)
    stop = np.clip(np.ceil(e - 1e-9), 0, n).astype(np.int64)
    toks = pitch_to_token(pitches)
    for i in np.argsort(toks, kind="stable"):  # ascending: higher pitches overwrite lower ones
        tokens[first[i] : stop[i]] = toks[i]
    return tokens


def tokens_to_notes(
    tokens: np.ndarray, step_seconds: float, restrike: bool = False
) -> list[tuple[float, float, int]]:
    """Inverse of `notes_to_tokens`: (start, end, pitch) notes; equal neighbours are held as one
    note unless `restrike`, rests are silence."""
    t = np.asarray(tokens, dtype=np.int64).ravel()
    if t.size and (t.min() < 0 or t.max() >= VOCAB_SIZE):
        raise ValueError(f"tokens must be in 0..{VOCAB_SIZE - 1}, got {t.min()}..{t.max()}")
    notes: list[tuple[float, float, int]] = []
    k = 0
    while k < t.size:
        j = k + 1
        if t[k] != REST and not restrike:
            while j < t.size and t[j] == t[k]:
                j += 1
        if t[k] != REST:
            notes.append((k * step_seconds, j * step_seconds, int(token_to_pitch(t[k]))))
        k = j
    return notes


# ---- track choice -------------------------------------------------------------------------------


def overlap_share(starts: np.ndarray, ends: np.ndarray) -> float:
    """Share of notes starting while an earlier note of the track still sounds (10 ms slack)."""
    if len(starts) < 2:
        return 0.0
    order = np.argsort(starts, kind="stable")
    s, e = np.asarray(starts)[order], np.asarray(ends)[order]
    still_sounding = np.maximum.accumulate(e)[:-1] > s[1:] + 0.01
    return float(np.mean(still_sounding))


def covered_seconds(starts: np.ndarray, ends: np.ndarray) -> float:
    """Seconds during which at least one note of the track sounds (the union of its notes)."""
    if len(starts) == 0:
        return 0.0
    order = np.argsort(starts, kind="stable")
    s, e = np.asarray(starts, dtype=np.float64)[order], np.asarray(ends, dtype=np.float64)[order]
    reach = np.maximum.accumulate(e)  # how far the notes so far sound
    gaps = np.maximum(s[1:] - reach[:-1], 0.0)  # silence before each later note
    return float(reach[-1] - s[0] - gaps.sum())


def choose_melody_track(tracks: list[dict[str, Any]]) -> int:
    """The default melody rule; `tracks` has one row per instrument: is_drum, starts, ends, pitches.

    Among the non-drum tracks with notes that sound for at least half as long as the longest-
    sounding one (`MELODY_MIN_COVERAGE`: a cantata's trumpets, heard for a few bars, are not its
    tune), the highest mean pitch wins; ties go to the (nearly) monophonic track, then the first.
    Nottingham's melody is track 0 in all 1,037 files and this picks it in all of them; unlike
    "track 0 if it is monophonic" it picks a chorale's soprano over a first track "Horn 2" and a
    melody over a bass written first (channels of one track are separate instruments already).
    Returns -1 when no non-drum track has notes.
    """
    candidates = [i for i, t in enumerate(tracks) if not t["is_drum"] and len(t["pitches"])]
    if not candidates:
        return -1
    covered = {i: covered_seconds(tracks[i]["starts"], tracks[i]["ends"]) for i in candidates}
    longest = max(covered.values())
    heard = [i for i in candidates if covered[i] >= MELODY_MIN_COVERAGE * longest]

    def rank(i: int) -> tuple[float, bool, int]:
        t = tracks[i]
        mono = overlap_share(t["starts"], t["ends"]) <= MONOPHONY_TOLERANCE
        return (float(np.mean(t["pitches"])), mono, -i)

    return max(heard, key=rank)


# ---- tokens <-> windows -------------------------------------------------------------------------


def tokens_to_windows(tokens: np.ndarray, seq_len: int, stride: int) -> np.ndarray:
    """Cut a tune into windows (n, seq_len) every `stride` steps; a short tail is dropped, and so
    are windows that are all rests."""
    t = np.asarray(tokens, dtype=np.int64).ravel()
    if t.size < seq_len:
        return np.zeros((0, seq_len), dtype=np.int64)
    starts = np.arange(0, t.size - seq_len + 1, stride)
    windows = t[starts[:, None] + np.arange(seq_len)[None, :]]  # (n, seq_len)
    return windows[(windows != REST).any(axis=1)]


def windows_to_tokens(windows: np.ndarray) -> np.ndarray:
    """Join non-overlapping windows (n, seq_len) back into one sequence (n * seq_len,)."""
    return np.asarray(windows, dtype=np.int64).reshape(-1)


def transpose_windows(windows: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Augment: each window at every shift in lo..hi semitones that keeps its notes in 1..88.

    The unshifted window always stays (shift 0); rests stay rests. Returns (m, seq_len), m >= n.
    """
    w = np.asarray(windows, dtype=np.int64)
    notes = w != REST
    low = np.where(notes, w, VOCAB_SIZE).min(axis=1)  # (n,) lowest note token
    high = np.where(notes, w, 0).max(axis=1)  # (n,) highest note token
    out = [w]
    for shift in range(lo, hi + 1):
        if shift == 0:
            continue
        ok = (low + shift >= 1) & (high + shift <= VOCAB_SIZE - 1)
        out.append(np.where(notes[ok], w[ok] + shift, REST))
    return np.concatenate(out, axis=0)
