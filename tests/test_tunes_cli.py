"""`compose --form/--key/--mode/--metre` and the outputs musicians use, with the shipped models:
music21 reads the key and the time signature back from every tune, every part ends on its cadence
note, repeats are written once in the score and played out in the MIDI, each tune's seed remakes
it, and the paper encoding refuses what it cannot write with a one-line error."""

from fractions import Fraction
from pathlib import Path

import music21
import pretty_midi
import pytest
from helpers import run_cli

ASSETS = Path(__file__).resolve().parents[1] / "seqgan_music" / "assets"
BEAT = ASSETS / "nottingham-beat-small.pt"
PAPER = ASSETS / "folk-small.pt"


def _compose(tmp_path: Path, out: str, *args: str):
    args = args if "--num" in args else (*args, "--num", "1")
    result = run_cli("compose", "--checkpoint", BEAT, "--out", tmp_path / out, "--threads", "1",
                     *args)  # fmt: skip
    assert result.exit_code == 0, result.output
    return result


def _measures(path: Path) -> list:
    return list(music21.converter.parse(path).recurse().getElementsByClass("Measure"))


@pytest.mark.parametrize("suffix", [".abc", ".musicxml"])
@pytest.mark.parametrize(("key", "mode", "metre", "form"), [
    ("D", "dorian", "6/8", "AABB"), ("Bb", "major", "4/4", "AB"), ("E", "minor", "3/4", "ABAB"),
    ("G", "mixolydian", "2/4", "AABB"),
])  # fmt: skip
def test_key_metre_and_cadences_read_back(tmp_path, suffix, key, mode, metre, form):
    _compose(tmp_path, f"t{suffix}", "--form", form, "--key", key, "--mode", mode, "--metre",
             metre, "--num", "3", "--seed", "1")  # fmt: skip
    tonic = music21.pitch.Pitch(key.replace("b", "-")).pitchClass
    for path in sorted(tmp_path.glob(f"t*{suffix}")):
        stream = music21.converter.parse(path)
        k = stream.recurse().getElementsByClass("Key")[0]
        assert (k.tonic.pitchClass, k.mode) == (tonic, mode)
        ts = stream.recurse().getElementsByClass("TimeSignature")[0]
        assert f"{ts.numerator}/{ts.denominator}" == metre
        measures = _measures(path)
        assert len(measures) == 16  # two parts of 8 bars, each written once
        scale = {p.pitchClass for p in music21.key.Key(k.tonic, mode).getPitches()}
        if mode == "minor":
            scale.add((tonic + 11) % 12)  # the raised leading note
        notes = list(stream.flatten().notes)
        assert {n.pitch.pitchClass for n in notes} <= scale
        for part in (measures[7], measures[15]):  # the last bar of each part
            last = list(part.notes)[-1].pitch.pitchClass
            half = form != "AABB" and part is measures[7]
            assert last == ((tonic + 7) % 12 if half else tonic)


def test_midi_plays_the_repeats_and_stores_the_seed(tmp_path):
    _compose(tmp_path, "t.mid", "--form", "AABB", "--bars", "4", "--seed", "7", "--metre", "4/4")
    pm = pretty_midi.PrettyMIDI(str(tmp_path / "t.mid"))
    assert pm.get_end_time() == pytest.approx(16 * 2.0, abs=0.01)  # 16 bars of 4/4 at 120 qpm
    assert any("seed 7" in t.text for t in pm.text_events)
    onsets = [round(n.start, 3) for n in pm.instruments[0].notes]
    a = [t for t in onsets if t < 8.0]
    assert [t + 8.0 for t in a] == [t for t in onsets if 8.0 <= t < 16.0]  # A played twice


def test_a_drawn_seed_is_printed_and_remakes_the_tune(tmp_path):
    result = _compose(tmp_path, "a.abc", "--form", "AB", "--num", "2")
    seed = int(result.output.strip().splitlines()[-1].rsplit("seed ", 1)[1])
    _compose(tmp_path, "b.abc", "--form", "AB", "--seed", str(seed))
    text = (tmp_path / "a-2.abc").read_text()
    assert f"% seed {seed}" in text
    assert text.split("K:")[1] == (tmp_path / "b.abc").read_text().split("K:")[1]


def test_score_and_wav_through_lilypond_and_fluidsynth(tmp_path):
    _compose(tmp_path, "t.abc", "--form", "AABB", "--bars", "4", "--seed", "3", "--score", "--wav",
             "--png")  # fmt: skip
    assert (tmp_path / "t.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "t-score.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "t.png").read_bytes().startswith(b"\x89PNG")
    import wave

    with wave.open(str(tmp_path / "t.wav")) as w:
        assert w.getnframes() / w.getframerate() >= 15.0  # 16 bars of 4/4 at 120 qpm: 32 s
        assert max(w.readframes(w.getnframes())) > 0  # not silence


