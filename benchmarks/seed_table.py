"""Per-seed results of several `evaluate` runs side by side, with each model's final validation NLL.

    python benchmarks/seed_table.py runs/nottingham-beat/seed0 runs/nottingham-beat/seed1 \
        runs/nottingham-beat/seed2 --metric BLEU-4 --metric MSE ...

Each folder holds `evaluation.json` (from `seqgan-music evaluate --out`) and the run folders
`seqgan/` and `mle/` (their metrics.csv give the validation NLL; the pre-trained generator's is the
last g_pretrain row of seqgan/). Prints one markdown row per metric and seed.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

NLL_ROW = "validation NLL per token"


def _last_nll(path: Path, phase: str | None = None) -> float | None:
    rows = [r for r in csv.DictReader(path.open()) if r.get("valid_nll")]
    rows = [r for r in rows if phase is None or r["phase"] == phase]
    return float(rows[-1]["valid_nll"]) if rows else None


def nll_row(folder: Path, models: list[str]) -> dict[str, float | None]:
    """Validation NLL of each model column (SeqGAN, the pre-trained G, the MLE branch)."""
    values = {
        "SeqGAN": _last_nll(folder / "seqgan" / "metrics.csv"),
        "pre-trained": _last_nll(folder / "seqgan" / "metrics.csv", "g_pretrain"),
        "MLE (+": _last_nll(folder / "mle" / "metrics.csv"),
    }

    def pick(model: str) -> float | None:
        if model.startswith("p (") or model == "real data":
            return None
        return next((v for k, v in values.items() if k in model), None)

    return {m: pick(m) for m in models}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--metric", action="append", required=True)
    args = ap.parse_args()
    header = None
    for folder in args.folders:
        rows = {r["metric"]: r for r in json.loads((folder / "evaluation.json").read_text())}
        models = [k for k in next(iter(rows.values())) if k != "metric"]
        if header is None:
            header = models
            print("| metric | seed | " + " | ".join(models) + " |")
            print("|---|---|" + "---:|" * len(models))
        for metric in args.metric + [NLL_ROW]:
            cells = nll_row(folder, models) if metric == NLL_ROW else rows[metric]
            shown = [_fmt(cells.get(m)) for m in models]
            print(f"| {metric} | {folder.name} | " + " | ".join(shown) + " |")


def _fmt(value: object) -> str:
    if value is None:
        return ""
    v = float(value)
    return f"{v:.1e}" if 0 < abs(v) < 1e-3 else f"{v:.4f}" if abs(v) < 10 else f"{v:.2f}"


if __name__ == "__main__":
    main()
