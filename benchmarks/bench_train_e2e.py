"""Benchmark: `seqgan-music train` end to end per `--compile` setting, fresh and warm caches.

Each mode is one fresh process, `seqgan-music train --threads 1 --quiet --compile C` on the
embedded corpus (the default preset unless `--set` changes it), into a temporary run folder.
Inductor's cache ($TORCHINDUCTOR_CACHE_DIR, which wins over $SEQGAN_MUSIC_CACHE/inductor and
leaves the prepared-corpus cache alone) is a new empty folder for a `fresh` mode, and for a `warm`
mode the folder the run before it used (so list a fresh mode before a warm one). Prints per mode
the wall seconds, the process's CPU seconds (its children's rusage: what a shared machine's load
inflates least), whether the run compiled (the checkpoint's resolved setting) and /proc/loadavg
before and after.

    python benchmarks/bench_train_e2e.py [--modes off:fresh auto:fresh on:fresh on:warm]
        [--set adv_rounds=4 ...]

Modes are COMPILE:CACHE with COMPILE auto|on|off and CACHE fresh|warm, run in the order given.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from seqgan_music.core.checkpoint import read_checkpoint

ROOT = Path(__file__).resolve().parents[1]


def loadavg() -> str:
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else "n/a"


def train(compile_mode: str, cache: Path, work: Path, preset: str, sets: list[str]) -> dict:
    """One `seqgan-music train` in a fresh process; its wall and CPU seconds, and whether it
    compiled."""
    env = dict(os.environ, OMP_NUM_THREADS="1", TORCHINDUCTOR_CACHE_DIR=str(cache))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    name = f"{compile_mode}-{cache.name}-{time.monotonic_ns()}"
    cmd = [sys.executable, "-m", "seqgan_music", "train", "--threads", "1", "--quiet",
           "--compile", compile_mode, "--preset", preset, "--out", str(work),
           "--run-name", name]  # fmt: skip
    for item in sets:
        cmd += ["--set", item]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"train --compile {compile_mode} failed:\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    state = read_checkpoint(work / name / "checkpoint.pt")
    return {"wall": wall, "cpu": cpu, "compiled": bool(state.get("compile", False))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="+", default=["off:fresh", "auto:fresh", "on:fresh",
                                                       "on:warm"])  # fmt: skip
    parser.add_argument("--preset", default="default")
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        help="NAME=VALUE train settings for every run (e.g. adv_rounds=4)",
    )
    args = parser.parse_args()
    print(f"cpus {os.cpu_count()}, one thread, embedded corpus, preset {args.preset}"
          f"{' with ' + ', '.join(args.sets) if args.sets else ''}")  # fmt: skip
    print("| --compile | inductor cache | compiled | wall s | CPU s | loadavg before -> after |")
    print("|---|---|---|---:|---:|---|")
    with tempfile.TemporaryDirectory(prefix="seqgan-e2e-") as tmp:
        tmp_path, cache = Path(tmp), None
        for i, mode in enumerate(args.modes):
            compile_mode, _, cache_kind = mode.partition(":")
            if compile_mode not in ("auto", "on", "off") or cache_kind not in ("fresh", "warm"):
                parser.error(f"mode {mode!r}: COMPILE:CACHE with auto|on|off and fresh|warm")
            if cache_kind == "fresh" or cache is None:
                cache = tmp_path / f"cache-{i}"  # a new, empty inductor cache
            before = loadavg()
            res = train(compile_mode, cache, tmp_path / "runs", args.preset, args.sets)
            print(f"| {compile_mode} | {cache_kind} | {'yes' if res['compiled'] else 'no'} "
                  f"| {res['wall']:.1f} | {res['cpu']:.1f} | {before} -> {loadavg()} |",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
