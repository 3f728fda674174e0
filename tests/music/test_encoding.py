"""Encoding rules: 88 keys + rest, octave folding, step-centre sampling, windows, augmentation."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from seqgan_music.music.io.melody import choose_melody_track, covered_seconds
from seqgan_music.music.paper.encoding import (
    VOCAB_SIZE,
    EncodingConfig,
    notes_to_tokens,
    pitch_to_token,
    steps_in,
    token_to_pitch,
    tokens_to_notes,
    tokens_to_windows,
    transpose_windows,
    windows_to_tokens,
)
from seqgan_music.music.pitch import fold_into_range


def test_vocabulary_is_88_keys_and_a_rest():
    assert VOCAB_SIZE == 89
    assert pitch_to_token(np.array([21, 60, 108])).tolist() == [1, 40, 88]
    assert token_to_pitch(np.array([1, 40, 88])).tolist() == [21, 60, 108]


@given(st.lists(st.integers(0, 127), max_size=50))
def test_fold_into_range_moves_by_octaves_and_counts(pitches):
    folded, moved = fold_into_range(np.array(pitches, dtype=np.int64))
    p = np.array(pitches, dtype=np.int64)
    assert ((folded >= 21) & (folded <= 108)).all()
    assert ((folded - p) % 12 == 0).all()
    assert moved == int(((p < 21) | (p > 108)).sum())
    assert np.array_equal(folded[(p >= 21) & (p <= 108)], p[(p >= 21) & (p <= 108)])


def test_fold_examples():
    assert fold_into_range(np.array([20, 9, 8, 109, 127, 0]))[0].tolist() == [
        32,
        21,
        32,
        97,
        103,
        24,
    ]


def test_samples_at_step_centres_highest_pitch_wins_and_rests_are_zero():
    # step 0.4: centres at 0.2, 0.6, 1.0, 1.4, 1.8
    starts = np.array([0.0, 0.1, 0.9, 1.25])
    ends = np.array([0.7, 0.5, 1.1, 1.4])  # 1.25-1.4 ends exactly at the centre 1.4: not sounding
    pitches = np.array([60, 72, 64, 67])
    tokens = notes_to_tokens(starts, ends, pitches, end_time=2.0, step_seconds=0.4)
    assert tokens.tolist() == [72 - 20, 60 - 20, 64 - 20, 0, 0]


def test_note_starting_on_a_centre_sounds_there():
    tokens = notes_to_tokens(np.array([0.2]), np.array([0.3]), np.array([60]), 0.4, 0.4)
    assert tokens.tolist() == [40]


def test_step_count_includes_a_partial_last_step():
    assert steps_in(0.0, 0.4) == 0
    assert steps_in(0.8, 0.4) == 2
    assert steps_in(0.85, 0.4) == 3
    assert steps_in(0.8 + 1e-4, 0.4) == 2  # tick rounding of a rendered end stays put


def test_tokens_to_notes_holds_or_restrikes():
    t = np.array([40, 40, 0, 41, 41, 41])
    assert tokens_to_notes(t, 0.5) == [(0.0, 1.0, 60), (1.5, 3.0, 61)]
    assert len(tokens_to_notes(t, 0.5, restrike=True)) == 5
    with pytest.raises(ValueError, match="0..88"):
        tokens_to_notes(np.array([89]), 0.4)


def test_windows_stride_and_all_rest_windows_dropped():
    t = np.concatenate([np.full(4, 5), np.zeros(4, dtype=int), np.full(4, 7), [1, 2]])
    w = tokens_to_windows(t, seq_len=4, stride=4)
    assert w.tolist() == [[5] * 4, [7] * 4]  # the rest window and the short tail are dropped
    assert tokens_to_windows(t, 4, 2).shape == (5, 4)  # starts 0,2,4,6,8,10 minus the rest one
    assert tokens_to_windows(t[:3], 4, 4).shape == (0, 4)
    assert np.array_equal(windows_to_tokens(w), np.array([5] * 4 + [7] * 4))


def test_transposition_keeps_windows_in_range_and_rests_as_rests():
    w = np.array([[1, 0, 3], [40, 41, 0], [86, 88, 0]])
    out = transpose_windows(w, -2, 2)
    assert np.array_equal(out[:3], w)  # originals first
    assert out.min() >= 0 and out.max() <= 88
    # window 0 can go up 1 or 2, window 1 every way, window 2 down 1 or 2: 3 originals + 8
    assert len(out) == 3 + 8
    assert sorted(map(tuple, out[3:].tolist())) == sorted(
        [(2, 0, 4), (3, 0, 5), (38, 39, 0), (39, 40, 0), (41, 42, 0), (42, 43, 0),
         (84, 86, 0), (85, 87, 0)]
    )  # fmt: skip


def test_encoding_config_dict_round_trip_and_checks():
    c = EncodingConfig(step_seconds=0.25, seq_len=16, stride=8, track=1, transpose=(-3, 4))
    assert EncodingConfig.from_dict(c.to_dict()) == c
    assert EncodingConfig.from_dict(EncodingConfig().to_dict()) == EncodingConfig()
    for bad in ({"step_seconds": 0}, {"seq_len": 0}, {"transpose": (3, -3)}):
        with pytest.raises(ValueError):
            EncodingConfig(**bad)


def _track(pitches, starts=None, ends=None, drum=False):
    n = len(pitches)
    s = np.arange(n, dtype=float) if starts is None else np.array(starts, dtype=float)
    e = s + 1.0 if ends is None else np.array(ends, dtype=float)
    return {"is_drum": drum, "starts": s, "ends": e, "pitches": np.array(pitches)}


def test_melody_rule_highest_mean_pitch_among_tracks_heard_throughout():
    mono = _track([60, 62, 64])
    chords = _track([48, 52, 55], starts=[0, 0, 0], ends=[2, 2, 2])
    high = _track([80, 82, 84], starts=[0, 0, 1], ends=[2, 2, 2])
    assert choose_melody_track([mono, chords]) == 0
    assert choose_melody_track([chords, mono, high]) == 2  # polyphonic or not: highest mean
    assert choose_melody_track([_track([90, 91], drum=True), _track([50, 52])]) == 1
    assert choose_melody_track([_track([], drum=False), _track([50])]) == 1
    assert choose_melody_track([_track([36], drum=True)]) == -1
    assert choose_melody_track([]) == -1
    # a monophonic lower first track no longer wins over a higher voice (a chorale's "Horn 2")
    assert choose_melody_track([_track([64, 65, 64]), _track([70, 72, 71])]) == 1
    # a high part heard for one note of three seconds is not the tune (a cantata's trumpet)
    assert choose_melody_track([_track([90]), _track([70, 72, 71])]) == 1
    # equal mean pitch: the monophonic track, then the first
    assert choose_melody_track([_track([60, 64], starts=[0, 0]), _track([62, 62])]) == 1
    assert choose_melody_track([_track([62, 62]), _track([62, 62])]) == 0


def test_covered_seconds_is_the_union_of_the_notes():
    assert covered_seconds(np.array([]), np.array([])) == 0.0
    # [0, 2) and [1, 3) overlap -> [0, 3); a gap; [5, 6)
    assert covered_seconds(np.array([1.0, 0.0, 5.0]), np.array([3.0, 2.0, 6.0])) == 4.0
    assert covered_seconds(np.array([0.0, 0.5]), np.array([4.0, 1.0])) == 4.0  # nested
