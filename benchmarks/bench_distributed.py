"""Benchmark: one adversarial round of SeqGAN on 1 and 2 data-parallel ranks (torchrun, gloo).

A round is Algorithm 1's inner loop as the trainer runs it: g_steps policy-gradient steps (the PG
batch and its roll-outs split over the ranks), the G_beta update, d_steps D rounds (fresh
negatives sampled by all ranks, every D minibatch split, gradients all-reduced). Cases:

  music  the music default preset (V=89, T=32, G 32/64, MUSIC_FILTERS D), 3,165 positives (the
         Nottingham train split's size): PG batch 64 x 16 roll-outs, d=2 rounds of k=1 epoch.
  paper  the paper's sizes (V=5000, T=20, G 32/32, the 12-window PAPER_FILTERS D), 10,000
         positives, PG batch 64 x 16 roll-outs; the D part cut to one round of 2,000 negatives for
         one epoch (the paper's 5 rounds of 10,000 for 3 epochs is 75x that D work: minutes per
         round on one CPU thread), so the PG step and D weigh about the same.

Each rank runs one thread. Per world size it prints the median wall seconds per round, each
rank's CPU seconds per round (what other jobs on a shared machine do not inflate), the speed-up
and the scaling efficiency speed-up / ranks, with /proc/loadavg before and after (the machine's
other work). Positives are random tokens: speed does not depend on what they are.

    python benchmarks/bench_distributed.py [--case music|paper|both] [--ranks 1 2] [--rounds 3]
        [--bucket-mb 4] [--grad-bf16]

D's gradients are averaged by core.distributed.GradientExchange: buckets of --bucket-mb MB
all-reduced from gradient hooks while backward runs (--bucket-mb 1000: one bucket after the whole
backward, the former flat exchange); --grad-bf16 sends them as bfloat16.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from seqgan_music import api
from seqgan_music.core import distributed
from seqgan_music.core.trainer import SeqGANTrainer

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "music": dict(preset="default", V=89, T=32, positives=3165, train={}),
    "paper": dict(preset="paper", V=5000, T=20, positives=10000,
                  train=dict(d_steps=1, k_epochs=1, num_negatives=2000)),
}  # fmt: skip


def worker(case: str, rounds: int, bucket_mb: float, grad_bf16: bool) -> None:
    """One rank: a warm-up round, then `rounds` timed rounds; rank 0 prints one JSON line."""
    torch.set_num_threads(1)
    distributed.BUCKET_BYTES = int(bucket_mb * (1 << 20))
    distributed.init_from_env(torch.device("cpu"))
    c = CASES[case]
    music = api.get_domain("music")
    config = api.preset_config(music, c["preset"], c["V"], c["T"]).with_train(**c["train"])
    config = config.with_train(adv_rounds=rounds + 1, grad_bf16=grad_bf16)
    data = torch.randint(0, c["V"], (c["positives"], c["T"]), generator=torch.Generator())
    trainer = SeqGANTrainer(config, data)
    trainer.phase, trainer.step = "adversarial", 0  # straight to the rounds (G_beta = G)
    trainer.run(max_units=1)  # warm-up (allocator, first calls); joins the ranks' weights
    walls, cpus = [], []
    for _ in range(rounds):
        distributed.barrier()
        wall, cpu = time.perf_counter(), time.process_time()
        trainer._run_unit()  # one round alone, without run()'s start-of-run broadcast
        distributed.barrier()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    cpu_all = distributed.gather_rows(torch.tensor([statistics.median(cpus)]),
                                      [1] * distributed.world_size())  # fmt: skip
    if distributed.is_main():
        print(json.dumps({"wall": statistics.median(walls), "cpu": cpu_all.tolist()}))


def launch(case: str, ranks: int, rounds: int, extra: list[str]) -> dict:
    """This script's worker on `ranks` processes through torchrun (--standalone, gloo)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc-per-node={ranks}", __file__, "--worker", case,
           "--rounds", str(rounds), *extra]  # fmt: skip
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{case} on {ranks} ranks failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def loadavg() -> str:
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=["music", "paper", "both"], default="both")
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (after one warm-up)")
    parser.add_argument("--bucket-mb", type=float, default=distributed.BUCKET_BYTES / (1 << 20))
    parser.add_argument("--grad-bf16", action="store_true")
    parser.add_argument("--worker", choices=sorted(CASES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.rounds, args.bucket_mb, args.grad_bf16)
    extra = ["--bucket-mb", str(args.bucket_mb)] + (["--grad-bf16"] if args.grad_bf16 else [])
    print(
        f"cpus {os.cpu_count()}, torch {torch.__version__}, one thread per rank, gloo, "
        f"D gradient buckets of {args.bucket_mb:g} MB{', bf16' if args.grad_bf16 else ''}"
    )
    print("| case | ranks | wall s / round | CPU s / round per rank | speed-up | efficiency "
          "| loadavg before -> after |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---|")
    for case in ["music", "paper"] if args.case == "both" else [args.case]:
        base = None
        for ranks in args.ranks:
            before = loadavg()
            res = launch(case, ranks, args.rounds, extra)
            base = res["wall"] if ranks == 1 else base
            speedup = base / res["wall"] if base else float("nan")
            cpu = " / ".join(f"{c:.2f}" for c in res["cpu"])
            print(f"| {case} | {ranks} | {res['wall']:.2f} | {cpu} | {speedup:.2f}x "
                  f"| {speedup / ranks:.0%} | {before} -> {loadavg()} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
