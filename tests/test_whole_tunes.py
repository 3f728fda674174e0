"""16-bar tunes from the shipped models keep their key and their range (metrics over the whole
tune, sampled in one pass past the training window), each judged against the same tunes with their
ends swapped: what a tune that forgot its key, register or range would score. The README sets the
values beside real Nottingham openings (benchmarks/whole_tunes.py)."""

from pathlib import Path

import numpy as np
import pytest

from seqgan_music.api import Runtime, load_checkpoint
from seqgan_music.music.tune_metrics import (
    composed_frames,
    mismatched_key_kept,
    mismatched_pitch_range,
    mismatched_register_drift,
    tune_metrics,
)

ASSETS = Path(__file__).resolve().parents[1] / "seqgan_music" / "assets"
MODELS = {"paper": ASSETS / "folk-small.pt", "beat": ASSETS / "nottingham-beat-small.pt"}
BARS = 16


@pytest.mark.parametrize("encoding", sorted(MODELS))
def test_16_bar_tunes_keep_their_key_and_range(encoding: str) -> None:
    model = load_checkpoint(MODELS[encoding], runtime=Runtime.resolve("cpu", set_threads=False))
    tunes = composed_frames(model, 100, BARS, seed=0)
    assert len(tunes[0]) > model.config.generator.seq_len  # past the training window
    got = tune_metrics(tunes)
    # the key: the last bars stay in the scale of the first bars more than in another tune's key
    assert np.nanmean(got["key_kept"]) > np.nanmean(mismatched_key_kept(tunes))
    # the register: the tune ends nearer where it began than another tune does
    assert np.nanmean(got["register_drift"]) < np.nanmean(mismatched_register_drift(tunes))
    # the range: narrower than a tune whose second half comes from another tune
    assert np.nanmean(got["pitch_range"]) < np.nanmean(mismatched_pitch_range(tunes))
