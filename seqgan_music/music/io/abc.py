"""ABC -> note lists through music21, the only module that imports it (tests/test_architecture.py).

Notes and rests of part 0 are read directly, offsets and durations in quarter lengths turned into
seconds at a fixed tempo (120 qpm, as the Nottingham MIDI files), which avoids music21's MIDI writer
and its failures (shared/data/music21_folk/NOTES.md). Repeats are expanded (as a MIDI rendering
would play them); a tune whose repeat marks music21 cannot expand is read as written. Grace notes
(zero length) are dropped, chords keep their top note, and tunes of absurd length are refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import music21
import numpy as np

from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.io.melody import MAX_TUNE_SECONDS

ABC_QPM = 120.0
ABC_LOAD_ERRORS = (
    music21.exceptions21.Music21Exception, ValueError, IndexError, KeyError, TypeError,
    AttributeError, ZeroDivisionError, UnicodeDecodeError, OSError, RecursionError,
)  # fmt: skip


@contextmanager
def _no_beaming() -> Iterator[None]:
    """Skip music21's beaming while parsing: beams are notation only and ~30% of parse time."""
    original = music21.stream.Stream.makeBeams
    music21.stream.Stream.makeBeams = lambda self, *args, **kwargs: None
    try:
        yield
    finally:
        music21.stream.Stream.makeBeams = original


def _scores(path: Path) -> list[Any]:
    """Every tune in an ABC file (a file of several tunes parses to an Opus)."""
    try:
        with _no_beaming():
            parsed = music21.converter.parse(str(path), format="abc", forceSource=True)
    except ABC_LOAD_ERRORS as err:
        msg = str(err).splitlines()[0][:120] if str(err) else ""
        raise SeqGANMusicError(
            f"{path.name}: not readable ABC ({type(err).__name__}: {msg})"
        ) from err
    return list(parsed.scores) if isinstance(parsed, music21.stream.Opus) else [parsed]


def _top_notes(container: Any) -> list[tuple[float, float, int]]:
    """(offset, quarter length, top pitch) of the notes and chords in `container`, no graces."""
    rows = []
    for el in container.notes:
        ql = float(el.quarterLength)
        if ql <= 0 or el.duration.isGrace:  # grace notes: written to MIDI they would be full notes
            continue
        midi = [p.midi for p in el.pitches]
        if midi:
            rows.append((float(el.offset), ql, max(midi)))  # chords: the top note is the melody
    return rows


def score_to_notes(
    score: Any, qpm: float = ABC_QPM
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, bool]:
    """Part 0 of a score, repeats played out, as (starts, ends, pitches, end_time, expanded).

    Times are seconds at `qpm`. music21's repeat expansion deep-copies every note (most of the
    conversion time), so each measure's notes are read first and the measure is left holding one
    rest of its length; expansion then only copies light measures, and the notes are laid back at
    the expanded measures' offsets. This gives the same notes as expanding the full score (checked
    on 120 tunes of the collection) in less than half the time.
    """
    part = score.parts[0] if score.parts else score
    sec = 60.0 / qpm  # seconds per quarter length
    measures = list(part.getElementsByClass(music21.stream.Measure))
    if not measures:  # no bar lines: nothing to repeat
        flat = part.flatten()
        laid = _top_notes(flat)
        end, expanded = float(flat.highestTime), False
    else:
        table = []
        for k, m in enumerate(measures):
            flat = m.flatten()
            table.append(_top_notes(flat))
            length = float(flat.highestTime)
            m.removeByClass(["GeneralNote", "Voice"])
            if length > 0:
                m.insert(0, music21.note.Rest(quarterLength=length))
            m.seqgan_index = k  # survives the deep copies of expansion
        try:
            played, expanded = part.expandRepeats(), True
        except music21.repeat.ExpanderException:  # malformed repeat marks: read as written
            played, expanded = part, False
        laid = []
        for m in played.getElementsByClass(music21.stream.Measure):
            base = float(m.offset)
            laid.extend((base + off, ql, p) for off, ql, p in table[m.seqgan_index])
        end = float(played.highestTime)
    starts = np.array([r[0] * sec for r in laid])
    ends = np.array([(r[0] + r[1]) * sec for r in laid])
    pitches = np.array([r[2] for r in laid], dtype=np.int64)
    return starts, ends, pitches, end * sec, expanded


