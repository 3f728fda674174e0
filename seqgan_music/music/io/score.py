"""A tune as musicians write it: parts of whole bars, a form (AABB, AB, ABAB), key, mode and metre,
held as note lists in grid steps (no tokens: any encoding's notes fit). The writers read it:
`abc_out.py` (ABC), `musicxml_out` here (through music21), `engrave.py` (LilyPond PNG/PDF).

A repeated part is written once between repeat signs, and played out in the MIDI (`played`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from seqgan_music.core.files import atomic_write_text

Note = tuple[int, int, int]  # (start step, end step, MIDI pitch) within its part

MODES = ("major", "minor", "dorian", "mixolydian")
# The pitch classes of each mode above its tonic (minor: natural, and the raised leading note
# of the harmonic minor, which folk tunes in minor use as often).
MODE_STEPS = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
}
ABC_MODE = {"major": "", "minor": "m", "dorian": "dor", "mixolydian": "mix"}
_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def tonic_pitch_class(name: str) -> int:
    """'D', 'F#', 'Bb', 'Eb' -> pitch class 0..11; a ValueError names what is accepted."""
    text = name.strip()
    if not text or text[0].upper() not in _LETTER_PC or any(c not in "#b" for c in text[1:]):
        raise ValueError(f"--key {name!r} is not a key: give a note name such as D, F#, Bb")
    accidentals = text[1:]  # a lowercase letter b is the note B, not a flat
    return (_LETTER_PC[text[0].upper()] + accidentals.count("#") - accidentals.count("b")) % 12


def sections(form: str) -> list[tuple[str, int]]:
    """The form as (parts written once, times played): AABB -> [(A, 2), (B, 2)], AB -> [(A, 1),
    (B, 1)], ABAB -> [(AB, 2)]."""
    half = len(form) // 2
    if len(form) > 2 and len(form) % 2 == 0 and form[:half] == form[half:] and len(set(form)) > 1:
        return [(form[:half], 2)]
    out: list[tuple[str, int]] = []
    for label in form:
        if out and out[-1][0] == label:
            out[-1] = (label, out[-1][1] + 1)
        else:
            out.append((label, 1))
    return out


@dataclass
class Score:
    """One tune: `parts` label -> notes of `bars` bars, played in the order of `form`."""

    parts: dict[str, list[Note]]
    form: str
    bars: int  # bars per part
    metre: tuple[int, int]
    steps_per_quarter: int
    tonic: str  # a note name: D, F#, Bb
    mode: str = "major"
    title: str = "Untitled"
    seed: int | None = None
    qpm: float = 120.0
    comments: list[str] = field(default_factory=list)

    @property
    def bar_steps(self) -> int:
        num, den = self.metre
        return max(1, round(num * 4 * self.steps_per_quarter / den))

    @property
    def part_steps(self) -> int:
        return self.bars * self.bar_steps

    def written(self) -> list[Note]:
        """Notes as written: each section once, parts one after the other."""
        out, offset = [], 0
        for labels, _ in sections(self.form):
            for label in labels:
                out += [(s + offset, e + offset, p) for s, e, p in self.parts[label]]
                offset += self.part_steps
        return out

    def played(self) -> list[Note]:
        """Notes as played: the repeats played out (what the MIDI and WAV hold)."""
        out, offset = [], 0
        for label in self.form:
            out += [(s + offset, e + offset, p) for s, e, p in self.parts[label]]
            offset += self.part_steps
        return out

    @property
    def played_steps(self) -> int:
        return len(self.form) * self.part_steps


def spelling(tonic: str, mode: str) -> tuple[dict[int, tuple[str, int]], dict[str, int]]:
    """For a key: pitch class -> (letter, alteration) and the key signature letter -> alteration.
    Scale notes are spelled as the key spells them; others with sharps in sharp keys, else flats."""
    import music21

    k = music21.key.Key(tonic.replace("b", "-"), "minor" if mode == "minor" else mode)
    signature = {p.step: int(p.alter) for p in k.alteredPitches}
    names: dict[int, tuple[str, int]] = {}
    for letter, pc in _LETTER_PC.items():
        alter = signature.get(letter, 0)
        names[(pc + alter) % 12] = (letter, alter)
    sharp = k.sharps >= 0
    for alter in (0, 1 if sharp else -1, -1 if sharp else 1):  # naturals first
        for letter, base in _LETTER_PC.items():
            names.setdefault((base + alter) % 12, (letter, alter))
    return names, signature


Piece = tuple[int, int, "int | None", bool]  # (start in the bar, length, pitch or None, tied on)


def bar_pieces(notes: list[Note], total: int, bar: int) -> list[list[Piece]]:
    """Notes (and the rests between them) cut at bar lines: per bar, (start, length, pitch or None
    for a rest, tied on to the next piece) with starts relative to the bar."""
    events: list[tuple[int, int, int | None]] = []
    t = 0
    for s, e, p in sorted(notes):
        if s > t:
            events.append((t, s, None))
        events.append((s, e, p))
        t = e
    if t < total:
        events.append((t, total, None))
    bars: list[list[Piece]] = [[] for _ in range(-(-total // bar))]
    for s, e, p in events:
        while s < e:
            k = s // bar
            cut = min(e, (k + 1) * bar)
            bars[k].append((s - k * bar, cut - s, p, p is not None and cut < e))
            s = cut
    return bars


def section_notes(score: Score, labels: str) -> tuple[list[Note], int]:
    """The notes of one section's parts one after the other, and its length in steps."""
    notes, offset = [], 0
    for label in labels:
        notes += [(s + offset, e + offset, p) for s, e, p in score.parts[label]]
        offset += score.part_steps
    return notes, offset


