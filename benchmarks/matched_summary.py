"""The README's summary table: the matched-diversity verdict of `compare --seeds`, per corpus.

Reads each folder's matched_seeds.json and seed-*/matched.json (as `compare --seeds` writes them,
copied into docs/results/<corpus>_matched/) and prints one Markdown table: per corpus and model,
the temperature chosen on the valid split, then mean ± sd over seeds of the test-split scores,
and in how many seeds SeqGAN is better than that row with p < 0.01 (Welch) on BLEU and MSE.

    python benchmarks/matched_summary.py docs/results/embedded_matched \
        docs/results/nottingham_matched
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

SUBJECT = "SeqGAN"
COLUMNS = ("BLEU-4", "MSE", "C2ST accuracy", "Frechet distance", "held-out NLL")
WIN_ON = ("BLEU-4", "MSE")


def _fmt(values: list[float]) -> str:
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    if not len(arr):
        return "-"
    sd = arr.std(ddof=1) if len(arr) > 1 else 0.0
    digits = 2 if abs(arr.mean()) >= 10 else 3
    return f"{arr.mean():.{digits}f} ± {sd:.{digits}f}"


def _wins(rows: list[dict], metric: str, model: str) -> bool | None:
    row = next((r for r in rows if r["metric"] == metric), None)
    if row is None or model == SUBJECT:
        return None
    p, a, b = row.get(f"p ({SUBJECT} vs {model})"), row.get(SUBJECT), row.get(model)
    if p is None or a is None or b is None:
        return None
    return p < 0.01 and (a > b if row["better"] == "higher" else a < b)


def summary(folders: list[Path]) -> str:
    header = ["corpus", "model", "T (valid)", "matched on", *COLUMNS,
              *(f"seeds {SUBJECT} better on {m}, p < 0.01" for m in WIN_ON)]  # fmt: skip
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * 2 + "---:|" * (len(header) - 2)]
    for folder in folders:
        per_seed = {s: json.loads((folder / f"seed-{s}" / "matched.json").read_text())
                    for s in json.loads((folder / "matched_seeds.json").read_text())}  # fmt: skip
        first = next(iter(per_seed.values()))
        models = list(first["matched"])
        for model in models:
            temps = [m["matched"][model]["temperature"] for m in per_seed.values()]
            cells = [folder.name.removesuffix("_matched"), model,
                     ", ".join(f"{t:g}" for t in temps), first["statistic"]]  # fmt: skip
            for metric in COLUMNS:
                vals = [next((r.get(model) for r in m["verdict"] if r["metric"] == metric), None)
                        for m in per_seed.values()]  # fmt: skip
                cells.append(_fmt(vals))
            for metric in WIN_ON:
                wins = [_wins(m["verdict"], metric, model) for m in per_seed.values()]
                cells.append("-" if None in wins else f"{sum(wins)} of {len(wins)}")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python benchmarks/matched_summary.py FOLDER [FOLDER ...]")
    print(summary([Path(a) for a in sys.argv[1:]]), end="")
