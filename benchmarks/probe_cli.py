"""Bad input through the CLI, as an outside fuzzing probe tries it (issue 21): every case a
subprocess in a sandbox, with a time limit, checked for tracebacks, hangs, silent acceptance and
files written where the case did not name.

    OMP_NUM_THREADS=1 python benchmarks/probe_cli.py [--workdir DIR] [--timeout 120] [--only TEXT]

It trains one tiny run on a few generated tunes, derives from it broken checkpoints (every kind
through compose, evaluate, export, train --resume and train --init-from), run folders and a probe
corpus (a 200 MB sparse file named .mid, a file slow to parse, a link to `..`, an unreadable
sub-folder, notes.csv), then runs every case. HOME, TMPDIR and SEQGAN_MUSIC_CACHE point into the
sandbox, which is the working directory too. A case passes when

- it ends with the status it should: non-zero (1 or 2) for an "error" case, 0 for an "ok" one;
- nothing says "Traceback";
- an "error" case prints exactly one line on stderr;
- it ends within its time limit;
- it prints what it must (`says`) and not what it must not (`never`);
- nothing in the sandbox is created, changed or removed outside the paths the case names
  (`writes`; the cache only where a case reads a corpus), compared file by file before and after.

The sandbox is the only place checked: a write to a hard-coded path elsewhere would be missed.
The unreadable sub-folder needs a user that chmod 000 stops: as root (who reads it anyway) the
probe-corpus cases run through `setpriv` without the capabilities CAP_DAC_OVERRIDE and
CAP_DAC_READ_SEARCH (still root, so the interpreter and the sandbox stay reachable), and are
skipped, saying so, where that cannot be done.
It prints a table and the totals, and exits 1 if any case failed.
"""

from __future__ import annotations

import argparse
import os
import pickle
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]

# Checkpoints broken one way each. MODEL_KINDS break what every command reads (the generator,
# its config, tokenizer or domain, or the file itself); STATE_KINDS break only what a training
# run restores (kept copy of G, optimiser state, position), which compose, evaluate and export
# never read: those three must succeed on them, and train --resume / --init-from refuse them.
MODEL_KINDS = ("hidden_dim=20000", "hidden_dim=20000 zero-stride", "zero-stride",
               "complex weights", "int64 weights", "bool weights", "nan weights",
               "tokenizer velocity=-5", "tokenizer step_seconds='fast'", "tokenizer state=None",
               "domain evil", "pickle payload", "plain pickle payload")  # fmt: skip
STATE_KINDS = ("nan best_g", "mis-shaped best_g", "nan optimiser state",
               "mis-shaped optimiser state", "step -5", "step 1e15")  # fmt: skip


@dataclass
class Result:
    text: str  # stdout + stderr
    rc: int | None  # None: killed at the time limit
    stderr: str
    seconds: float


@dataclass
class Case:
    name: str
    argv: list[Any]
    expect: str = "error"  # "error": exit 1 or 2 with one line on stderr; "ok": exit 0
    says: str | tuple[str, ...] = ""  # the output must hold this (each of these)
    never: str = ""  # the output must not hold this
    writes: tuple[str, ...] = ()  # sandbox paths (relative) it may create, change or remove
    limit: float | None = None  # seconds; None: --timeout
    env: dict[str, str] = field(default_factory=dict)
    restricted: bool = False  # run where chmod 000 holds (see the module docstring)
    run: Callable[[Sandbox, float], Result] | None = None  # a case that is not one command
    check: Callable[[], str] | None = None  # after the run: "" or what went wrong


