"""Does a remedy make SeqGAN's adversarial phase move the quality-diversity frontier? (#22)

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/qd_sweep.py --pre /work/runs/adv/pre \\
        --out /work/runs/adv/v --seeds 0,1,2 --jobs 2 --try default \\
        --try "kl_coef=0.1 entropy_bonus=0.01" --try "d_label_smoothing=0.2 d_noise=0.1"

`--pre` holds one pre-training per seed, `s<seed>/checkpoint-pretrained.pt` (G at its best
validation NLL and the pre-trained D: `seqgan-music train --seed S --set adv_rounds=0 --run-name
sS --threads 1`); every variant continues it with its TrainConfig settings on top of the preset's
and `--base` (default adv_rounds=48, the preset's: the checkpoint keeps the pre-training run's 0)
(`seqgan-music train --init-from ... --set ...`, one thread, at most `--jobs` at once, skipped
when finished), so the variants of a seed share pre-training and random streams.

Everything is scored on the VALID split, never test: the variant's kept G (`select_on`) sampled
at T = 1 against the pre-trained G sampled at the temperature where its validation Self-BLEU-4
equals SeqGAN's (`quality_diversity.match_temperature`: linear between the points of the grid
0.60 .. 1.20, step 0.05): the matched-diversity test of Caccia et al. ("Language GANs Falling
Short", ICLR 2020), here on valid only since it chooses the variant (`evaluate --temperatures`
gives its test-split verdict). Per point, 1,000 samples (one seed for all):
BLEU-4 and MSE against the valid windows, Self-BLEU-4 (leaving each sample out of its own
references), mean per-step entropy of the sampling distribution along its samples, and the NLL
of the valid windows under that distribution, primer sensitivity (`primer_sensitivity`), the
two-sample classifier's accuracy (C2ST, 0.5 = indistinguishable) and the Frechet distance (FD)
of the domain's features against the valid windows (core/fidelity.py); Welch
p-values for the BLEU-4 and MSE differences. A seed is a win when SeqGAN is better on both
BLEU-4 (higher) and MSE (lower). Writes <out>/qd_sweep.csv, qd_sweep.md and qd_sweep.png and
prints the Markdown.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seqgan_music.core.domain import get_domain
from seqgan_music.core.metrics import self_bleu, welch_p_value
from seqgan_music.core.runtime import configure_threads
from seqgan_music.datasets import load_dataset
from seqgan_music.models import load_checkpoint
from seqgan_music.quality_diversity import match_temperature

GRID = [round(0.6 + 0.05 * i, 2) for i in range(13)]  # 0.60 .. 1.20
NUM_SCORED = 1000
SCORE_SEED = 4321
SCORES = "BLEU-4 / MSE / Self-BLEU-4 / H / NLL / primer / C2ST / FD"  # the table's columns
PRIMER_PAIRS = 500  # pairs of valid windows: G continues each one's first half


def primer_pairs(valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fixed random pairs (a, b) of distinct valid windows, as index arrays."""
    rng = np.random.default_rng(SCORE_SEED)
    a = rng.integers(0, len(valid), PRIMER_PAIRS)
    b = (a + rng.integers(1, len(valid), PRIMER_PAIRS)) % len(valid)
    return a, b


def same_steps(x: np.ndarray, y: np.ndarray) -> float:
    """The share of second-half steps at which two windows hold the same token."""
    half = x.shape[1] // 2
    return float((x[:, half:] == y[:, half:]).mean())


@torch.no_grad()
def primer_sensitivity(model: Any, valid: np.ndarray, temperature: float) -> float:
    """Primer sensitivity (#22): G continues the first half of each window of a pair; the
    share of continuation steps the two continuations share (the data's own: `same_steps` of the
    pairs' real second halves). A G that ignores its primer scores far above the data."""
    a, b = primer_pairs(valid)
    half = valid.shape[1] // 2
    rng = torch.Generator().manual_seed(SCORE_SEED)
    conts = [model.generator.sample(len(i), temperature=temperature, rng=rng,
                                    prefix=torch.as_tensor(valid[i, :half])).numpy()
             for i in (a, b)]  # fmt: skip
    return same_steps(*conts)


