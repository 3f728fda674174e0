"""`evaluate --tunes --temperatures`: the temperature is the one whose composed tunes' notes per bar
come closest to the valid split's real tunes (shipped beat model)."""

from pathlib import Path

import pytest

from seqgan_music.api import load_checkpoint
from seqgan_music.music.whole_tunes import matched_temperature

BEAT = Path(__file__).resolve().parents[2] / "seqgan_music" / "assets" / "nottingham-beat-small.pt"


@pytest.mark.parametrize(("target", "chosen"), [(0.0, 0.5), (16.0, 3.0)])
def test_the_temperature_matching_notes_per_bar_is_chosen(target, chosen):
    """Near-uniform sampling (T = 3) strikes a note on most steps, T = 0.5 holds long notes."""
    assert matched_temperature(load_checkpoint(BEAT), (0.5, 3.0), target, 3, 0) == chosen
