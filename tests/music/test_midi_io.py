"""MIDI <-> tokens: the exact round trip (hypothesis, Nottingham test split), tempo, rendering."""

import io

import mido
import numpy as np
import pretty_midi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.io.midi import load_midi
from seqgan_music.music.paper.encoding import tokens_to_windows
from seqgan_music.music.paper.tunes import (
    midi_to_tokens,
    midi_to_tokens_info,
    read_midi_tune,
    tokens_to_midi,
    write_midi,
)


def _reread(pm: pretty_midi.PrettyMIDI) -> pretty_midi.PrettyMIDI:
    buf = io.BytesIO()
    pm.write(buf)
    buf.seek(0)
    return pretty_midi.PrettyMIDI(buf)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 88), min_size=1, max_size=80),
    st.booleans(),
    st.sampled_from([0.4, 0.25, 0.5, 0.123]),
)
def test_tokens_midi_tokens_round_trip_is_exact(tokens, restrike, step):
    tokens = np.array(tokens)
    back = midi_to_tokens(_reread(tokens_to_midi(tokens, step, restrike=restrike)), step)
    assert back.tolist() == tokens.tolist()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 88), min_size=1, max_size=40), st.sampled_from([60.0, 97.0, 200.0]))
def test_round_trip_at_another_tempo(tokens, qpm):
    back = midi_to_tokens(_reread(tokens_to_midi(tokens, 0.4, qpm=qpm)), 0.4)
    assert back.tolist() == tokens


def test_rendering_details():
    pm = _reread(tokens_to_midi([40, 40, 0, 52], program=40, velocity=90))
    assert pm.get_tempo_changes()[1].tolist() == pytest.approx([150.0])  # 0.4 s = a quarter
    (inst,) = pm.instruments
    assert inst.program == 40 and not inst.is_drum
    assert [(n.pitch, n.velocity, round(n.start, 3), round(n.end, 3)) for n in inst.notes] == [
        (60, 90, 0.0, 0.8),
        (72, 90, 1.2, 1.6),
    ]
    restruck = _reread(tokens_to_midi([40, 40, 40], restrike=True)).instruments[0].notes
    assert len(restruck) == 3
    with pytest.raises(ValueError):
        tokens_to_midi([40], velocity=0)


def test_all_rests_round_trip():
    assert midi_to_tokens(_reread(tokens_to_midi([0, 0, 0, 0]))).tolist() == [0, 0, 0, 0]


def test_tempo_changes_are_honoured():
    # 480 ticks per quarter: a quarter at 120 qpm (0.5 s), then a quarter at 60 qpm (1 s)
    track = mido.MidiTrack([
        mido.MetaMessage("set_tempo", tempo=500_000, time=0),
        mido.Message.from_str("note_on channel=0 note=60 velocity=90 time=0"),
        mido.Message.from_str("note_off channel=0 note=60 velocity=0 time=480"),
        mido.MetaMessage("set_tempo", tempo=1_000_000, time=0),
        mido.Message.from_str("note_on channel=0 note=64 velocity=90 time=0"),
        mido.Message.from_str("note_off channel=0 note=64 velocity=0 time=480"),
    ])  # fmt: skip
    mid = mido.MidiFile(ticks_per_beat=480)
    mid.tracks.append(track)
    buf = io.BytesIO()
    mid.save(file=buf)
    buf.seek(0)
    # centres 0.2 (C4), 0.6, 1.0, 1.4 (E4 sounds 0.5-1.5 s); at a fixed 120 qpm it would end at 1.0
    assert midi_to_tokens(pretty_midi.PrettyMIDI(buf)).tolist() == [40, 44, 44, 44]


def test_explicit_track_and_bad_track(tmp_path):
    pm = pretty_midi.PrettyMIDI()
    for pitches in ([60, 62], [40, 41]):
        inst = pretty_midi.Instrument(0)
        inst.notes = [
            pretty_midi.Note(90, p, i * 0.4, i * 0.4 + 0.4) for i, p in enumerate(pitches)
        ]
        pm.instruments.append(inst)
    assert midi_to_tokens(pm).tolist() == [40, 42]
    assert midi_to_tokens(pm, track=1).tolist() == [20, 21]
    with pytest.raises(SeqGANMusicError, match="track 5"):
        midi_to_tokens(pm, track=5)


