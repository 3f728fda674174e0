"""The README's summary table: the matched-diversity verdict of `compare --seeds`, per corpus.

Reads each folder's seed-*/matched.json (as `compare --seeds` writes them, copied into
docs/results/<corpus>_matched/; every seed that has one) and prints one Markdown table: per corpus
and model, the temperature chosen on the valid split, then mean ± sd over seeds of the test-split
scores (music: BLEU-4 and MSE; text: BLEU-2 and BLEU-4, no MSE), and in how many seeds SeqGAN is
better than that row with p < 0.01 (Welch) on each of those. `--p` prints every seed's p-values.

    python benchmarks/matched_summary.py docs/results/embedded_matched \
        docs/results/nottingham_matched
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

SUBJECT = "SeqGAN"
COLUMNS = ("BLEU-2", "BLEU-4", "MSE", "C2ST accuracy", "Frechet distance", "held-out NLL",
           "entropy/token")  # fmt: skip
WIN_ON = ("BLEU-2", "BLEU-4", "MSE")  # each where the corpus has it ("-" where not)


def _fmt(values: list[float]) -> str:
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    if not len(arr):
        return "-"
    digits = 2 if abs(arr.mean()) >= 10 else 3
    if len(arr) == 1:  # one seed: no spread to show
        return f"{arr[0]:.{digits}f}"
    return f"{arr.mean():.{digits}f} ± {arr.std(ddof=1):.{digits}f}"


def _wins(rows: list[dict], metric: str, model: str) -> bool | None:
    row = next((r for r in rows if r["metric"] == metric), None)
    if row is None or model == SUBJECT:
        return None
    p, a, b = row.get(f"p ({SUBJECT} vs {model})"), row.get(SUBJECT), row.get(model)
    if p is None or a is None or b is None:
        return None
    return p < 0.01 and (a > b if row["better"] == "higher" else a < b)


def _per_seed(folder: Path) -> dict[int, dict]:
    paths = sorted(folder.glob("seed-*/matched.json"), key=lambda p: int(p.parent.name[5:]))
    if not paths:
        sys.exit(f"matched_summary: no seed-*/matched.json in {folder}")
    return {int(p.parent.name[5:]): json.loads(p.read_text()) for p in paths}


def _value(verdict: list[dict], metric: str, model: str) -> float | None:
    return next((r.get(model) for r in verdict if r["metric"] == metric), None)


def summary(folders: list[Path]) -> str:
    header = ["corpus", "seeds", "model", "T (valid)", "matched on", *COLUMNS,
              f"seeds {SUBJECT} better, p < 0.01 ({' / '.join(WIN_ON)})"]  # fmt: skip
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * 3 + "---:|" * (len(header) - 3)]
    for folder in folders:
        per_seed = _per_seed(folder)
        first = next(iter(per_seed.values()))
        for model in first["matched"]:
            temps = [m["matched"][model]["temperature"] for m in per_seed.values()]
            cells = [folder.name.removesuffix("_matched"), ", ".join(map(str, per_seed)), model,
                     ", ".join(f"{t:g}" for t in temps), first["statistic"]]  # fmt: skip
            for metric in COLUMNS:
                cells.append(_fmt([_value(m["verdict"], metric, model) for m in per_seed.values()]))
            counts = []
            for metric in WIN_ON:
                wins = [_wins(m["verdict"], metric, model) for m in per_seed.values()]
                counts.append("-" if None in wins else f"{sum(wins)} of {len(wins)}")
            cells.append("-" if model == SUBJECT else " / ".join(counts))
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def p_values(folders: list[Path]) -> str:
    """Every seed's verdict against each MLE row: the difference's sign and Welch's p."""
    out = []
    for folder in folders:
        for seed, m in _per_seed(folder).items():
            for model in m["matched"]:
                if model == SUBJECT:
                    continue
                parts = []
                for metric in WIN_ON:
                    row = next((r for r in m["verdict"] if r["metric"] == metric), None)
                    p = None if row is None else row.get(f"p ({SUBJECT} vs {model})")
                    if p is None:
                        continue
                    better = (row[SUBJECT] > row[model]) == (row["better"] == "higher")
                    side = SUBJECT if better else "MLE"
                    parts.append(f"{metric} {row[SUBJECT]:.4g} vs {row[model]:.4g}, "
                                 f"{side} better, p = {p:.2g}")  # fmt: skip
                out.append(
                    f"- {folder.name} seed {seed}, {SUBJECT} vs {model} "
                    f"(T = {m['matched'][model]['temperature']:g}): " + "; ".join(parts)
                )
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    args = sys.argv[1:]
    show_p = "--p" in args
    folders = [Path(a) for a in args if a != "--p"]
    if not folders:
        sys.exit("usage: python benchmarks/matched_summary.py [--p] FOLDER [FOLDER ...]")
    print(summary(folders), end="")
    if show_p:
        print("\n" + p_values(folders), end="")
