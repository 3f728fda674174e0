"""MIDI <-> note lists: the only module that imports pretty_midi and mido (test_architecture.py).

Files are read with mido into note lists (`read_midi_notes`), pairing notes as pretty_midi does but
without its dense tick table: a genuine piece with a huge largest tick (Beethoven's op. 133 from
music21's corpus: 22,503,601) is read, not refused, and zero-length notes are dropped and counted
(pretty_midi holds one written as note-off, note-on open until the pitch's next note-off, seconds
later). `read_midi_melody_in_quarters` gives the melody (`melody.choose_melody_track`) on the file's
own beat grid. Writing (`notes_to_midi`) makes one instrument with an end marker, so trailing rests
survive. Tokens are the encodings' business (music/paper, music/beat), not this module's.
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
from seqgan_music.music.io.melody import checked_melody_track

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
    """Time signatures, key signatures (mido's names: 'D', 'Em') and the first tempo of track 0
    (where MIDI files keep them)."""
    signatures = [(int(t), m.numerator, m.denominator) for t, m in track0
                  if m.type == "time_signature"]  # fmt: skip
    keys = [m.key for _, m in track0 if m.type == "key_signature"]
    tempi = [m.tempo for _, m in track0 if m.type == "set_tempo"]
    return {"time_signatures": signatures, "key_signatures": keys,
            "qpm": 6e7 / tempi[0] if tempi else 120.0}  # fmt: skip


def pretty_midi_notes(pm: pretty_midi.PrettyMIDI) -> tuple[list[dict[str, Any]], float]:
    """(tracks, end time in seconds) of a PrettyMIDI (a rendered tune, say)."""
    return _tracks(pm), pm.get_end_time()


def is_pretty_midi(item: Any) -> bool:
    return isinstance(item, pretty_midi.PrettyMIDI)


def read_midi_file(path: str | Path) -> tuple[list[dict[str, Any]], float, dict[str, int]]:
    """`read_midi_notes` of one file; an empty or unparsable file is a SeqGANMusicError."""
    path = Path(path)
    data = path.read_bytes()  # OSError (missing, unreadable) propagates: callers record it
    if not data:
        raise SeqGANMusicError(f"{path.name}: empty file")
    try:
        return read_midi_notes(data)
    except MIDI_LOAD_ERRORS as err:
        raise SeqGANMusicError(f"{path.name}: not a readable MIDI file ({_cause(err)})") from err


def notes_to_midi(
    notes: list[tuple[float, float, int]], end: float, *, qpm: float, resolution: int = 480,
    time_signature: tuple[int, int] | None = None, program: int = 0, velocity: int = 90,
) -> pretty_midi.PrettyMIDI:  # fmt: skip
    """(start, end, pitch) notes in seconds -> one instrument (General MIDI `program`) at `qpm`,
    the time signature (if given) at 0, an end marker at `end` (so trailing rests survive)."""
    if not 0 <= program <= 127 or not 1 <= velocity <= 127:
        raise ValueError(
            f"program must be in 0..127 and velocity in 1..127, not {program}, {velocity}"
        )
    if not qpm > 0:
        raise ValueError(f"the tempo must be positive, not {qpm}")
    pm = pretty_midi.PrettyMIDI(resolution=resolution, initial_tempo=qpm)
    if time_signature is not None:
        num, den = time_signature
        pm.time_signature_changes.append(pretty_midi.TimeSignature(int(num), int(den), 0.0))
    inst = pretty_midi.Instrument(program=program, name="seqgan-music")
    for start, stop, pitch in notes:
        inst.notes.append(pretty_midi.Note(velocity=velocity, pitch=pitch, start=start, end=stop))
    if end > 0:  # an end marker keeps trailing rests (pretty_midi drops empty instruments)
        pm.text_events.append(pretty_midi.Text(END_TEXT, end))
    pm.instruments.append(inst)
    return pm


def add_midi_text(path: str | Path, text: str) -> Path:
    """Put `text` (ASCII: how the file was made) in a text event at the start of the MIDI file's
    first track, rewriting it atomically; the notes and their timing are untouched."""
    mid = mido.MidiFile(str(path))
    mid.tracks[0].insert(0, mido.MetaMessage("text", text=text, time=0))
    return atomic_write(path, lambda fh: mid.save(file=fh))


def read_midi_texts(path: str | Path) -> list[str]:
    """The text events of a MIDI file, in order (what `add_midi_text` wrote among them)."""
    return [m.text for track in mido.MidiFile(str(path)).tracks for m in track
            if m.type == "text"]  # fmt: skip


def write_pretty_midi(pm: pretty_midi.PrettyMIDI, path: str | Path) -> Path:
    """Write a PrettyMIDI atomically (a partial file on a full disk is removed)."""
    return atomic_write(path, pm.write)


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


def read_midi_melody_in_quarters(path: str | Path, track: int | None = None) -> dict[str, Any]:
    """The melody of a MIDI file on its own beat grid (ticks / resolution: the tempo map does not
    move it), the track chosen by `melody.checked_melody_track`. {"starts", "ends" (quarters),
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
        "key_signatures": list(grid.get("key_signatures", [])),
    }  # fmt: skip


def add_text(pm: pretty_midi.PrettyMIDI, text: str) -> None:
    """A text meta event at time 0 (e.g. the seed that made the tune)."""
    pm.text_events.append(pretty_midi.Text(text, 0.0))