def test_out_of_range_pitches_are_folded_and_counted():
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0)
    inst.notes = [pretty_midi.Note(90, 10, 0, 0.4), pretty_midi.Note(90, 120, 0.4, 0.8)]
    pm.instruments.append(inst)
    tokens, info = midi_to_tokens_info(pm)
    assert tokens.tolist() == [22 - 20, 108 - 20] and info["moved_notes"] == 2


def test_write_midi_and_load(tmp_path):
    path = write_midi([40, 0, 41], tmp_path / "out" / "a.mid", restrike=True)
    assert midi_to_tokens(path).tolist() == [40, 0, 41]
    assert load_midi(path).instruments[0].name == "seqgan-music"


def test_nottingham_test_split_round_trips_every_window(shared_data):
    folder = shared_data / "nottingham" / "boulanger_lewandowski_2012" / "test"
    files = sorted(folder.glob("*.mid"))
    assert len(files) == 170
    n = 0
    for f in files:
        tokens, info = midi_to_tokens_info(load_midi(f))
        assert info["track"] == 0  # the melody rule picks Nottingham's melody
        windows = tokens_to_windows(tokens, 32, 32)
        for restrike in (False, True):
            joined = windows.reshape(-1)  # (n*32,) rendered as one tune, then cut again
            back = midi_to_tokens(_reread(tokens_to_midi(joined, restrike=restrike)))
            assert np.array_equal(back, joined), f.name
        n += len(windows)
    assert 760 <= n <= 840  # PROVENANCE.md: 788 at ceil-free counting


# ---- reading files with mido: several parts, huge ticks, zero-length notes ---------------------


def _part(pitches: list[int], channel: int = 0, beats: float = 1.0, tpb: int = 480) -> list:
    """(absolute tick, message) for one monophonic line of equal notes."""
    ticks = int(beats * tpb)
    out = []
    for i, p in enumerate(pitches):
        out.append((i * ticks, mido.Message("note_on", channel=channel, note=p, velocity=90)))
        out.append((i * ticks + ticks, mido.Message("note_off", channel=channel, note=p)))
    return out


def _file(tracks: list[list], path, tpb: int = 480, names: list[str] | None = None):
    """A type-1 file (type 0 when one track) from tracks of (absolute tick, message)."""
    mid = mido.MidiFile(type=0 if len(tracks) == 1 else 1, ticks_per_beat=tpb)
    for k, events in enumerate(tracks):
        track = mido.MidiTrack()
        if names:
            track.append(mido.MetaMessage("track_name", name=names[k], time=0))
        last = 0
        for tick, msg in sorted(events, key=lambda e: e[0]):  # stable: same-tick order kept
            track.append(msg.copy(time=tick - last))
            last = tick
        mid.tracks.append(track)
    mid.save(str(path))
    return path


SOPRANO = [72, 71, 69, 71, 72, 74, 72, 71]  # mean 71.5
HORN = [64, 65, 64, 62, 64, 65, 64, 62]  # mean 63.75, written first
BASS = [48, 43, 45, 40, 41, 43, 48, 43]


def test_melody_is_the_high_voice_whatever_part_comes_first(tmp_path):
    chorale = _file([_part(HORN), _part(SOPRANO), _part(BASS)], tmp_path / "c.mid",
                    names=["Horn 2", "Soprano", "Bass"])  # fmt: skip
    tokens, info = read_midi_tune(chorale, 0.4, None)
    assert info["track"] == 1 and load_midi(chorale).instruments[1].name == "Soprano"
    bass_first = _file([_part(BASS), _part(SOPRANO)], tmp_path / "b.mid")
    assert read_midi_tune(bass_first, 0.4, None)[1]["track"] == 1
    # type 0: bass on channel 0 and the melody on channel 1 of the same track
    type0 = _file([_part(BASS, channel=0) + _part(SOPRANO, channel=1)], tmp_path / "t0.mid")
    tokens, info = read_midi_tune(type0, 0.4, None)
    assert mido.MidiFile(str(type0)).type == 0 and info["track"] == 1
    assert set(tokens[tokens > 0].tolist()) == {p - 20 for p in SOPRANO}
    # a trumpet that plays two high notes of an eight-beat piece is not the tune
    trumpet = [(0, mido.Message("note_on", note=84, velocity=90)),
               (480, mido.Message("note_off", note=84))]  # fmt: skip
    brief = _file([trumpet, _part(SOPRANO)], tmp_path / "tr.mid")
    assert read_midi_tune(brief, 0.4, None)[1]["track"] == 1


