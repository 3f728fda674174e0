"""Per-seed `evaluate --tunes` tables (markdown, one a seed) side by side: each column's figure in
every seed and their mean, for the README's whole-tune rows.

    python benchmarks/tunes_seed_table.py eval-s0.md eval-s1.md eval-s2.md
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def read_table(path: Path) -> dict[str, dict[str, float]]:
    """{column with its '(seed N)' dropped: {metric: value}} of one `evaluate --tunes` table."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in path.read_text().splitlines() if line.startswith("|")]  # fmt: skip
    header, body = rows[0], rows[2:]
    out: dict[str, dict[str, float]] = {}
    for j, name in enumerate(header[1:], start=1):
        key = re.sub(r"\s*\(seed \d+\)", "", name)
        out[key] = {r[0]: float(r[j]) for r in body if r[j]}
    return out


def main(paths: list[str]) -> None:
    tables = [read_table(Path(p)) for p in paths]
    columns = [c for c in tables[0] if all(c in t for t in tables)]
    metrics = list(dict.fromkeys(m for c in columns for m in tables[0][c]))
    print("| metric | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for m in metrics:
        cells = []
        for c in columns:
            vals = [t[c][m] for t in tables if m in t[c]]
            if not vals:
                cells.append("")
                continue
            seeds = " / ".join(f"{v:.2f}" for v in vals)
            cells.append(f"**{sum(vals) / len(vals):.3f}** ({seeds})" if len(vals) > 1 else
                         f"{vals[0]:.3f}")  # fmt: skip
        print(f"| {m} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
