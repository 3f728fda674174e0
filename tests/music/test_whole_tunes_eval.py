"""Whole-tune metrics (`evaluate --tunes`) on tunes whose answers are known, and the command end to
end on a small corpus made here."""

from pathlib import Path

import numpy as np
import pytest
from helpers import run_cli

from seqgan_music.music.beat.encoding import notes_to_beat_tokens
from seqgan_music.music.beat.tunes import beat_tokens_to_midi
from seqgan_music.music.whole_tunes import CopyFinder, groove_consistency, tune_scores

BAR = 16


def test_a_repeated_bar_tonic_ending_tune():
    bar = [(0, 4, 60), (4, 8, 64), (8, 12, 67), (12, 16, 64)]
    notes = [(s + k * BAR, e + k * BAR, p) for k in range(4) for s, e, p in bar]
    notes[-1] = (notes[-1][0], notes[-1][1], 60)  # the last bar ends on C
    got = tune_scores(notes, 4 * BAR, BAR)
    assert got["ends_on_tonic"] == 1.0
    assert got["recurring_bars"] == 0.75  # three equal bars, the last differs
    assert got["notes_per_bar"] == 4.0
    assert got["in_mode"] == 1.0
    assert got["groove_consistency"] == 1.0  # every bar: onsets on the beats
    assert got["pitch_range"] == 7.0


def test_groove_consistency_is_muspy_s():
    # bar 1 onsets at 0, 8; bar 2 at 0, 4, 8, 12: Hamming distance 2 of 16
    notes = [(0, 8, 60), (8, 16, 62), (16, 20, 60), (20, 24, 62), (24, 28, 64), (28, 32, 65)]
    assert groove_consistency(notes, 32, BAR) == pytest.approx(1 - 2 / 16)


def test_copy_finder_finds_the_longest_shared_run():
    rng = np.random.default_rng(0)
    training = [rng.integers(2, 90, 200) for _ in range(5)]
    tune = np.concatenate([rng.integers(2, 90, 30), training[3][50:87], rng.integers(2, 90, 30)])
    assert CopyFinder(training).longest(tune) >= 37
    assert CopyFinder(training).longest(tune) < 40  # random tokens around it rarely extend it


def _corpus(root):
    rng = np.random.default_rng(1)
    for split, n in (("train", 6), ("valid", 2), ("test", 3)):
        (root / split).mkdir(parents=True)
        for i in range(n):
            notes, t = [], 0
            while t < 20 * BAR:
                d = int(rng.choice([2, 4]))
                notes.append((t, t + d, int(rng.choice([60, 62, 64, 65, 67, 69, 71, 72]))))
                t += d
            s, e, p = (np.array([x[j] for x in notes]) for j in range(3))
            tokens = notes_to_beat_tokens(s, e, p, 20 * BAR)
            beat_tokens_to_midi(tokens, 4).write(str(root / split / f"{split}{i}.mid"))


def test_evaluate_tunes_end_to_end(tmp_path):
    _corpus(tmp_path / "data")
    beat = (
        Path(__file__).resolve().parents[2] / "seqgan_music" / "assets" / "nottingham-beat-small.pt"
    )
    result = run_cli("evaluate", "--tunes", "--checkpoint", beat, "--name", "beat", "--data",
                     tmp_path / "data", "--num", "2", "--threads", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    for row in ("ends_on_tonic", "recurring_bars", "groove_consistency", "copied_2_bars"):
        assert f"| {row} |" in result.output
    assert "| ends_on_tonic | 1.000 |" in result.output  # the cadence is asked for
    result = run_cli("evaluate", "--tunes", "--checkpoint", beat, "--data", tmp_path / "data",
                     "--num", "2", "--threads", "1", "--temperatures", "0.5,3")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "| temperature | 0.500 |" in result.output or "| temperature | 3.000 |" in result.output
    result = run_cli("evaluate", "--tunes", "--checkpoint", beat, "--data", tmp_path)
    assert result.exit_code == 1 and "train/, valid/ and test/" in result.output
