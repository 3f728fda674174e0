"""Bad input through the CLI, as an outside fuzzing probe tries it: each case a subprocess with a
time limit, counted as a traceback, a hang or a silent (zero-exit) acceptance.

    OMP_NUM_THREADS=1 python benchmarks/probe_cli.py [--workdir DIR] [--timeout 120]

It trains one tiny run on a few generated tunes, derives broken checkpoints and run folders from
it, then runs every case. An "error" case must end non-zero with one line on stderr and no
traceback; an "ok" case must end with 0 and print its fragment (a skipped file said so).
Target: 0 tracebacks, 0 hangs, 0 acceptances.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

# checkpoints broken one way each (`broken`), given to compose
BROKEN = ("hidden_dim=20000", "zero-stride", "complex weights", "int64 weights", "bool weights",
          "nan weights", "tokenizer velocity=-5", "tokenizer step_seconds='fast'",
          "tokenizer state=None", "domain evil")  # fmt: skip


def cli(*args: object, timeout: float, cwd: Path) -> tuple[str, int | None, str]:
    """(stdout + stderr, exit status or None on a hang, stderr)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", SEQGAN_MUSIC_CACHE=str(cwd / "cache"))
    cmd = [sys.executable, "-m", "seqgan_music", *map(str, args)]
    try:
        done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout)  # fmt: skip
    except subprocess.TimeoutExpired:
        return "", None, ""
    return done.stdout + done.stderr, done.returncode, done.stderr


def busy_midi(path: Path, notes: int) -> None:
    """A valid MIDI file of `notes` one-tick notes: 8 bytes a note, slow to parse."""
    ev = b"".join(bytes([0, 0x90, 40 + i % 40, 64, 1, 0x80, 40 + i % 40, 0]) for i in range(notes))
    ev += b"\x00\xff\x2f\x00"
    head = b"MThd" + (6).to_bytes(4, "big") + bytes([0, 0, 0, 1, 1, 0xE0])
    path.write_bytes(head + b"MTrk" + len(ev).to_bytes(4, "big") + ev)


def broken(good: dict, how: str) -> dict:
    """A copy of a checkpoint payload broken one way."""
    bad = {**good, "generator": dict(good["generator"]), "metadata": dict(good["metadata"])}
    bad["config"] = {k: dict(v) for k, v in good["config"].items()}
    gen = bad["generator"]
    if how == "hidden_dim=20000":
        bad["config"]["generator"]["hidden_dim"] = 20000
    elif how == "zero-stride":  # 4 bytes stored, 80 GB asked for
        gen["head.weight"] = torch.zeros(1).expand(20000, 1_000_000)
    elif how == "complex weights":
        gen["head.weight"] = gen["head.weight"].to(torch.complex64)
    elif how == "int64 weights":
        gen["head.weight"] = gen["head.weight"].to(torch.int64)
    elif how == "bool weights":
        gen["head.weight"] = gen["head.weight"] > 0
    elif how == "nan weights":
        gen["head.weight"] = torch.full_like(gen["head.weight"], float("nan"))
    elif how.startswith("tokenizer "):
        tok = dict(bad["metadata"]["tokenizer"])
        key, _, value = how.removeprefix("tokenizer ").partition("=")
        tok["state"] = None if key == "state" else {**tok["state"], key: eval(value)}
        bad["metadata"]["tokenizer"] = tok
    elif how == "domain evil":
        bad["metadata"]["domain"] = "evil"
        bad["domain"] = "evil"
    elif how.startswith("step "):
        bad["phase"], bad["step"] = "g_pretrain", int(float(how.split()[1]))
    elif how == "nan best_g":
        bad["best_g"] = {k: torch.full_like(v, float("nan")) for k, v in gen.items()}
    else:
        raise ValueError(how)
    return bad