class Sandbox:
    """The folder every case runs in, with HOME, TMPDIR and the corpus cache inside it."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        for sub in ("home", "tmp", "cache", "out"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.drop: list[str] | None = None
        if os.geteuid() == 0 and shutil.which("setpriv"):
            # root without the two capabilities that let it read any folder: chmod 000 holds
            caps = "-dac_override,-dac_read_search"
            self.drop = ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}"]
            locked = self.root / "tmp" / "locked"
            locked.mkdir(mode=0)
            probe = subprocess.run([*self.drop, "--", sys.executable, "-c",
                                    f"import os; os.listdir({str(locked)!r})"],
                                   capture_output=True)  # fmt: skip
            locked.rmdir()
            if probe.returncode == 0:  # the capabilities could not be dropped here
                self.drop = None

    def env(self, extra: dict[str, str]) -> dict[str, str]:
        return dict(os.environ, OMP_NUM_THREADS="1", HOME=str(self.root / "home"),
                    TMPDIR=str(self.root / "tmp"), SEQGAN_MUSIC_CACHE=str(self.root / "cache"),
                    PYTHONPATH=str(ROOT), **extra)  # fmt: skip

    def command(self, args: list[Any], restricted: bool = False) -> list[str]:
        prefix = [*self.drop, "--"] if restricted and self.drop else []
        return [*prefix, sys.executable, "-m", "seqgan_music", *map(str, args)]

    def cli(self, args: list[Any], limit: float, env: dict[str, str] | None = None,
            restricted: bool = False) -> Result:  # fmt: skip
        start = time.perf_counter()
        try:
            done = subprocess.run(self.command(args, restricted), cwd=self.root,
                                  env=self.env(env or {}), capture_output=True, text=True,
                                  timeout=limit)  # fmt: skip
        except subprocess.TimeoutExpired as err:
            text = (err.stdout or b"").decode() + (err.stderr or b"").decode()  # type: ignore[union-attr]
            return Result(text, None, "", time.perf_counter() - start)
        return Result(done.stdout + done.stderr, done.returncode, done.stderr,
                      time.perf_counter() - start)  # fmt: skip

    def start(self, args: list[Any]) -> subprocess.Popen:
        return subprocess.Popen(
            self.command(args),
            cwd=self.root,
            env=self.env({}),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def snapshot(self) -> dict[str, tuple[int, int, int]]:
        """Every path under the sandbox: (type, size, mtime) of files, type of folders."""
        seen = {}
        for folder, dirs, files in os.walk(self.root):  # links are listed, not followed
            for name in dirs + files:
                path = os.path.join(folder, name)
                st = os.lstat(path)
                kind = stat.S_IFMT(st.st_mode)
                mark = (
                    (kind, 0, 0) if stat.S_ISDIR(st.st_mode) else (kind, st.st_size, st.st_mtime_ns)
                )
                seen[os.path.relpath(path, self.root)] = mark
        return seen


def written_outside(before: dict, after: dict, allowed: tuple[str, ...]) -> list[str]:
    """Paths created, changed or removed that lie under none of `allowed`."""
    changed = [p for p in set(before) | set(after) if before.get(p) != after.get(p)]
    return sorted(
        p for p in changed if not any(p == a or p.startswith(a.rstrip("/") + "/") for a in allowed)
    )


# ---- fixtures --------------------------------------------------------------------------------


def busy_midi(path: Path, notes: int) -> None:
    """A valid MIDI file of `notes` one-tick notes: 8 bytes a note, slow to parse."""
    ev = b"".join(bytes([0, 0x90, 40 + i % 40, 64, 1, 0x80, 40 + i % 40, 0]) for i in range(notes))
    ev += b"\x00\xff\x2f\x00"
    head = b"MThd" + (6).to_bytes(4, "big") + bytes([0, 0, 0, 1, 1, 0xE0])
    path.write_bytes(head + b"MTrk" + len(ev).to_bytes(4, "big") + ev)


def huge_midi(path: Path, megabytes: int) -> None:
    """A file named .mid of `megabytes` MB: a MIDI header, then a hole (sparse: no disk used)."""
    with path.open("wb") as fh:
        fh.write(b"MThd" + (6).to_bytes(4, "big") + bytes([0, 0, 0, 1, 1, 0xE0]))
        fh.truncate(megabytes * 2**20)


class Payload:
    """Unpickles as a call to os.mkdir: what a code-executing checkpoint does on load."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.mkdir, (self.target,)


def slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text).strip("_")


def broken(good: dict, how: str, target: Path) -> dict:
    """A copy of a checkpoint payload broken one way (`target`: the folder a payload creates)."""
    bad = {**good, "generator": dict(good["generator"]), "metadata": dict(good["metadata"])}
    bad["config"] = {k: dict(v) for k, v in good["config"].items()}
    gen = bad["generator"]
    if how.startswith("hidden_dim=20000"):
        bad["config"]["generator"]["hidden_dim"] = 20000
    if how.endswith("zero-stride"):  # 4 bytes stored, 80 GB asked for
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
        values = {"velocity": -5, "step_seconds": "fast"}
        tok["state"] = None if key == "state" else {**tok["state"], key: values[key]}
        bad["metadata"]["tokenizer"] = tok
    elif how == "domain evil":
        bad["metadata"]["domain"] = "evil"
        bad["domain"] = "evil"
    elif how == "pickle payload":
        bad["metadata"]["note"] = Payload(str(target))
    elif how.startswith("step "):
        bad["phase"], bad["step"] = "g_pretrain", int(float(how.split()[1]))
    elif how.endswith("best_g"):
        state = {k: v.clone() for k, v in good["best_g"]["state"].items()}
        name = next(iter(state))
        state[name] = (torch.full_like(state[name], float("nan")) if how.startswith("nan")
                       else torch.zeros(3, 3))  # fmt: skip
        bad["best_g"] = {**good["best_g"], "state": state}
    elif how.endswith("optimiser state"):
        opt = {**good["g_mle_opt"], "state": {k: dict(v) for k, v in
                                              good["g_mle_opt"]["state"].items()}}  # fmt: skip
        slot = opt["state"][0]
        slot["exp_avg"] = (torch.full_like(slot["exp_avg"], float("nan")) if how.startswith("nan")
                           else torch.zeros(7))  # fmt: skip
        bad["g_mle_opt"] = opt
    elif not how.startswith("hidden_dim=20000"):
        raise ValueError(how)
    return bad


def save_broken(good: dict, how: str, path: Path, target: Path) -> None:
    if how == "plain pickle payload":  # not a torch zip file at all: a bare pickle
        path.write_bytes(pickle.dumps(Payload(str(target))))
    else:
        torch.save(broken(good, how, target), path)


def setup(box: Sandbox, timeout: float) -> dict[str, Any]:
    """The tiny run, broken checkpoints and run folders, corpora and files the cases use."""
    from seqgan_music.music.paper.tunes import write_midi

    work = box.root
    tunes = work / "tunes"
    tunes.mkdir()
    rng = np.random.default_rng(0)
    for i in range(8):
        write_midi(rng.integers(40, 60, 96), tunes / f"t{i}.mid")
    done = box.cli(["train", "--data", tunes, "--preset", "tiny", "--out", "runs", "--run-name",
                    "r", "--quiet", "--threads", "1", "--seed", "0"], timeout * 3)  # fmt: skip
    if done.rc != 0:
        raise SystemExit(f"the tiny run failed: {done.text[-2000:]}")
    ckpt = work / "runs" / "r" / "checkpoint.pt"
    good = torch.load(ckpt, weights_only=True)
    if not isinstance(good.get("best_g"), dict) or not good.get("g_mle_opt", {}).get("state"):
        raise SystemExit("the tiny run's checkpoint has no best_g or G optimiser state to break")
    paths: dict[str, Any] = {"tunes": tunes, "ckpt": ckpt, "ckpt_file": {}, "run": {}}
    (work / "bad").mkdir()
    for how in MODEL_KINDS + STATE_KINDS:
        file = work / "bad" / f"{slug(how)}.pt"
        save_broken(good, how, file, work / f"pwned-{slug(how)}")
        paths["ckpt_file"][how] = file
        run = work / "runs" / f"bad-{slug(how)}"  # a run folder to --resume
        shutil.copytree(work / "runs" / "r", run)
        shutil.copy(file, run / "checkpoint.pt")
        paths["run"][how] = run.name
    (work / "notes.csv").write_text("pitch,duration\n60,1\n62,1\n")
    (work / "bad.toml").write_text("preset = \n[train\n")
    (work / "exists.mid").write_bytes((tunes / "t0.mid").read_bytes())
    (work / "poems.txt").write_text("the cat sat on the mat\n" * 40)
    probe = work / "probe" / "corpus"  # the probe corpus: 4 tunes and 5 traps
    probe.mkdir(parents=True)
    for i in range(4):
        shutil.copy(tunes / f"t{i}.mid", probe)
    shutil.copy(tunes / "t5.mid", work / "probe" / "outside.mid")
    (probe / "up").symlink_to("..")  # a link to the folder above the corpus
    huge_midi(probe / "huge.mid", 200)
    busy_midi(probe / "busy.mid", 100_000)
    (probe / "notes.csv").write_text("pitch,duration\n60,1\n")
    (probe / "locked").mkdir()
    shutil.copy(tunes / "t6.mid", probe / "locked")
    (probe / "locked").chmod(0)
    paths["probe"] = probe
    return paths


