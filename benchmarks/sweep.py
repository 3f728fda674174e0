"""A validation sweep of SeqGAN's settings against the best-validation MLE generator.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/sweep.py --data embedded --seed 0 \
        --out runs/sweep --try default --try baseline=true --try d_steps=1 --try d.scale=0.5

Every choice is scored on the VALID split only (never test): per variant, 1,000 samples of the
final generator against the valid windows (BLEU of the domain's order, music adds MSE), beside
the same scores of the pre-trained generator at its best validation NLL (early stopping: the
strongest MLE model), with Welch p-values, the mean reward of the last five rounds and D's
accuracy on fresh samples at the end. A variant is space-separated NAME=VALUE settings on top of
the preset: TrainConfig fields (d_steps, k_epochs, pg_lr, update_rate, rollout_num,
num_negatives, d_lr, baseline, adv_rounds, ...) and discriminator ones: d.scale (multiplies every
filter count), d.dropout, d.l2_reg, d.emb_dim. Pre-training (G, then D) is shared by the variants
that leave its settings alone; every stage is a checkpoint, so a killed sweep resumes. Results
append to <out>/sweep.jsonl and print as Markdown rows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seqgan_music.core.config import SeqGANConfig
from seqgan_music.core.domain import get_domain
from seqgan_music.core.metrics import welch_p_value
from seqgan_music.core.trainer import SeqGANTrainer
from seqgan_music.datasets import load_dataset
from seqgan_music.runs import MetricsLog, plot_learning_curve
from seqgan_music.training import build_config, validation_metrics

# settings that only the adversarial phase reads: variants differing only in them share pre-training
ADVERSARIAL_ONLY = ("adv_rounds", "g_steps", "d_steps", "k_epochs", "rollout_num", "update_rate",
                    "pg_lr", "pg_batch_size", "baseline", "temperature", "mode")  # fmt: skip
NUM_SCORED = 1000
SCORE_SEED = 4321


def parse_variant(text: str) -> dict[str, Any]:
    """'d_steps=1 pg_lr=1e-3' -> {"d_steps": 1, "pg_lr": 0.001}; 'default' -> {}."""
    out: dict[str, Any] = {}
    for item in text.split():
        if item == "default":
            continue
        name, _, raw = item.partition("=")
        value: Any = {"true": True, "false": False}.get(raw.lower(), raw)
        if isinstance(value, str):
            try:
                value = int(raw)
            except ValueError:
                value = float(raw)
        out[name] = value
    return out


def variant_config(base: SeqGANConfig, settings: dict[str, Any]) -> SeqGANConfig:
    d_fields = {k[2:]: v for k, v in settings.items() if k.startswith("d.")}
    train = {k: v for k, v in settings.items() if not k.startswith("d.")}
    disc = base.discriminator
    scale = d_fields.pop("scale", None)
    if scale is not None:
        filters = tuple((w, max(1, round(n * scale))) for w, n in disc.filters)
        disc = replace(disc, filters=filters)
    disc = replace(disc, **d_fields)
    return replace(base, discriminator=disc).with_train(**train)


def _key(config: SeqGANConfig) -> str:
    d = config.to_dict()
    for name in ADVERSARIAL_ONLY:
        d["train"].pop(name)
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:10]


def _score(generator, dataset) -> dict[str, np.ndarray]:
    rng = torch.Generator().manual_seed(SCORE_SEED)
    with torch.no_grad():
        samples = generator.eval().sample(NUM_SCORED, rng=rng).cpu().numpy()
    return get_domain(dataset.domain).validation_scores(samples, dataset.valid, dataset)


def pretrained(config: SeqGANConfig, dataset, train, valid, out: Path) -> Path:
    """G and D pre-training for this config (shared through a key of its settings)."""
    path = out / f"pretrain-{_key(config)}.pt"
    evaluate = validation_metrics(dataset, valid)
    if path.exists():
        trainer = SeqGANTrainer.load(path, train, evaluate=evaluate, valid_data=valid)
    else:
        trainer = SeqGANTrainer(config.with_train(adv_rounds=0), train, evaluate=evaluate,
                                valid_data=valid, metadata={"domain": dataset.domain})  # fmt: skip
    trainer.run(path)
    return path


def run_variant(name: str, settings: dict[str, Any], base: SeqGANConfig, dataset, out: Path):
    train = torch.as_tensor(dataset.train, dtype=torch.long)
    valid = torch.as_tensor(dataset.valid, dtype=torch.long)
    config = variant_config(base, settings)
    start = time.perf_counter()
    pre = pretrained(config, dataset, train, valid, out)
    run_dir = out / f"{name.replace(' ', '_').replace('=', '-')}"
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt = run_dir / "checkpoint.pt"
    evaluate = validation_metrics(dataset, valid)
    log = MetricsLog(run_dir / "metrics.csv", None)
    adversarial = {k: getattr(config.train, k) for k in ADVERSARIAL_ONLY}
    source = ckpt if ckpt.exists() else pre
    trainer = SeqGANTrainer.load(source, train, evaluate=evaluate, callback=log,
                                 train_overrides=adversarial, valid_data=valid)  # fmt: skip
    log.start_from(trainer)
    trainer.run(ckpt)
    plot_learning_curve(log.path, run_dir / "curve.png")
    mle = SeqGANTrainer.load(pre, train).generator
    return summarise(name, trainer, _score(mle, dataset), _score(trainer.generator, dataset),
                     time.perf_counter() - start)  # fmt: skip


def summarise(name, trainer, mle, seqgan, seconds) -> dict[str, Any]:
    adv = [h["metrics"] for h in trainer.history if h["phase"] == "adversarial"]
    best_mle = trainer.early_stop.best or {}
    row: dict[str, Any] = {"variant": name, "seed": trainer.config.train.seed, "seconds": seconds,
                           "best_mle_epoch": best_mle.get("epoch")}  # fmt: skip
    for metric in (k for k in seqgan if k.startswith(("BLEU", "MSE"))):
        row[f"mle_{metric}"] = float(np.mean(mle[metric]))
        row[f"seqgan_{metric}"] = float(np.mean(seqgan[metric]))
        row[f"p_{metric}"] = welch_p_value(seqgan[metric], mle[metric])
    tail = adv[-5:]
    for key in ("reward", "d_acc_fake", "d_acc_valid"):
        values = [m[key] for m in tail if key in m]
        row[f"last5_{key}"] = float(np.mean(values)) if values else None
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="embedded")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--tokenizer", default=None)
    parser.add_argument("--seq-len", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/sweep")
    parser.add_argument(
        "--try",
        dest="variants",
        action="append",
        default=[],
        help="space-separated NAME=VALUE settings; 'default' for the preset",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    dataset = load_dataset(args.data, tokenizer=args.tokenizer, seq_len=args.seq_len,
                               seed=args.seed, progress=False)  # fmt: skip
    base = build_config(dataset, args.preset).with_train(seed=args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for i, text in enumerate(args.variants or ["default"]):
        row = run_variant(text, parse_variant(text), base, dataset, out)
        with (out / "sweep.jsonl").open("a") as fh:
            fh.write(json.dumps(row) + "\n")
        if i == 0:
            print("| " + " | ".join(row) + " |\n|" + "---|" * len(row), flush=True)
        cells = " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values())
        print(f"| {cells} |", flush=True)


if __name__ == "__main__":
    main()
