"""Evaluation metrics over integer token sequences: BLEU-n, Self-BLEU, distinct-n, nearest MSE.

BLEU follows the SeqGAN / Texygen evaluation: each generated sequence is a hypothesis scored
against the *whole* held-out set as its references with nltk's `sentence_bleu` (uniform weights
over 1..n-grams, `SmoothingFunction().method1`); the reported figure is the mean over hypotheses.
nltk loops over every reference for every hypothesis; here the per-reference n-gram maxima are
computed once and every hypothesis is scored with array operations (tests/core/test_metrics.py
checks equality with nltk to 1e-9).

Sequences are a 2-D integer array (N, T) or a list of 1-D integer sequences of any lengths (text).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from seqgan_music.errors import SeqGANMusicError

SMOOTHING_EPSILON = 0.1  # nltk SmoothingFunction().method1: added to zero-count numerators


# ---------------------------------------------------------------- sequences as one flat array


class _Flat:
    """Sequences concatenated into one token array, with per-position sequence ids and offsets."""

    def __init__(self, seqs: np.ndarray | Sequence[Sequence[int]]):
        arrays = [np.asarray(s, dtype=np.int64).reshape(-1) for s in seqs]
        self.lengths = np.array([len(a) for a in arrays], dtype=np.int64)
        self.tokens = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)
        self.seq_id = np.repeat(np.arange(len(arrays)), self.lengths)
        starts = np.cumsum(self.lengths) - self.lengths
        self.pos = np.arange(len(self.tokens)) - np.repeat(starts, self.lengths)  # index within seq

    def __len__(self) -> int:
        return len(self.lengths)


def _ngram_ids(tokens: np.ndarray, pos: np.ndarray, lengths_at: np.ndarray, max_n: int):
    """Dense ids of the n-grams starting at every position, for n = 1..max_n (-1 where none fits).

    Ids are built order by order: id_n = dense(id_{n-1}[s] * V + id_1[s + n - 1]), so keys stay
    small whatever the vocabulary size (no V**n overflow)."""
    uniq, unigram = np.unique(tokens, return_inverse=True)
    n_tok = max(len(uniq), 1)
    ids = [unigram.astype(np.int64)]
    room = lengths_at - pos  # positions left in the sequence from here, this one included
    for n in range(2, max_n + 1):
        prev = ids[-1]
        valid = room >= n
        out = np.full(len(tokens), -1, dtype=np.int64)
        starts = np.nonzero(valid)[0]
        if len(starts):
            keys = prev[starts] * n_tok + ids[0][starts + n - 1]
            _, out[starts] = np.unique(keys, return_inverse=True)
        ids.append(out)
    return ids


def _grams_per_seq(seq_id: np.ndarray, gram: np.ndarray, n_grams: int):
    """Unique (sequence, n-gram) pairs and their counts, for valid (>= 0) n-gram ids."""
    ok = gram >= 0
    keys = seq_id[ok] * n_grams + gram[ok]
    uniq, counts = np.unique(keys, return_counts=True)
    return uniq // n_grams, uniq % n_grams, counts


def _max_counts(ref_seq, ref_gram, ref_count, n_grams: int, exclude_self: bool):
    """Per n-gram the largest count in any reference; with exclude_self also the runner-up and the
    reference that holds the maximum (so "max over all references but me" is one lookup)."""
    order = np.lexsort((-ref_count, ref_gram))  # by n-gram, then count descending
    g, c, s = ref_gram[order], ref_count[order], ref_seq[order]
    first = np.ones(len(g), dtype=bool)
    first[1:] = g[1:] != g[:-1]
    best = np.zeros(n_grams, dtype=np.int64)
    best[g[first]] = c[first]
    if not exclude_self:
        return best, None, None
    owner = np.full(n_grams, -1, dtype=np.int64)
    owner[g[first]] = s[first]
    second_mask = np.zeros(len(g), dtype=bool)
    second_mask[1:] = (~first[1:]) & first[:-1]  # the element right after each group's first
    second = np.zeros(n_grams, dtype=np.int64)
    second[g[second_mask]] = c[second_mask]
    return best, second, owner


def _closest_ref_lengths(hyp_lens: np.ndarray, ref_lens: np.ndarray, exclude_self: bool):
    """nltk's closest_ref_length: the reference length nearest the hypothesis length, the smaller on
    a tie. With exclude_self, hypothesis i may not use reference i's own length (one occurrence)."""
    out = np.empty(len(hyp_lens), dtype=np.int64)
    values, counts = np.unique(ref_lens, return_counts=True)
    for c in np.unique(hyp_lens):
        pool = values
        if exclude_self and counts[np.searchsorted(values, c)] == 1:
            pool = values[values != c]  # the only reference of this length is the hypothesis itself
        if len(pool) == 0:
            raise SeqGANMusicError("Self-BLEU needs at least two sequences")
        dist = np.abs(pool - c)
        out[hyp_lens == c] = pool[np.flatnonzero(dist == dist.min())[0]]  # pool is sorted: smaller
    return out