def setup(work: Path, timeout: float) -> dict[str, Path]:
    from seqgan_music.music.paper.tunes import write_midi

    tunes = work / "tunes"
    tunes.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(8):
        write_midi(rng.integers(40, 60, 96), tunes / f"t{i}.mid")
    out, rc, _ = cli("train", "--data", tunes, "--preset", "tiny", "--out", work / "runs",
                     "--run-name", "r", "--quiet", "--threads", "1", timeout=timeout * 3,
                     cwd=work)  # fmt: skip
    if rc != 0:
        raise SystemExit(f"the tiny run failed: {out[-2000:]}")
    paths = {"tunes": tunes, "ckpt": work / "runs" / "r" / "checkpoint.pt"}
    good = torch.load(paths["ckpt"], weights_only=True)
    bad_dir = work / "bad"
    bad_dir.mkdir()
    for how in BROKEN:
        paths[how] = bad_dir / (how.replace(" ", "_").replace("'", "").replace("=", "_") + ".pt")
        torch.save(broken(good, how), paths[how])
    for how in ("step -5", "step 1e15", "nan best_g"):  # a run folder to --resume
        name = "r_" + how.replace(" ", "_").replace("-", "m")
        shutil.copytree(work / "runs" / "r", work / "runs" / name)
        torch.save(broken(good, how), work / "runs" / name / "checkpoint.pt")
        paths[how] = Path(name)
    (work / "notes.csv").write_text("pitch,duration\n60,1\n62,1\n")
    (work / "bad.toml").write_text("preset = \n[train\n")
    (work / "exists.mid").write_bytes(paths["tunes"].joinpath("t0.mid").read_bytes())
    linked = work / "sub" / "linked"  # a corpus with a link to the folder above it
    linked.mkdir(parents=True)
    for i in range(4):
        shutil.copy(tunes / f"t{i}.mid", linked)
    shutil.copy(tunes / "t5.mid", work / "sub" / "outside.mid")
    (linked / "up").symlink_to("..")
    paths["linked"] = linked
    slow = work / "slow"
    shutil.copytree(linked, slow, symlinks=False, ignore=shutil.ignore_patterns("up"))
    busy_midi(slow / "busy.mid", 100_000)
    paths["slow"] = slow
    return paths


