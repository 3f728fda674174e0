"""The beat-grid encoding: token layout, exact round trips, quantisation losses, bars, windows."""

import io

import numpy as np
import pretty_midi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqgan_music.music.beat.encoding import (
    BEAT_VOCAB_SIZE,
    HOLD,
    REST,
    BeatEncodingConfig,
    bar_starts,
    beat_tokens_to_frames,
    beat_tokens_to_notes,
    beat_windows,
    canonical,
    note_on_to_pitch,
    notes_to_beat_tokens,
    pitch_to_note_on,
    quantize_notes,
    transpose_beat_windows,
)
from seqgan_music.music.beat.tunes import (
    beat_tokens_to_midi,
    melody_to_beat_tokens,
    read_beat_primer,
    read_beat_tune,
    read_beat_tunes,
)
from seqgan_music.music.io.midi import midi_bytes_melody_in_quarters, read_midi_melody_in_quarters

NOTE = 2  # the first note-on token (MIDI 21)


def _bytes(pm: pretty_midi.PrettyMIDI) -> bytes:
    buf = io.BytesIO()
    pm.write(buf)
    return buf.getvalue()


def test_token_layout_is_rest_hold_and_88_note_ons():
    assert (REST, HOLD, BEAT_VOCAB_SIZE) == (0, 1, 90)
    assert pitch_to_note_on(np.array([21, 60, 108])).tolist() == [2, 41, 89]
    assert note_on_to_pitch(np.array([2, 41, 89])).tolist() == [21, 60, 108]


# canonical token sequences: a hold only ever follows a note-on or another hold
canonical_tokens = st.lists(st.integers(0, BEAT_VOCAB_SIZE - 1), min_size=1, max_size=96).map(
    lambda t: canonical(np.array(t, dtype=np.int64))
)


@settings(max_examples=200, deadline=None)
@given(canonical_tokens)
def test_tokens_notes_tokens_is_exact(tokens):
    notes = beat_tokens_to_notes(tokens)
    starts, ends, pitches = (np.array([n[i] for n in notes]) for i in range(3))
    back = notes_to_beat_tokens(starts, ends, pitches, len(tokens))
    assert np.array_equal(back, tokens)


@st.composite
def grid_melodies(draw):
    """Monophonic notes on the grid: (start, end, pitch) with gaps of rest, re-struck repeats."""
    notes, t = [], draw(st.integers(0, 4))
    for _ in range(draw(st.integers(0, 20))):
        length = draw(st.integers(1, 12))
        notes.append((t, t + length, draw(st.integers(21, 108))))
        t += length + draw(st.integers(0, 3))
    return notes, t + draw(st.integers(0, 4))


@settings(max_examples=200, deadline=None)
@given(grid_melodies(), st.sampled_from([4, 3, 12]))
def test_quantized_notes_round_trip_exactly_through_midi(melody, spq):
    notes, n_steps = melody
    starts, ends, pitches = (np.array([n[i] for n in notes], dtype=np.float64) for i in range(3))
    tokens = notes_to_beat_tokens(starts, ends, pitches.astype(np.int64), n_steps)
    assert beat_tokens_to_notes(tokens) == notes  # re-struck repeats stay two notes
    pm = beat_tokens_to_midi(tokens, spq, qpm=97.0, time_signature=(6, 8))
    back, info = melody_to_beat_tokens(midi_bytes_melody_in_quarters(_bytes(pm)), spq)
    assert np.array_equal(back, tokens)
    assert info["off_grid_notes"] == info["dropped_notes"] == info["lengthened_notes"] == 0
    assert info["time_signature"] == [6, 8] and info["qpm"] == pytest.approx(97.0, abs=1e-3)


def test_a_repeated_note_is_re_struck_and_durations_are_real():
    # C4 for a quarter, C4 again for an eighth, a sixteenth rest, E4 for a dotted quarter
    tokens = notes_to_beat_tokens([0, 4, 7], [4, 6, 13], [60, 60, 64], 14)
    c4, e4 = 60 - 19, 64 - 19
    assert tokens.tolist() == [c4, 1, 1, 1, c4, 1, 0, e4, 1, 1, 1, 1, 1, 0]
    pm = beat_tokens_to_midi(tokens, 4, qpm=120.0)
    got = [(round(n.start, 4), round(n.end, 4), n.pitch) for n in pm.instruments[0].notes]
    assert got == [(0.0, 0.5, 60), (0.5, 0.75, 60), (0.875, 1.625, 64)]
    ts = pm.time_signature_changes[0]
    assert (ts.numerator, ts.denominator) == (4, 4)


def test_unquantized_input_losses_are_counted():
    # off grid (0.3 of a step late), a 0.2-step grace note, two onsets in one step (lower dropped),
    # a low note cut short by a higher one starting while it sounds
    starts = np.array([0.3, 4.0, 4.1, 8.0, 10.0, 16.0])
    ends = np.array([4.0, 4.2, 6.0, 14.0, 12.0, 17.0])
    pitches = np.array([60, 72, 62, 50, 70, 65])
    pitch, owner, counts = quantize_notes(starts, ends, pitches, 18)
    assert counts == {
        "off_grid_notes": 3,  # 0.3, 4.2 and 4.1 are off the grid
        "lengthened_notes": 1,  # the grace note [4, 4.2) rounds to nothing: given one step
        "dropped_notes": 1,  # D4 starts in the grace note's step, under it
        "shortened_notes": 1,  # the low note [8, 14) loses [10, 12) to the higher one
    }
    tokens = notes_to_beat_tokens(starts, ends, pitches, 18)
    assert beat_tokens_to_notes(tokens) == [
        (0, 4, 60), (4, 5, 72), (5, 6, 62), (8, 10, 50), (10, 12, 70), (12, 14, 50), (16, 17, 65),
    ]  # fmt: skip