# ---- cases that are more than one command ----------------------------------------------------


def two_in_one_second(box: Sandbox, limit: float) -> Result:
    """Two trainers started together with no --run-name into one --out: both must finish, each
    in its own folder. The plain names of the next two minutes are taken beforehand, so each
    trainer must number its name, and two that start in the same second race for one number."""
    start = time.perf_counter()
    now = time.time()
    for ahead in range(120):
        (box.root / "twin" / time.strftime("run-%Y%m%d-%H%M%S", time.localtime(now + ahead))).mkdir(
            parents=True
        )
    taken = {p.name for p in (box.root / "twin").iterdir()}
    args = ["train", "--data", "tunes", "--preset", "tiny", "--out", "twin", "--quiet",
            "--threads", "1", "--set", "adv_rounds=1"]  # fmt: skip
    procs = [box.start(args) for _ in range(2)]
    outs, rcs = [], []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=max(1.0, limit - (time.perf_counter() - start)))
        except subprocess.TimeoutExpired:
            for other in procs:
                other.kill()
            return Result("", None, "", time.perf_counter() - start)
        outs.append((out, err))
        rcs.append(proc.returncode)
    names = sorted(p.name for p in (box.root / "twin").iterdir() if p.name not in taken
                   and p.is_dir())  # fmt: skip
    same = len(names) == 2 and names[0].rsplit("-", 1)[0] == names[1].rsplit("-", 1)[0]
    text = "".join(o + e for o, e in outs) + (
        f"\nrun folders: {', '.join(names)} ({'the same second' if same else 'two seconds'})\n"
    )
    rc = 0 if rcs == [0, 0] and len(names) == 2 else max(1, *[abs(r) for r in rcs])
    return Result(text, rc, "".join(e for _, e in outs), time.perf_counter() - start)


def killed_then_resumed(box: Sandbox, limit: float) -> Result:
    """kill -9 a trainer once its first checkpoint is saved, leave temp files as a writer killed
    mid-save does, then --resume: it must finish and leave no temp file behind."""
    start = time.perf_counter()
    run = box.root / "killed" / "k"
    proc = box.start(["train", "--data", "tunes", "--preset", "tiny", "--out", "killed",
                      "--run-name", "k", "--quiet", "--threads", "1"])  # fmt: skip
    while not (run / "checkpoint.pt").exists() and proc.poll() is None:
        if time.perf_counter() - start > limit:
            proc.kill()
            return Result("", None, "", time.perf_counter() - start)
        time.sleep(0.02)
    proc.kill()  # SIGKILL
    proc.communicate()
    killed = "killed mid-run" if proc.returncode == -9 else f"ended first (rc {proc.returncode})"
    for name in (".checkpoint.pt.k9x2ab.tmp", ".metrics.csv.k9x2ab.tmp"):
        (run / name).write_bytes(b"half a file")
    left = limit - (time.perf_counter() - start)
    done = box.cli(["train", "--data", "tunes", "--out", "killed", "--run-name", "k", "--resume",
                    "--quiet", "--threads", "1"], max(1.0, left))  # fmt: skip
    stale = sorted(p.name for p in run.glob(".*.tmp"))
    text = done.text + f"\n{killed}; temp files left after the resume: {stale or 'none'}\n"
    rc = done.rc if done.rc != 0 or not stale else 1
    return Result(text, rc, done.stderr, time.perf_counter() - start)