def folder_name(variant: str) -> str:
    return variant.replace(" ", "_").replace("=", "-")


def train_command(pre: Path, out: Path, variant: str, seed: int, base: str) -> list[str]:
    items = [item for item in f"{base} {variant}".split() if item != "default"]
    sets = [x for item in items for x in ("--set", item)]  # the variant's own come last: they win
    return [sys.executable, "-m", "seqgan_music", "train", "--init-from",
            str(pre / f"s{seed}" / "checkpoint-pretrained.pt"), "--threads", "1", "--quiet",
            "--out", str(out / folder_name(variant)), "--run-name", f"s{seed}", *sets]  # fmt: skip


def finished(run: Path) -> bool:
    metrics = run / "metrics.csv"
    return metrics.exists() and any(line.startswith("done,") for line in metrics.open())


def train_all(
    pre: Path, out: Path, variants: list[str], seeds: list[int], jobs: int, base: str
) -> None:
    """Every unfinished (variant, seed) run, `jobs` at a time (a killed run resumes)."""
    todo = [(v, s) for v in variants for s in seeds if not finished(out / folder_name(v) / f"s{s}")]
    running: list[subprocess.Popen] = []
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    while todo or running:
        running = [p for p in running if p.poll() is None]
        while todo and len(running) < jobs:
            variant, seed = todo.pop(0)
            run = out / folder_name(variant) / f"s{seed}"
            cmd = train_command(pre, out, variant, seed, base)
            if (run / "checkpoint.pt").exists():  # resume the killed run, not a new one
                cmd = [*cmd[:4], "--resume", *cmd[6:]]
            run.parent.mkdir(parents=True, exist_ok=True)
            log = (run.parent / f"s{seed}.log").open("a")
            running.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env))
        time.sleep(2)


def score(model: Any, dataset: Any, temperature: float) -> dict[str, Any]:
    """The validation scores of `model` sampled at `temperature` (per-sample arrays kept): the
    domain's, Self-BLEU-4, entropy per token, valid NLL and primer sensitivity, and the metrics
    temperature cannot game (quality_diversity / core/fidelity.py) against the valid windows."""
    domain, valid = get_domain(dataset.domain), np.asarray(dataset.valid)
    samples = model.sample(NUM_SCORED, seed=SCORE_SEED, temperature=temperature)
    scores = domain.validation_scores(samples, valid, dataset)
    out = {"temperature": temperature, "bleu4": scores["BLEU-4"], "mse": scores["MSE"],
           "self_bleu4": float(self_bleu(samples, 4).mean()),
           "entropy": float(model.token_entropy(
               samples, temperature, model.sample_conditions(NUM_SCORED, seed=SCORE_SEED)
           ).mean()),
           "nll": float(model.token_nll(valid, temperature).mean()),
           "primer_same": primer_sensitivity(model, valid, temperature)}  # fmt: skip
    fidelity = domain.fidelity(samples, valid, dataset, seed=SCORE_SEED)
    out["c2st"] = float(np.mean(fidelity["C2ST accuracy"]))  # 0.5: indistinguishable
    out["frechet"] = float(fidelity["Frechet distance"])
    return out


def summary(point: dict[str, Any]) -> dict[str, float]:
    return {k: float(np.mean(v)) for k, v in point.items()}


def mle_curve(model: Any, dataset: Any, cache: Path) -> list[dict[str, Any]]:
    """The pre-trained G over the temperature grid (per-sample arrays, cached as JSON lists)."""
    if cache.exists():
        return [{k: np.asarray(v) if isinstance(v, list) else v for k, v in p.items()}
                for p in json.loads(cache.read_text())]  # fmt: skip
    curve = [score(model, dataset, t) for t in GRID]
    plain = [{k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in p.items()}
             for p in curve]  # fmt: skip
    cache.write_text(json.dumps(plain))
    return curve


