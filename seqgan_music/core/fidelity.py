"""Metrics that lowering the sampling temperature cannot game, over integer sequences.

BLEU and nearest-window MSE reward typical samples: a colder generator scores better on both while
it covers less of the data. These compare the *distribution* of samples with held-out data:

- `classifier_two_sample`: a fresh classifier (never the training discriminator) learns to tell
  held-out windows from samples on one half of each and is scored on the other half; accuracy 0.5
  means indistinguishable (Lopez-Paz & Oquab, ICLR 2017). scikit-learn's logistic regression:
  well kept, exact (a convex fit, no tuning to game), tested by its authors.
- `frechet_distance`: the Frechet (2-Wasserstein) distance between Gaussians fitted to feature
  vectors of samples and held-out data (the FID formula, Heusel et al. 2017), in exact
  eigen-decomposition form.
- coverage (the caller's distance, e.g. `nearest_mse(references, samples)`): how far each held-out
  window is from its nearest sample, a recall; a collapsed generator covers little.
- `copy_rates`: the share of samples (and of their n-step runs) found verbatim in the training
  data: memorisation, which lowers every distance above without being music.

Feature vectors come from the domain (music: pitch-class, interval and note-length histograms...);
`ngram_features` is the generic default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from seqgan_music.errors import SeqGANMusicError

Seqs = np.ndarray | Sequence[Sequence[int]]
HASH_BUCKETS = 512  # hashed bigram features: enough to separate, small enough to fit from ~1k rows


# ---------------------------------------------------------------- features


def ngram_features(seqs: Seqs, vocab_size: int, buckets: int = HASH_BUCKETS) -> np.ndarray:
    """(N, min(vocab_size, buckets) + buckets): per sequence, the share of each token and of each
    hashed bigram (bigram (a, b) -> bucket (a * vocab_size + b) mod buckets). A vocabulary larger
    than `buckets` (text: thousands of characters or words) is hashed too (token t -> bucket
    t mod buckets): the Frechet distance's covariance and the two-sample classifier
    stay (buckets x buckets)-sized, not (vocab x vocab). Empty sequences are zero rows."""
    rows = [np.asarray(s, dtype=np.int64).reshape(-1) for s in seqs]
    width = min(vocab_size, buckets)
    out = np.zeros((len(rows), width + buckets))
    for i, s in enumerate(rows):
        if len(s):
            tokens = s % buckets  # the identity when the vocabulary fits
            out[i, :width] = np.bincount(tokens, minlength=width)[:width] / len(s)
        if len(s) > 1:
            bigram = (s[:-1] * vocab_size + s[1:]) % buckets
            out[i, width:] = np.bincount(bigram, minlength=buckets) / (len(s) - 1)
    return out


# ---------------------------------------------------------------- classifier two-sample test


@dataclass(frozen=True)
class TwoSampleResult:
    """Held-out accuracy of the fresh classifier, its 95% Wilson interval, and per-item hits."""

    accuracy: float
    ci_low: float
    ci_high: float
    correct: np.ndarray  # (n_test,) 1.0 where the classifier was right: a per-unit score
    n_test: int


def classifier_two_sample(
    real: np.ndarray, fake: np.ndarray, *, seed: int = 0, train_share: float = 0.5
) -> TwoSampleResult:
    """Classifier two-sample test on feature vectors (N, F) of held-out data and samples.

    Both sets are cut to the smaller size (balanced classes: chance is exactly 0.5), shuffled with
    `seed`, and split `train_share` / rest; a standardised L2 logistic regression is fitted on the
    first part and scored on the rest. Accuracy near 0.5: the classifier cannot tell them apart;
    near 1: the samples are easy to spot. Below 0.5 is noise."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    real, fake = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise SeqGANMusicError(f"two-sample test needs (N, F) features: {real.shape}, {fake.shape}")
    n = min(len(real), len(fake))
    n_train = int(round(n * train_share))
    if n_train < 2 or n - n_train < 2:
        raise SeqGANMusicError(f"two-sample test needs at least 4 rows per set, got {n}")
    rng = np.random.default_rng(seed)
    r, f = real[rng.permutation(len(real))[:n]], fake[rng.permutation(len(fake))[:n]]
    x_train = np.concatenate([r[:n_train], f[:n_train]])
    y_train = np.r_[np.zeros(n_train), np.ones(n_train)]
    x_test = np.concatenate([r[n_train:], f[n_train:]])
    y_test = np.r_[np.zeros(n - n_train), np.ones(n - n_train)]
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    clf.fit(x_train, y_train)
    correct = (clf.predict(x_test) == y_test).astype(np.float64)
    hits = int(correct.sum())
    ci = stats.binomtest(hits, len(correct)).proportion_ci(0.95, method="wilson")
    return TwoSampleResult(hits / len(correct), ci.low, ci.high, correct, len(correct))


