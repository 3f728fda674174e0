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
from seqgan_music.music.pitch import KEYS, REST, key_to_pitch, pitch_to_key

VOCAB_SIZE = KEYS + 1  # 88 keys + rest = 89
STEPS_PER_BAR = 4  # compose --bars on the paper's grid: a step is written as a quarter note


@dataclass(frozen=True)
class EncodingConfig:
    """How tunes become training windows. Defaults are the paper's setting (0.4 s, 32 steps)."""

    step_seconds: float = 0.4
    seq_len: int = 32
    stride: int = 32  # = seq_len: non-overlapping windows
    track: int | None = None  # None: the melody rule of `io.melody.choose_melody_track`
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


# ---- pitches <-> tokens: the paper's tokens are key numbers (music/pitch.py) ------------------

pitch_to_token = pitch_to_key  # MIDI pitch (21..108) -> token (1..88)
token_to_pitch = key_to_pitch  # token (1..88) -> MIDI pitch (21..108); mask rests (0) first


# ---- notes <-> tokens ---------------------------------------------------------------------------


def steps_in(end_time: float, step_seconds: float) -> int:
    """Sample steps in a tune ending at `end_time`: ceil(E / step), a partial step included."""
    # The 1% slack keeps a rendered tune of n steps (n*step up to tick rounding) at exactly n.
    return max(0, math.ceil(end_time / step_seconds - 0.01))


def notes_to_tokens(
    starts: np.ndarray, ends: np.ndarray, pitches: np.ndarray, end_time: float, step_seconds: float
) -> np.ndarray:
    """Sample a note list at step centres (module docstring): the highest sounding pitch, or 0.

    Pitches must already be in 21..108 (`pitch.fold_into_range`).
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