def kept_round(run: Path) -> str:
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    done = [r for r in rows if r["phase"] == "done"]
    return (done[-1].get("selected_round") or "last") if done else "?"


def compare_seed(run: Path, dataset: Any, mle_g: Any, curve: list[dict]) -> dict[str, Any]:
    """SeqGAN at T = 1 against the pre-trained G at the temperature where its validation
    Self-BLEU-4 equals SeqGAN's (`match_temperature`: linear between the grid points)."""
    gan = score(load_checkpoint(run / "checkpoint.pt"), dataset, 1.0)
    grid, values = [p["temperature"] for p in curve], [p["self_bleu4"] for p in curve]
    t, bracketed = match_temperature(grid, values, gan["self_bleu4"])
    edge = not bracketed  # SeqGAN's diversity lies off the grid: its nearest end
    mle = score(mle_g, dataset, round(t, 4))
    row = {f"gan_{k}": v for k, v in summary(gan).items() if k != "temperature"}
    row.update({f"mle_{k}": v for k, v in summary(mle).items()})
    row.update(kept_round=kept_round(run), grid_edge=edge,
               p_bleu4=welch_p_value(gan["bleu4"], mle["bleu4"]),
               p_mse=welch_p_value(gan["mse"], mle["mse"]))  # fmt: skip
    row["win"] = row["gan_bleu4"] > row["mle_bleu4"] and row["gan_mse"] < row["mle_mse"]
    row["win_p01"] = row["win"] and row["p_bleu4"] < 0.01 and row["p_mse"] < 0.01
    return row


def _five(row: dict[str, Any], side: str) -> str:
    """The scores in `SCORES` of one side ("gan" or "mle") of a row."""
    keys = ("bleu4", "mse", "self_bleu4", "entropy", "nll", "primer_same", "c2st", "frechet")
    return " / ".join(f"{row[f'{side}_{k}']:.{2 if k == 'mse' else 3}f}" for k in keys)


def _mean(rows: list[dict[str, Any]], key: str, minus: str | None = None) -> float:
    return statistics.mean(r[key] - (r[minus] if minus else 0.0) for r in rows)


