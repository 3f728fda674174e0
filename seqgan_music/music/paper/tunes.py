"""Tune files <-> the paper's tokens: MIDI and ABC note lists (music/io) sampled at step centres,
and tokens rendered back as MIDI, the exact inverse (one note per step run, a tempo at which a step
is a quarter note). A file that breaks a parser is reported with its reason, never raised
mid-corpus.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.io import midi
from seqgan_music.music.io.files import first_tune, guarded_parse, is_abc
from seqgan_music.music.io.melody import checked_melody_track
from seqgan_music.music.paper.encoding import REST, notes_to_tokens, tokens_to_notes
from seqgan_music.music.pitch import fold_into_range

# ---- files -> tokens ----------------------------------------------------------------------------


def tracks_to_tokens_info(
    tracks: list[dict[str, Any]], end: float, step_seconds: float = 0.4, track: int | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Tokens of the melody track (or `track`) of a note list; info: track, moved_notes, seconds."""
    track = checked_melody_track(tracks, end, track)
    info = {"track": int(track), "moved_notes": 0, "seconds": round(float(end), 3)}
    if track < 0:  # no notes at all: all rests (a rendered silence round-trips; corpora skip it)
        return notes_to_tokens([], [], [], end, step_seconds), info
    t = tracks[track]
    pitches, info["moved_notes"] = fold_into_range(t["pitches"])
    return notes_to_tokens(t["starts"], t["ends"], pitches, end, step_seconds), info


def read_midi_tune(
    path: str | Path, step_seconds: float, track: int | None
) -> tuple[np.ndarray, dict]:
    """Load and encode one MIDI file (what corpus workers call); info counts zero-length notes."""
    tracks, end, counts = midi.read_midi_file(path)
    tokens, info = tracks_to_tokens_info(tracks, end, step_seconds, track)
    return tokens, {**info, **counts}


def read_abc_tunes(
    path: str | Path, step_seconds: float = 0.4
) -> list[tuple[str, np.ndarray | None, dict[str, Any]]]:
    """Every tune of an ABC file as (label, tokens or None, info); info has "reason" when None."""
    from seqgan_music.music.io.abc import read_abc_notes  # music21 only when ABC is read

    out = []
    for label, notes, info in read_abc_notes(path):
        if notes is None:
            out.append((label, None, info))
            continue
        folded, moved = fold_into_range(notes["pitches"])
        tokens = notes_to_tokens(notes["starts"], notes["ends"], folded, notes["end"], step_seconds)
        out.append((label, tokens, {"moved_notes": moved, **info}))
    return out


def parse_file(path: Path, step_seconds: float, track: int | None) -> list[tuple[str, Any, dict]]:
    """Every tune of one file as (label, tokens or None, info with "reason" when None)."""
    path = Path(path)

    def read() -> list[tuple[str, Any, dict]]:
        if is_abc(path):
            return read_abc_tunes(path, step_seconds)
        tokens, info = read_midi_tune(path, step_seconds, track)
        return [(path.name, tokens, info)]

    return guarded_parse(path, read)


def read_tune_tokens(
    path: str | Path, step_seconds: float = 0.4, track: int | None = None
) -> np.ndarray:
    """The tokens of one MIDI file, or of the first tune of an ABC file."""
    return first_tune(path, lambda p: parse_file(p, step_seconds, track))[0]


def read_primer(path: str | Path, steps: int, step_seconds: float = 0.4) -> np.ndarray:
    """The first `steps` tokens of a MIDI or ABC file: a prefix for conditioned composition."""
    if steps < 1:
        raise SeqGANMusicError(f"primer steps must be at least 1, not {steps}")
    tokens = read_tune_tokens(path, step_seconds)[:steps]
    if not np.any(tokens != REST):
        raise SeqGANMusicError(f"{Path(path).name}: no notes in the first {steps} steps")
    return tokens


def primer_notes_kept(path: str | Path, tokens: np.ndarray, step_seconds: float) -> tuple[int, int]:
    """(notes the primer's tokens still strike, notes the primer has in the time they cover): a
    pitch every step merges neighbours and drops notes shorter than a step."""
    t = np.asarray(tokens, dtype=np.int64)
    kept = int(np.sum((t != REST) & np.r_[True, t[1:] != t[:-1]]))
    span = len(t) * step_seconds
    if is_abc(path):
        from seqgan_music.music.io.abc import read_abc_notes

        notes = next((n for _, n, _ in read_abc_notes(path) if n is not None), None)
        starts = [] if notes is None else notes["starts"]
    else:
        tracks, end, _ = midi.read_midi_file(path)
        track = checked_melody_track(tracks, end, None)
        starts = tracks[track]["starts"] if track >= 0 else []
    return kept, int(np.sum(np.asarray(starts, dtype=np.float64) < span - 1e-9))


def midi_to_tokens_info(
    pm: Any, step_seconds: float = 0.4, track: int | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """`midi_to_tokens` of a PrettyMIDI plus what happened: {"track", "moved_notes", "seconds"}."""
    return tracks_to_tokens_info(*midi.pretty_midi_notes(pm), step_seconds, track)


def midi_to_tokens(
    pm_or_path: Any, step_seconds: float = 0.4, track: int | None = None
) -> np.ndarray:
    """A whole tune's melody (a PrettyMIDI or a MIDI path) as tokens, one per step."""
    if midi.is_pretty_midi(pm_or_path):
        return midi_to_tokens_info(pm_or_path, step_seconds, track)[0]
    return read_midi_tune(pm_or_path, step_seconds, track)[0]


# ---- tokens -> files ----------------------------------------------------------------------------


def tokens_to_midi(
    tokens: np.ndarray | list[int],
    step_seconds: float = 0.4,
    *,
    program: int = 0,
    velocity: int = 90,
    restrike: bool = False,
    qpm: float | None = None,
) -> Any:
    """Inverse of `midi_to_tokens`: a PrettyMIDI of one instrument (General MIDI `program`).

    Equal neighbours are one held note unless `restrike`; each step lasts `step_seconds`; the tempo
    defaults to one step per quarter note (0.4 s -> 150 qpm) so notation software shows a grid.
    """
    tokens = np.asarray(tokens, dtype=np.int64).ravel()
    notes = tokens_to_notes(tokens, step_seconds, restrike)
    return midi.notes_to_midi(notes, tokens.size * step_seconds, qpm=qpm or 60.0 / step_seconds,
                              program=program, velocity=velocity)  # fmt: skip


def write_midi(tokens: np.ndarray | list[int], path: str | Path, **render: Any) -> Path:
    """Render tokens with `tokens_to_midi(**render)` and write a .mid file; returns the path."""
    return midi.write_pretty_midi(tokens_to_midi(tokens, **render), path)


def write_wav(
    tokens: np.ndarray | list[int], path: str | Path, step_seconds: float = 0.4,
    sample_rate: int = 22050,
) -> Path:  # fmt: skip
    """A 16-bit mono WAV of the tokens (pretty_midi's sine synthesis); all rests give silence."""
    from seqgan_music.music.render import write_midi_wav

    tokens = np.asarray(tokens, dtype=np.int64).ravel()
    return write_midi_wav(tokens_to_midi(tokens, step_seconds), path, sample_rate)