# ---- the cases -------------------------------------------------------------------------------


def payload_check(target: Path) -> Callable[[], str]:
    """After the case: the folder a pickle payload would create must not exist."""
    return lambda: f"the payload ran: {target} exists" if target.exists() else ""


def checkpoint_cases(p: dict[str, Any]) -> list[Case]:
    """Every broken checkpoint through compose, evaluate, export, --resume and --init-from."""
    out = []
    for how in MODEL_KINDS + STATE_KINDS:
        file, s = p["ckpt_file"][how], slug(how)
        ok = "ok" if how in STATE_KINDS else "error"
        never = "Unsupported global"
        check = payload_check(p["root"] / f"pwned-{s}")
        w = (f"out/{s}",)
        out += [
            Case(f"compose: {how}", ["compose", "--checkpoint", file, "--out", f"out/{s}/a.mid",
                                     "--num", "1", "--length", "16"], ok, writes=w, check=check),
            Case(f"evaluate: {how}", ["evaluate", "--checkpoint", file, "--data", "tunes", "--num",
                                      "4", "--out", f"out/{s}/eval"], ok, writes=w, check=check),
            Case(f"export: {how}", ["export", "--checkpoint", file, "--out", f"out/{s}/slim.pt"],
                 ok, writes=w, check=check),
            Case(f"train --resume: {how}", ["train", "--data", "tunes", "--out", "runs",
                                            "--run-name", p["run"][how], "--resume", "--quiet"],
                 never=never, writes=(f"runs/{p['run'][how]}/.lock",), check=check),
            Case(f"train --init-from: {how}", ["train", "--data", "tunes", "--out", "out/init",
                                               "--init-from", file, "--quiet"],
                 never=never, check=check),
        ]  # fmt: skip
    return out


