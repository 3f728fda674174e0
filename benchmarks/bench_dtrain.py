"""Benchmark: D training throughput (forward, backward, fused Adam) against the matmul units' rate.

Trains the paper's D (V=5000, T=20, emb 64, the 12 PAPER_FILTERS windows: 7.0 M parameters,
6.0 M of them the 1,720-wide highway layer) or the music default's D on random tokens, one
thread, for each minibatch size asked, the sizes taking turns in the same process (`--repeats`
rounds) so a shared machine's changing load falls on all of them alike. Prints samples/s per
process CPU second (the median over the rounds), the FLOPs a sample needs (forward + backward:
3x the forward's multiply-adds x 2) and the bound they give at the bf16 matmul rate measured in
the same process a moment before: what D training would reach if it ran entirely at the rate of
one large bf16 matmul. `--profile` prints torch.profiler's operators (self CPU time) for a few
steps at the first size.

    python benchmarks/bench_dtrain.py --threads 1 [--case paper|music] [--batch 64 128 256]
        [--precision bf16|fp32] [--steps 40] [--repeats 3] [--profile]

The paper's minibatch is 64 (the original code's dis_batch_size, which the paper's oracle
experiment used); larger sizes show what the per-step costs weigh; no preset uses them.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from seqgan_music.core.config import PAPER_FILTERS, DiscriminatorConfig
from seqgan_music.core.discriminator import Discriminator
from seqgan_music.core.precision import adam, autocast
from seqgan_music.music.presets import MUSIC_FILTERS

CASES = {
    "paper": dict(V=5000, T=20, emb=64, filters=PAPER_FILTERS),
    "music": dict(V=89, T=32, emb=32, filters=MUSIC_FILTERS),
}


def sample_flops(c: dict) -> float:
    """2 x the multiply-adds of one sample's forward (windows, highway, output), x 3 with the
    backward (input and weight gradients)."""
    T, E = c["T"], c["emb"]
    feats = sum(n for _, n in c["filters"])
    conv = sum((T - w + 1) * w * E * n for w, n in c["filters"] if w <= T)
    return 3 * 2 * (conv + 2 * feats * feats + feats)


def bf16_rate() -> float:
    """GFLOP/s per CPU second of a (4096 x 1720) @ (1720 x 1720) bf16 matmul (min over 5)."""
    a, b = torch.randn(4096, 1720).bfloat16(), torch.randn(1720, 1720).bfloat16()
    a @ b
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        a @ b
        best = min(best, time.process_time() - start)
    return 2 * 4096 * 1720 * 1720 / best / 1e9


class Trainer:
    """One D with its fused Adam, trained on fixed random tokens in minibatches of any size."""

    def __init__(self, c: dict, precision: str, rows: int) -> None:
        torch.manual_seed(0)
        self.d = Discriminator(DiscriminatorConfig(c["V"], c["T"], c["emb"], filters=c["filters"]))
        self.d.train()
        self.opt = adam(self.d.parameters(), 1e-4)
        self.precision = precision
        gen = torch.Generator().manual_seed(0)
        self.tokens = torch.randint(0, c["V"], (rows, c["T"]), generator=gen)
        self.labels = (torch.rand(rows, generator=gen) < 0.5).float()

    def step(self, lo: int, batch: int) -> None:
        with autocast(self.precision, "cpu"):
            loss = self.d.loss(self.tokens[lo : lo + batch], self.labels[lo : lo + batch])
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()

    def rate(self, batch: int, steps: int) -> float:
        """Samples per process CPU second over `steps` minibatches of `batch`."""
        start = time.process_time()
        for i in range(steps):
            self.step((i * batch) % (len(self.tokens) - batch + 1), batch)
        return steps * batch / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), default="paper")
    parser.add_argument("--batch", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--precision", choices=["bf16", "fp32"], default="bf16")
    parser.add_argument("--steps", type=int, default=40, help="minibatches of 64 per measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    c = CASES[args.case]
    trainer = Trainer(c, args.precision, 64 * args.steps)
    for batch in args.batch:  # warm-up: every shape once
        trainer.rate(batch, 2)
    rates: dict[int, list[float]] = {b: [] for b in args.batch}
    matmul = []
    for _ in range(args.repeats):
        matmul.append(bf16_rate())
        for batch in args.batch:  # the same samples per measurement whatever the minibatch
            rates[batch].append(trainer.rate(batch, max(1, args.steps * 64 // batch)))
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    flops = sample_flops(c)
    rate = statistics.median(matmul)
    params = sum(p.numel() for p in trainer.d.parameters())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), load average "
          f"{' '.join(load)}; {args.case} D ({params / 1e6:.1f} M parameters), {args.precision}; "
          f"bf16 matmul {rate:.0f} GFLOP/s per CPU second (median of {args.repeats})")  # fmt: skip
    bound = rate * 1e9 / flops
    print(f"{flops / 1e6:.1f} MFLOP per sample (forward + backward): at the bf16 matmul rate "
          f"{bound:,.0f} samples/s")  # fmt: skip
    print("| minibatch | samples/s (median) | each round | share of the matmul-rate bound |")
    print("|---:|---:|---|---:|")
    for batch, values in rates.items():
        mid = statistics.median(values)
        each = ", ".join(f"{v:,.0f}" for v in values)
        print(f"| {batch} | {mid:,.0f} | {each} | {mid / bound:.0%} |")
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU]) as prof:
            trainer.rate(args.batch[0], 10)
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


if __name__ == "__main__":
    main()
