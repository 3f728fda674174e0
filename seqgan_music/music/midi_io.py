"""MIDI <-> tokens. The only module that imports pretty_midi and mido (tests/test_architecture.py).

Files are read with mido into note lists (`read_midi_notes`), pairing notes as pretty_midi does but
without its dense tick table: a genuine piece with a huge largest tick (Beethoven's op. 133 from
music21's corpus: 22,503,601) is read, not refused, and zero-length notes are dropped and counted
(pretty_midi holds one written as note-off, note-on open until the pitch's next note-off, seconds
later). Reading picks the melody track (`encoding.choose_melody_track`), folds out-of-range pitches
by octaves, and samples it at step centres (`encoding.notes_to_tokens`). Writing is the exact
inverse: one instrument, one note per step run, a tempo at which a step is a quarter note.
"""

from __future__ import annotations

import io
import struct
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import mido
import numpy as np
import pretty_midi

from seqgan_music.core.files import atomic_write
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
        raise SeqGANMusicError(f"{path.name}: not a readable MIDI file ({_cause(err)})") from err


def _cause(err: BaseException) -> str:
    first = str(err).splitlines()[0][:120] if str(err) else ""
    return f"{type(err).__name__}: {first}"


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


def _absolute(track: mido.MidiTrack) -> list[tuple[int, Any]]:
    tick, out = 0, []
    for msg in track:
        tick += msg.time
        out.append((tick, msg))
    return out


def _tick_clock(track0: list[tuple[int, Any]], resolution: int) -> Any:
    """ticks -> seconds from track 0's tempo events (pretty_midi's rule; 120 qpm before any)."""
    changes = [(0, 60.0 / (120.0 * resolution))]
    for tick, msg in track0:
        if msg.type == "set_tempo":  # a tempo of 0 raises ZeroDivisionError: a broken file
            scale = 60.0 / ((6e7 / msg.tempo) * resolution)
            if tick == 0:
                changes = [(0, scale)]
            elif scale != changes[-1][1]:
                changes.append((tick, scale))
    ticks = np.array([c[0] for c in changes], dtype=np.float64)
    scales = np.array([c[1] for c in changes], dtype=np.float64)
    offsets = np.concatenate([[0.0], np.cumsum(np.diff(ticks) * scales[:-1])])

    def seconds(t: Any) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        i = np.searchsorted(ticks, t, side="right") - 1
        return offsets[i] + (t - ticks[i]) * scales[i]

    seconds.change_ticks = ticks  # type: ignore[attr-defined]
    return seconds


def _pair_notes(events: list[tuple[int, Any]], index: int, notes: dict, counts: dict) -> None:
    """Note-ons matched to note-offs as pretty_midi does, into notes[(program, channel, track)];
    a note that starts and ends on one tick (either order) is dropped and counted."""
    program = [0] * 16
    open_notes: dict[tuple[int, int], list[int]] = defaultdict(list)
    orphan_off: dict[tuple[int, int], int] = {}  # a note-off with nothing open, at this tick
    for tick, msg in events:
        if msg.type == "program_change":
            program[msg.channel] = msg.program
        elif msg.type == "note_on" and msg.velocity > 0:
            key = (msg.channel, msg.note)
            if orphan_off.pop(key, None) == tick:  # off-then-on on one tick: a zero-length note
                counts["zero_length_notes"] += 1
            else:
                open_notes[key].append(tick)
        elif msg.type in ("note_on", "note_off"):
            key = (msg.channel, msg.note)
            if key not in open_notes:
                orphan_off[key] = tick
                continue
            closing = [t for t in open_notes[key] if t != tick]
            same_tick = len(open_notes[key]) - len(closing)
            for start in closing:
                notes.setdefault((program[msg.channel], msg.channel, index), []).append(
                    (start, tick, msg.note)
                )
            if closing and same_tick:  # a new note began on this tick: it stays open
                open_notes[key] = [tick] * same_tick
            else:
                counts["zero_length_notes"] += same_tick
                del open_notes[key]


