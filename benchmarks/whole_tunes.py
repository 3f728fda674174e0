"""Do 16-bar tunes keep their key and range? Whole-tune metrics of composed tunes vs real ones.

    python benchmarks/whole_tunes.py --model paper=seqgan_music/assets/folk-small.pt \
        --model beat=seqgan_music/assets/nottingham-beat-small.pt \
        --data ../shared/data/nottingham/boulanger_lewandowski_2012/test --png-dir docs

For each model: `--num` tunes of `--bars` bars (sampled in one pass, the LSTM state carried past
the training window), and the same number of bars from the start of every real tune of `--data`
in that model's encoding (the paper's grid: 4 steps a bar, as `compose --bars` writes it). Prints a
markdown table of means (tune_metrics.py) and writes one piano roll per model.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from seqgan_music.api import Runtime, load_checkpoint
from seqgan_music.music.tune_metrics import (
    composed_frames,
    mismatched_key_kept,
    mismatched_pitch_range,
    mismatched_register_drift,
    real_openings,
    tune_metrics,
)


def summary(tunes: list[np.ndarray]) -> dict[str, float]:
    m = tune_metrics(tunes)
    out = {k: float(np.nanmean(v)) for k, v in m.items()}
    out["key_kept (other tune's key)"] = float(np.nanmean(mismatched_key_kept(tunes)))
    out["register_drift (to another tune)"] = float(np.nanmean(mismatched_register_drift(tunes)))
    out["pitch_range (halves of two tunes)"] = float(np.nanmean(mismatched_pitch_range(tunes)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", action="append", required=True, metavar="NAME=CHECKPOINT")
    ap.add_argument("--data", type=Path, required=True, help="Folder of real tunes (MIDI).")
    ap.add_argument("--num", type=int, default=200)
    ap.add_argument("--bars", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--png-dir", type=Path, default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    columns = {}
    for spec in args.model:
        name, ckpt = spec.split("=", 1)
        model = load_checkpoint(ckpt, runtime=Runtime.resolve("cpu", set_threads=False))
        tunes = composed_frames(model, args.num, args.bars, args.seed)
        columns[f"{name}: composed"] = summary(tunes)
        columns[f"{name}: real"] = summary(real_openings(args.data, model.tokenizer, args.bars))
        if args.png_dir is not None:
            from seqgan_music.composition import compose

            out = args.png_dir / f"whole_tune_{name}.mid"
            piece = compose(out, model=model, bars=args.bars, seed=args.seed, png=True)[0]
            out.unlink()  # the README shows the piano roll; the MIDI is one command away
            print(f"wrote {piece.extras[-1]}")
    metrics = list(next(iter(columns.values())))
    print(f"| {args.bars}-bar tunes | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for m in metrics:
        print(f"| {m} | " + " | ".join(f"{c[m]:.3f}" for c in columns.values()) + " |")


if __name__ == "__main__":
    main()