def _bleu(hyps, refs, n: int, exclude_self: bool) -> np.ndarray:
    """Per-hypothesis sentence BLEU-n (nltk sentence_bleu, method1, uniform weights)."""
    if n < 1:
        raise SeqGANMusicError(f"BLEU order must be >= 1, got {n}")
    h, r = _Flat(hyps), _Flat(refs)
    if len(r) == 0:
        raise SeqGANMusicError("BLEU needs at least one reference sequence")
    if len(h) == 0:
        return np.zeros(0)
    # One id space for hypothesis and reference n-grams: refs first, then hyps.
    tokens = np.concatenate([r.tokens, h.tokens])
    pos = np.concatenate([r.pos, h.pos])
    lengths_at = np.concatenate([r.lengths[r.seq_id], h.lengths[h.seq_id]])
    ids = _ngram_ids(tokens, pos, lengths_at, n)
    n_ref_pos = len(r.tokens)

    log_p = np.zeros((len(h), n))
    matches_1 = None
    for k, gram in enumerate(ids, start=1):
        n_grams = int(gram.max()) + 1 if len(gram) and gram.max() >= 0 else 1
        ref_seq, ref_gram, ref_count = _grams_per_seq(r.seq_id, gram[:n_ref_pos], n_grams)
        best, second, owner = _max_counts(ref_seq, ref_gram, ref_count, n_grams, exclude_self)
        hyp_seq, hyp_gram, hyp_count = _grams_per_seq(h.seq_id, gram[n_ref_pos:], n_grams)
        limit = best[hyp_gram]
        if exclude_self:  # hypothesis i is reference i: use the runner-up where i holds the max
            limit = np.where(owner[hyp_gram] == hyp_seq, second[hyp_gram], limit)
        clipped = np.minimum(hyp_count, limit)
        numerator = np.bincount(hyp_seq, weights=clipped, minlength=len(h))
        denominator = np.maximum(1, h.lengths - k + 1)  # nltk: max(1, number of hypothesis n-grams)
        smoothed = np.where(numerator == 0, SMOOTHING_EPSILON, numerator)  # method1
        log_p[:, k - 1] = np.log(smoothed) - np.log(denominator)
        if k == 1:
            matches_1 = numerator
    # nltk brevity penalty: 1 if c > r, 0 if c == 0, else exp(1 - r / c).
    c = h.lengths
    ref_len = _closest_ref_lengths(c, r.lengths, exclude_self)
    with np.errstate(divide="ignore"):
        bp = np.where(c > ref_len, 1.0, np.exp(1.0 - ref_len / np.maximum(c, 1)))
    bleu = bp * np.exp(log_p.mean(axis=1))  # uniform weights 1/n: the mean of the log precisions
    # nltk returns 0 when no unigram matches (then no higher order can match either).
    return np.where((matches_1 == 0) | (c == 0), 0.0, bleu)


def bleu(
    hypotheses: np.ndarray | Sequence[Sequence[int]],
    references: np.ndarray | Sequence[Sequence[int]],
    n: int = 4,
) -> np.ndarray:
    """Per-hypothesis BLEU-n of each hypothesis against *all* references, shape (H,).

    Equal to nltk `sentence_bleu(references, hyp, weights=(1/n,)*n,
    smoothing_function=SmoothingFunction().method1)` for every hypothesis (Texygen's BLEU); the
    paper's figure is the mean."""
    return _bleu(hypotheses, references, n, exclude_self=False)


def self_bleu(samples: np.ndarray | Sequence[Sequence[int]], n: int = 4) -> np.ndarray:
    """Per-sample BLEU-n against all *other* samples, shape (N,): a diversity measure.

    A generator that collapses to one tune scores near 1. Unlike Texygen's SelfBleu, a sample is
    never its own reference (Texygen issue #46), which would put every score at 1."""
    return _bleu(samples, samples, n, exclude_self=True)


def distinct_n(samples: np.ndarray | Sequence[Sequence[int]], n: int = 2) -> float:
    """Distinct-n (Li et al. 2016): unique n-grams / total n-grams over the whole sample set."""
    if n < 1:  # ids[n - 1] below would silently pick another order
        raise SeqGANMusicError(f"distinct-n order must be >= 1, got {n}")
    flat = _Flat(samples)
    gram = _ngram_ids(flat.tokens, flat.pos, flat.lengths[flat.seq_id], n)[n - 1]
    valid = gram[gram >= 0]
    return float(len(np.unique(valid)) / len(valid)) if len(valid) else 0.0


