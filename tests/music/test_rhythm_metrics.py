"""Rhythm metrics on beat windows and whole-tune key/range metrics, on hand-made examples."""

import numpy as np
import pytest

from seqgan_music.music.beat.encoding import HOLD
from seqgan_music.music.beat.metrics import (
    inter_onset_intervals,
    note_durations,
    rhythm_metrics,
    rhythm_overlaps,
)
from seqgan_music.music.tune_metrics import mismatched_key_kept, tune_metrics

C, E, G = 60 - 19, 64 - 19, 67 - 19  # note-on tokens


def test_durations_and_inter_onset_intervals():
    w = np.array([
        [C, HOLD, HOLD, HOLD, E, HOLD, 0, G],  # quarter, eighth (then a rest), a cut-off last note
        [HOLD, 0, C, C, 0, 0, 0, 0],  # a dangling hold is a rest; a re-struck repeat is two notes
    ])  # fmt: skip
    d, rows = note_durations(w)
    assert d.tolist() == [4, 2, 1, 1, 1] and rows.tolist() == [0, 0, 0, 1, 1]
    assert inter_onset_intervals(w).tolist() == [4, 3, 1]  # never across windows


def test_per_window_rhythm_metrics():
    w = np.array([[C, HOLD, HOLD, HOLD, E, HOLD, 0, G], [0] * 8])
    m = rhythm_metrics(w, steps_per_quarter=4, bar_steps=4)
    assert m["notes_per_bar"].tolist() == [1.5, 0.0]  # 3 notes in 2 bars of 4 steps
    assert m["strong_beat_share"][0] == pytest.approx(2 / 3)  # C at 0, E at 4; G at 7 is off
    assert m["mean_note_duration"][0] == pytest.approx(7 / 3)
    assert np.isnan(m["strong_beat_share"][1])


def test_rhythm_overlaps_see_rhythm_that_pitch_metrics_miss():
    quarters = np.tile([C, HOLD, HOLD, HOLD], (50, 4))
    sixteenths = np.tile([C, C, C, C], (50, 4))  # the same sounding pitch at every step
    same = rhythm_overlaps(quarters, quarters, 4, 16)
    other = rhythm_overlaps(sixteenths, quarters, 4, 16)
    assert same["note_duration"] == pytest.approx(1.0)
    assert other["note_duration"] < 0.01 and other["notes_per_bar"] < 0.01


def test_whole_tune_key_and_range():
    c_major = np.array([40, 42, 44, 45, 47, 49, 51, 52] * 4)  # MIDI 60..72 as paper tokens
    f_sharp = c_major + 6  # a tritone away: most notes out of C major
    drifting = np.concatenate([c_major[:16], f_sharp[16:]])
    m = tune_metrics([c_major, drifting])
    assert m["key_kept"].tolist()[0] == 1.0 and m["key_kept"][1] < 0.5
    assert m["pitch_range"].tolist() == [12.0, 18.0]
    assert m["register_drift"].tolist() == [0.0, 6.0]
    assert mismatched_key_kept([c_major, f_sharp]).max() < 0.5
