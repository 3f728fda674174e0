"""Time BLEU-4 of 1,000 hypotheses against the Nottingham test split, against nltk's loop.

    python benchmarks/bench_bleu.py [--hyps 1000] [--nltk-subset 20]

Hypotheses are real melody windows from the train split (what a perfect generator would emit),
references the test split's windows, both from `prepare_corpus` (the encoding `train` uses).
Without the shared data it falls back to random tokens and says so. It also prints the
real-data figures (valid split vs test split), the ceiling column of the comparison table.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from seqgan_music.core.metrics import bleu, distinct_n, nearest_mse, self_bleu
from seqgan_music.music.metrics import metric_overlaps, musical_metrics
from seqgan_music.music.presets import REST_PENALTY, REST_TOKEN

MUSIC_MSE = {"ignore_token": REST_TOKEN, "rest_penalty": REST_PENALTY}

SPLITS = (
    Path(__file__).resolve().parents[1].parent / "shared/data/nottingham/boulanger_lewandowski_2012"
)


def split_windows(split: str) -> np.ndarray:
    """All 32-step windows of one split, prepared by the package's own corpus pipeline."""
    from seqgan_music.music.corpus import prepare_corpus

    return prepare_corpus(SPLITS, progress=False).split(split)


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hyps", type=int, default=1000)
    parser.add_argument("--nltk-subset", type=int, default=20)
    args = parser.parse_args()

    if SPLITS.is_dir():
        refs, train, valid = split_windows("test"), split_windows("train"), split_windows("valid")
        hyps = train[np.random.default_rng(0).permutation(len(train))[: args.hyps]]
        source = f"real Nottingham windows ({len(train)} train, {len(valid)} valid, test refs)"
    else:
        rng = np.random.default_rng(0)
        refs, hyps, valid = (rng.integers(0, 89, (n, 32)) for n in (790, args.hyps, 800))
        source = "RANDOM tokens (shared data absent): figures are for shape only"
    print(f"data: {source}")
    print(f"hypotheses {hyps.shape}, references {refs.shape}")

    scores, t_ours = timed(bleu, hyps, refs, 4)
    print(f"BLEU-4 (ours):  {t_ours:.3f} s for {len(hyps)} hypotheses, mean {scores.mean():.4f}")
    try:
        from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
    except ImportError:
        print("nltk not installed: no comparison")
    else:
        sub, ref_lists = hyps[: args.nltk_subset].tolist(), refs.tolist()
        method1 = SmoothingFunction().method1
        theirs, t_nltk = timed(
            lambda: [sentence_bleu(ref_lists, h, (0.25,) * 4, method1) for h in sub]
        )
        per = t_nltk / len(sub)
        diff = np.abs(np.array(theirs) - scores[: len(sub)]).max()
        print(
            f"BLEU-4 (nltk):  {t_nltk:.2f} s for {len(sub)} hypotheses = {per * 1e3:.0f} ms each, "
            f"~{per * len(hyps):.0f} s extrapolated to {len(hyps)} "
            f"(x{per * len(hyps) / t_ours:.0f}); max |ours - nltk| = {diff:.1e}"
        )

    sb, t = timed(self_bleu, hyps, 4)
    print(f"Self-BLEU-4:    {t:.3f} s, mean {sb.mean():.4f}")
    mse, t = timed(nearest_mse, hyps, refs, **MUSIC_MSE)
    print(f"nearest MSE:    {t:.3f} s, mean {mse.mean():.2f}")
    _, t = timed(lambda: metric_overlaps(musical_metrics(hyps), musical_metrics(refs)))
    print(f"musical metrics + overlaps: {t:.3f} s")
    print(f"distinct-4:     {distinct_n(hyps, 4):.4f}")

    print("real data (valid split vs test split): ", end="")
    print(
        f"BLEU-4 {bleu(valid, refs, 4).mean():.4f}, "
        f"MSE {nearest_mse(valid, refs, **MUSIC_MSE).mean():.2f}, "
        f"Self-BLEU-4 {self_bleu(valid, 4).mean():.4f}"
    )
    overlaps = metric_overlaps(valid, refs)
    print("overlaps valid vs test: " + ", ".join(f"{k} {v:.3f}" for k, v in overlaps.items()))


if __name__ == "__main__":
    main()
