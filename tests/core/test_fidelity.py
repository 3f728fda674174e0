"""The distribution metrics: each must read ~chance / ~0 on equal distributions and move on shifted
ones, and the Frechet distance must equal the textbook sqrtm formula."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from seqgan_music.core.fidelity import (
    classifier_two_sample,
    copy_rates,
    fidelity_scores,
    frechet_distance,
    ngram_features,
)
from seqgan_music.errors import SeqGANMusicError


def _gauss(rng: np.random.Generator, n: int, shift: float = 0.0, dims: int = 6) -> np.ndarray:
    return rng.normal(size=(n, dims)) + shift


def test_two_sample_test_reads_chance_on_one_distribution_and_high_on_a_shifted_one() -> None:
    rng = np.random.default_rng(0)
    same = classifier_two_sample(_gauss(rng, 600), _gauss(rng, 600), seed=1)
    assert abs(same.accuracy - 0.5) < 0.06 and same.ci_low < 0.5 < same.ci_high
    assert same.n_test == 600 and set(np.unique(same.correct)) <= {0.0, 1.0}
    shifted = classifier_two_sample(_gauss(rng, 600), _gauss(rng, 600, shift=1.0), seed=1)
    assert shifted.accuracy > 0.85 and shifted.ci_low > 0.8
    assert shifted.ci_low < shifted.accuracy < shifted.ci_high


def test_two_sample_test_balances_the_classes_and_refuses_tiny_sets() -> None:
    rng = np.random.default_rng(1)
    result = classifier_two_sample(_gauss(rng, 40), _gauss(rng, 400), seed=0)
    assert result.n_test == 40  # 20 + 20 held out: the larger set is cut to the smaller's size
    with pytest.raises(SeqGANMusicError, match="at least 4 rows"):
        classifier_two_sample(_gauss(rng, 3), _gauss(rng, 3))
    with pytest.raises(SeqGANMusicError, match="features"):
        classifier_two_sample(_gauss(rng, 10, dims=2), _gauss(rng, 10, dims=3))


def _frechet_sqrtm(a: np.ndarray, b: np.ndarray) -> float:
    """The FID reference implementation's formula (pytorch-fid): scipy's general sqrtm."""
    s_a, s_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    covmean = linalg.sqrtm(s_a @ s_b).real
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s_a + s_b - 2 * covmean))


def test_frechet_distance_equals_the_sqrtm_formula() -> None:
    rng = np.random.default_rng(2)
    for dims in (1, 3, 8):
        a = rng.normal(size=(200, dims)) @ rng.normal(size=(dims, dims))
        b = rng.normal(size=(150, dims)) * 2 + 0.5
        assert frechet_distance(a, b) == pytest.approx(_frechet_sqrtm(a, b), rel=1e-6, abs=1e-9)


def test_frechet_distance_is_zero_for_one_set_and_the_squared_shift_for_a_moved_one() -> None:
    rng = np.random.default_rng(3)
    a = _gauss(rng, 500)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(a, a + 2.0) == pytest.approx(6 * 4.0, rel=1e-9)  # 6 dims, shift 2
    near, far = frechet_distance(a, _gauss(rng, 500)), frechet_distance(a, _gauss(rng, 500, 1))
    assert near < 0.3 < 5 < far


def test_copy_rates_find_verbatim_copies_also_across_window_boundaries() -> None:
    rng = np.random.default_rng(4)
    train = rng.integers(0, 50, size=(20, 32))
    stream = [train.reshape(-1)]  # windows end to end, as the music domain passes them
    copied = train[3]
    straddling = stream[0][32 * 5 + 7 : 32 * 5 + 39]  # 25 steps of window 5, 7 of window 6
    novel = rng.integers(50, 60, size=32)  # tokens the training data never uses
    half = np.r_[train[8][:16], novel[:16]]  # its first 16-step run is copied, no other
    rates = copy_rates(np.stack([copied, straddling, novel, half]), stream, run=16)
    np.testing.assert_array_equal(rates["copied"], [1, 1, 0, 0])
    np.testing.assert_allclose(rates["copied 16-runs"], [1, 1, 0, 1 / 17])


def test_copy_rates_on_variable_length_sequences_stay_inside_each_sequence() -> None:
    train = [[1, 2, 3, 4], [5, 6, 7]]
    samples = [[2, 3, 4], [4, 5, 6], [5, 6, 7], [9]]  # [4, 5, 6] spans two training lines
    rates = copy_rates(samples, train, run=2)
    np.testing.assert_array_equal(rates["copied"], [1, 0, 1, 0])
    np.testing.assert_allclose(rates["copied 2-runs"][:3], [1, 0.5, 1])
    assert np.isnan(rates["copied 2-runs"][3])  # no 2-step run in a 1-token sample


def test_ngram_features_are_token_and_bigram_shares() -> None:
    feats = ngram_features([[0, 1, 1, 2], [], [2]], vocab_size=3, buckets=4)
    np.testing.assert_allclose(feats[0, :3], [0.25, 0.5, 0.25])
    assert feats[0, 3:].sum() == pytest.approx(1.0)  # 3 bigrams, shares over buckets
    assert not feats[1].any() and feats[2, 2] == 1.0 and not feats[2, 3:].any()


def test_ngram_features_hash_a_vocabulary_larger_than_the_buckets() -> None:
    # text: 5,000+ characters or words would make a (vocab x vocab) covariance; hashed, it is not
    feats = ngram_features([[0, 4999, 4999, 17], [3000]], vocab_size=5000, buckets=8)
    assert feats.shape == (2, 16)
    np.testing.assert_allclose(feats[0, :8], [0.25, 0.25, 0, 0, 0, 0, 0, 0.5])  # t mod 8
    np.testing.assert_allclose(feats[1, :8], [1, 0, 0, 0, 0, 0, 0, 0])  # 3000 = 375 * 8
    assert feats[0, 8:].sum() == pytest.approx(1.0) and not feats[1, 8:].any()


def test_frechet_distance_in_the_units_of_a_fixed_set() -> None:
    rng = np.random.default_rng(6)
    scale = _gauss(rng, 2000) * [1, 1, 1, 1, 1, 10]  # the last feature varies 10x more
    a, b = _gauss(rng, 800), _gauss(rng, 800) + [0, 0, 0, 0, 0, 10]
    seqs = rng.integers(0, 5, size=(20, 20))
    scores = fidelity_scores(b, a, scale, {}, seqs, [seqs.reshape(-1)], 16)
    assert 0.8 < scores["Frechet distance"] < 1.3  # a shift of 10 is 1 sd of the scale: ~1 + noise
    assert scores["C2ST accuracy"].mean() > 0.99  # it standardises by its own rows: 10 sd apart


def test_fidelity_scores_leave_the_set_metrics_undefined_on_tiny_sets() -> None:
    rng = np.random.default_rng(5)
    seqs = rng.integers(0, 5, size=(4, 20))
    feats = _gauss(rng, 4)
    scores = fidelity_scores(feats, feats, feats, {}, seqs, [seqs.reshape(-1)], 16)
    assert len(scores["C2ST accuracy"]) == 0 and np.isnan(scores["Frechet distance"])
    np.testing.assert_array_equal(scores["copied"], 1.0)
