"""MIDI <-> tokens. The only module that imports pretty_midi and mido (tests/test_architecture.py).

Reading picks the melody track (`encoding.choose_melody_track`), folds out-of-range pitches by
octaves, and samples it at step centres (`encoding.notes_to_tokens`). Writing is the exact inverse:
one instrument, one note per step run, a tempo at which a step is a quarter note.
"""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path
from typing import Any

import mido  # noqa: F401  (pretty_midi's parser; named here so the one-module rule is visible)
import numpy as np
import pretty_midi

from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.encoding import (
    MAX_TUNE_SECONDS,
    choose_melody_track,
    fold_into_range,
    notes_to_tokens,
    tokens_to_notes,
)

# What parsing a broken file can raise (truncated, random bytes, zero tempo, huge ticks...).
MIDI_LOAD_ERRORS = (
    OSError, EOFError, ValueError, KeyError, IndexError, TypeError, ZeroDivisionError,
    OverflowError, MemoryError, struct.error, AssertionError,
)  # fmt: skip
END_TEXT = "end"  # a text event where the last step ends, so trailing rests survive a round trip


def load_midi(path: str | Path) -> pretty_midi.PrettyMIDI:
    """Parse a MIDI file; any failure becomes a SeqGANMusicError naming the cause."""
    path = Path(path)
    data = path.read_bytes()  # OSError (missing, unreadable) propagates: callers record it
    if not data:
        raise SeqGANMusicError(f"{path.name}: empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore"
            )  # pretty_midi warns about meta events on non-zero tracks
            return pretty_midi.PrettyMIDI(io.BytesIO(data))
    except MIDI_LOAD_ERRORS as err:
        raise SeqGANMusicError(
            f"{path.name}: not a readable MIDI file ({type(err).__name__}: "
            f"{str(err).splitlines()[0][:120] if str(err) else ''})"
        ) from err


def _tracks(pm: pretty_midi.PrettyMIDI) -> list[dict[str, Any]]:
    rows = []
    for inst in pm.instruments:
        notes = inst.notes
        rows.append({
            "is_drum": inst.is_drum,
            "starts": np.array([n.start for n in notes], dtype=np.float64),
            "ends": np.array([n.end for n in notes], dtype=np.float64),
            "pitches": np.array([n.pitch for n in notes], dtype=np.int64),
        })  # fmt: skip
    return rows


def _melody_track(
    pm: pretty_midi.PrettyMIDI, track: int | None
) -> tuple[list[dict[str, Any]], int, float]:
    """(tracks, the melody track or -1 when no track has notes, end time in seconds)."""
    tracks = _tracks(pm)
    if track is None:
        track = choose_melody_track(tracks)
        if track < 0 and any(t["is_drum"] for t in tracks):
            raise SeqGANMusicError("drum-only: no melodic track")
    elif not 0 <= track < len(tracks):
        raise SeqGANMusicError(f"track {track} does not exist (the file has {len(tracks)})")
    end = pm.get_end_time()
    if not np.isfinite(end) or end > MAX_TUNE_SECONDS:
        raise SeqGANMusicError(
            f"absurd length ({end:.0f} s > {MAX_TUNE_SECONDS:.0f} s): bad tempo?"
        )
    return tracks, track, end


def midi_to_tokens_info(
    pm: pretty_midi.PrettyMIDI, step_seconds: float = 0.4, track: int | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """`midi_to_tokens` plus what happened: {"track", "moved_notes", "seconds"}."""
    tracks, track, end = _melody_track(pm, track)
    if track < 0:  # no notes at all: all rests (a rendered silence round-trips; corpora skip it)
        return notes_to_tokens([], [], [], end, step_seconds), {
            "track": -1,
            "moved_notes": 0,
            "seconds": round(float(end), 3),
        }
    t = tracks[track]
    pitches, moved = fold_into_range(t["pitches"])
    tokens = notes_to_tokens(t["starts"], t["ends"], pitches, end, step_seconds)
    return tokens, {"track": int(track), "moved_notes": moved, "seconds": round(float(end), 3)}


def midi_to_tokens(
    pm_or_path: pretty_midi.PrettyMIDI | str | Path,
    step_seconds: float = 0.4,
    track: int | None = None,
) -> np.ndarray:
    """A whole tune's melody as tokens (0 = rest, 1..88 = MIDI 21..108), one per step."""
    pm = pm_or_path if isinstance(pm_or_path, pretty_midi.PrettyMIDI) else load_midi(pm_or_path)
    return midi_to_tokens_info(pm, step_seconds, track)[0]


def tokens_to_midi(
    tokens: np.ndarray | list[int],
    step_seconds: float = 0.4,
    *,
    program: int = 0,
    velocity: int = 90,
    restrike: bool = False,
    qpm: float | None = None,
) -> pretty_midi.PrettyMIDI:
    """Inverse of `midi_to_tokens`: one instrument (General MIDI `program`, 0 = acoustic grand).

    Equal neighbours are one held note unless `restrike`; each step lasts `step_seconds`; the tempo
    defaults to one step per quarter note (0.4 s -> 150 qpm) so notation software shows a grid.
    """
    if not 0 <= program <= 127 or not 1 <= velocity <= 127:
        raise ValueError(
            f"program must be in 0..127 and velocity in 1..127, not {program}, {velocity}"
        )
    tokens = np.asarray(tokens, dtype=np.int64).ravel()
    pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=qpm or 60.0 / step_seconds)
    inst = pretty_midi.Instrument(program=program, name="seqgan-music")
    for start, end, pitch in tokens_to_notes(tokens, step_seconds, restrike):
        inst.notes.append(pretty_midi.Note(velocity=velocity, pitch=pitch, start=start, end=end))
    if tokens.size:  # an end marker keeps trailing rests (pretty_midi drops empty instruments)
        pm.text_events.append(pretty_midi.Text(END_TEXT, tokens.size * step_seconds))
    pm.instruments.append(inst)
    return pm