def _end_tick_candidates(events: list[tuple[int, Any]], first: bool) -> list[int]:
    """Ticks of the events that pretty_midi counts towards a file's end, besides notes."""
    kinds = ("text", "lyrics") + (("key_signature", "time_signature") if first else ())
    return [tick for tick, msg in events if msg.type in kinds]


def read_midi_notes(data: bytes) -> tuple[list[dict[str, Any]], float, dict[str, int]]:
    """(tracks as `choose_melody_track` takes them, end time in seconds, counts) from MIDI bytes.

    One instrument per (program, channel, track), in the order pretty_midi creates them; the end
    is the last note-off, controller, text, signature or tempo event, as pretty_midi's. Each track
    also carries its notes' ticks ("start_ticks", "end_ticks": the beat encoding's grid).
    """
    rows, end, counts, _ = _read_midi(data)
    return rows, end, counts


def _read_midi(data: bytes) -> tuple[list[dict[str, Any]], float, dict[str, int], dict[str, Any]]:
    """`read_midi_notes` and the file's beat grid: {"resolution", "end_tick", "time_signatures"
    [(tick, numerator, denominator)], "qpm" (the first tempo)}."""
    midi = mido.MidiFile(file=io.BytesIO(data), charset="latin1")
    tracks = [_absolute(t) for t in midi.tracks]
    grid = {"resolution": midi.ticks_per_beat, "end_tick": 0, "time_signatures": [], "qpm": 120.0}
    if not tracks:
        return [], 0.0, {"zero_length_notes": 0}, grid
    seconds = _tick_clock(tracks[0], midi.ticks_per_beat)
    notes: dict[tuple[int, int, int], list[tuple[int, int, int]]] = {}
    counts = {"zero_length_notes": 0}
    end_ticks = list(seconds.change_ticks)
    for index, events in enumerate(tracks):
        _pair_notes(events, index, notes, counts)
        end_ticks += _end_tick_candidates(events, index == 0)
    played = {(ch, tr) for _, ch, tr in notes}
    for index, events in enumerate(tracks):
        end_ticks += [
            tick for tick, msg in events
            if msg.type in ("control_change", "pitchwheel") and (msg.channel, index) in played
        ]  # fmt: skip
    rows = []
    for (_, channel, _), found in notes.items():
        arr = np.array(found, dtype=np.int64).reshape(-1, 3)  # (n, [start, end, pitch])
        rows.append({
            "is_drum": channel == 9,
            "starts": seconds(arr[:, 0]),
            "ends": seconds(arr[:, 1]),
            "pitches": arr[:, 2],
            "start_ticks": arr[:, 0],
            "end_ticks": arr[:, 1],
        })  # fmt: skip
        end_ticks.append(int(arr[:, 1].max()))
    grid |= _grid_events(tracks[0]) | {"end_tick": int(max(end_ticks))}
    return rows, float(seconds(max(end_ticks))), counts, grid


def _grid_events(track0: list[tuple[int, Any]]) -> dict[str, Any]:
    """Time signatures and the first tempo of track 0 (where MIDI files keep them)."""
    signatures = [(int(t), m.numerator, m.denominator) for t, m in track0
                  if m.type == "time_signature"]  # fmt: skip
    tempi = [m.tempo for _, m in track0 if m.type == "set_tempo"]
    return {"time_signatures": signatures, "qpm": 6e7 / tempi[0] if tempi else 120.0}


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


