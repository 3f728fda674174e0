"""Benchmark: fp32 vs bf16 -- roll-out rewards, D training throughput, a whole adversarial round.

Cases: `paper` (the oracle sizes: V=5000, T=20, G emb/hidden 32, PAPER_FILTERS D with emb 64,
Algorithm 1's round: 1 PG step of 64 samples with 16 roll-outs, G_beta update, 5 d-steps of
10,000 fresh negatives + 10,000 positives for 3 epochs) and `music` (the default music preset:
V=89, T=32, G 32/64, MUSIC_FILTERS D with emb 32; a round of 1 PG step, 2 d-steps of 3,165
negatives + 3,165 positives, the Nottingham train split's size, for 1 epoch).

Prints, per case and precision: the reward for one batch (CPU seconds, the minimal FLOPs of
bench_rollout.minimal_flops, the achieved rate and its share of the bf16 and fp32 matmul rates
measured in the same run; the original code's loop as reference, fp32), D training samples/s
(minibatches of 64: forward, backward, Adam) and the round's breakdown: reward, PG update,
sampling the negatives, D training. Times are process CPU seconds (min over repeats), which the
load of other processes inflates far less than wall time on a shared machine; /proc/loadavg is
printed. `--round-fraction F` measures sampling and D training on F of the round's negatives and
epochs and scales linearly (both are a loop of identical minibatches), saying so.

The script measures whatever seqgan_music is on PYTHONPATH, so running it against a checkout of
an older commit (where `seqgan_music.core.precision` does not exist: fp32 only) measures that
code in the same conditions:

    python benchmarks/bench_precision.py --threads 1 [--case paper|music|both]
        [--precisions fp32,bf16] [--parts reward,dtrain,round] [--round-fraction 0.05]
        [--compile off|on|both]

--compile on runs the reward, the sampling and D's loss through torch.compile (core.compiling),
after one warm-up call that compiles (its seconds are not counted; bench_rollout.py prints them).
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import torch

from seqgan_music.core.config import PAPER_FILTERS, DiscriminatorConfig, GeneratorConfig
from seqgan_music.core.discriminator import Discriminator
from seqgan_music.core.generator import Generator
from seqgan_music.core.rollout import RolloutPolicy, rollout_rewards, rollout_rewards_reference

try:  # where the music preset lives since the domain packages (issue 9)
    from seqgan_music.music.presets import MUSIC_FILTERS
except ImportError:
    from seqgan_music.core.config import MUSIC_FILTERS
try:  # absent before the precision setting existed: that code is fp32 only
    from seqgan_music.core.precision import adam, autocast
except ImportError:
    adam = autocast = None

CASES = {
    "paper": dict(V=5000, T=20, B=64, N=16, emb=32, hidden=32, d_emb=64, filters=PAPER_FILTERS,
                  negatives=10_000, d_steps=5, epochs=3),
    "music": dict(V=89, T=32, B=64, N=16, emb=32, hidden=64, d_emb=32, filters=MUSIC_FILTERS,
                  negatives=3_165, d_steps=2, epochs=1),
}  # fmt: skip


def cpu_seconds(fn: Callable[[], object], repeats: int = 1) -> float:
    """Min process CPU seconds of `fn` over `repeats` calls (after the first, a warm-up)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def precision_context(precision: str) -> contextlib.AbstractContextManager:
    if autocast is None:
        if precision != "fp32":
            raise SystemExit("this checkout has no precision setting: use --precisions fp32")
        return contextlib.nullcontext()
    return autocast(precision, "cpu")


def matmul_rates() -> dict[str, float]:
    """GFLOP/s per CPU second of the issue's (4096 x 1720) @ (1720 x 1720) matmul."""
    rates = {}
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        a, b = torch.randn(4096, 1720, dtype=dtype), torch.randn(1720, 1720, dtype=dtype)
        a @ b
        rates[name] = 2 * 4096 * 1720 * 1720 / cpu_seconds(lambda a=a, b=b: a @ b, 5) / 1e9
    return rates


COMPILE = False  # --compile: set per pass by main()


