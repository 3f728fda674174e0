"""Musical metrics on decoded melody windows, and how closely generated and held-out sets agree.

`musical_metrics` computes cheap per-sequence descriptors (pitches used, range, pitch-class entropy,
scale consistency, intervals, repetition); `metric_overlaps` compares, per descriptor, the
distribution over generated sequences with the one over held-out sequences as the overlapped area
of their Gaussian-KDE densities (the MGEval idea: Yang & Lerch 2018). 1 = indistinguishable.

Windows are pitch frames (music/pitch.py): 0 = rest, otherwise MIDI pitch = key number + 20;
every encoding gives its tokens as frames (music/encodings.py `pitch_frames`).
"""

from __future__ import annotations

import numpy as np
from scipy import integrate, stats

from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.pitch import OCTAVE, PITCH_OFFSET, REST

# Scale templates as rows of 12 pitch-class flags, one per tonic. A natural minor scale has the
# pitch classes of its relative major, so the harmonic minor is what "minor" adds.
MAJOR = (0, 2, 4, 5, 7, 9, 11)
HARMONIC_MINOR = (0, 2, 3, 5, 7, 8, 11)


def _scale_templates() -> np.ndarray:
    rows = []
    for steps in (MAJOR, HARMONIC_MINOR):
        base = np.zeros(OCTAVE)
        base[list(steps)] = 1.0
        rows.extend(np.roll(base, tonic) for tonic in range(OCTAVE))
    return np.stack(rows)  # (24, 12)


SCALES = _scale_templates()


def _histogram(rows: np.ndarray, values: np.ndarray, width: int, n_rows: int) -> np.ndarray:
    """Counts of `values` (each < width) per row: (n_rows, width)."""
    flat = np.bincount(rows * width + values, minlength=n_rows * width)
    return flat.reshape(n_rows, width)


def _intervals(pitch: np.ndarray, sounding: np.ndarray):
    """Intervals between consecutive sounding steps, rests skipped: (N, T) values and a mask.

    Entry t holds pitch[t] - pitch[previous sounding step] where t sounds and one came before."""
    n, t = pitch.shape
    idx = np.where(sounding, np.arange(t), -1)
    last = np.maximum.accumulate(idx, axis=1)  # last sounding step at or before t
    prev = np.concatenate([np.full((n, 1), -1), last[:, :-1]], axis=1)  # ... strictly before t
    valid = sounding & (prev >= 0)
    prev_pitch = np.take_along_axis(pitch, np.maximum(prev, 0), axis=1)
    return np.where(valid, pitch - prev_pitch, 0), valid


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den == 0 (the metric is undefined for that sequence)."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)


