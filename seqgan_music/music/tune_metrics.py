"""Whole-tune metrics: does a long composed tune keep its key and its range?

Window metrics (music/metrics.py) look at 32 or 48 steps; a 16-bar tune sampled past the training
window can drift. Per tune, on the sounding pitch per step (the paper's token space: 0 rest,
1..88 = MIDI 21..108; other encodings are read through their `pitch_frames`, music/encodings.py):

- `key_kept`: share of the sounding steps of the last quarter of the tune that lie in the
  best-fitting major or harmonic-minor scale of its first quarter (1: the tune ends in the key it
  began in);
- `scale_consistency`: share of all sounding steps in the best-fitting scale of the whole tune;
- `pitch_range`: highest minus lowest sounding pitch over the whole tune (semitones);
- `register_drift`: |mean pitch of the last quarter - mean pitch of the first| (semitones).

`mismatched_key_kept`, `mismatched_register_drift` and `mismatched_pitch_range` join the end of
one tune to the start of another: what a tune that forgot its key, register or range would score,
the baselines a whole tune must beat.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seqgan_music.music.encodings import encoding_of_tokenizer
from seqgan_music.music.metrics import SCALES
from seqgan_music.music.pitch import OCTAVE, PITCH_OFFSET


def _pc_hist(frames: np.ndarray) -> np.ndarray:
    f = np.asarray(frames, dtype=np.int64)
    return np.bincount((f[f > 0] + PITCH_OFFSET) % OCTAVE, minlength=OCTAVE).astype(np.float64)


def best_scale(frames: np.ndarray) -> np.ndarray:
    """The 12 pitch-class flags of the major or harmonic-minor scale holding most sounding steps."""
    return SCALES[int(np.argmax(SCALES @ _pc_hist(frames)))]


def in_scale_share(frames: np.ndarray, scale: np.ndarray) -> float:
    """Share of sounding steps whose pitch class is in `scale` (NaN when nothing sounds)."""
    hist = _pc_hist(frames)
    return float(hist @ scale / hist.sum()) if hist.sum() else float("nan")


def _quarters(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(frames, dtype=np.int64).ravel()
    q = max(1, f.size // 4)
    return f[:q], f[-q:]


def tune_metrics(tunes: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """Per-tune values (see the module docstring) for tunes of any lengths, as arrays (n,)."""
    rows: dict[str, list[float]] = {k: [] for k in
                                    ("key_kept", "scale_consistency", "pitch_range",
                                     "register_drift")}  # fmt: skip
    for tune in tunes:
        f = np.asarray(tune, dtype=np.int64).ravel()
        first, last = _quarters(f)
        sounding = f[f > 0]
        rows["key_kept"].append(in_scale_share(last, best_scale(first)))
        rows["scale_consistency"].append(in_scale_share(f, best_scale(f)))
        rows["pitch_range"].append(float(np.ptp(sounding)) if sounding.size else float("nan"))
        a, b = first[first > 0], last[last > 0]
        rows["register_drift"].append(
            abs(float(b.mean()) - float(a.mean())) if a.size and b.size else float("nan")
        )
    return {k: np.array(v, dtype=np.float64) for k, v in rows.items()}


def mismatched_key_kept(tunes: Sequence[np.ndarray]) -> np.ndarray:
    """`key_kept` with the next tune's last quarter scored in the key of each tune's first."""
    parts = [_quarters(t) for t in tunes]
    return np.array(
        [in_scale_share(parts[(i + 1) % len(parts)][1], best_scale(p[0]))
         for i, p in enumerate(parts)], dtype=np.float64,
    )  # fmt: skip


def mismatched_register_drift(tunes: Sequence[np.ndarray]) -> np.ndarray:
    """`register_drift` between each tune's first quarter and the next tune's last quarter."""
    parts = [_quarters(t) for t in tunes]
    out = []
    for i, (first, _) in enumerate(parts):
        last = parts[(i + 1) % len(parts)][1]
        a, b = first[first > 0], last[last > 0]
        out.append(abs(float(b.mean()) - float(a.mean())) if a.size and b.size else float("nan"))
    return np.array(out, dtype=np.float64)


def mismatched_pitch_range(tunes: Sequence[np.ndarray]) -> np.ndarray:
    """`pitch_range` of each tune's first half joined to the next tune's second half."""
    out = []
    for i, tune in enumerate(tunes):
        nxt = np.asarray(tunes[(i + 1) % len(tunes)]).ravel()
        f = np.concatenate([np.asarray(tune).ravel()[: len(tune) // 2], nxt[len(nxt) // 2 :]])
        sounding = f[f > 0]
        out.append(float(np.ptp(sounding)) if sounding.size else float("nan"))
    return np.array(out, dtype=np.float64)


def composed_frames(model: Any, num: int, bars: int, seed: int) -> list[np.ndarray]:
    """`num` tunes of `bars` bars sampled in one pass each (the recurrent state carried past the
    training window), as pitch frames."""
    tok = model.tokenizer
    encoding = encoding_of_tokenizer(tok)
    samples = model.sample(num, length=bars * encoding.bar_steps(tok), seed=seed)
    return list(encoding.pitch_frames(tok, samples))


def real_openings(folder: Path, tokenizer: Any, bars: int) -> list[np.ndarray]:
    """The first `bars` bars of every MIDI tune in `folder` in the tokenizer's encoding, as pitch
    frames (beat: bars of each tune's own metre; paper: `STEPS_PER_BAR` steps a bar)."""
    opening = encoding_of_tokenizer(tokenizer).opening
    found = (opening(path, tokenizer, bars) for path in sorted(Path(folder).glob("*.mid")))
    return [frames for frames in found if frames is not None]
