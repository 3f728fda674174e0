"""Forms from the shipped beat model: the cadence's key is the key the whole played tune is read in
(music21), and the plagiarism guard draws a tune again while it copies 2 bars of a training tune."""

from pathlib import Path

import numpy as np
import pytest

from seqgan_music.models import load_checkpoint
from seqgan_music.music.beat.encoding import beat_tokens_to_notes
from seqgan_music.music.beat.form import FormRequest, compose_form
from seqgan_music.music.io.score import analyse_key
from seqgan_music.music.whole_tunes import CopyFinder

BEAT = Path(__file__).resolve().parents[2] / "seqgan_music" / "assets" / "nottingham-beat-small.pt"


@pytest.fixture(scope="module")
def model():
    return load_checkpoint(BEAT)


def _played(tune, form):
    return np.concatenate([tune.parts[x] for x in form])


@pytest.mark.parametrize("form", ["AABB", "ABAB"])
def test_the_tune_ends_on_the_tonic_of_its_own_key(model, form):
    request = FormRequest(form, 4, (4, 4), None, None)
    for seed in range(4):
        tune = compose_form(model, request, seed=seed)
        notes = beat_tokens_to_notes(_played(tune, form))
        assert max(notes)[2] % 12 == analyse_key(notes)[0] == tune.tonic_pc


class _Everything:
    def longest(self, tokens):
        return len(tokens)  # every tune "copies" itself whole


def test_the_guard_draws_again_until_no_copy(model):
    request = FormRequest("AABB", 4, (4, 4), None, None)
    first = compose_form(model, request, seed=3)
    assert first.rejected == 0
    guarded = compose_form(model, request, seed=3, guard=CopyFinder([_played(first, "AABB")]))
    assert guarded.rejected == 1  # the first draw is the training tune itself
    assert guarded.copied_steps < 2 * 16
    assert not np.array_equal(_played(guarded, "AABB"), _played(first, "AABB"))
    given_up = compose_form(model, request, seed=3, guard=_Everything(), tries=3)
    assert given_up.rejected == 2  # bounded: the last draw is kept and says so
    assert given_up.copied_steps == 4 * 4 * 16


@pytest.mark.parametrize("seed", range(4))
def test_parts_after_a_keep_to_one_key_s_scale(model, seed):
    """Without --key the B part's note-ons keep to the scale of the key found in the A part: its
    pitch classes fit one major or minor scale (with the raised leading note)."""
    from seqgan_music.music.io.score import MODE_STEPS

    tune = compose_form(model, FormRequest("AABB", 4, (4, 4), None, None), seed=seed)
    pcs = {p % 12 for _, _, p in beat_tokens_to_notes(tune.parts["B"])}
    assert pcs and any(pcs <= {(t + s) % 12 for s in MODE_STEPS[m]}
                       for t in range(12) for m in ("major", "minor"))  # fmt: skip