# ---------------------------------------------------------------- nearest-neighbour MSE


def nearest_mse(
    hypotheses: np.ndarray,
    references: np.ndarray,
    *,
    ignore_token: int | None = None,
    rest_penalty: float | None = None,
    chunk: int = 1024,
) -> np.ndarray:
    """Per-hypothesis squared token distance to the nearest reference, shape (H,).

    For a hypothesis a and a reference b of equal length T, d(a, b) = mean over steps t of
    (a_t - b_t)^2; the score of a is min over references of d(a, b), the distance to its nearest
    held-out sequence. On music tokens (pitch = token + 20) this is the squared pitch distance in
    semitones, the reading of the paper's MSE (Manaris et al. 2007) that fits its values near 20.

    Rests (`ignore_token`) carry no pitch. Rule: a step where both are rests costs 0; a step where
    exactly one is a rest costs `rest_penalty` (the music domain's 144 = one octave squared:
    sounding where the other is silent is a gross error, so an all-rest sample cannot look close
    to anything).
    With `rest_penalty=None` such steps are skipped and the mean runs over the steps where both
    sound (a pair with no such step is at distance inf). `ignore_token=None`: no rests.

    Vectorised as (a - b)^2 = a^2 - 2ab + b^2 with masked matmuls, in float64 (exact for integer
    tokens); hypotheses go in chunks of `chunk` rows to bound memory at (chunk, R)."""
    a = np.asarray(hypotheses, dtype=np.float64)
    b = np.asarray(references, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise SeqGANMusicError(
            f"MSE needs equal-length sequences: got shapes {a.shape} and {b.shape}"
        )
    if len(b) == 0:
        raise SeqGANMusicError("MSE needs at least one reference sequence")
    if ignore_token is None:
        mb = np.ones_like(b)
    else:
        mb = (b != ignore_token).astype(np.float64)
    b1, b2 = mb * b, mb * b * b  # rests zeroed so they drop out of the pitch terms
    out = np.empty(len(a))
    for lo in range(0, len(a), chunk):
        x = a[lo : lo + chunk]
        ma = np.ones_like(x) if ignore_token is None else (x != ignore_token).astype(np.float64)
        # sum over steps where both sound of (x - y)^2, all pairs at once: (h, R)
        sq = (ma * x * x) @ mb.T - 2.0 * (ma * x) @ b1.T + ma @ b2.T
        if rest_penalty is None:
            both = ma @ mb.T
            with np.errstate(divide="ignore", invalid="ignore"):
                dist = np.where(both > 0, sq / np.maximum(both, 1), np.inf)
        else:
            one_rest = ma @ (1.0 - mb).T + (1.0 - ma) @ mb.T  # steps where exactly one is a rest
            dist = (sq + rest_penalty * one_rest) / a.shape[1]
        out[lo : lo + chunk] = dist.min(axis=1)
    return out


# ---------------------------------------------------------------- significance


def welch_p_value(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided p-value of Welch's t-test (unequal variances) between two sets of per-hypothesis
    scores, as in the paper's Table 4. Non-finite values are dropped. NaN when undefined (fewer
    than two values, or both sets the same constant); 0 for two different constants."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]  # undefined per-sequence values (NaN) drop out
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        # scipy warns and returns nan; two constant sets differ surely or not at all.
        return float("nan") if a[0] == b[0] else 0.0
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


# ---------------------------------------------------------------- all at once


def evaluate_samples(
    samples: np.ndarray | Sequence[Sequence[int]],
    references: np.ndarray | Sequence[Sequence[int]],
    *,
    bleu_orders: Sequence[int] = (4,),
    mse: bool = True,
    ignore_token: int | None = None,
    rest_penalty: float | None = None,
) -> dict[str, np.ndarray]:
    """Score generated samples against held-out references: one array per metric.

    Per-hypothesis arrays, shape (H,): "BLEU-n" (against all references) and "Self-BLEU-n"
    (against the other samples) for each n in `bleu_orders`, and "MSE" (nearest-reference squared
    distance, see `nearest_mse`) when `mse`. Set-level scalars, shape (): "distinct-n" for each n.
    Samples must be trimmed (no padding); MSE needs equal-length sequences (music windows), so
    pass mse=False for text."""
    scores: dict[str, np.ndarray] = {}
    for n in bleu_orders:
        scores[f"BLEU-{n}"] = bleu(samples, references, n)
    if mse:
        scores["MSE"] = nearest_mse(
            samples, references, ignore_token=ignore_token, rest_penalty=rest_penalty
        )
    for n in bleu_orders:
        scores[f"Self-BLEU-{n}"] = self_bleu(samples, n)
    for n in bleu_orders:
        scores[f"distinct-{n}"] = np.asarray(distinct_n(samples, n))
    return scores
