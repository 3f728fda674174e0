"""Is the condition learnt, not just masked? Sample from a conditioned beat model under each
condition WITHOUT compose's masks (no scale mask, no bar lengths: `Model.sample` with the
condition id alone), and from an unconditioned model of the same schedule, then read each sample
back and count how often it reads as the condition's metre and mode.

Read-backs (the same for samples and real windows, so real held-out windows give the ceiling):
- mode: music21's Krumhansl-Schmuckler key of the notes (tonic, major or minor), refined by the
  degree that tells the modes apart: a major key whose flat seventh outweighs its major seventh
  (by duration) reads mixolydian, a minor key whose major sixth outweighs its minor sixth reads
  dorian.
- metre: music21 has no metre analysis of bare notes, so a template classifier: for each metre
  the share of note-ons at each position of the bar in the training windows (which start on bar
  lines), and a window reads as the metre under which its note-ons are likeliest (mean Bernoulli
  log-likelihood per step).

    python benchmarks/conditions_learnt.py --data PATH/nottingham --conditioned A.pt \
        --unconditioned B.pt --num 50
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import seqgan_music as sm
from seqgan_music.datasets import load_dataset
from seqgan_music.music.beat.encoding import HOLD, bar_steps, beat_tokens_to_notes
from seqgan_music.music.conditions import METRES
from seqgan_music.music.io.score import music21_key


def onset_templates(windows: np.ndarray, metres: list[str], names: list[str],
                    ids: np.ndarray, spq: int) -> dict[str, np.ndarray]:  # fmt: skip
    """{metre: (bar,) share of training windows' steps at each bar position that strike a note}."""
    out = {}
    for metre in metres:
        rows = windows[np.isin(ids, [i for i, n in enumerate(names) if n.split()[0] == metre])]
        bar = bar_steps(*(int(x) for x in metre.split("/")), spq)
        onsets = (rows > HOLD)[:, : rows.shape[1] // bar * bar].reshape(len(rows), -1, bar)
        out[metre] = (onsets.sum((0, 1)) + 1) / (onsets.shape[0] * onsets.shape[1] + 2)
    return out


def read_metre(tokens: np.ndarray, templates: dict[str, np.ndarray]) -> str:
    onset = tokens > HOLD
    best, score = "", -np.inf
    for metre, p in templates.items():
        q = p[np.arange(len(tokens)) % len(p)]
        ll = np.mean(np.where(onset, np.log(q), np.log1p(-q)))
        if ll > score:
            best, score = metre, ll
    return best


def read_mode(tokens: np.ndarray) -> str:
    notes = beat_tokens_to_notes(tokens)
    if not notes:
        return "none"
    key = music21_key(notes)
    tonic = key.tonic.pitchClass
    weight = np.zeros(12)
    for s, e, p in notes:
        weight[p % 12] += e - s
    if key.mode == "minor":
        return "dorian" if weight[(tonic + 9) % 12] > weight[(tonic + 8) % 12] else "minor"
    return "mixolydian" if weight[(tonic + 10) % 12] > weight[(tonic + 11) % 12] else "major"


def rates(rows: np.ndarray, name: str, templates: dict[str, np.ndarray]) -> tuple[float, float]:
    metre, mode = name.split()
    return (float(np.mean([read_metre(r, templates) == metre for r in rows])),
            float(np.mean([read_mode(r) == mode for r in rows])))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--conditioned", required=True)
    ap.add_argument("--unconditioned", required=True)
    ap.add_argument("--num", type=int, default=50, help="samples per condition and model")
    ap.add_argument(
        "--min-windows",
        type=int,
        default=200,
        help="conditions with at least this many training windows are measured",
    )
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    cond, plain = sm.load_checkpoint(args.conditioned), sm.load_checkpoint(args.unconditioned)
    names = list(cond.metadata["conditions"]["names"])
    data = load_dataset(args.data, domain_options={"encoding": "beat"}, progress=False,
                        fitted_tokenizer=cond.tokenizer)  # fmt: skip
    assert list(data.condition_names) == names, "the corpus must be the conditioned model's"
    train_ids, test_ids = data.conditions["train"], data.conditions["test"]
    spq = cond.tokenizer.steps_per_quarter
    templates = onset_templates(data.train, list(METRES), names, train_ids, spq)
    windows = np.bincount(train_ids, minlength=len(names))
    length = data.seq_len
    print(f"{args.num} samples of {length} steps per condition and model, no masks; real: up to "
          f"{args.num} test windows of the condition, drawn at random")  # fmt: skip
    print(
        "| condition | train windows | real: metre | real: mode | unconditioned: metre | "
        "unconditioned: mode | conditioned: metre | conditioned: mode |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    totals = []
    for cid, name in enumerate(names):
        if windows[cid] < args.min_windows or name.split()[0] not in METRES:
            continue
        held = np.flatnonzero(test_ids == cid)  # a seeded subset: windows of many tunes
        real = data.test[np.random.default_rng(cid).permutation(held)[: args.num]]
        seed = args.seed + 1000 * cid
        ours = cond.sample(args.num, length=length, seed=seed, condition=cid)
        theirs = plain.sample(args.num, length=length, seed=seed)
        row = [*rates(real, name, templates), *rates(theirs, name, templates),
               *rates(ours, name, templates)]  # fmt: skip
        totals.append(row)
        cells = " | ".join(f"{v:.2f}" for v in row)
        print(f"| {name} | {windows[cid]} | {cells} |")
    mean = np.mean(totals, axis=0)
    print(f"| mean of {len(totals)} | | " + " | ".join(f"{v:.2f}" for v in mean) + " |")


if __name__ == "__main__":
    main()
