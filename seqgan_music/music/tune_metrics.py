"""Whole-tune metrics: does a long composed tune keep its key and its range?

Window metrics (music/metrics.py) look at 32 or 48 steps; a 16-bar tune sampled past the training
window can drift. Per tune, on the sounding pitch per step (the paper's token space: 0 rest,
1..88 = MIDI 21..108; a beat tune is read through `beat.beat_tokens_to_frames`):

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

from seqgan_music.music.metrics import OCTAVE, PITCH_OFFSET, SCALES


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


PAPER_STEPS_PER_BAR = 4  # compose --bars on the paper's grid: a step is written as a quarter note


def composed_frames(model: Any, num: int, bars: int, seed: int) -> list[np.ndarray]:
    """`num` tunes of `bars` bars sampled in one pass each (the recurrent state carried past the
    training window), as pitch frames."""
    tok = model.tokenizer
    if hasattr(tok, "bar_steps"):
        return list(tok.pitch_frames(model.sample(num, length=bars * tok.bar_steps, seed=seed)))
    return list(model.sample(num, length=bars * PAPER_STEPS_PER_BAR, seed=seed))


def real_openings(folder: Path, tokenizer: Any, bars: int) -> list[np.ndarray]:
    """The first `bars` bars of every MIDI tune in `folder` in the tokenizer's encoding, as pitch
    frames (beat: bars of each tune's own metre; paper: `PAPER_STEPS_PER_BAR` steps a bar)."""
    out = []
    for path in sorted(Path(folder).glob("*.mid")):
        if hasattr(tokenizer, "bar_steps"):
            from seqgan_music.music.beat import bar_starts
            from seqgan_music.music.beat_io import read_beat_tune

            tokens, info = read_beat_tune(path, tokenizer.encoding)
            lines = bar_starts(info["time_signatures"], len(tokens), tokenizer.steps_per_quarter)
            if len(lines) > bars:
                out.append(tokenizer.pitch_frames(tokens[None, : lines[bars]])[0])
        else:
            tokens = np.asarray(tokenizer.encode(path))
            if len(tokens) >= bars * PAPER_STEPS_PER_BAR:
                out.append(tokens[: bars * PAPER_STEPS_PER_BAR])
    return out
