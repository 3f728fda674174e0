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

from seqgan_music.api import load_checkpoint
from seqgan_music.music.tune_metrics import mismatched_key_kept, tune_metrics

PAPER_STEPS_PER_BAR = 4


def real_openings(folder: Path, tokenizer, bars: int) -> list[np.ndarray]:
    """The first `bars` bars of every tune in `folder`, as pitch frames, in the model's encoding."""
    out = []
    for path in sorted(folder.glob("*.mid")):
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


def composed(model, num: int, bars: int, seed: int) -> list[np.ndarray]:
    tok = model.tokenizer
    if hasattr(tok, "bar_steps"):
        rows = model.sample(num, length=bars * tok.bar_steps, seed=seed)
        return list(tok.pitch_frames(rows))
    return list(model.sample(num, length=bars * PAPER_STEPS_PER_BAR, seed=seed))


def summary(tunes: list[np.ndarray]) -> dict[str, float]:
    m = tune_metrics(tunes)
    out = {k: float(np.nanmean(v)) for k, v in m.items()}
    out["key_kept (other tune's key)"] = float(np.nanmean(mismatched_key_kept(tunes)))
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
        model = load_checkpoint(ckpt, device="cpu")
        tunes = composed(model, args.num, args.bars, args.seed)
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