def markdown(rows: list[dict[str, Any]]) -> str:
    scores = SCORES
    head = (f"| variant | seed | kept round | SeqGAN {scores} | matched T | MLE {scores} | "
            "dBLEU-4 (p) | dMSE (p) | win |\n|---|---:|---:|---|---:|---|---|---|---|")  # fmt: skip
    lines = [head]
    for r in rows:
        temp = f"{r['mle_temperature']:.3f}" + (" (grid edge)" if r["grid_edge"] else "")
        win = "**yes**" if r["win_p01"] else ("yes (p >= 0.01)" if r["win"] else "no")
        lines.append(
            f"| {r['variant']} | {r['seed']} | {r['kept_round']} | {_five(r, 'gan')} | {temp} | "
            f"{_five(r, 'mle')} | {r['gan_bleu4'] - r['mle_bleu4']:+.3f} ({r['p_bleu4']:.2g}) | "
            f"{r['gan_mse'] - r['mle_mse']:+.2f} ({r['p_mse']:.2g}) | {win} |"
        )
    lines += ["", "| variant | seeds won (both metrics) | won with p < 0.01 | mean dBLEU-4 | "
              "mean dMSE | mean dC2ST | mean dFD | mean SeqGAN Self-BLEU-4 | "
              "mean entropy SeqGAN / MLE at T |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for variant in dict.fromkeys(r["variant"] for r in rows):
        rs = [r for r in rows if r["variant"] == variant]
        lines.append(
            f"| {variant} | {sum(r['win'] for r in rs)} of {len(rs)} | "
            f"{sum(r['win_p01'] for r in rs)} | {_mean(rs, 'gan_bleu4', 'mle_bleu4'):+.3f} | "
            f"{_mean(rs, 'gan_mse', 'mle_mse'):+.2f} | {_mean(rs, 'gan_c2st', 'mle_c2st'):+.3f} | "
            f"{_mean(rs, 'gan_frechet', 'mle_frechet'):+.3f} | {_mean(rs, 'gan_self_bleu4'):.3f} | "
            f"{_mean(rs, 'gan_entropy'):.3f} / {_mean(rs, 'mle_entropy'):.3f} |"
        )
    return "\n".join(lines) + "\n"


def plot(rows: list[dict[str, Any]], curves: dict[int, list[dict]], png: Path) -> None:
    """Per seed: MLE's BLEU-4 and MSE against Self-BLEU-4 over the grid, each variant a point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seeds = sorted(curves)
    fig, axes = plt.subplots(2, len(seeds), figsize=(5 * len(seeds), 8), squeeze=False)
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    for j, seed in enumerate(seeds):
        pts = [summary(p) for p in curves[seed]]
        for i, metric in enumerate(("bleu4", "mse")):
            ax = axes[i][j]
            ax.plot([p["self_bleu4"] for p in pts], [p[metric] for p in pts], "k.-",
                    label="pre-trained G, T 0.6..1.2")  # fmt: skip
            for p in pts[::4]:
                ax.annotate(f"{p['temperature']:.2f}", (p["self_bleu4"], p[metric]), fontsize=7)
            for k, variant in enumerate(variants):
                for r in (r for r in rows if r["variant"] == variant and r["seed"] == seed):
                    ax.plot(r["gan_self_bleu4"], r[f"gan_{metric}"], "o", color=f"C{k % 10}",
                            label=variant)  # fmt: skip
            ax.set_xlabel("valid Self-BLEU-4 (higher: less diverse)")
            ax.set_ylabel(f"valid {'BLEU-4 (higher better)' if i == 0 else 'MSE (lower better)'}")
            ax.set_title(f"seed {seed}")
    axes[0][0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pre", required=True, help="folder of s<seed>/checkpoint-pretrained.pt")
    parser.add_argument("--out", required=True, help="folder for the variants' run folders")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--jobs", type=int, default=2, help="training runs at once")
    parser.add_argument("--try", dest="variants", action="append", default=[])
    # a -pretrained checkpoint keeps its pre-training run's adv_rounds (0): restate the preset's
    parser.add_argument("--base", default="adv_rounds=48", help="settings under every variant")
    parser.add_argument("--summarise", action="store_true", help="score finished runs only")
    args = parser.parse_args()
    configure_threads(1)
    seeds = [int(s) for s in args.seeds.split(",")]
    pre, out = Path(args.pre), Path(args.out)
    variants = args.variants or ["default"]
    if not args.summarise:
        train_all(pre, out, variants, seeds, args.jobs, args.base)
    rows, curves = [], {}
    for seed in seeds:
        model = load_checkpoint(pre / f"s{seed}" / "checkpoint-pretrained.pt")
        run = model.run
        dataset = load_dataset(run.data, seq_len=model.config.generator.seq_len,
                               seed=run.held_out_seed(), progress=False,
                               fitted_tokenizer=model.tokenizer, domain=model.domain)  # fmt: skip
        curves[seed] = mle_curve(model, dataset, out / f"mle_curve_v2_s{seed}.json")
        for variant in variants:
            run_dir = out / folder_name(variant) / f"s{seed}"
            if finished(run_dir):
                row = compare_seed(run_dir, dataset, model, curves[seed])
                rows.append({"variant": variant, "seed": seed, **row})
    if not rows:
        sys.exit(f"no finished run under {out} for these variants and seeds")
    rows.sort(key=lambda r: (variants.index(r["variant"]), r["seed"]))
    valid = np.asarray(dataset.valid)
    a, b = primer_pairs(valid)
    text = (f"Primer sensitivity of the valid data itself (same steps between the second halves "
            f"of {PRIMER_PAIRS} random pairs of windows): {same_steps(valid[a], valid[b]):.3f}\n\n"
            + markdown(rows))  # fmt: skip
    print(text)
    (out / "qd_sweep.md").write_text(text)
    with (out / "qd_sweep.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, curves, out / "qd_sweep.png")


if __name__ == "__main__":
    main()
