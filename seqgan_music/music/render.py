"""Listening and looking: a PrettyMIDI -> WAV preview (sine synthesis, no soundfont), pitch frames
(key numbers per step, music/pitch.py) -> piano-roll PNG.

matplotlib is an optional dependency (`pip install seqgan-music[plot]`), imported only when a PNG
is asked for.
"""

from __future__ import annotations

import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seqgan_music.core.curves import pyplot
from seqgan_music.core.files import atomic_write
from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.io.midi import synthesize
from seqgan_music.music.pitch import KEYS, REST, key_to_pitch


def write_midi_wav(pm: Any, path: str | Path, sample_rate: int = 22050) -> Path:
    """A 16-bit mono WAV of a PrettyMIDI (sine synthesis); silence stays silence."""
    audio = synthesize(pm, sample_rate)
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")

    def write(fh: Any) -> None:  # a partial file on a full disk is removed, not left behind
        with wave.open(fh, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sample_rate)
            w.writeframes(pcm.tobytes())

    return atomic_write(path, write)


def tokens_to_piano_roll(tokens: np.ndarray | Sequence[int]) -> np.ndarray:
    """(88, T) boolean roll, row k = MIDI pitch 21 + k; rests are empty columns."""
    t = np.asarray(tokens, dtype=np.int64).ravel()
    roll = np.zeros((KEYS, t.size), dtype=bool)
    notes = t != REST
    roll[t[notes] - 1, np.flatnonzero(notes)] = True
    return roll


def piano_roll_to_tokens(roll: np.ndarray) -> np.ndarray:
    """Inverse of `tokens_to_piano_roll`: the highest key held per column, 0 where none."""
    roll = np.asarray(roll, dtype=bool)
    top = roll.shape[0] - 1 - np.argmax(roll[::-1], axis=0)  # (T,) highest set row
    return np.where(roll.any(axis=0), top + 1, REST).astype(np.int64)


def write_piano_roll_png(
    tokens_or_list: np.ndarray | Sequence[int] | Sequence[Sequence[int]], path: str | Path,
    step_seconds: float = 0.4, *, bar_seconds: float | None = None,
    mark_seconds: float | None = None,
) -> Path:  # fmt: skip
    """A piano-roll PNG of one sequence, or of several stacked as rows of subplots; with
    `bar_seconds` a line at every bar, with `mark_seconds` a red line there (a primer's end)."""
    plt = pyplot()
    if plt is None:
        raise SeqGANMusicError("piano-roll PNGs need matplotlib: pip install matplotlib")
    items = list(tokens_or_list)
    flat = not items or np.ndim(items[0]) == 0  # one sequence, or a list of (ragged) sequences
    seqs = [items] if flat else items
    fig, axes = plt.subplots(len(seqs), 1, figsize=(10, 1.8 * len(seqs) + 0.6), squeeze=False)
    for ax, seq in zip(axes[:, 0], seqs, strict=True):
        seq = np.asarray(seq, dtype=np.int64).ravel()
        roll = tokens_to_piano_roll(seq)
        used = np.flatnonzero(roll.any(axis=1))
        lo, hi = (used.min(), used.max()) if used.size else (39, 51)  # empty: show around C4
        extent = (
            0,
            seq.size * step_seconds,
            key_to_pitch(lo + 1) - 0.5,
            key_to_pitch(hi + 1) + 0.5,
        )
        ax.imshow(roll[lo : hi + 1], aspect="auto", origin="lower", cmap="Greys", extent=extent,
                  interpolation="nearest")  # fmt: skip
        ax.set_ylabel("MIDI pitch")
        if bar_seconds:
            for x in np.arange(bar_seconds, seq.size * step_seconds, bar_seconds):
                ax.axvline(x, color="0.6", linewidth=0.6)
        if mark_seconds:
            ax.axvline(mark_seconds, color="red", linewidth=1.5, label="primer ends")
            ax.legend(loc="upper right", fontsize=7)
    axes[-1, 0].set_xlabel("seconds")
    fig.tight_layout()
    try:
        return atomic_write(path, lambda fh: fig.savefig(fh, dpi=100, format="png"))
    finally:
        plt.close(fig)
