"""Validation sweep of the adversarial phase's settings, over seeds, from shared pre-training.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/round_sweep.py --runs runs/folk \\
        --seeds 0,1,2 --out runs/sweep --try "adv_rounds=24" --try "pg_lr=0.001 adv_rounds=30"

`--runs` is a `compare` output folder (`<runs>/seed-<s>/seqgan/checkpoint-pretrained.pt`, G at
its best validation NLL and the pre-trained D): every variant continues that checkpoint with its
adversarial settings on top (any TrainConfig field), so all variants of a seed share one
pre-training and the same random streams; a finished variant is not rerun. Each row reports, per
seed, the kept round's selection score (`select_on`: the smallest relative gain over the
pre-trained G among the validation metrics, valid split only, never test), the round and its
validation scores, and the mean over seeds, as Markdown. `--summarise` only reads the runs.
"""

from __future__ import annotations

import argparse
import csv
import statistics
from pathlib import Path

from sweep import parse_variant  # benchmarks/sweep.py, beside this script

from seqgan_music.core.runtime import configure_threads
from seqgan_music.training import train


def kept_round(metrics_csv: Path) -> dict[str, float] | None:
    """The adversarial row with the highest selection score (None before the first round)."""
    with metrics_csv.open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["phase"] == "adversarial"]
    rows = [r for r in rows if r.get("selection_score")]
    if not rows:
        return None
    best = max(rows, key=lambda r: float(r["selection_score"]))
    kept = {k: float(v) for k, v in best.items() if k.startswith(("valid_", "selection"))}
    return {**kept, "round": int(best["step"]), "rounds": len(rows)}


def cell(kept: dict[str, float] | None) -> str:
    if kept is None:
        return "-"
    scores = ", ".join(f"{k[6:]} {v:.4g}" for k, v in kept.items() if k.startswith("valid_")
                       and k != "valid_nll")  # fmt: skip
    return (f"{kept['selection_score']:+.4f} (round {kept['round']} of {kept['rounds']}; "
            f"{scores})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", required=True, help="a compare --out folder with seed-<s>/")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--out", default="runs/sweep")
    parser.add_argument("--try", dest="variants", action="append", default=[])
    parser.add_argument("--summarise", action="store_true", help="only read finished variants")
    args = parser.parse_args()
    configure_threads(1)
    seeds = [int(s) for s in args.seeds.split(",")]
    runs, out = Path(args.runs), Path(args.out)
    variants = {"default": runs}  # the compare runs themselves: the preset's own settings
    for text in args.variants:
        variants[text] = out / text.replace(" ", "_").replace("=", "-")
    print("| variant | " + " | ".join(f"seed {s}" for s in seeds) + " | mean score |")
    print("|---|" + "---|" * len(seeds) + "---:|")
    for text, folder in variants.items():
        kept = []
        for s in seeds:
            run = runs / f"seed-{s}" / "seqgan" if text == "default" else folder / f"s{s}"
            if text != "default" and not args.summarise and not (run / "checkpoint.pt").exists():
                pretrained = runs / f"seed-{s}" / "seqgan" / "checkpoint-pretrained.pt"
                train(init_from=pretrained, overrides=parse_variant(text), out_dir=folder,
                      run_name=f"s{s}", progress=False)  # fmt: skip
            csv_path = run / "metrics.csv"
            kept.append(kept_round(csv_path) if csv_path.exists() else None)
        done = [k["selection_score"] for k in kept if k is not None]
        mean = f"{statistics.mean(done):+.4f}" if done else "-"
        print(f"| {text} | " + " | ".join(cell(k) for k in kept) + f" | {mean} |", flush=True)


if __name__ == "__main__":
    main()
