"""The oracle experiment over seeds: the results of several `seqgan-music oracle --out` runs.

    python benchmarks/oracle_seeds.py runs/oracle/seed-0 runs/oracle/seed-1 runs/oracle/seed-2

Reads each folder's `results.json` and prints, as Markdown, one row per seed (NLL-oracle of the
pre-trained G, the MLE branch and SeqGAN on the final samples, Welch p, wall time) and the mean
+/- standard deviation over the seeds.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

COLUMNS = ("nll_oracle_pretrained", "nll_oracle_mle", "nll_oracle_seqgan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args()
    results = [json.loads((run / "results.json").read_text()) for run in args.runs]
    print("| seed | pre-trained | MLE | SeqGAN | p (SeqGAN vs MLE) | data's own NLL | wall time |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        wall = r["wall_seconds"].get("total_this_call")
        cells = " | ".join(f"{r[c]:.3f}" for c in COLUMNS)
        print(f"| {r['seed']} | {cells} | {r['p_value']:.1e} | {r['nll_oracle_data']:.3f} | "
              f"{wall:.0f} s |")  # fmt: skip
    if len(results) > 1:
        means = " | ".join(
            f"{statistics.mean(r[c] for r in results):.3f} ± "
            f"{statistics.stdev(r[c] for r in results):.3f}"
            for c in COLUMNS
        )
        better = sum(r["nll_oracle_seqgan"] < r["nll_oracle_mle"] and r["p_value"] < 0.01
                     for r in results)  # fmt: skip
        print(f"| mean ± sd | {means} | SeqGAN lower with p < 0.01 in {better} of "
              f"{len(results)} | | |")  # fmt: skip


if __name__ == "__main__":
    main()