def checked_melody_track(tracks: list[dict[str, Any]], end: float, track: int | None) -> int:
    """The melody track (the rule of `choose_melody_track`, or `track`; -1: no notes at all),
    after refusing drum-only files, a missing track and absurd lengths."""
    if track is None:
        track = choose_melody_track(tracks)
        if track < 0 and any(t["is_drum"] for t in tracks):
            raise SeqGANMusicError("drum-only: no melodic track")
    elif not 0 <= track < len(tracks):
        raise SeqGANMusicError(f"track {track} does not exist (the file has {len(tracks)})")
    if not np.isfinite(end) or end > MAX_TUNE_SECONDS:
        raise SeqGANMusicError(
            f"absurd length ({end:.0f} s > {MAX_TUNE_SECONDS:.0f} s): bad tempo?"
        )
    return track


def midi_to_tokens_info(
    pm: pretty_midi.PrettyMIDI, step_seconds: float = 0.4, track: int | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """`midi_to_tokens` plus what happened: {"track", "moved_notes", "seconds"}."""
    return tracks_to_tokens_info(_tracks(pm), pm.get_end_time(), step_seconds, track)


def midi_to_tokens(
    pm_or_path: pretty_midi.PrettyMIDI | str | Path,
    step_seconds: float = 0.4,
    track: int | None = None,
) -> np.ndarray:
    """A whole tune's melody as tokens (0 = rest, 1..88 = MIDI 21..108), one per step."""
    if isinstance(pm_or_path, pretty_midi.PrettyMIDI):
        return midi_to_tokens_info(pm_or_path, step_seconds, track)[0]
    return read_midi_tune(pm_or_path, step_seconds, track)[0]


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
    pm = tokens_to_midi(tokens, **render)
    return atomic_write(path, pm.write)


def read_midi_tune(
    path: str | Path, step_seconds: float, track: int | None
) -> tuple[np.ndarray, dict]:
    """Load and encode one MIDI file (what corpus workers call); info counts zero-length notes."""
    path = Path(path)
    data = path.read_bytes()  # OSError (missing, unreadable) propagates: callers record it
    if not data:
        raise SeqGANMusicError(f"{path.name}: empty file")
    try:
        tracks, end, counts = read_midi_notes(data)
    except MIDI_LOAD_ERRORS as err:
        raise SeqGANMusicError(f"{path.name}: not a readable MIDI file ({_cause(err)})") from err
    tokens, info = tracks_to_tokens_info(tracks, end, step_seconds, track)
    return tokens, {**info, **counts}


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


def read_midi_melody_in_quarters(path: str | Path, track: int | None = None) -> dict[str, Any]:
    """The melody of a MIDI file on its own beat grid (ticks / resolution: the tempo map does not
    move it), the track chosen by the paper encoding's rule. {"starts", "ends" (quarters),
    "pitches", "end", "time_signatures" [(quarter, numerator, denominator)], "qpm" (the first
    tempo), "track", "zero_length_notes"}."""
    path = Path(path)
    return midi_bytes_melody_in_quarters(path.read_bytes(), track, path.name)


def midi_bytes_melody_in_quarters(
    data: bytes, track: int | None = None, name: str = "MIDI data"
) -> dict[str, Any]:
    """`read_midi_melody_in_quarters` of a file's bytes."""
    if not data:
        raise SeqGANMusicError(f"{name}: empty file")
    try:
        tracks, end, counts, grid = _read_midi(data)
    except MIDI_LOAD_ERRORS as err:
        raise SeqGANMusicError(f"{name}: not a readable MIDI file ({_cause(err)})") from err
    track = checked_melody_track(tracks, end, track)
    res = float(grid["resolution"])
    none = np.zeros(0, dtype=np.int64)
    t = tracks[track] if track >= 0 else {"start_ticks": none, "end_ticks": none, "pitches": none}
    return {
        "starts": t["start_ticks"] / res, "ends": t["end_ticks"] / res,
        "pitches": np.asarray(t["pitches"], dtype=np.int64), "end": grid["end_tick"] / res,
        "time_signatures": [(tick / res, a, b) for tick, a, b in grid["time_signatures"]],
        "qpm": float(grid["qpm"]), "track": int(track), **counts,
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