# ---------------------------------------------------------------- Frechet distance


def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix by eigen-decomposition."""
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to feature rows `a` (N, F) and `b` (M, F):
    |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a^1/2 S_b S_a^1/2)^1/2).

    The trace term uses that S_a^1/2 S_b S_a^1/2 is symmetric PSD and has the eigenvalues of
    S_a S_b, so its square root's trace is the sum of square roots of its eigenvalues: exact, and
    free of the complex round-off of a general `sqrtm(S_a @ S_b)`."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise SeqGANMusicError(f"Frechet distance needs (N, F) features: {a.shape}, {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise SeqGANMusicError("Frechet distance needs at least two rows per set")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    s_a, s_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    root = _sqrt_psd(s_a)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root @ s_b @ root), 0, None)).sum()
    value = float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * cross)
    return max(value, 0.0)  # round-off can leave -1e-12 for identical sets


def standardise(features: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Features in units of a fixed set's per-feature standard deviation (`scale`: that set's
    feature rows, e.g. the training split's), so no feature dominates a distance by its units. Not
    the held-out set's own sd: a feature nearly constant in a small held-out set (a rare interval)
    would blow up (Nottingham: one such sd of 0.0015 made real data look 4x farther than models)."""
    mu, sd = scale.mean(axis=0), scale.std(axis=0)
    return (features - mu) / np.where(sd > 0, sd, 1.0)


# ---------------------------------------------------------------- copy rate


_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier of the polynomial rolling hash


def _window_hashes(seqs: list[np.ndarray], length: int) -> tuple[np.ndarray, ...]:
    """Hashes of every `length`-step window inside each sequence (mod 2^64), with the sequence
    and start of each (windows never cross from one sequence to the next)."""
    hashes, owner, start = [], [], []
    with np.errstate(over="ignore"):
        power = np.uint64(1)
        for _ in range(length):
            power = power * _BASE
        for i, s in enumerate(seqs):
            if len(s) < length:
                continue
            prefix = np.zeros(len(s) + 1, dtype=np.uint64)  # prefix[k]: hash of s[:k]
            acc = np.uint64(0)
            for k, tok in enumerate(s.astype(np.uint64) + np.uint64(1)):
                acc = acc * _BASE + tok
                prefix[k + 1] = acc
            h = prefix[length:] - prefix[: len(s) - length + 1] * power
            hashes.append(h)
            owner.append(np.full(len(h), i))
            start.append(np.arange(len(h)))
    if not hashes:
        empty = np.zeros(0, dtype=np.int64)
        return np.zeros(0, dtype=np.uint64), empty, empty
    return np.concatenate(hashes), np.concatenate(owner), np.concatenate(start)


