"""Run the synthetic oracle experiment (the paper's Table 1 and Figure 2) and print its results.

    python benchmarks/run_oracle_experiment.py --preset cpu --out /tmp/oracle_cpu \
        --oracle ../shared/data/oracle/lantaoyu_target_params.npz --threads 1

On a crowded CPU, --threads 1 made an MLE epoch about 4x faster than torch's default threads here.

Progress goes to stderr, one line per unit, with elapsed seconds; the results JSON to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from seqgan_music import api
from seqgan_music.core.trainer import TrainEvent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=api.oracle_presets(), default="cpu")
    parser.add_argument("--out", default="runs/oracle")
    parser.add_argument("--oracle", default=None, help="oracle .npz (default: random N(0,1))")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    args = parser.parse_args()
    start = time.perf_counter()

    def report(event: TrainEvent) -> None:
        shown = " ".join(f"{k}={v:.4g}" for k, v in event.metrics.items())
        elapsed = time.perf_counter() - start
        print(f"[{elapsed:7.1f}s] {event.phase} {event.step}/{event.total} {shown}",
              file=sys.stderr, flush=True)  # fmt: skip

    results = api.run_oracle_experiment(
        args.preset,
        args.out,
        oracle_path=args.oracle,
        # --threads 1 wastes less on a crowded machine; 0 keeps torch's default
        runtime=api.Runtime.resolve(args.device, threads=args.threads or None, set_threads=False),
        seed=args.seed,
        callback=report,
    )
    shown = {k: v for k, v in results.items() if k != "config"}
    print(json.dumps(shown, indent=2))


if __name__ == "__main__":
    main()
