"""Metrics: BLEU and Self-BLEU against nltk's sentence_bleu (the Texygen definition), hand cases for
distinct-n and nearest MSE, Welch's p-value against scipy."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from scipy import stats

from seqgan_music.core.metrics import bleu, distinct_n, nearest_mse, self_bleu, welch_p_value
from seqgan_music.errors import SeqGANMusicError

METHOD1 = SmoothingFunction().method1


def nltk_bleu(hyps, refs, n):
    refs = [list(r) for r in refs]
    weights = (1.0 / n,) * n
    return np.array([sentence_bleu(refs, list(h), weights, METHOD1) for h in hyps])


def nltk_self_bleu(samples, n):
    samples = [list(s) for s in samples]
    weights = (1.0 / n,) * n
    return np.array([
        sentence_bleu(samples[:i] + samples[i + 1:], s, weights, METHOD1)
        for i, s in enumerate(samples)
    ])  # fmt: skip


# ---------------------------------------------------------------- BLEU equals nltk


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("vocab", [89, 4])  # 4: many matches, so clipping is exercised
def test_bleu_equals_nltk_on_random_windows(n, vocab):
    rng = np.random.default_rng(n * 100 + vocab)
    hyps, refs = rng.integers(0, vocab, (15, 32)), rng.integers(0, vocab, (40, 32))
    np.testing.assert_allclose(bleu(hyps, refs, n), nltk_bleu(hyps, refs, n), rtol=0, atol=1e-9)


def test_bleu_equals_nltk_on_variable_length_text():
    rng = np.random.default_rng(7)
    # lengths 0..11 include empty hypotheses and ones shorter than n
    refs = [rng.integers(0, 9, rng.integers(0, 12)).tolist() for _ in range(30)]
    hyps = [rng.integers(0, 9, rng.integers(0, 12)).tolist() for _ in range(40)]
    for n in (2, 3, 4):
        np.testing.assert_allclose(bleu(hyps, refs, n), nltk_bleu(hyps, refs, n), atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 5), max_size=9), min_size=1, max_size=6),
    st.lists(st.lists(st.integers(0, 5), max_size=9), min_size=1, max_size=6),
    st.integers(1, 5),
)
def test_bleu_equals_nltk_property(hyps, refs, n):
    np.testing.assert_allclose(bleu(hyps, refs, n), nltk_bleu(hyps, refs, n), atol=1e-9)


def test_brevity_penalty_tie_takes_the_shorter_reference():
    # |5 - 4| == |5 - 6|: nltk picks 4, so c = 5 > r = 4 and BP = 1 (picking 6 would give < 1)
    hyp, refs = [[1, 2, 3, 4, 5]], [[1, 2, 3, 4], [1, 2, 3, 4, 5, 6]]
    assert bleu(hyp, refs, 2)[0] == pytest.approx(1.0)
    np.testing.assert_allclose(bleu(hyp, refs, 2), nltk_bleu(hyp, refs, 2), atol=1e-9)


def test_hand_cases():
    refs = [[1, 2, 3, 4]]
    assert bleu([[9, 9, 9, 9]], refs, 4)[0] == 0.0  # no unigram match: nltk returns 0
    assert bleu([[]], refs, 2)[0] == 0.0  # empty hypothesis
    assert bleu([[1, 2, 3, 4]], refs, 4)[0] == pytest.approx(1.0)
    # one token, BLEU-2: p1 = 1/1, p2 = 0.1/1 (method1 epsilon over the denominator floor of 1),
    # BP = exp(1 - 4/1): score = exp(-3) * sqrt(0.1)
    assert bleu([[2]], refs, 2)[0] == pytest.approx(np.exp(-3) * np.sqrt(0.1), abs=1e-12)


def _nottingham_windows(shared_data: Path, n_files: int) -> np.ndarray:
    """Melody windows of 32 steps: instrument 0, highest sounding pitch at (k + 0.5) * 0.4 s,
    token = pitch - 20, 0 = silent (the project's music tokens)."""
    pretty_midi = pytest.importorskip("pretty_midi")
    files = sorted((shared_data / "nottingham/boulanger_lewandowski_2012/test").glob("*.mid"))
    windows = []
    for path in files[:n_files]:
        notes = pretty_midi.PrettyMIDI(str(path)).instruments[0].notes
        times = (np.arange(int(max(n.end for n in notes) / 0.4)) + 0.5) * 0.4
        tokens = np.zeros(len(times), dtype=np.int64)
        for note in notes:
            on = (times >= note.start) & (times < note.end)
            tokens[on] = np.maximum(tokens[on], note.pitch - 20)
        windows.append(tokens[: len(tokens) // 32 * 32].reshape(-1, 32))  # (W, 32)
    return np.concatenate(windows)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_bleu_and_self_bleu_equal_nltk_on_real_windows(shared_data):
    windows = _nottingham_windows(shared_data, 16)
    hyps, refs = windows[:12], windows[12:]
    assert len(refs) >= 20 and (windows > 0).any()
    for n in (2, 3, 4):
        np.testing.assert_allclose(bleu(hyps, refs, n), nltk_bleu(hyps, refs, n), atol=1e-9)
    np.testing.assert_allclose(
        self_bleu(windows[:25], 4), nltk_self_bleu(windows[:25], 4), atol=1e-9
    )


# ---------------------------------------------------------------- Self-BLEU and distinct-n


def test_self_bleu_excludes_the_sample_itself():
    rng = np.random.default_rng(3)
    samples = rng.integers(0, 89, (6, 32))
    # Texygen's plain version would score 1.0 here: each sample is its own reference.
    assert self_bleu(samples, 4).max() < 0.5
    np.testing.assert_allclose(self_bleu(samples, 4), nltk_self_bleu(samples, 4), atol=1e-9)
    collapsed = np.tile(samples[:1], (5, 1))
    np.testing.assert_allclose(self_bleu(collapsed, 4), 1.0)


def test_self_bleu_equals_nltk_with_variable_lengths_and_duplicates():
    samples = [[1, 2, 3], [1, 2, 3], [1, 2], [4, 4, 4, 4, 4], [2, 3, 1, 2], [5]]
    for n in (1, 2, 3):
        np.testing.assert_allclose(self_bleu(samples, n), nltk_self_bleu(samples, n), atol=1e-9)


def test_self_bleu_needs_two_samples():
    with pytest.raises(SeqGANMusicError):
        self_bleu([[1, 2, 3]], 2)


def test_distinct_n_hand_case():
    samples = [[1, 1, 2], [1, 2, 3]]
    assert distinct_n(samples, 1) == pytest.approx(3 / 6)  # {1, 2, 3} of 6 tokens
    assert distinct_n(samples, 2) == pytest.approx(3 / 4)  # (1,1) (1,2) (1,2) (2,3)
    assert distinct_n(samples, 3) == pytest.approx(2 / 2)
    assert distinct_n(samples, 4) == 0.0  # no 4-grams at all
    assert distinct_n(np.tile([[7, 8, 9, 7]], (10, 1)), 2) == pytest.approx(3 / 30)
    with pytest.raises(SeqGANMusicError, match="order must be >= 1"):
        distinct_n(samples, 0)


# ---------------------------------------------------------------- nearest MSE

# The music domain's settings (rest token 0, an octave squared where only one window sounds).
MUSIC = {"ignore_token": 0, "rest_penalty": 144.0}


def test_nearest_mse_hand_cases():
    refs = np.array([[1, 2, 5], [4, 4, 4]])
    # d = (0 + 0 + 4) / 3 and (9 + 4 + 1) / 3: the nearest is the first
    assert nearest_mse(np.array([[1, 2, 3]]), refs)[0] == pytest.approx(4 / 3)
    # rest rule: both rest = 0, one rest = 144 (an octave squared)
    assert nearest_mse(np.array([[0, 2]]), np.array([[0, 4]]), **MUSIC)[0] == pytest.approx(2.0)
    assert nearest_mse(np.array([[0, 2]]), np.array([[3, 2]]), **MUSIC)[0] == pytest.approx(72.0)
    assert (
        nearest_mse(np.array([[0, 2]]), np.array([[3, 2]]), ignore_token=0, rest_penalty=10.0)[0]
        == 5.0
    )
    # skip rule: only steps where both sound count; none -> inf
    skip = nearest_mse(np.array([[0, 2], [0, 0]]), np.array([[3, 5]]), ignore_token=0)
    assert skip[0] == pytest.approx(9.0) and np.isinf(skip[1])
    # no rests at all: token 0 is a pitch like any other
    assert nearest_mse(np.array([[0, 2]]), np.array([[3, 2]]), ignore_token=None)[0] == 4.5


@pytest.mark.parametrize("rest_penalty", [144.0, None])
def test_nearest_mse_equals_a_plain_loop(rest_penalty):
    rng = np.random.default_rng(11)
    hyps, refs = rng.integers(0, 6, (9, 8)), rng.integers(0, 6, (13, 8))

    def dist(a, b):
        cost = []
        for x, y in zip(a, b, strict=True):
            if x and y:
                cost.append((x - y) ** 2)
            elif x or y:
                if rest_penalty is not None:
                    cost.append(rest_penalty)
            elif rest_penalty is not None:  # both rest: free, or skipped with the skip rule
                cost.append(0.0)
        return np.mean(cost) if cost else np.inf

    expected = [min(dist(h, r) for r in refs) for h in hyps]
    np.testing.assert_allclose(
        nearest_mse(hyps, refs, ignore_token=0, rest_penalty=rest_penalty, chunk=4), expected
    )


def test_nearest_mse_rejects_unequal_lengths():
    with pytest.raises(SeqGANMusicError, match="equal-length"):
        nearest_mse(np.zeros((2, 5)), np.zeros((2, 6)))


# ---------------------------------------------------------------- Welch's t-test


def test_welch_p_value_matches_scipy_and_handles_constants():
    rng = np.random.default_rng(5)
    a, b = rng.normal(0, 1, 50), rng.normal(0.5, 2, 70)
    assert welch_p_value(a, b) == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue)
    assert welch_p_value(np.ones(5), np.zeros(5)) == 0.0
    assert np.isnan(welch_p_value(np.ones(5), np.ones(5)))
    assert np.isnan(welch_p_value(np.ones(1), np.zeros(5)))
    with_nan = np.append(a, np.nan)  # undefined per-sequence values drop out
    assert welch_p_value(with_nan, b) == pytest.approx(welch_p_value(a, b))