def value_cases(p: dict[str, Any]) -> list[Case]:
    """Settings and option values: refused in one line, settings before the corpus is read."""
    ck = p["ckpt"]
    train = ["train", "--data", "tunes", "--preset", "tiny", "--out", "runs", "--quiet"]
    probe = ["train", "--data", p["probe"], "--preset", "tiny", "--out", "runs", "--quiet"]
    sets = ["rollout_num=1000000000", "adv_rounds=abc", "select_on=nonsense_metric", "g_lr=nan",
            "g_lr=inf", "batch_size=-1", "nope=1"]  # fmt: skip
    out = [Case(f"--set {s}", [*train, "--set", s]) for s in sets]
    out += [
        # settings and presets are checked before the probe corpus (200 MB file, slow file) is
        # read: nothing parsed, nothing cached
        Case("--set nope=1 on the probe corpus", [*probe, "--set", "nope=1"], never="parsing",
             limit=60),
        Case("--set rollout_num=1e9 on the probe corpus",
             [*probe, "--set", "rollout_num=1000000000"], never="parsing", limit=60),
        Case("--preset nonexistent on the probe corpus", [*probe, "--preset", "nonexistent"],
             never="parsing", limit=60),
        Case("--seq-len 0", [*train, "--seq-len", "0"]),
        Case("--seq-len -1", [*train, "--seq-len", "-1"]),
        Case("--preset nonexistent", [*train, "--preset", "nonexistent"]),
        Case("--config missing.toml", [*train, "--config", "missing.toml"]),
        Case("--config bad.toml", [*train, "--config", "bad.toml"]),
        Case("--seed -1", [*train, "--seed", "-1"]),
        Case("--nproc 0", [*train, "--nproc", "0"]),
        Case("--data missing folder", ["train", "--data", "no_such_folder", "--quiet"]),
        Case("--data notes.csv", ["train", "--data", "notes.csv", "--quiet"],
             says="no domain reads notes.csv"),
        Case("compose --length 1000000000", ["compose", "--checkpoint", ck, "--length",
                                             "1000000000", "--out", "x.mid"]),
        Case("compose --length -3", ["compose", "--checkpoint", ck, "--length", "-3"]),
        Case("compose --length 0", ["compose", "--checkpoint", ck, "--length", "0"]),
        Case("compose --tempo nan", ["compose", "--checkpoint", ck, "--tempo", "nan"]),
        Case("compose --tempo -120", ["compose", "--checkpoint", ck, "--tempo", "-120"]),
        Case("compose --temperature nan", ["compose", "--checkpoint", ck, "--temperature", "nan"]),
        Case("compose --temperature inf", ["compose", "--checkpoint", ck, "--temperature", "inf"]),
        Case("compose --temperature 0", ["compose", "--checkpoint", ck, "--temperature", "0"]),
        Case("compose --temperature -1", ["compose", "--checkpoint", ck, "--temperature", "-1"]),
        Case("compose --num 0", ["compose", "--checkpoint", ck, "--num", "0"]),
        Case("compose --num 1000000000", ["compose", "--checkpoint", ck, "--num", "1000000000"]),
        Case("compose --seed -1", ["compose", "--checkpoint", ck, "--seed", "-1"]),
        Case("compose --program 200", ["compose", "--checkpoint", ck, "--program", "200"]),
        Case("compose over an existing file", ["compose", "--checkpoint", ck, "--out",
                                               "exists.mid"], says="--force"),
        Case("compose --primer notes.csv", ["compose", "--checkpoint", ck, "--primer",
                                            "notes.csv", "--out", "y.mid"]),
        Case("compose --checkpoint missing.pt", ["compose", "--checkpoint", "missing.pt"],
             says="checkpoint not found"),
        Case("compose --checkpoint notes.csv", ["compose", "--checkpoint", "notes.csv"]),
        Case("compose --checkpoint a folder with no run", ["compose", "--checkpoint", "tunes"]),
        Case("evaluate --num -1", ["evaluate", "--checkpoint", ck, "--num", "-1"]),
        Case("evaluate --num 0", ["evaluate", "--checkpoint", ck, "--num", "0"]),
        Case("evaluate --checkpoint missing.pt", ["evaluate", "--checkpoint", "missing.pt"]),
        Case("export --checkpoint missing.pt", ["export", "--checkpoint", "missing.pt", "--out",
                                                "slim.pt"]),
        Case("export over a folder", ["export", "--checkpoint", ck, "--out", "tunes"]),
        Case("data info --max-file-mb -1", ["data", "info", "--data", "tunes", "--max-file-mb",
                                            "-1"]),
        Case("data info --parse-timeout nan", ["data", "info", "--data", "tunes",
                                               "--parse-timeout", "nan"]),
    ]  # fmt: skip
    return out


def run_cases(p: dict[str, Any]) -> list[Case]:
    """Run folders: names that leave --out, finished runs, concurrent and killed runs."""
    train = ["train", "--data", "tunes", "--preset", "tiny", "--quiet", "--threads", "1"]
    return [
        Case("--run-name ../../escape", [*train, "--out", "runs", "--run-name", "../../escape"]),
        Case("--run-name /abs", [*train, "--out", "runs", "--run-name", "/tmp/abs"]),
        Case("--run-name latest", [*train, "--out", "runs", "--run-name", "latest"]),
        Case("second train into a finished run", [*train, "--out", "runs", "--run-name", "r"],
             says="--resume"),
        Case("--resume with no run", [*train, "--out", "out/empty", "--resume"]),
        Case("train a run r2", [*train, "--out", "out/forced", "--run-name", "r2"], "ok",
             writes=("out/forced",)),
        Case("--force replaces the finished r2 (asked)", [*train, "--out", "out/forced",
                                                          "--run-name", "r2", "--force"], "ok",
             writes=("out/forced",)),
        Case("two runs started together, names taken", [], "ok", says="run folders: run-",
             writes=("twin",), run=two_in_one_second),
        Case("kill -9, stale temp files, --resume", [], "ok",
             says="temp files left after the resume: none", writes=("killed",),
             run=killed_then_resumed),
    ]  # fmt: skip