def cases(p: dict[str, Path], runs: Path) -> list[tuple[str, list, str, str]]:
    """(name, argv, expect "error" or "ok", fragment an "ok" case must print)."""
    ck = p["ckpt"]
    train = ["train", "--data", p["tunes"], "--preset", "tiny", "--out", runs, "--quiet"]
    out: list[tuple[str, list, str, str]] = [
        ("--set rollout_num=1000000000", [*train, "--set", "rollout_num=1000000000"], "error", ""),
        ("--set adv_rounds=abc", [*train, "--set", "adv_rounds=abc"], "error", ""),
        (
            "--set select_on=nonsense_metric",
            [*train, "--set", "select_on=nonsense_metric"],
            "error",
            "",
        ),
        ("--set g_lr=nan", [*train, "--set", "g_lr=nan"], "error", ""),
        ("--set g_lr=inf", [*train, "--set", "g_lr=inf"], "error", ""),
        ("--set batch_size=-1", [*train, "--set", "batch_size=-1"], "error", ""),
        ("--set nope=1", [*train, "--set", "nope=1"], "error", ""),
        ("--seq-len 0", [*train, "--seq-len", "0"], "error", ""),
        ("--preset nonexistent", [*train, "--preset", "nonexistent"], "error", ""),
        ("--config missing.toml", [*train, "--config", "missing.toml"], "error", ""),
        ("--config bad.toml", [*train, "--config", "bad.toml"], "error", ""),
        ("--run-name ../../escape", [*train, "--run-name", "../../escape"], "error", ""),
        ("--run-name of a finished run", [*train, "--run-name", "r"], "error", ""),
        ("--data missing folder", ["train", "--data", "no_such_folder", "--quiet"], "error", ""),
        ("--data notes.csv", ["train", "--data", "notes.csv", "--quiet"], "error", ""),
        (
            "--init-from hidden_dim=20000",
            [*train, "--init-from", p["hidden_dim=20000"]],
            "error",
            "",
        ),
        (
            "compose --length 1000000000",
            ["compose", "--checkpoint", ck, "--length", "1000000000", "--out", "x.mid"],
            "error",
            "",
        ),
        ("compose --length -3", ["compose", "--checkpoint", ck, "--length", "-3"], "error", ""),
        ("compose --tempo nan", ["compose", "--checkpoint", ck, "--tempo", "nan"], "error", ""),
        ("compose --tempo -120", ["compose", "--checkpoint", ck, "--tempo", "-120"], "error", ""),
        (
            "compose --temperature nan",
            ["compose", "--checkpoint", ck, "--temperature", "nan"],
            "error",
            "",
        ),
        (
            "compose --temperature inf",
            ["compose", "--checkpoint", ck, "--temperature", "inf"],
            "error",
            "",
        ),
        (
            "compose --temperature 0",
            ["compose", "--checkpoint", ck, "--temperature", "0"],
            "error",
            "",
        ),
        ("compose --num 0", ["compose", "--checkpoint", ck, "--num", "0"], "error", ""),
        ("compose --seed -1", ["compose", "--checkpoint", ck, "--seed", "-1"], "error", ""),
        (
            "compose over an existing file",
            ["compose", "--checkpoint", ck, "--out", "exists.mid"],
            "error",
            "",
        ),
        (
            "compose --primer notes.csv",
            ["compose", "--checkpoint", ck, "--primer", "notes.csv", "--out", "y.mid"],
            "error",
            "",
        ),
        ("compose --checkpoint missing.pt", ["compose", "--checkpoint", "missing.pt"], "error", ""),
        ("evaluate --num -1", ["evaluate", "--checkpoint", ck, "--num", "-1"], "error", ""),
        ("evaluate --num 0", ["evaluate", "--checkpoint", ck, "--num", "0"], "error", ""),
    ]
    for how in BROKEN:
        out.append((f"compose: checkpoint {how}", ["compose", "--checkpoint", p[how], "--out",
                                                   "z.mid"], "error", ""))  # fmt: skip
    for how in ("hidden_dim=20000", "zero-stride"):
        out.append((f"evaluate: checkpoint {how}", ["evaluate", "--checkpoint", p[how]],
                    "error", ""))  # fmt: skip
        out.append((f"export: checkpoint {how}", ["export", "--checkpoint", p[how], "--out",
                                                  "slim.pt"], "error", ""))  # fmt: skip
    for how in ("step -5", "step 1e15", "nan best_g"):
        out.append((f"train --resume: {how}", ["train", "--data", p["tunes"], "--out", runs,
                                               "--run-name", p[how], "--resume", "--quiet"],
                    "error", ""))  # fmt: skip
    out += [
        ("data info: a link to .. in the corpus", ["data", "info", "--data", p["linked"]], "ok",
         "a link to outside the corpus folder"),
        ("data info: a file slow to parse", ["data", "info", "--data", p["slow"],
                                             "--parse-timeout", "1"], "ok",
         "parsing took longer than the 1 s limit"),
        ("data info: a file over the size cap", ["data", "info", "--data", p["slow"],
                                                 "--max-file-mb", "0.5"], "ok",
         "larger than the 0.5 MB limit"),
    ]  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, default=None, help="default: a temporary folder")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds a case may take")
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="probe_cli-"))
    t0 = time.perf_counter()
    paths = setup(work, args.timeout)
    tracebacks, hangs, accepted, other = [], [], [], []
    all_cases = cases(paths, work / "runs")
    for name, argv, expect, fragment in all_cases:
        text, rc, stderr = cli(*argv, timeout=args.timeout, cwd=work)
        lines = [line for line in stderr.splitlines() if line.strip()]
        if rc is None:
            verdict = "HANG"
            hangs.append(name)
        elif "Traceback" in text:
            verdict = "TRACEBACK"
            tracebacks.append(name)
        elif expect == "error" and rc == 0:
            verdict = "ACCEPTED"
            accepted.append(name)
        elif expect == "error" and len(lines) != 1:
            verdict = f"rc {rc}, {len(lines)} lines on stderr"
            other.append(name)
        elif expect == "ok" and (rc != 0 or fragment not in text):
            verdict = f"rc {rc}, fragment missing"
            other.append(name)
        else:
            verdict = f"ok (rc {rc})"
        said = lines[-1][:110] if lines else text.strip().splitlines()[-1][:110] if text else ""
        print(f"{verdict:24} {name:42} {said}", flush=True)
    print(f"\n{len(all_cases)} cases in {time.perf_counter() - t0:.0f} s: {len(tracebacks)} "
          f"tracebacks, {len(hangs)} hangs, {len(accepted)} zero-exit acceptances, "
          f"{len(other)} other misses")  # fmt: skip
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