def test_a_missing_tool_names_its_debian_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no fluidsynth, no lilypond
    result = run_cli("compose", "--checkpoint", BEAT, "--out", tmp_path / "t.mid", "--wav",
                     "--num", "1")  # fmt: skip
    assert result.exit_code == 1
    assert "apt-get install fluidsynth" in result.output
    assert len(result.output.strip().splitlines()) == 1
    result = run_cli("compose", "--checkpoint", BEAT, "--out", tmp_path / "u.abc", "--score")
    assert result.exit_code == 1 and "apt-get install lilypond" in result.output


@pytest.mark.parametrize(
    "args", [["--metre", "6/8"], ["--form", "AABB"], ["--score"], ["--guard", "."]]
)
def test_the_paper_encoding_says_to_use_beat(tmp_path, args):
    result = run_cli("compose", "--checkpoint", PAPER, "--out", tmp_path / "t.mid", *args)
    assert result.exit_code == 1
    assert "--encoding beat" in result.output and len(result.output.strip().splitlines()) == 1
    result = run_cli("compose", "--checkpoint", PAPER, "--out", tmp_path / "t.abc")
    assert result.exit_code == 1 and "--encoding beat" in result.output


def test_the_paper_encoding_takes_key_and_mode(tmp_path):
    result = run_cli("compose", "--checkpoint", PAPER, "--out", tmp_path / "t.mid", "--key", "F",
                     "--mode", "mixolydian", "--num", "2", "--seed", "0")  # fmt: skip
    assert result.exit_code == 0, result.output
    scale = {(5 + s) % 12 for s in (0, 2, 4, 5, 7, 9, 10)}
    for path in tmp_path.glob("t*.mid"):
        notes = pretty_midi.PrettyMIDI(str(path)).instruments[0].notes
        assert notes and {n.pitch % 12 for n in notes} <= scale


@pytest.mark.parametrize(("args", "message"), [
    (["--key", "H"], "--key"), (["--mode", "dorian"], "--mode needs --key"),
    (["--metre", "7/5"], "--metre"), (["--form", "AABB", "--length", "64"], "--bars"),
    (["--guard", "."], "--guard checks whole tunes in a form"),
    (["--form", "AB", "--guard", "nowhere"], "--guard nowhere: no MIDI tunes"),
])  # fmt: skip
def test_bad_requests_are_one_line_errors(tmp_path, args, message):
    result = run_cli("compose", "--checkpoint", BEAT, "--out", tmp_path / "t.abc", *args)
    assert result.exit_code == 1, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_fraction_free_abc_durations(tmp_path):
    """Every ABC note length is a whole number of L:1/16 units (the grid), as written."""
    _compose(tmp_path, "t.abc", "--form", "AABB", "--metre", "6/8", "--seed", "2")
    stream = music21.converter.parse(tmp_path / "t.abc")
    assert all((Fraction(n.quarterLength) * 4).denominator == 1 for n in stream.flatten().notes)


def test_the_guard_draws_a_tune_again_when_it_copies_a_training_tune(tmp_path):
    (tmp_path / "train").mkdir()
    args = ("--form", "AABB", "--bars", "4", "--seed", "5")
    _compose(tmp_path, "train/copied.mid", *args)  # the "training tune": the same draw
    result = _compose(tmp_path, "t.mid", *args, "--guard", tmp_path / "train")
    assert "drawn again 1x: copied 2+ bars of a training tune" in result.output
    first = pretty_midi.PrettyMIDI(str(tmp_path / "train" / "copied.mid")).instruments[0].notes
    again = pretty_midi.PrettyMIDI(str(tmp_path / "t.mid")).instruments[0].notes
    assert [n.pitch for n in first] != [n.pitch for n in again]


def test_the_paper_encoding_warns_of_a_retimed_primer_and_plays_through_fluidsynth(tmp_path):
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(0)
    for i in range(16):  # eighth notes of 0.25 s: the paper's grid has a pitch every 0.4 s
        inst.notes.append(pretty_midi.Note(90, 60 + 2 * (i % 4), 0.25 * i, 0.25 * (i + 1)))
    pm.instruments.append(inst)
    pm.write(str(tmp_path / "eighths.mid"))
    result = run_cli("compose", "--checkpoint", PAPER, "--out", tmp_path / "t.mid", "--primer",
                     tmp_path / "eighths.mid", "--primer-steps", "8", "--wav", "--png",
                     "--seed", "0", "--threads", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    # 8 steps of 0.4 s hold 13 of the primer's notes (onsets before 3.2 s); at most 8 survive
    assert "of its 13 notes in the first 8 steps survive" in result.output
    import wave

    with wave.open(str(tmp_path / "t.wav")) as w:  # FluidSynth's stereo 44.1 kHz, not the sine
        assert (w.getnchannels(), w.getframerate()) == (2, 44100)
        assert max(w.readframes(w.getnframes())) > 0
    assert (tmp_path / "t.png").read_bytes().startswith(b"\x89PNG")
