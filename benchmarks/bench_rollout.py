"""Benchmark: Monte Carlo roll-out rewards (Eq. 4) for one batch, batched vs the original loop.

Cases: (a) the paper's oracle sizes: V=5000, T=20, B=64, N=16, D = PAPER_FILTERS with emb 64,
G emb/hidden 32; (b) music defaults (seqgan_music/music/presets.py): V=89, T=32, B=64, N=16,
D = MUSIC_FILTERS with emb 32, G emb 32 / hidden 64. Prints the median time (wall and CPU), the
analytic FLOP count of the minimal work (with the prefix shortcut), the achieved GFLOP/s, this
machine's float32 matmul GFLOP/s and the speed-up over `rollout_rewards_reference` (timed on fewer
repeats: it is slow). On a shared machine use --threads 1 and read the CPU-second figures.

    python benchmarks/bench_rollout.py [--case a|b|both] [--device auto|cpu|cuda] [--repeats 5]
        [--compile off|on|both] [--precision fp32|bf16]

--compile on/both also times `rollout_rewards(..., compile=True)` (core.compiling), and prints
the first call's seconds, which include compiling (or loading inductor's cache when warm).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable

import torch

from seqgan_music.core.config import PAPER_FILTERS, DiscriminatorConfig, GeneratorConfig
from seqgan_music.core.discriminator import Discriminator
from seqgan_music.core.generator import Generator
from seqgan_music.core.precision import autocast
from seqgan_music.core.rollout import rollout_rewards, rollout_rewards_reference

try:  # bench_precision.py imports this file to measure older checkouts too
    from seqgan_music.music.presets import MUSIC_FILTERS
except ImportError:  # before the domain packages (issue 9)
    from seqgan_music.core.config import MUSIC_FILTERS

CASES = {
    "a": dict(name="paper oracle", V=5000, T=20, B=64, N=16, emb=32, hidden=32,
              d_emb=64, filters=PAPER_FILTERS),
    "b": dict(name="music", V=89, T=32, B=64, N=16, emb=32, hidden=64,
              d_emb=32, filters=MUSIC_FILTERS),
}  # fmt: skip


def minimal_flops(c: dict) -> dict[str, float]:
    """Multiply-adds x 2 of the work any exact method must do (the prefix shortcut included)."""
    V, T, B, N, E, H, De = c["V"], c["T"], c["B"], c["N"], c["emb"], c["hidden"], c["d_emb"]
    filters = [(w, n) for w, n in c["filters"] if w <= T]
    feats = sum(n for _, n in filters)
    lstm, head = 2 * 4 * H * (E + H), 2 * H * V  # per token
    # G: teacher-forced pass over Y (T steps) + heads for the T-1 prefixes (shared by N roll-outs)
    g = B * T * lstm + B * (T - 1) * head
    # ... then each roll-out from prefix t steps T-t-1 more times
    g += N * B * sum(T - t - 1 for t in range(1, T)) * (lstm + head)
    conv = lambda w, n, windows: windows * n * 2 * w * De  # noqa: E731
    d_head = 2 * 2 * feats * feats + 2 * feats  # highway (transform + gate) + output
    d = B * (sum(conv(w, n, T - w + 1) for w, n in filters) + d_head)  # D(Y): all windows
    for t in range(1, T):  # roll-outs from prefix t: only windows ending after t are new
        d += N * B * (sum(conv(w, n, T - max(t, w - 1)) for w, n in filters) + d_head)
    return {"G": g, "D": d}


def timed(fn: Callable[[], object], repeats: int, device: torch.device) -> tuple[float, float]:
    """Median wall seconds and median process CPU seconds of `fn` over `repeats` calls. With one
    thread on a shared machine, CPU seconds are what the load of other jobs does not inflate."""
    wall, cpu = [], []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def matmul_gflops(device: torch.device, size: int = 4096, repeats: int = 5) -> tuple[float, float]:
    """float32 GFLOP/s of one large torch.matmul: (per wall second, per CPU second)."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    torch.matmul(a, b)  # warm-up
    wall, cpu = timed(lambda: torch.matmul(a, b), repeats, device)
    return 2 * size**3 / wall / 1e9, 2 * size**3 / cpu / 1e9


