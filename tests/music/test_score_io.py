"""ABC and MusicXML writers: music21 reads back every note (pitch, onset, length), the key, the
mode's signature, the metre and the repeat signs, for random tunes in any key and metre."""

from fractions import Fraction
from pathlib import Path

import music21
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqgan_music.music.io.abc_out import abc_text, write_abc
from seqgan_music.music.io.score import MODES, Score, sections, tonic_pitch_class, write_musicxml

METRES = [(4, 4), (6, 8), (3, 4), (2, 4), (9, 8)]
TONICS = ["C", "D", "E", "F", "G", "A", "Bb", "Eb", "F#"]


@st.composite
def scores(draw):
    metre = draw(st.sampled_from(METRES))
    spq = 4
    bar = round(metre[0] * 4 * spq / metre[1])
    bars = draw(st.integers(2, 3))  # music21 builds no measures from a one-bar ABC line
    form = draw(st.sampled_from(["A", "AB", "AABB", "ABAB"]))
    parts = {}
    for label in sorted(set(form)):
        notes, t, total = [], 0, bars * bar
        while t < total:
            gap = draw(st.integers(0, 3))
            length = draw(st.integers(1, 13))
            start, end = t + gap, min(total, t + gap + length)
            if start >= total:
                break
            notes.append((start, end, draw(st.integers(48, 88))))
            t = end
        parts[label] = notes
    return Score(
        parts,
        form,
        bars,
        metre,
        spq,
        draw(st.sampled_from(TONICS)),
        draw(st.sampled_from(MODES)),
        seed=draw(st.integers(0, 2**31)),
    )


def _read_notes(stream) -> list[tuple[Fraction, Fraction, int | None]]:
    """Sounding notes: a note tied on (start/continue) to the next joins it (music21's stripTies
    misses a start followed by a continue in the next bar)."""
    out, joining = [], False
    for n in stream.flatten().notes:
        onset, length = Fraction(n.offset), Fraction(n.quarterLength)
        if joining and out[-1][2] == n.pitch.midi and out[-1][0] + out[-1][1] == onset:
            out[-1] = (out[-1][0], out[-1][1] + length, n.pitch.midi)
        else:
            out.append((onset, length, n.pitch.midi))
        joining = n.tie is not None and n.tie.type in ("start", "continue")
    return out


def _expected(score: Score) -> list[tuple[Fraction, Fraction, int]]:
    q = score.steps_per_quarter
    return [(Fraction(s, q), Fraction(e - s, q), p) for s, e, p in score.written()]


def _check_header(stream, score: Score) -> None:
    ts = stream.recurse().getElementsByClass("TimeSignature")[0]
    assert (ts.numerator, ts.denominator) == score.metre
    ks = stream.recurse().getElementsByClass("KeySignature")[0]
    want = music21.key.Key(score.tonic.replace("b", "-"), score.mode)
    assert ks.sharps == want.sharps
    measures = stream.recurse().getElementsByClass("Measure")
    lines = [b for m in measures for b in (m.leftBarline, m.rightBarline)]
    repeats = [b for b in lines if isinstance(b, music21.bar.Repeat)]
    assert len(repeats) == 2 * sum(times > 1 for _, times in sections(score.form))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(score=scores())
def test_abc_reads_back_note_for_note(score: Score) -> None:
    stream = music21.converter.parse(abc_text(score), format="abc")
    assert _read_notes(stream) == _expected(score)
    _check_header(stream, score)
    k = stream.recurse().getElementsByClass("Key")
    if k:  # music21 keeps the K: field's tonic and mode
        assert k[0].tonic.pitchClass == tonic_pitch_class(score.tonic)
        assert k[0].mode == score.mode


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(score=scores())
def test_musicxml_reads_back_note_for_note(score: Score, tmp_path_factory) -> None:
    path = write_musicxml(score, tmp_path_factory.mktemp("xml") / "tune.musicxml")
    stream = music21.converter.parse(path)
    assert _read_notes(stream) == _expected(score)
    _check_header(stream, score)


def test_abc_fields_and_seed(tmp_path: Path) -> None:
    score = Score(
        {"A": [(0, 8, 62)], "B": [(0, 8, 69)]},
        "AABB",
        1,
        (4, 4),
        4,
        "D",
        "dorian",
        title="Test",
        seed=1234,
    )
    text = write_abc(score, tmp_path / "t.abc").read_text()
    for field in ("X:1", "T:Test", "M:4/4", "L:1/16", "K:Ddor", "% seed 1234", "|:", ":|"):
        assert field in text


@pytest.mark.parametrize(
    "form,expected",
    [("AABB", [("A", 2), ("B", 2)]), ("AB", [("A", 1), ("B", 1)]), ("ABAB", [("AB", 2)])],
)
def test_sections(form, expected):
    assert sections(form) == expected


@pytest.mark.parametrize(
    "name, pc",
    [("C", 0), ("c", 0), ("B", 11), ("b", 11), ("Bb", 10), ("bb", 10), ("Eb", 3),
     ("eb", 3), ("F#", 6), ("f#", 6), ("Cb", 11), ("B#", 0), ("Ebb", 2), (" D ", 2)],
)  # fmt: skip
def test_tonic_pitch_class_reads_note_names_in_either_case(name: str, pc: int):
    """--key and --transpose-to: a lowercase b is the note B, not a flat sign (b -> 11)."""
    assert tonic_pitch_class(name) == pc
