"""ABC reading: the light repeat expansion equals music21's own on the full score."""

import music21
import numpy as np
import pytest

from seqgan_music.music import corpus as corpus_mod
from seqgan_music.music.io.abc import score_to_notes
from seqgan_music.music.paper.tunes import read_abc_tunes

REPEATS = """X:1
T:Repeats and endings
M:4/4
L:1/8
K:D
A|:d2 fd A2 FA|dfaf g2 fe|[1 d2 fd A2 FA|B2 A2 A3 A:|[2 d2 f2 e2 c2|d4 d3||
|:f|{g}a2 fa g2 eg|f2 df e2 cA|(3Bcd (3efg [Adf]4:|
"""


def _reference(score):
    """music21's own expansion of the whole score, notes read from the flattened part 0."""
    part = score.expandRepeats().parts[0].flatten()
    rows = [(float(n.offset), float(n.quarterLength), max(p.midi for p in n.pitches))
            for n in part.notes if n.quarterLength > 0 and not n.duration.isGrace]  # fmt: skip
    return rows, float(part.highestTime)


def _parse(text):
    return music21.converter.parse(text, format="abc", forceSource=True)


def _check_same(score_a, score_b):
    starts, ends, pitches, end_s, expanded = score_to_notes(score_b, qpm=60.0)  # 1 s per quarter
    try:
        rows, end = _reference(score_a)
    except music21.repeat.ExpanderException:
        assert not expanded  # both refuse the same malformed repeats
        return
    assert expanded
    assert np.allclose(starts, [r[0] for r in rows]) and np.allclose(
        ends - starts, [r[1] for r in rows]
    )
    assert pitches.tolist() == [r[2] for r in rows]
    assert end_s == pytest.approx(end)


def test_light_expansion_matches_music21_on_repeats_and_endings():
    _check_same(_parse(REPEATS), _parse(REPEATS))
    starts, *_ = score_to_notes(_parse(REPEATS))
    assert len(starts) > len(_parse(REPEATS).parts[0].flatten().notes)  # repeats were played out


def test_light_expansion_matches_music21_on_embedded_tunes():
    for path in sorted(corpus_mod.embedded_dir().glob("*.abc"))[:5]:
        _check_same(_parse(path.read_text()), _parse(path.read_text()))


def test_bad_repeat_marks_are_read_as_written(tmp_path):
    path = tmp_path / "bad.abc"
    path.write_text("X:1\nT:t\nM:4/4\nL:1/4\nK:C\nC D E F :| G A B c :| c B A G | F E D C |]\n")
    ((label, tokens, info),) = read_abc_tunes(path)
    assert label == "bad.abc#0" and tokens is not None and len(tokens) > 0
    assert info["repeats_expanded"] is False