def run_case(
    key: str,
    device: torch.device,
    repeats: int,
    ref_repeats: int,
    rate: tuple[float, float],
    compiles: tuple[bool, ...] = (False,),
    precision: str = "fp32",
) -> None:
    c = CASES[key]
    torch.manual_seed(0)
    g = Generator(GeneratorConfig(c["V"], c["T"], c["emb"], c["hidden"])).to(device)
    d = Discriminator(DiscriminatorConfig(c["V"], c["T"], c["d_emb"], filters=c["filters"])).to(
        device
    )
    rng = torch.Generator(device=device).manual_seed(0)
    samples = g.sample(c["B"], rng=rng)

    def slow():
        return rollout_rewards_reference(samples, g, d, c["N"], rng=rng)

    print(f"({key}) {c['name']}: V={c['V']} T={c['T']} B={c['B']} N={c['N']} "
          f"G emb/hidden {c['emb']}/{c['hidden']}, D emb {c['d_emb']}, "
          f"{len([w for w, _ in c['filters'] if w <= c['T']])} windows, {precision}")  # fmt: skip
    with torch.inference_mode(), autocast(precision, device):
        for compile in compiles:
            fast = functools.partial(rollout_rewards, samples, g, d, c["N"], rng=rng,
                                     compile=compile)  # fmt: skip
            first = time.perf_counter()
            fast()  # warm-up (and the compile)
            first = time.perf_counter() - first
            t_fast, c_fast = timed(fast, repeats, device)
            report(c, "compiled" if compile else "eager", t_fast, c_fast, repeats, rate)
            print(f"    first call {first:.1f} s")
        t_ref, c_ref = timed(slow, ref_repeats, device) if ref_repeats else (None, None)
    if t_ref is not None:
        print(
            f"  reference loop: {t_ref:.2f} s wall, {c_ref:.2f} s CPU (median of {ref_repeats})"
            f" -> speed-up {t_ref / t_fast:.1f}x wall, {c_ref / c_fast:.1f}x CPU (last above)"
        )


def report(
    c: dict, label: str, t_fast: float, c_fast: float, repeats: int, rate: tuple[float, float]
) -> None:
    flops = minimal_flops(c)
    total = flops["G"] + flops["D"]
    print(f"  batched rollout_rewards, {label}: median {t_fast:.3f} s wall, {c_fast:.3f} s CPU "
          f"over {repeats}")  # fmt: skip
    print(f"  minimal work: {total / 1e9:.1f} GFLOP (G {flops['G'] / 1e9:.1f}, "
          f"D {flops['D'] / 1e9:.1f})")  # fmt: skip
    print(
        f"  achieved: {total / t_fast / 1e9:.1f} GFLOP/s per wall s "
        f"({100 * total / t_fast / 1e9 / rate[0]:.0f}% of matmul), "
        f"{total / c_fast / 1e9:.1f} per CPU s ({100 * total / c_fast / 1e9 / rate[1]:.0f}%)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=["a", "b", "both"], default="both")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ref-repeats", type=int, default=1, help="0 skips the reference loop")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--compile", choices=["off", "on", "both"], default="off")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    args = parser.parse_args()
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    rate = matmul_gflops(device)
    print(
        f"device {device} ({torch.get_num_threads()} threads), torch {torch.__version__}: "
        f"float32 matmul (4096^3) {rate[0]:.0f} GFLOP/s per wall s, {rate[1]:.0f} per CPU s"
    )
    for key in ("a", "b") if args.case == "both" else (args.case,):
        compiles = {"off": (False,), "on": (True,), "both": (False, True)}[args.compile]
        run_case(key, device, args.repeats, args.ref_repeats, rate, compiles, args.precision)


if __name__ == "__main__":
    main()
