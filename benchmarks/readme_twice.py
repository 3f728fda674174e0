"""The README's first set-up command, run twice in a row from a fresh clone (issue 21).

    OMP_NUM_THREADS=1 python benchmarks/readme_twice.py [--repo PATH] [--rev HEAD] [--workdir DIR]

It clones `--repo` at `--rev` into a new folder, reads the first command of the README's
"Set-up" section from the clone, and runs its seqgan-music part (`seqgan-music train && ...`)
twice in the clone, with HOME and TMPDIR in the sandbox (so the corpus cache starts empty) and
OMP_NUM_THREADS as given (one thread above). The venv and pip part is not rerun: the
`seqgan-music` of the Python running this script is used, with PYTHONPATH set to the clone (its
import is checked to come from the clone). Each run must exit 0 without a traceback; the second
must make a second run folder and replace tune.mid; nothing may be written in the sandbox outside
the clone and HOME. It prints each run's wall time and the verdict, and exits 1 on a miss.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def first_command(readme: Path) -> str:
    """The first indented command line of the README's set-up section."""
    text = readme.read_text(encoding="utf-8")
    section = text[text.index("## Set-up") :]
    match = re.search(r"^    (\S.*seqgan-music train.*)$", section, re.MULTILINE)
    if match is None:
        raise SystemExit(f"{readme}: no set-up command with 'seqgan-music train' found")
    return match.group(1).strip()


def seqgan_part(command: str) -> str:
    """The steps of `command` from its first seqgan-music call on (the venv and pip steps are
    the ones this script replaces with the running Python's environment)."""
    steps = [s.strip() for s in command.split("&&")]
    first = next(i for i, s in enumerate(steps) if s.startswith("seqgan-music"))
    if not all(s.startswith("seqgan-music") for s in steps[first:]):
        raise SystemExit(f"unexpected steps after the first seqgan-music call: {steps[first:]}")
    return " && ".join(steps[first:])


def files_under(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            st = path.lstat()
            out[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, default=ROOT, help="the repository to clone")
    ap.add_argument("--rev", default="HEAD", help="the commit to check out")
    ap.add_argument("--workdir", type=Path, default=None, help="default: a temporary folder")
    ap.add_argument("--times", type=int, default=2, help="how many runs in a row")
    args = ap.parse_args()
    box = (args.workdir or Path(tempfile.mkdtemp(prefix="readme_twice-"))).resolve()
    clone, home, tmp = box / "clone", box / "home", box / "tmp"
    home.mkdir(parents=True)
    tmp.mkdir()
    subprocess.run(["git", "clone", "--quiet", str(args.repo), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", args.rev], check=True)
    rev = subprocess.run(["git", "-C", str(clone), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    command = first_command(clone / "README.md")
    part = seqgan_part(command)
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if k != "SEQGAN_MUSIC_CACHE"}
    env.update(HOME=str(home), TMPDIR=str(tmp), PYTHONPATH=str(clone),
               PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}")  # fmt: skip
    show = "import seqgan_music; print(seqgan_music.__file__)"
    where = subprocess.run([sys.executable, "-c", show], env=env, cwd=clone, capture_output=True,
                           text=True).stdout.strip()  # fmt: skip
    if not where.startswith(str(clone)):
        raise SystemExit(f"seqgan_music is imported from {where}, not from the clone")
    print(f"clone of {args.repo} at {rev} in {clone}\nREADME command: {command}\nrun: {part} "
          f"(OMP_NUM_THREADS={env.get('OMP_NUM_THREADS', 'unset')}; venv/pip steps: "
          f"{bin_dir.parent}, already installed)")  # fmt: skip
    misses, tune_stamps = [], []
    for n in range(1, args.times + 1):
        before = files_under(box)
        start = time.perf_counter()
        done = subprocess.run(["bash", "-c", part], cwd=clone, env=env, capture_output=True,
                              text=True)  # fmt: skip
        seconds = time.perf_counter() - start
        after = files_under(box)
        changed = [p for p in set(before) | set(after) if before.get(p) != after.get(p)]
        outside = sorted(p for p in changed if not p.startswith(("clone/", "home/")))
        runs = sorted(p.name for p in (clone / "checkpoints").glob("run-*") if p.is_dir())
        tune = clone / "tune.mid"
        tune_stamps.append(tune.stat().st_mtime_ns if tune.exists() else None)
        last = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()][-3:]
        print(f"\nrun {n}: rc {done.returncode}, {seconds:.0f} s wall (load average "
              f"{os.getloadavg()[0]:.1f} at the end); run folders: "
              f"{', '.join(runs) or 'none'}\n  " + "\n  ".join(last))  # fmt: skip
        if done.returncode != 0:
            misses.append(f"run {n} exited {done.returncode}")
        if "Traceback" in done.stdout + done.stderr:
            misses.append(f"run {n} printed a traceback")
        if len(runs) != n:
            misses.append(f"run {n}: {len(runs)} run folders, not {n}")
        if tune_stamps[-1] is None or (n > 1 and tune_stamps[-1] == tune_stamps[-2]):
            misses.append(f"run {n}: tune.mid not written")
        if outside:
            misses.append(f"run {n} wrote outside the clone and HOME: {outside[:3]}")
    print(
        "\n"
        + (
            f"PASS: the README's first command ran {args.times} times in a row"
            if not misses
            else "FAIL: " + "; ".join(misses)
        )
    )
    if args.workdir is None:
        shutil.rmtree(box, ignore_errors=True)
    sys.exit(1 if misses else 0)


if __name__ == "__main__":
    main()