def musicxml_stream(score: Score) -> Any:
    """The score as a music21 Score: one measure a bar, repeat bar lines, ties over bar lines."""
    import music21
    from music21 import bar as m21bar

    names, _ = spelling(score.tonic, score.mode)
    part = music21.stream.Part()
    q = score.steps_per_quarter
    number, tie_open = 1, False
    for labels, times in sections(score.form):
        measures = bar_pieces(*section_notes(score, labels), score.bar_steps)
        for k, pieces in enumerate(measures):
            m = music21.stream.Measure(number=number)
            if number == 1:
                m.insert(0, music21.meter.TimeSignature(f"{score.metre[0]}/{score.metre[1]}"))
                m.insert(0, music21.key.Key(score.tonic.replace("b", "-"), score.mode))
            number += 1
            for start, length, pitch, tied in _simple_pieces(pieces, q):
                if pitch is None:
                    el = music21.note.Rest(quarterLength=Fraction(length, q))
                else:
                    letter, alter = names[pitch % 12]
                    el = music21.note.Note(quarterLength=Fraction(length, q))
                    el.pitch = m21_pitch(letter, alter, pitch)
                    if tied or tie_open:
                        kind = "continue" if tied and tie_open else "start" if tied else "stop"
                        el.tie = music21.tie.Tie(kind)
                tie_open = tied
                m.insert(Fraction(start, q), el)
            if times > 1 and k == 0:
                m.leftBarline = m21bar.Repeat(direction="start")
            if times > 1 and k == len(measures) - 1:
                m.rightBarline = m21bar.Repeat(direction="end", times=times)
            part.append(m)
    out = music21.stream.Score()
    info = music21.metadata.Metadata(movementName=score.title)  # one title line, not two
    info.composer = "seqgan-music" + (f" (seed {score.seed})" if score.seed is not None else "")
    out.insert(0, info)
    out.insert(0, part)
    return out


def _simple_pieces(pieces: list[Piece], q: int) -> list[Piece]:
    """Each piece cut into lengths one note value can show (plain or dotted), tied together; a
    rest's parts are plain rests. music21 would otherwise split them itself and drop our ties."""
    from music21 import duration

    out: list[Piece] = []
    for start, length, pitch, tied in pieces:
        while length:
            part = max(k for k in range(1, length + 1)
                       if duration.Duration(Fraction(k, q)).type != "complex")  # fmt: skip
            length -= part
            out.append((start, part, pitch, tied or (pitch is not None and length > 0)))
            start += part
    return out


def m21_pitch(letter: str, alter: int, midi: int) -> Any:
    """A music21 Pitch spelled letter + alteration, in the octave that makes it `midi`."""
    import music21

    octave = (midi - alter - _LETTER_PC[letter]) // 12 - 1
    return music21.pitch.Pitch(f"{letter}{'#' * alter if alter > 0 else '-' * -alter}{octave}")


def write_musicxml(score: Score, path: str | Path) -> Path:
    """The score as MusicXML (atomically); the seed rides in the title's line of credits."""
    import music21

    exporter = music21.musicxml.m21ToXml.GeneralObjectExporter(musicxml_stream(score))
    return atomic_write_text(Path(path), exporter.parse().decode("utf-8"))


def analyse_key(notes: list[Note]) -> tuple[int, str]:
    """The key of some notes by music21's Krumhansl-Schmuckler analysis: (tonic pitch class,
    'major' or 'minor'); C major when there are no notes."""
    if not notes:
        return 0, "major"
    found = music21_key(notes)
    return found.tonic.pitchClass, "minor" if found.mode == "minor" else "major"


def music21_key(notes: list[Note]) -> Any:
    """music21's Krumhansl-Schmuckler key of some notes (its `alternateInterpretations` the next
    best keys); a step counts as a quarter note, durations weigh the pitch classes."""
    import music21

    stream = music21.stream.Stream()
    for s, e, p in notes:
        stream.insert(s, music21.note.Note(p, quarterLength=max(e - s, 1)))
    return stream.analyze("key")


SHARP_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def tonic_name(pitch_class: int, mode: str) -> str:
    """A name for a tonic, spelled as the fewest-accidental key of that mode would spell it."""
    import music21

    best = None
    for name in {
        SHARP_NAMES[pitch_class],
        music21.pitch.Pitch(pitch_class).name.replace("-", "b"),
        music21.pitch.Pitch(pitch_class).getEnharmonic().name.replace("-", "b"),
    }:
        if len(name) > 2:
            continue
        k = music21.key.Key(name.replace("b", "-") if len(name) == 2 else name, mode)
        if best is None or abs(k.sharps) < best[0]:
            best = (abs(k.sharps), name)
    return best[1]
