"""End-to-end `seqgan-music compose` time: a fresh process that imports torch, loads the shipped
model (or --checkpoint), samples and writes the default four 128-step tunes, as a user runs it
(--force: each run overwrites the last one's files).

    python benchmarks/bench_compose.py [--repeats 5] [--checkpoint PATH]

Goal: under 3 s on this 2-core CPU.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--checkpoint", default=None)
    args = parser.parse_args()
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "seqgan_music", "compose", "--out",
                   str(Path(tmp) / "tune.mid"), "--seed", "0", "--device", "cpu",
                   "--force"]  # fmt: skip
        if args.checkpoint:
            command += ["--checkpoint", args.checkpoint]
        for _ in range(args.repeats):
            start = time.perf_counter()
            done = subprocess.run(command, cwd=tmp, capture_output=True, text=True, check=True)
            times.append(time.perf_counter() - start)
    print(done.stdout.strip())
    print(f"compose end to end: median {statistics.median(times):.2f} s, "
          f"min {min(times):.2f} s over {args.repeats} runs")  # fmt: skip


if __name__ == "__main__":
    main()