def output_cases(p: dict[str, Any]) -> list[Case]:
    """What compose and export say about the model they use, with and without a run."""
    shipped = ROOT / "seqgan_music" / "assets" / "folk-small.pt"
    return [
        Case("export with no run", ["export", "--out", "out/noexport/slim.pt"], "ok",
             says="exporting the shipped model", writes=("out/noexport",)),
        Case("compose with no run", ["compose", "--out", "out/norun/t.mid"], "ok",
             says="no trained run under ./checkpoints", writes=("out/norun",)),
        Case("compose --checkpoint the shipped model", ["compose", "--checkpoint", shipped,
                                                        "--out", "out/given/t.mid"], "ok",
             never="no trained run", writes=("out/given",)),
        Case("compose --checkpoint a tiny run (warns, seed said)",
             ["compose", "--checkpoint", p["ckpt"], "--out", "out/tiny/t.mid"], "ok",
             says="barely trained", writes=("out/tiny",)),
        Case("compose without --seed prints its seed", ["compose", "--checkpoint", p["ckpt"],
                                                        "--out", "out/seed/t.mid"], "ok",
             says="seed", writes=("out/seed",)),
        Case("compose twice (second refused)", ["compose", "--checkpoint", p["ckpt"], "--out",
                                                "out/seed/t.mid"], says="--force"),
        Case("train on a .txt says the default tokenizer", ["train", "--data", "poems.txt",
                                                             "--preset", "tiny", "--out",
                                                             "out/text", "--seq-len", "16"],
             "ok", says="char", writes=("cache", "out/text")),
        Case("data info on a .txt (music corpora only)", ["data", "info", "--data",
                                                          "poems.txt"]),
    ]  # fmt: skip


def corpus_cases(p: dict[str, Any]) -> list[Case]:
    """The probe corpus: each trap skipped and said, the corpus read, nothing stalled."""
    probe = p["probe"]
    traps = (
        "larger than the 16 MB limit",
        "a link to outside the corpus folder",
        "parsing took longer than the 1 s limit",
        "unreadable folder",
    )
    limited = ["--data", probe, "--parse-timeout", "1"]
    # restricted: the chmod 000 folder is unreadable even where this runs as root (docstring);
    # notes.csv lies in the folder too, and is not a tune file: passed over like a README
    return [
        Case("data info: the probe corpus", ["data", "info", *limited], "ok", says=traps,
             writes=("cache",), restricted=True),
        Case("data prepare: the probe corpus", ["data", "prepare", *limited, "--refresh",
                                                "--quiet"], "ok", says=traps[:3],
             writes=("cache",), restricted=True),
        Case("train: the probe corpus", ["train", "--data", probe, "--preset", "tiny", "--out",
                                         "out/probe_runs", "--quiet", "--threads", "1"], "ok",
             says=traps, writes=("cache", "out/probe_runs"),
             env={"SEQGAN_MUSIC_PARSE_TIMEOUT": "1"}, restricted=True),
        Case("data info: the probe corpus, size cap 0.5 MB", ["data", "info", "--data", probe,
                                                              "--max-file-mb", "0.5"], "ok",
             says="larger than the 0.5 MB limit", writes=("cache",)),
    ]  # fmt: skip


def all_cases(p: dict[str, Any]) -> list[Case]:
    return value_cases(p) + run_cases(p) + output_cases(p) + corpus_cases(p) + checkpoint_cases(p)


# ---- running and judging ---------------------------------------------------------------------


