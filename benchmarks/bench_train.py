"""End-to-end `seqgan-music train` time, `--compile off` against `auto` (and `on`), with inductor's
cache fresh (an empty TORCHINDUCTOR_CACHE_DIR: every compile paid) and warm (the same folder
again: compiled kernels loaded from disk), one thread, each run a fresh process as a user runs it.

    python benchmarks/bench_train.py [--modes off,auto] [--repeats 1] [--data embedded]
        [--preset default] [--set NAME=VALUE ...]

Runs go round robin (off, auto fresh, auto warm, off, ...) so a change in the machine's load
hits every mode alike; /proc/loadavg is printed beside each. Each line gives the wall and process
CPU seconds (children included) and what the run resolved `compile` to (its checkpoint's
"compile"). `--set` (the train command's own) shortens the run, e.g. `--set adv_rounds=2`: the
figures then say so. The prepared corpus is cached once beforehand (not part of the timings).
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

import torch


def loadavg() -> str:
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else "n/a"


def train(args: argparse.Namespace, mode: str, inductor: Path, out: Path, name: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", TORCHINDUCTOR_CACHE_DIR=str(inductor))
    cmd = [sys.executable, "-m", "seqgan_music", "train", "--data", args.data, "--preset",
           args.preset, "--threads", "1", "--device", "cpu", "--compile", mode, "--quiet",
           "--out", str(out), "--run-name", name, "--seed", "0"]  # fmt: skip
    for item in args.set or []:
        cmd += ["--set", item]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"train --compile {mode} failed:\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    ckpt = torch.load(out / name / "checkpoint.pt", weights_only=True, map_location="cpu")
    return {"wall": wall, "cpu": cpu, "compiled": ckpt.get("compile")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="off,auto")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--data", default="embedded")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE")
    args = parser.parse_args()
    modes = args.modes.split(",")
    sets = "".join(" --set " + s for s in args.set or [])
    print(f"train --data {args.data} --preset {args.preset} --threads 1{sets}; "
          f"torch {torch.__version__}")  # fmt: skip
    print("| run | compile | inductor cache | wall s | CPU s | resolved | loadavg before |")
    print("|---:|---|---|---:|---:|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        prepare = [sys.executable, "-m", "seqgan_music", "data", "prepare", "--data", args.data]
        subprocess.run([*prepare, "--quiet"], capture_output=True, check=False)
        count = 0
        for rep in range(args.repeats):
            for mode in modes:
                caches = ["none"] if mode == "off" else ["fresh", "warm"]
                for cache in caches:
                    count += 1
                    inductor = root / f"inductor-{mode}-{rep}"
                    load = loadavg()
                    res = train(args, mode, inductor, root / "runs", f"r{count}")
                    print(f"| {count} | {mode} | {cache} | {res['wall']:.1f} | {res['cpu']:.1f} "
                          f"| {'compiled' if res['compiled'] else 'eager'} | {load} |",
                          flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