def _loss(d: Discriminator, tokens: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    if COMPILE:
        from seqgan_music.core.compiling import compiled

        return compiled(Discriminator.loss)(d, tokens, labels)
    return d.loss(tokens, labels)


def _kw() -> dict:
    """compile= for the core calls that take it (none before issue 19: nothing passed)."""
    return {"compile": True} if COMPILE else {}


def build(c: dict) -> tuple[Generator, Discriminator]:
    torch.manual_seed(0)
    g = Generator(GeneratorConfig(c["V"], c["T"], c["emb"], c["hidden"]))
    d = Discriminator(DiscriminatorConfig(c["V"], c["T"], c["d_emb"], filters=c["filters"]))
    return g, d


def bench_reward(c: dict, precisions: list[str], rates: dict, ref: int) -> None:
    from bench_rollout import minimal_flops

    g, d = build(c)
    samples = g.sample(c["B"], rng=torch.Generator().manual_seed(0))
    flops = sum(minimal_flops(c).values())
    print(f"  reward for one batch (B={c['B']}, N={c['N']}), minimal work {flops / 1e9:.1f} GFLOP:")
    for precision in precisions:
        sec = reward_seconds(samples, g, d, c["N"], precision)
        rate = flops / sec / 1e9
        print(f"    {precision}{' compiled' if COMPILE else ''}: {sec:.3f} s  {rate:.0f} GFLOP/s = "
              f"{100 * rate / rates['bf16']:.0f}% of the bf16 matmul rate, "
              f"{100 * rate / rates['fp32']:.0f}% of fp32's")  # fmt: skip
    if ref:
        rng = torch.Generator().manual_seed(1)
        with torch.inference_mode():
            start = time.process_time()
            rollout_rewards_reference(samples, g, d, c["N"], rng=rng)
        print(f"    reference loop (fp32): {time.process_time() - start:.2f} s")


def reward_seconds(samples, g: Generator, d: Discriminator, num: int, precision: str) -> float:
    """Min CPU seconds of the batched reward over 3 calls after a warm-up."""
    rng = torch.Generator().manual_seed(1)
    with torch.inference_mode(), precision_context(precision):
        rollout_rewards(samples, g, d, num, rng=rng, **_kw())  # warm-up
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            rollout_rewards(samples, g, d, num, rng=rng, **_kw())
            best = min(best, time.process_time() - start)
    return best


def profile_reward(c: dict, precision: str) -> None:
    """Where the reward's time goes: torch.profiler's operators by self CPU time."""
    from torch.profiler import ProfilerActivity, profile

    g, d = build(c)
    samples = g.sample(c["B"], rng=torch.Generator().manual_seed(0))
    rng = torch.Generator().manual_seed(1)
    with torch.inference_mode(), precision_context(precision):
        rollout_rewards(samples, g, d, c["N"], rng=rng)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            rollout_rewards(samples, g, d, c["N"], rng=rng)
    print(f"  profile of the {precision} reward:")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


def _optimizer(d: Discriminator) -> torch.optim.Optimizer:
    return adam(d.parameters(), 1e-4) if adam else torch.optim.Adam(d.parameters(), lr=1e-4)


def d_training(d: Discriminator, opt, tokens, labels, precision: str, epochs: int) -> None:
    """`epochs` epochs of minibatches of 64 (Eq. 5), as the trainer's D round."""
    d.train()
    gen = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        for idx in torch.randperm(len(tokens), generator=gen).split(64):
            with precision_context(precision):
                loss = _loss(d, tokens[idx], labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()


def sample_negatives(g: Generator, n: int, precision: str) -> torch.Tensor:
    rng = torch.Generator().manual_seed(2)
    with torch.no_grad(), precision_context(precision):
        return torch.cat([g.sample(min(2048, n - i), rng=rng, **_kw()) for i in range(0, n, 2048)])


def pg_update(g: Generator, opt, samples: torch.Tensor, rewards: torch.Tensor) -> None:
    loss = -(g.log_probs(samples) * rewards).sum(1).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(g.parameters(), 5.0)
    opt.step()


def round_parts(c: dict, precision: str, n_neg: int, epochs: int) -> dict[str, float]:
    """CPU seconds of one PG step (reward; update + G_beta), of sampling `n_neg` negatives and
    of `epochs` epochs of D on them + as many positives; and D's samples/s."""
    g, d = build(c)
    policy, g_opt, d_opt = RolloutPolicy(g), torch.optim.Adam(g.parameters()), _optimizer(d)
    positives = sample_negatives(g, n_neg, "fp32")  # stand-ins: any tokens train alike
    rng = torch.Generator().manual_seed(1)
    samples = g.sample(c["B"], rng=rng)
    with torch.no_grad(), precision_context(precision):
        start = time.process_time()
        rollout_rewards(samples, policy.generator, d, c["N"], rng=rng, **_kw())  # warm-up
        start = time.process_time()
        rewards = rollout_rewards(samples, policy.generator, d, c["N"], rng=rng, **_kw())
        parts = {"reward": time.process_time() - start}
    start = time.process_time()
    pg_update(g, g_opt, samples, rewards)
    policy.update(g, 0.8)
    parts["pg"] = time.process_time() - start
    sample_negatives(g, 64, precision)  # warm-up
    start = time.process_time()
    negatives = sample_negatives(g, n_neg, precision)
    parts["sample"] = time.process_time() - start
    tokens = torch.cat([positives, negatives])
    labels = torch.cat([torch.ones(n_neg), torch.zeros(n_neg)])
    warm = 64 + (2 * n_neg) % 64  # a full minibatch and the last one's size: every shape
    d_training(d, d_opt, tokens[:warm], labels[:warm], precision, 1)  # warm-up
    start = time.process_time()
    d_training(d, d_opt, tokens, labels, precision, epochs)
    parts["d"] = time.process_time() - start
    parts["rate"] = 2 * n_neg * epochs / parts["d"]
    return parts


def bench_round(c: dict, precisions: list[str], fraction: float) -> None:
    n_neg = max(64, round(c["negatives"] * fraction))
    epochs = 1 if fraction < 1 else c["epochs"]
    per_round = c["d_steps"] * c["epochs"] * 2 * c["negatives"]  # D samples a round trains on
    scale_d, scale_s = per_round / (2 * n_neg * epochs), c["d_steps"] * c["negatives"] / n_neg
    note = (f", measured on {n_neg:,} negatives x {epochs} epoch and scaled x{scale_s:.0f} "
            f"(sampling), x{scale_d:.0f} (D training)") if fraction < 1 else ""  # fmt: skip
    print(f"  adversarial round ({c['d_steps']} d-steps x {c['negatives']:,} negatives + as many "
          f"positives x {c['epochs']} epochs{note}):")  # fmt: skip
    for precision in precisions:
        p = round_parts(c, precision, n_neg, epochs)
        sample, d_train = p["sample"] * scale_s, p["d"] * scale_d
        total = p["reward"] + p["pg"] + sample + d_train
        label = f"{precision}{' compiled' if COMPILE else ''}"
        print(f"    {label}: {total:.1f} s = reward {p['reward']:.2f} + PG and G_beta "
              f"{p['pg']:.2f} + sampling negatives {sample:.1f} + D training {d_train:.1f} "
              f"(D training {p['rate']:.0f} samples/s)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=["paper", "music", "both"], default="both")
    parser.add_argument("--precisions", default="fp32,bf16")
    parser.add_argument("--parts", default="reward,round")
    parser.add_argument("--ref-repeats", type=int, default=1, help="0 skips the reference loop")
    parser.add_argument("--round-fraction", type=float, default=None,
                        help="share of the round's sampling and D training to measure "
                        "(default: 0.05 for paper, 1 for music)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--profile", action="store_true", help="torch.profiler's top operators of the reward"
    )
    parser.add_argument("--compile", choices=["off", "on", "both"], default="off")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    rates = matmul_rates()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), load average "
          f"{' '.join(load)}; matmul (4096x1720 @ 1720x1720) fp32 {rates['fp32']:.0f}, "
          f"bf16 {rates['bf16']:.0f} GFLOP/s per CPU second")  # fmt: skip
    precisions, parts = args.precisions.split(","), args.parts.split(",")
    for COMPILE_ in {"off": (False,), "on": (True,), "both": (False, True)}[args.compile]:
        global COMPILE
        COMPILE = COMPILE_
        run_cases(args, precisions, parts, rates)


def run_cases(args: argparse.Namespace, precisions: list[str], parts: list[str], rates) -> None:
    for name in ("paper", "music") if args.case == "both" else (args.case,):
        c = CASES[name]
        print(f"{name}: V={c['V']} T={c['T']} G {c['emb']}/{c['hidden']}, D emb {c['d_emb']}")
        if "reward" in parts:
            bench_reward(c, precisions, rates, args.ref_repeats)
        if args.profile:
            profile_reward(c, precisions[-1])
        if "round" in parts:
            fraction = args.round_fraction or (0.05 if name == "paper" else 1.0)
            bench_round(c, precisions, fraction)


if __name__ == "__main__":
    main()