def test_holds_with_nothing_to_hold_are_rests():
    t = np.array([HOLD, 41, HOLD, REST, HOLD, 43])
    assert canonical(t).tolist() == [0, 41, 1, 0, 0, 43]
    assert beat_tokens_to_notes(t) == [(1, 3, 60), (5, 6, 62)]
    assert beat_tokens_to_frames(t[None, :]).tolist() == [[0, 40, 40, 0, 0, 42]]


def test_bar_lines_follow_time_signature_changes_and_pickups():
    assert bar_starts([], 40, 4).tolist() == [0, 16, 32]
    assert bar_starts([(0, 6, 8)], 40, 4).tolist() == [0, 12, 24, 36]
    assert bar_starts([(0, 4, 4), (32, 3, 4)], 60, 4).tolist() == [0, 16, 32, 44, 56]
    assert bar_starts([(2, 2, 4)], 20, 4).tolist() == [0, 2, 10, 18]  # a 2-step pickup


def test_windows_start_on_bar_lines_and_begin_with_a_note_on():
    e4 = 64 - 19
    tokens = np.array([e4] + [HOLD] * 23 + [0] * 24)  # one note over two bars of 3/4, then rests
    bars = bar_starts([(0, 3, 4)], len(tokens), 4)
    windows, mid_bar = beat_windows(tokens, bars, 12, stride_bars=1)
    assert windows.tolist() == [[e4] + [HOLD] * 11, [e4] + [HOLD] * 11]  # all-rest bars dropped
    assert mid_bar == 0
    _, mid_bar = beat_windows(tokens, bars, 16, stride_bars=1)
    assert mid_bar == 2  # 16 steps end inside a 12-step bar
    windows, _ = beat_windows(tokens, bars, 12)  # no stride: non-overlapping, one bar apart
    assert len(windows) == 2


def test_transposition_moves_note_ons_only():
    w = np.array([[NOTE, HOLD, REST, 89]])
    out = transpose_beat_windows(w, -1, 1)
    assert out.tolist() == [[2, 1, 0, 89]]  # any shift takes a key off the piano: only shift 0
    w = np.array([[10, HOLD, REST, 20]])
    assert transpose_beat_windows(w, -1, 1).tolist() == [
        [10, 1, 0, 20], [9, 1, 0, 19], [11, 1, 0, 21],
    ]  # fmt: skip


def test_config_round_trip_and_validation():
    c = BeatEncodingConfig(steps_per_quarter=12, seq_len=96, stride_bars=2, track=1)
    assert BeatEncodingConfig.from_dict(c.to_dict()) == c
    for bad in ({"steps_per_quarter": 0}, {"seq_len": 0}, {"stride_bars": 0}):
        with pytest.raises(ValueError):
            BeatEncodingConfig(**bad)


ABC_PICKUP = """X:1
T:Pickup
M:6/8
L:1/8
K:G
D|G2B d2B|c2A F2D|G3 G2|]
"""


def test_abc_pickup_puts_the_first_bar_line_after_it(tmp_path):
    path = tmp_path / "p.abc"
    path.write_text(ABC_PICKUP)
    ((label, tokens, info),) = read_beat_tunes(path, BeatEncodingConfig())
    assert info["time_signature"] == [6, 8]
    assert info["time_signatures"] == [(2, 6, 8)]  # the pickup eighth is 2 steps long
    assert tokens[:4].tolist() == [62 - 19, HOLD, 67 - 19, HOLD]  # D (pickup), then G on the bar
    primer, metre = read_beat_primer(path, 1, BeatEncodingConfig())
    assert metre == (6, 8) and len(primer) == 2  # the pickup bar


def test_read_beat_tune_of_a_midi_file(tmp_path):
    tokens = notes_to_beat_tokens([0, 4], [4, 12], [60, 62], 16)
    path = tmp_path / "a.mid"
    beat_tokens_to_midi(tokens, 4, qpm=100.0, time_signature=(3, 4)).write(str(path))
    back, info = read_beat_tune(path)
    assert np.array_equal(back, tokens)
    assert info["time_signatures"] == [(0, 3, 4)] and info["qpm"] == pytest.approx(100.0)


def test_nottingham_test_files_round_trip_exactly(shared_data):
    """Every test file: tokens -> MIDI -> tokens is exact; and a file with nothing off the grid
    decodes to exactly its melody's notes (ends a tick short of the grid round to it)."""
    folder = shared_data / "nottingham" / "boulanger_lewandowski_2012" / "test"
    files = sorted(folder.glob("*.mid"))
    assert len(files) == 170
    clean = 0
    for f in files:
        melody = read_midi_melody_in_quarters(f)
        tokens, info = melody_to_beat_tokens(melody, 4)
        pm = beat_tokens_to_midi(tokens, 4, qpm=info["qpm"], time_signature=info["time_signature"])
        back, _ = melody_to_beat_tokens(midi_bytes_melody_in_quarters(_bytes(pm)), 4)
        assert np.array_equal(back, tokens), f.name
        if info["off_grid_notes"] == info["dropped_notes"] == info["shortened_notes"] == 0:
            clean += 1
            want = sorted(
                (round(s * 4), round(e * 4), int(p))
                for s, e, p in zip(melody["starts"], melody["ends"], melody["pitches"])
            )
            assert beat_tokens_to_notes(tokens) == want, f.name
    assert clean > len(files) // 2  # most files are exactly on the sixteenth grid
