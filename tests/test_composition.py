"""composition.py directly: sampling through the model's domain, generic checks first."""

import pytest

from seqgan_music.composition import compose
from seqgan_music.errors import SeqGANMusicError
from seqgan_music.models import load_checkpoint


def test_text_samples_are_returned_and_written(text_run, tmp_path):
    model = load_checkpoint(text_run)
    pieces = compose(tmp_path / "out.txt", model=model, num=3, seed=0)
    assert len(pieces) == 3 and all(p.text is not None for p in pieces)
    assert (tmp_path / "out.txt").read_text().splitlines() == [p.text for p in pieces]
    again = compose(None, model=model, num=3, seed=0)  # seeded: the same samples
    assert [p.text for p in again] == [p.text for p in pieces]


def test_bad_requests_are_one_line_errors(text_run):
    model = load_checkpoint(text_run)
    with pytest.raises(SeqGANMusicError, match="--num"):
        compose(None, model=model, num=0)
    with pytest.raises(SeqGANMusicError, match="--temperature"):
        compose(None, model=model, temperature=0)
    with pytest.raises(SeqGANMusicError, match="--bars is not an option of text models"):
        compose(None, model=model, bars=4)
    assert compose(None, model=model, png=False, tempo=None)  # not given: no error