def read_abc_notes(path: str | Path) -> list[tuple[str, dict[str, Any] | None, dict[str, Any]]]:
    """Every tune of an ABC file as (label, notes or None, info); info has "reason" when None.

    Notes: {"starts", "ends" (seconds at `ABC_QPM`), "pitches" (MIDI, not folded), "end"}; info:
    {"seconds", "repeats_expanded"}. A broken file raises SeqGANMusicError; a broken tune inside a
    good file is reported, not raised.
    """
    path = Path(path)
    out: list[tuple[str, dict[str, Any] | None, dict[str, Any]]] = []
    for i, score in enumerate(_scores(path)):
        label = f"{path.name}#{i}"
        try:
            starts, ends, pitches, end, expanded = score_to_notes(score)
        except ABC_LOAD_ERRORS as err:
            out.append((label, None, {"reason": f"unreadable tune ({type(err).__name__})"}))
            continue
        if not np.isfinite(end) or end > MAX_TUNE_SECONDS:
            out.append((label, None, {"reason": f"absurd length ({end:.0f} s)"}))
            continue
        notes = {"starts": starts, "ends": ends, "pitches": pitches, "end": end}
        out.append((label, notes, {"seconds": round(end, 3), "repeats_expanded": expanded}))
    return out


# music21's names of the church modes that are another name of one of ours
_MODE_ALIASES = {"aeolian": "minor", "ionian": "major"}


def _written_key(score: Any) -> tuple[int, str] | None:
    """(tonic pitch class, mode) of the tune's K: field as written (`K:Ador`: A dorian); None
    when it names no key with a mode."""
    for key in score.recurse().getElementsByClass(music21.key.Key):
        mode = str(key.mode)
        return key.tonic.pitchClass, _MODE_ALIASES.get(mode, mode)
    return None


def read_abc_melodies_in_quarters(path: str | Path) -> list[tuple[str, dict | None, dict]]:
    """Every tune of an ABC file for the beat encoding: (label, melody or None, info).

    The melody is what `score_to_notes` reads, in quarter notes, with the first time signature;
    an opening pickup bar (music21's `paddingLeft`) makes the first full bar start after it.
    """
    path = Path(path)
    out: list[tuple[str, dict | None, dict]] = []
    for i, score in enumerate(_scores(path)):
        label = f"{path.name}#{i}"
        try:
            signatures = list(score.recurse().getElementsByClass(music21.meter.TimeSignature))
            part = score.parts[0] if score.parts else score
            measures = list(part.getElementsByClass(music21.stream.Measure))
            pickup = float(measures[0].duration.quarterLength) if measures else 0.0
            if not measures or not float(measures[0].paddingLeft or 0.0) > 0:
                pickup = 0.0
            starts, ends, pitches, end, expanded = score_to_notes(score, qpm=60.0)  # s = quarters
        except ABC_LOAD_ERRORS as err:
            out.append((label, None, {"reason": f"unreadable tune ({type(err).__name__})"}))
            continue
        if not np.isfinite(end) or end * 60.0 / ABC_QPM > MAX_TUNE_SECONDS:
            out.append((label, None, {"reason": f"absurd length ({end:.0f} quarters)"}))
            continue
        ts = signatures[0] if signatures else None
        melody = {
            "starts": starts, "ends": ends, "pitches": pitches, "end": float(end),
            "time_signatures": [(pickup, ts.numerator, ts.denominator)] if ts else [],
            "qpm": ABC_QPM, "track": 0, "key": _written_key(score),
        }  # fmt: skip
        out.append((label, melody, {"repeats_expanded": expanded}))
    return out