def test_a_file_past_pretty_midis_tick_limit_is_read(tmp_path):
    # 20,000 ticks a beat for 520 beats: largest tick 10.4 million, over pretty_midi's 1e7
    line = [60, 62, 64, 65] * 130
    path = _file([_part(line, tpb=20000)], tmp_path / "fine.mid", tpb=20000)
    with pytest.raises(SeqGANMusicError, match="likely corrupt"):
        load_midi(path)
    tokens, info = read_midi_tune(path, 0.5, None)  # 120 qpm: one note per 0.5 s step
    assert tokens.tolist() == [p - 20 for p in line] and info["seconds"] == 260.0


def test_zero_length_notes_are_dropped_and_counted(tmp_path):
    on, off = (
        (lambda n: mido.Message("note_on", note=n, velocity=90)),
        (lambda n: mido.Message("note_off", note=n)),
    )
    events = _part([60, 62, 64, 65])  # four beats
    events += [(480, off(72)), (480, on(72))]  # off-then-on on one tick: pretty_midi holds it
    events += [(960, on(74)), (960, off(74))]  # on-then-off on one tick
    events += [(2400, on(72)), (2880, off(72))]  # the next 72, a beat after the end
    path = _file([events], tmp_path / "z.mid")
    held = midi_to_tokens_info(load_midi(path), 0.5)[0]
    assert held.tolist()[1:5] == [52, 52, 52, 52]  # pretty_midi: a 72 from beat 1 to beat 6
    tokens, info = read_midi_tune(path, 0.5, None)
    assert tokens.tolist() == [40, 42, 44, 45, 0, 52] and info["zero_length_notes"] == 2


def test_mido_reading_matches_pretty_midi_on_nottingham(shared_data):
    # every file of the test split: same melody track, same tokens as pretty_midi's reading
    folder = shared_data / "nottingham" / "boulanger_lewandowski_2012" / "test"
    for f in sorted(folder.glob("*.mid")):
        expected, expected_info = midi_to_tokens_info(load_midi(f))
        tokens, info = read_midi_tune(f, 0.4, None)
        assert np.array_equal(tokens, expected) and info["track"] == expected_info["track"], f.name
        assert info["zero_length_notes"] == 0


def _music21_midi(work: str, path):
    music21 = pytest.importorskip("music21")
    music21.corpus.parse(work).write("midi", fp=str(path))
    return path


@pytest.mark.slow
def test_beethoven_op133_is_read(tmp_path):
    path = _music21_midi("beethoven/opus133", tmp_path / "op133.mid")
    with pytest.raises(SeqGANMusicError, match="largest tick"):
        load_midi(path)
    tokens, info = read_midi_tune(path, 0.4, None)
    assert 1100 < info["seconds"] < 1250 and len(tokens) > 2500
    assert info["zero_length_notes"] > 0  # music21 writes some: dropped, not stretched


@pytest.mark.slow
@pytest.mark.parametrize("work", ["bach/bwv1.6", "bach/bwv128.5", "bach/bwv130.6", "bach/bwv149.7"])
def test_chorales_with_instrument_parts_give_the_soprano(work, tmp_path):
    path = _music21_midi(work, tmp_path / "c.mid")
    info = read_midi_tune(path, 0.4, None)[1]
    assert load_midi(path).instruments[info["track"]].name == "Soprano"
