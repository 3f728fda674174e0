"""Files <-> beat-grid tokens (beat/encoding.py): reading MIDI and ABC tunes, rendering tokens.

MIDI is read on its own tick grid with its time signatures (music/io/midi.py); ABC through music21
(music/io/abc.py), pickup bars honoured. Rendering writes real durations, re-struck repeats, the
tempo and the time signature.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.beat.encoding import (
    DEFAULT_TIME_SIGNATURE,
    HOLD,
    BeatEncodingConfig,
    bar_starts,
    beat_tokens_to_notes,
    beat_windows,
    frame_to_beat_tokens,
    quantize_notes,
    steps_for,
)
from seqgan_music.music.conditions import tune_mode
from seqgan_music.music.io.files import first_tune, guarded_parse, melodies_in_quarters
from seqgan_music.music.io.melody import MAX_TUNE_SECONDS
from seqgan_music.music.pitch import fold_into_range

DEFAULT_QPM = 120.0


def melody_to_beat_tokens(
    melody: dict[str, Any], steps_per_quarter: int
) -> tuple[np.ndarray, dict[str, Any]]:
    """A melody in quarter notes (`io.midi.read_midi_melody_in_quarters`) -> tokens and what
    happened: the loss counts of `beat.quantize_notes`, notes moved by octaves, the time
    signatures in steps, the first tempo."""
    spq = steps_per_quarter
    pitches, moved = fold_into_range(melody["pitches"])
    starts = np.asarray(melody["starts"], dtype=np.float64) * spq
    ends = np.asarray(melody["ends"], dtype=np.float64) * spq
    n = max(steps_for(melody["end"], spq), int(np.rint(ends).max(initial=0)))
    pitch, owner, counts = quantize_notes(starts, ends, pitches, n)
    signatures = [(int(round(q * spq)), int(a), int(b)) for q, a, b in melody["time_signatures"]]
    first = signatures[0][1:] if signatures else DEFAULT_TIME_SIGNATURE
    info = {
        "track": melody["track"], "moved_notes": moved, **counts, "notes": int(len(pitches)),
        "time_signatures": signatures, "time_signature": list(first),
        "qpm": round(float(melody["qpm"]), 3),
        "zero_length_notes": int(melody.get("zero_length_notes", 0)),
        **tune_mode(melody, starts, pitches),  # the mode and where it was read
    }  # fmt: skip
    return frame_to_beat_tokens(pitch, owner), info


def read_beat_tunes(path: str | Path, config: BeatEncodingConfig) -> list[tuple[str, Any, dict]]:
    """Every tune of one MIDI or ABC file as (label, tokens or None, info with "reason" if None)."""
    out = []
    for label, melody, extra in melodies_in_quarters(path, config.track):
        if melody is None:
            out.append((label, None, extra))
            continue
        if melody["end"] * 60.0 / max(melody["qpm"], 1e-9) > MAX_TUNE_SECONDS * 4:
            out.append((label, None, {"reason": "absurd length (bad tempo or ticks?)"}))
            continue
        tokens, info = melody_to_beat_tokens(melody, config.steps_per_quarter)
        out.append((label, tokens, {**info, **extra}))
    return out


def melody_bytes_to_beat_tokens(
    data: bytes, config: BeatEncodingConfig = BeatEncodingConfig()
) -> tuple[np.ndarray, dict[str, Any]]:
    """The tokens and info of MIDI bytes (a rendered tune, say)."""
    from seqgan_music.music.io.midi import midi_bytes_melody_in_quarters

    melody = midi_bytes_melody_in_quarters(data, config.track)
    return melody_to_beat_tokens(melody, config.steps_per_quarter)


def tune_windows(
    tokens: np.ndarray, info: dict[str, Any], config: BeatEncodingConfig
) -> tuple[np.ndarray, dict[str, int]]:
    """A tune's windows on its bar lines, and {"mid_bar_windows": windows that end mid-bar}."""
    bars = bar_starts(info.get("time_signatures", []), len(tokens), config.steps_per_quarter)
    windows, mid_bar = beat_windows(tokens, bars, config.seq_len, config.stride_bars)
    return windows, {"mid_bar_windows": mid_bar}


def corpus_rendering(used: list[dict[str, Any]]) -> dict[str, Any]:
    """The tempo (median of the training tunes' first tempi) and time signature (the most common)
    a model trained on these tunes plays back with."""
    train = [u for u in used if u.get("split") == "train"] or used
    tempi = [float(u["qpm"]) for u in train if u.get("qpm")]
    metres = Counter(tuple(u["time_signature"]) for u in train if u.get("time_signature"))
    return {
        "qpm": float(np.median(tempi)) if tempi else DEFAULT_QPM,
        "time_signature": list(metres.most_common(1)[0][0] if metres else DEFAULT_TIME_SIGNATURE),
    }


def beat_tokens_to_midi(
    tokens: np.ndarray, steps_per_quarter: int = 4, *, qpm: float = DEFAULT_QPM,
    time_signature: tuple[int, int] | list[int] = DEFAULT_TIME_SIGNATURE, program: int = 0,
    velocity: int = 90,
) -> Any:  # fmt: skip
    """Tokens -> a PrettyMIDI with real durations, re-strikes, tempo and time signature."""
    from seqgan_music.music.io.midi import notes_to_midi

    if not qpm > 0:
        raise ValueError(f"the tempo must be positive, not {qpm}")
    t = np.asarray(tokens, dtype=np.int64).ravel()
    step = 60.0 / (qpm * steps_per_quarter)
    notes = [(start * step, end * step, pitch) for start, end, pitch in beat_tokens_to_notes(t)]
    resolution = 480 * steps_per_quarter // np.gcd(480, steps_per_quarter)  # a step: whole ticks
    return notes_to_midi(notes, t.size * step, qpm=qpm, resolution=int(resolution),
                         time_signature=tuple(time_signature), program=program,
                         velocity=velocity)  # fmt: skip


def read_beat_tune(
    path: str | Path, config: BeatEncodingConfig = BeatEncodingConfig()
) -> tuple[np.ndarray, dict[str, Any]]:
    """The tokens and info of one MIDI file, or of the first tune of an ABC file."""
    return first_tune(path, lambda p: guarded_parse(p, lambda: read_beat_tunes(p, config)))


def read_beat_primer(
    path: str | Path, bars: int, config: BeatEncodingConfig = BeatEncodingConfig()
) -> tuple[np.ndarray, tuple[int, int]]:
    """The first `bars` whole bars of a tune (from its first note-on's bar) and its metre."""
    if bars < 1:
        raise SeqGANMusicError(f"primer bars must be at least 1, not {bars}")
    tokens, info = read_beat_tune(path, config)
    lines = bar_starts(info["time_signatures"], len(tokens), config.steps_per_quarter)
    onsets = np.flatnonzero(tokens > HOLD)
    if not onsets.size:
        raise SeqGANMusicError(f"{Path(path).name}: no notes")
    i = int(np.searchsorted(lines, onsets[0], side="right")) - 1  # the bar of the first note
    stop = int(lines[i + bars]) if i + bars < len(lines) else len(tokens)
    primer = tokens[int(lines[i]) : stop]
    return primer, tuple(info["time_signature"])
