"""Benchmark: thread settings under contention -- torch's default, one thread, PASSIVE waiting.

Runs the same small training workload (one music-sized reward batch and 40 minibatches of music
D training, fp32) in a fresh process per setting, while `--load N` other processes keep cores
busy (single-threaded matmul loops, standing in for other jobs), and prints wall seconds:

- torch's default threads (one per core, OpenMP threads spin while they wait),
- one thread (`--threads 1`, the CLI's default),
- all cores with OMP_WAIT_POLICY=PASSIVE (waiting threads sleep).

    python benchmarks/bench_threads.py [--load 1] [--repeats 2] [--skip-default]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

WORKLOAD = """
import time, torch
from seqgan_music.core.config import DiscriminatorConfig, GeneratorConfig
from seqgan_music.music.presets import MUSIC_FILTERS
from seqgan_music.core.discriminator import Discriminator
from seqgan_music.core.generator import Generator
from seqgan_music.core.rollout import rollout_rewards
torch.manual_seed(0)
g = Generator(GeneratorConfig(89, 32, 32, 64))
d = Discriminator(DiscriminatorConfig(89, 32, 32, filters=MUSIC_FILTERS))
opt = torch.optim.Adam(d.parameters(), lr=1e-4)
rng = torch.Generator().manual_seed(0)
samples = g.sample(64, rng=rng)
start = time.perf_counter()
rollout_rewards(samples, g, d, 16, rng=rng)
tokens = torch.randint(0, 89, (64 * 40, 32), generator=rng)
for idx in torch.arange(len(tokens)).split(64):
    loss = d.loss(tokens[idx], (idx % 2).float())
    opt.zero_grad()
    loss.backward()
    opt.step()
print(time.perf_counter() - start, torch.get_num_threads())
"""

LOAD = "import torch\ntorch.set_num_threads(1)\na = torch.randn(1024, 1024)\nwhile True:\n a @ a\n"


def run(env_extra: dict[str, str]) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    env.update(env_extra)
    root = Path(__file__).resolve().parent.parent
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", WORKLOAD], env=env, check=True,
                         capture_output=True, text=True).stdout.split()  # fmt: skip
    return float(out[0]), int(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", type=int, default=1, help="busy processes started alongside")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-default", action="store_true", help="leave out torch's default")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    settings = {} if args.skip_default else {"torch default": {}}
    settings |= {
        "1 thread": {"OMP_NUM_THREADS": "1"},
        f"{cores} threads, OMP_WAIT_POLICY=PASSIVE": {"OMP_NUM_THREADS": str(cores),
                                                      "OMP_WAIT_POLICY": "PASSIVE"},
    }  # fmt: skip
    loads = [subprocess.Popen([sys.executable, "-c", LOAD]) for _ in range(args.load)]
    try:
        time.sleep(1.0)
        load = (
            Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
        )
        print(
            f"{cores} cores, {args.load} busy process(es) started, load average {' '.join(load)}",
            flush=True,
        )
        results: dict[str, list[tuple[float, int]]] = {name: [] for name in settings}
        for _ in range(args.repeats):  # round robin, so a change of load hits every setting
            for name, env in settings.items():
                results[name].append(run(env))
        for name, runs in results.items():
            times = ", ".join(f"{t:.1f}" for t, _ in runs)
            print(f"  {name} ({runs[0][1]} threads): {min(t for t, _ in runs):.1f} s wall "
                  f"(runs: {times})", flush=True)  # fmt: skip
    finally:
        for proc in loads:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