def judge(case: Case, res: Result, outside: list[str], limit: float) -> list[str]:
    """What is wrong with this result (empty: the case passed)."""
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    wrong = []
    if res.rc is None:
        return [f"HANG (killed at {limit:.0f} s)"]
    if "Traceback" in res.text:
        wrong.append("TRACEBACK")
    if case.expect == "error" and res.rc == 0:
        wrong.append("ACCEPTED")
    elif case.expect == "error" and res.rc not in (1, 2):
        wrong.append(f"exit status {res.rc}")
    elif case.expect == "ok" and res.rc != 0:
        wrong.append(f"REFUSED (rc {res.rc})")
    if case.expect == "error" and len(lines) != 1:
        wrong.append(f"{len(lines)} lines on stderr")
    for fragment in (case.says,) if isinstance(case.says, str) else case.says:
        if fragment and fragment not in res.text:
            wrong.append(f"did not say {fragment!r}")
    if case.never and case.never in res.text:
        wrong.append(f"said {case.never!r}")
    if outside:
        more = f" (+{len(outside) - 3})" if len(outside) > 3 else ""
        wrong.append(f"WROTE {', '.join(outside[:3])}{more}")
    if case.check is not None and (problem := case.check()):
        wrong.append(problem)
    return wrong


def said(case: Case, res: Result) -> str:
    """The line worth showing: an error case's error line, else the last line of output."""
    text = res.stderr if case.expect == "error" else res.text
    lines = [line for line in text.replace("\r", "\n").splitlines() if line.strip()]
    return lines[-1][:110] if lines else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, default=None, help="default: a temporary folder")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds a case may take")
    ap.add_argument("--only", default=None, help="run only the cases whose name holds this")
    args = ap.parse_args()
    if args.workdir is not None and args.workdir.exists() and any(args.workdir.iterdir()):
        raise SystemExit(f"{args.workdir} is not empty: give a new or empty --workdir")
    box = Sandbox(args.workdir or Path(tempfile.mkdtemp(prefix="probe_cli-")))
    t0 = time.perf_counter()
    paths = {**setup(box, args.timeout), "root": box.root}
    cases = [c for c in all_cases(paths) if args.only is None or args.only in c.name]
    failed: dict[str, list[str]] = {}
    skipped = []
    for case in cases:
        limit = case.limit or args.timeout
        if case.restricted and os.geteuid() == 0 and box.drop is None:
            skipped.append(case.name)
            print(f"{'SKIPPED':28} {'':>5} {case.name:48} root reads chmod 000 folders, and "
                  "setpriv could not drop that capability", flush=True)  # fmt: skip
            continue
        before = box.snapshot()
        if case.run is not None:
            res = case.run(box, limit)
        else:
            res = box.cli(case.argv, limit, case.env, restricted=case.restricted)
        wrong = judge(case, res, written_outside(before, box.snapshot(), case.writes), limit)
        if wrong:
            failed[case.name] = wrong
        verdict = "; ".join(wrong) if wrong else f"ok ({case.expect}, rc {res.rc})"
        print(f"{verdict[:28]:28} {res.seconds:4.0f}s {case.name:48} {said(case, res)}", flush=True)
        if wrong and len(verdict) > 28:
            print(f"{'':35}^ {verdict}", flush=True)
    count = {k: sum(any(w.startswith(k) for w in ws) for ws in failed.values())
             for k in ("TRACEBACK", "HANG", "ACCEPTED", "REFUSED", "WROTE")}  # fmt: skip
    run = len(cases) - len(skipped)
    print(f"\n{run} cases run ({len(skipped)} skipped) in {time.perf_counter() - t0:.0f} s: "
          f"{run - len(failed)} passed, {len(failed)} failed; {count['TRACEBACK']} tracebacks, "
          f"{count['HANG']} hangs, {count['ACCEPTED']} silent acceptances, {count['REFUSED']} "
          f"refusals of good input, {count['WROTE']} writing outside their folders")  # fmt: skip
    (box.root / "probe" / "corpus" / "locked").chmod(0o755)
    if args.workdir is None:
        shutil.rmtree(box.root, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
