"""Musical metrics on hand-built windows, and distribution overlaps against direct integration."""

import numpy as np
import pytest
from scipy import integrate, stats

from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.metrics import distribution_overlap, metric_overlaps, musical_metrics

# token = MIDI pitch - 20; 0 = rest
A_MAJOR_TRIAD = [1, 1, 0, 5, 8, 25]  # A0 A0 rest C#1 E1 A2: pitch classes 9 9 1 4 9
SILENT = [0, 0, 0, 0, 0, 0]
CHROMATIC = [40, 41, 42, 43, 44, 45, 46]  # C4 .. F#4: pitch classes 0..6


def test_hand_computed_metrics():
    m = musical_metrics(np.array([A_MAJOR_TRIAD, SILENT]))
    assert m["pitches_used"].tolist() == [4, 0]
    assert m["pitch_classes_used"].tolist() == [3, 0]
    assert m["pitch_range"].tolist() == [24, 0]  # A2 - A0
    entropy = -(0.6 * np.log2(0.6) + 2 * 0.2 * np.log2(0.2))  # pitch classes 3:1:1 of 5
    assert m["pitch_class_entropy"] == pytest.approx([entropy, 0.0])
    # all five sounding steps lie in A major; intervals 0, 4, 3, 17 (the rest is skipped)
    assert m["scale_consistency"][0] == 1.0
    assert m["mean_abs_interval"][0] == pytest.approx(24 / 4)
    assert m["leap_rate"][0] == pytest.approx(1 / 4)
    assert m["repeated_step_rate"].tolist() == pytest.approx([1 / 5, 5 / 5])
    # no note: undefined, not zero
    for name in ("scale_consistency", "mean_abs_interval", "leap_rate"):
        assert np.isnan(m[name][1])


def test_scale_consistency_of_a_chromatic_run():
    # 7 consecutive pitch classes: at most 5 fit one major or harmonic-minor scale (e.g. Db major)
    m = musical_metrics(np.array([CHROMATIC]))
    assert m["scale_consistency"][0] == pytest.approx(5 / 7)
    assert m["mean_abs_interval"][0] == 1.0 and m["leap_rate"][0] == 0.0
    assert m["repeated_step_rate"][0] == 0.0


def test_metrics_are_transposition_invariant():
    rng = np.random.default_rng(0)
    windows = rng.integers(30, 60, (20, 32)) * (rng.random((20, 32)) > 0.2)
    a, b = musical_metrics(windows), musical_metrics(np.where(windows > 0, windows + 5, 0))
    for name in a:
        np.testing.assert_allclose(a[name], b[name], err_msg=name)


def test_rejects_one_dimensional_input():
    with pytest.raises(SeqGANMusicError):
        musical_metrics(np.array(A_MAJOR_TRIAD))


def _direct_overlap(x, y):
    px, py = stats.gaussian_kde(x), stats.gaussian_kde(y)
    value, _ = integrate.quad(lambda v: min(px(v)[0], py(v)[0]), -30, 30, limit=200, points=[0])
    return value


def test_overlap_equals_direct_integration():
    x, y = np.array([0.0, 1.0, 1.5, 3.0]), np.array([1.0, 2.0, 2.5, 5.0, 6.0])
    assert distribution_overlap(x, y) == pytest.approx(_direct_overlap(x, y), abs=1e-4)
    assert distribution_overlap(x, y) == pytest.approx(distribution_overlap(y, x))


def test_overlap_limits_and_degenerate_sets():
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, 200)
    assert distribution_overlap(x, x) == pytest.approx(1.0, abs=1e-4)
    assert distribution_overlap(x, x + 100) == pytest.approx(0.0, abs=1e-6)
    assert distribution_overlap([3, 3, 3], [3, 3]) == 1.0  # both constant and equal
    assert distribution_overlap([3, 3, 3], [4]) == 0.0
    assert np.isnan(distribution_overlap([np.nan], [1.0, 2.0]))
    # a constant set becomes a Gaussian at its value with the other set's KDE bandwidth
    y = np.array([-1.0, 0.0, 1.0])
    kde = stats.gaussian_kde(y)
    point = stats.norm(0.0, np.sqrt(kde.covariance[0, 0]))
    expected = integrate.quad(lambda v: min(point.pdf(v), kde(v)[0]), -20, 20, points=[0])[0]
    assert distribution_overlap([0.0, 0.0], y) == pytest.approx(expected, abs=1e-4)


def test_metric_overlaps_on_windows_and_dicts():
    rng = np.random.default_rng(2)
    real = rng.integers(35, 55, (60, 32))
    same = metric_overlaps(real, real)
    assert set(same) == set(musical_metrics(real)) and min(same.values()) > 0.999
    collapsed = np.tile(real[:1], (60, 1))  # one tune repeated: constant metrics
    apart = metric_overlaps(musical_metrics(collapsed), musical_metrics(real))
    assert max(apart.values()) < 0.7