def _found(queries: list[np.ndarray], train: list[np.ndarray], length: int) -> np.ndarray:
    """For every `length`-window of the queries (in `_window_hashes` order): whether it occurs
    verbatim in a training sequence. Hash hits are checked token by token: the answer is exact."""
    q_hash, q_owner, q_start = _window_hashes(queries, length)
    t_hash, t_owner, t_start = _window_hashes(train, length)
    order = np.argsort(t_hash, kind="stable")
    t_hash, t_owner, t_start = t_hash[order], t_owner[order], t_start[order]
    lo = np.searchsorted(t_hash, q_hash, side="left")
    hi = np.searchsorted(t_hash, q_hash, side="right")
    found = np.zeros(len(q_hash), dtype=bool)
    for j in np.flatnonzero(hi > lo):
        window = queries[q_owner[j]][q_start[j] : q_start[j] + length]
        for k in range(lo[j], hi[j]):  # equal hashes: compare the tokens themselves
            if np.array_equal(train[t_owner[k]][t_start[k] : t_start[k] + length], window):
                found[j] = True
                break
    return found


def copy_rates(samples: Seqs, train: Seqs, run: int = 16) -> dict[str, np.ndarray]:
    """Per sample: "copied" (1.0 if the whole sample occurs verbatim inside a training sequence)
    and "copied runs" (the share of its `run`-step windows that do; NaN for shorter samples).

    Pass the training windows laid end to end as one sequence where a domain's windows tile
    longer pieces (music), so a copy that straddles two windows is still found."""
    if run < 1:
        raise SeqGANMusicError(f"copy run length must be >= 1, got {run}")
    queries = [np.asarray(s, dtype=np.int64).reshape(-1) for s in samples]
    train_l = [np.asarray(s, dtype=np.int64).reshape(-1) for s in train]
    whole = np.zeros(len(queries))
    for length in np.unique([len(q) for q in queries if len(q)]):  # one pass per sample length
        idx = [i for i, q in enumerate(queries) if len(q) == length]
        whole[idx] = _found([queries[i] for i in idx], train_l, int(length))
    runs = np.full(len(queries), np.nan)
    _, owner, _ = _window_hashes(queries, run)
    hits = _found(queries, train_l, run)
    if len(owner):
        counts = np.bincount(owner, minlength=len(queries))
        copied = np.bincount(owner, weights=hits, minlength=len(queries))
        has = counts > 0
        runs[has] = copied[has] / counts[has]
    return {"copied": whole, f"copied {run}-runs": runs}


# ---------------------------------------------------------------- all at once

C2ST, C2ST_CI, FRECHET = "C2ST accuracy", "C2ST 95% CI half-width", "Frechet distance"
MIN_ROWS = 10  # fewer held-out rows or samples than this: no two-sample test, no Frechet distance


def fidelity_scores(
    sample_features: np.ndarray, reference_features: np.ndarray, scale: np.ndarray,
    coverage: dict[str, np.ndarray], samples: Seqs, train: Seqs, run: int, *, seed: int = 0,
) -> dict[str, np.ndarray]:  # fmt: skip
    """The distribution metrics as an `evaluate_samples`-shaped dict: "C2ST accuracy" (per test
    item, 1 = classified right), its CI half-width and "Frechet distance" (scalars; features in
    units of the sd of `scale`'s rows, the training split's), the domain's coverage arrays, and
    the copy rates."""
    scores = {C2ST: np.zeros(0), C2ST_CI: np.asarray(np.nan), FRECHET: np.asarray(np.nan)}
    if min(len(sample_features), len(reference_features)) >= MIN_ROWS:  # else: left undefined
        test = classifier_two_sample(reference_features, sample_features, seed=seed)
        scores[C2ST], scores[C2ST_CI] = test.correct, np.asarray((test.ci_high - test.ci_low) / 2)
        scores[FRECHET] = np.asarray(frechet_distance(
            standardise(sample_features, scale), standardise(reference_features, scale)
        ))  # fmt: skip
    return {
        **scores,
        **coverage,
        **copy_rates(samples, train, run),
    }