def write_midi(tokens: np.ndarray | list[int], path: str | Path, **render: Any) -> Path:
    """Render tokens with `tokens_to_midi(**render)` and write a .mid file; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tokens_to_midi(tokens, **render).write(str(path))
    return path


def read_midi_tune(
    path: str | Path, step_seconds: float, track: int | None
) -> tuple[np.ndarray, dict]:
    """Load and encode one MIDI file (what corpus workers call)."""
    return midi_to_tokens_info(load_midi(path), step_seconds, track)


def synthesize(pm: pretty_midi.PrettyMIDI, sample_rate: int) -> np.ndarray:
    """pretty_midi's sine synthesis (no soundfont); float32 audio, silence stays zeros (no NaN)."""
    with np.errstate(invalid="ignore", divide="ignore"):  # pretty_midi divides silence by 0
        audio = pm.synthesize(fs=sample_rate)
    audio = np.nan_to_num(np.asarray(audio, dtype=np.float64))
    peak = np.abs(audio).max() if audio.size else 0.0
    length = int(round(pm.get_end_time() * sample_rate))
    if audio.size < length:
        audio = np.pad(audio, (0, length - audio.size))
    return (audio / peak * 0.9 if peak > 0 else audio).astype(np.float32)


# ---- the beat-grid encoding (music/beat.py): notes in quarter notes of the file's own ticks ----


def midi_melody_in_quarters(pm: pretty_midi.PrettyMIDI, track: int | None = None) -> dict[str, Any]:
    """The melody track's notes on the file's beat grid: ticks / resolution, so the tempo map does
    not move them. {"starts", "ends" (quarters), "pitches", "end", "time_signatures" [(quarter,
    numerator, denominator)], "qpm" (the first tempo), "track"}."""
    tracks, track, _ = _melody_track(pm, track)
    res = float(pm.resolution)

    def quarters(seconds: Any) -> np.ndarray:
        return np.array([pm.time_to_tick(float(s)) / res for s in seconds], dtype=np.float64)

    t = tracks[track] if track >= 0 else {"starts": [], "ends": [], "pitches": []}
    signatures = [
        (float(quarters([ts.time])[0]), int(ts.numerator), int(ts.denominator))
        for ts in pm.time_signature_changes
    ]
    return {
        "starts": quarters(t["starts"]), "ends": quarters(t["ends"]),
        "pitches": np.asarray(t["pitches"], dtype=np.int64),
        "end": float(quarters([pm.get_end_time()])[0]), "time_signatures": signatures,
        "qpm": float(pm.get_tempo_changes()[1][0]), "track": int(track),
    }  # fmt: skip


def beat_notes_to_midi(
    notes: list[tuple[int, int, int]], n_steps: int, steps_per_quarter: int, *, qpm: float,
    time_signature: tuple[int, int] = (4, 4), program: int = 0, velocity: int = 90,
) -> pretty_midi.PrettyMIDI:  # fmt: skip
    """(start step, end step, pitch) notes -> one instrument at `qpm` quarter notes a minute, the
    time signature at 0, an end marker at `n_steps` (so trailing rests survive)."""
    if not 0 <= program <= 127 or not 1 <= velocity <= 127:
        raise ValueError(
            f"program must be in 0..127 and velocity in 1..127, not {program}, {velocity}"
        )
    if not qpm > 0:
        raise ValueError(f"the tempo must be positive, not {qpm}")
    step = 60.0 / (qpm * steps_per_quarter)
    resolution = 480 * steps_per_quarter // np.gcd(480, steps_per_quarter)  # a step is whole ticks
    pm = pretty_midi.PrettyMIDI(resolution=resolution, initial_tempo=qpm)
    num, den = time_signature
    pm.time_signature_changes.append(pretty_midi.TimeSignature(int(num), int(den), 0.0))
    inst = pretty_midi.Instrument(program=program, name="seqgan-music")
    for start, end, pitch in notes:
        inst.notes.append(
            pretty_midi.Note(velocity=velocity, pitch=pitch, start=start * step, end=end * step)
        )
    if n_steps:
        pm.text_events.append(pretty_midi.Text(END_TEXT, n_steps * step))
    pm.instruments.append(inst)
    return pm