def musical_metrics(tokens: np.ndarray) -> dict[str, np.ndarray]:
    """Per-sequence musical descriptors of melody windows (N, T): each value has shape (N,).

    - pitches_used, pitch_classes_used: distinct sounding pitches / pitch classes (0 if all rests)
    - pitch_range: highest minus lowest sounding pitch in semitones (0 with fewer than two notes)
    - pitch_class_entropy: Shannon entropy in bits of the pitch-class histogram over sounding steps
    - scale_consistency: share of sounding steps in the best-fitting major or harmonic-minor scale
    - mean_abs_interval: mean |interval| in semitones between consecutive sounding steps (rests
      skipped; a held or repeated note is an interval of 0)
    - leap_rate: share of those intervals larger than an octave
    - repeated_step_rate: share of adjacent step pairs with the same token (rests included)
    Undefined values (no note, no interval) are NaN; `metric_overlaps` ignores them."""
    tokens = np.asarray(tokens, dtype=np.int64)
    if tokens.ndim != 2:
        raise SeqGANMusicError(f"musical metrics need windows of shape (N, T), got {tokens.shape}")
    n, t = tokens.shape
    sounding = tokens != REST
    pitch = tokens + PITCH_OFFSET
    rows = np.broadcast_to(np.arange(n)[:, None], (n, t))[sounding]
    notes = sounding.sum(axis=1)

    pitch_hist = _histogram(rows, tokens[sounding], int(tokens.max(initial=0)) + 1, n)
    pc_hist = _histogram(rows, pitch[sounding] % OCTAVE, OCTAVE, n).astype(np.float64)
    top = np.where(sounding, pitch, -1).max(axis=1, initial=-1)
    bottom = np.where(sounding, pitch, np.iinfo(np.int64).max).min(axis=1, initial=1 << 62)
    pc_share = pc_hist / np.maximum(notes, 1)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(pc_share > 0, pc_share * np.log2(pc_share), 0.0).sum(axis=1)
    in_best_scale = (pc_hist @ SCALES.T).max(axis=1)  # (N, 24) -> (N,)
    interval, valid = _intervals(pitch, sounding)
    n_intervals = valid.sum(axis=1)
    return {
        "pitches_used": (pitch_hist > 0).sum(axis=1).astype(np.float64),
        "pitch_classes_used": (pc_hist > 0).sum(axis=1).astype(np.float64),
        "pitch_range": np.where(notes > 0, top - bottom, 0).astype(np.float64),
        "pitch_class_entropy": entropy,
        "scale_consistency": _ratio(in_best_scale, notes),
        "mean_abs_interval": _ratio(np.abs(interval).sum(axis=1), n_intervals),
        "leap_rate": _ratio((np.abs(interval) > OCTAVE).sum(axis=1), n_intervals),
        "repeated_step_rate": _ratio(
            (tokens[:, 1:] == tokens[:, :-1]).sum(axis=1), np.full(n, t - 1)
        ),
    }


# ---------------------------------------------------------------- distribution overlap


def _kde(values: np.ndarray):
    """A Gaussian KDE (Scott's rule) and its bandwidth, or (None, 0) for a constant or single value,
    where the KDE's covariance is singular."""
    if len(values) < 2 or np.ptp(values) == 0:
        return None, 0.0
    kde = stats.gaussian_kde(values)
    return kde, float(np.sqrt(kde.covariance[0, 0]))


def distribution_overlap(x: np.ndarray, y: np.ndarray, grid: int = 2048) -> float:
    """Overlapped area of the Gaussian-KDE densities of two samples, in [0, 1]; NaN if one is
    empty (non-finite values are dropped).

    Degenerate samples (constant, or a single value) have no KDE: one becomes a Gaussian at its
    value with the other's bandwidth; when both are degenerate the overlap is 1 if the values
    agree, else 0."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    if len(x) == 0 or len(y) == 0:
        return float("nan")
    (kx, bx), (ky, by) = _kde(x), _kde(y)
    if kx is None and ky is None:
        return float(x[0] == y[0])
    px = kx if kx is not None else stats.norm(x[0], by).pdf
    py = ky if ky is not None else stats.norm(y[0], bx).pdf
    pad = 5.0 * max(bx, by)  # the densities are below 4e-6 of their peak past 5 bandwidths
    points = np.linspace(min(x.min(), y.min()) - pad, max(x.max(), y.max()) + pad, grid)
    area = integrate.trapezoid(np.minimum(px(points), py(points)), points)
    return float(np.clip(area, 0.0, 1.0))


def metric_overlaps(
    generated: np.ndarray | dict[str, np.ndarray], held_out: np.ndarray | dict[str, np.ndarray]
) -> dict[str, float]:
    """Per musical metric, the overlap of the generated set's distribution with the held-out set's.

    Each argument is token windows (N, T) or the dict `musical_metrics` returned for them."""
    gen = generated if isinstance(generated, dict) else musical_metrics(generated)
    real = held_out if isinstance(held_out, dict) else musical_metrics(held_out)
    return {name: distribution_overlap(gen[name], real[name]) for name in gen if name in real}
