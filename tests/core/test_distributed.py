"""Data-parallel training on two gloo processes on localhost, launched by torchrun.

Each launch starts real processes (torchrun's agent and two ranks importing torch), so these tests
take seconds each; every subprocess has a timeout, so a hang fails the test instead of the suite.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from seqgan_music.core import distributed
from seqgan_music.core.checkpoint import read_checkpoint
from seqgan_music.core.trainer import SeqGANTrainer

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("dist_worker.py")
sys.path.insert(0, str(WORKER.parent))
import dist_worker  # noqa: E402  (the ranks' script: its config, data and weight layout)

LAUNCH_TIMEOUT = 180  # seconds: generous for a loaded 2-core machine, finite so nothing hangs


def _env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", SEQGAN_DIST_TIMEOUT="60")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)  # the launched job is its own world
    return env


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seqgan_music", *args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=LAUNCH_TIMEOUT)  # fmt: skip


def test_shards_cover_every_item_once_and_differ_by_at_most_one():
    for n in (0, 1, 5, 7, 64):
        for world in (1, 2, 3, 8):
            sizes = distributed.shard_sizes(n, world)
            assert sum(sizes) == n and max(sizes) - min(sizes) <= 1
            assert sizes == sorted(sizes, reverse=True)  # the first n % world ranks get one more


def test_helpers_are_no_ops_in_one_process(monkeypatch):
    monkeypatch.setenv("RANK", "3")  # a stray RANK without torchrun's WORLD_SIZE: still rank 0
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert (distributed.world_size(), distributed.rank(), distributed.is_main()) == (1, 0, True)
    value = torch.tensor([1.0, 2.0])
    assert distributed.all_sum(value) is value
    assert distributed.gather_rows(value, [2]) is value
    assert distributed.shard(5) == slice(0, 5)
    assert distributed.init_from_env(torch.device("cpu")) == torch.device("cpu")
    assert not distributed.is_initialized()


def test_two_gloo_ranks_stay_identical_and_their_checkpoint_resumes_in_one_process(tmp_path):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
           str(WORKER), str(tmp_path)]  # fmt: skip
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=LAUNCH_TIMEOUT)
    assert done.returncode == 0, done.stderr[-3000:]
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    # the workers compared G, D and G_beta across ranks after every unit, bit for bit
    assert rank0["units"] == ["g_pretrain:1", "g_pretrain:2", "d_pretrain:1", "adversarial:1",
                              "adversarial:2", "done:2"]  # fmt: skip
    for key in ("straight", "resumed", "mle", "bf16", "conditioned"):
        assert torch.equal(rank0[key], rank1[key])
    # destroying the group joined gloo's worker threads (left alive, one of them could abort the
    # rank at interpreter shutdown: SIGABRT, "terminate called without an active exception")
    for r in (rank0, rank1):
        assert not [t for t in r["threads"] if "gloo" in t], r["threads"]
    # cut after 4 units and resumed on the same two ranks: the straight run, bit for bit
    assert torch.equal(rank0["resumed"], rank0["straight"])
    # MLE: the same shuffles, each global minibatch split 4 + 3 (and 1 + 1), gradients averaged
    # with those weights: one process's run, up to float rounding
    one = SeqGANTrainer(dist_worker.config(d_pretrain_rounds=0, adv_rounds=0, g_pretrain_epochs=3),
                        dist_worker.data())  # fmt: skip
    one.run()
    assert torch.allclose(dist_worker.flat(one), rank0["mle"], atol=1e-5, rtol=0)
    # rank 0's checkpoint (the same format as any) holds the ranks' weights and resumes alone
    path = tmp_path / "run.pt"
    assert read_checkpoint(path)["history"] == rank0["history"]
    resumed = SeqGANTrainer.load(path, dist_worker.data(), train_overrides={"adv_rounds": 3})
    assert torch.equal(dist_worker.flat(resumed), rank1["straight"])
    resumed.run(path)
    assert (resumed.phase, resumed.step) == ("done", 3)


@pytest.fixture
def lines(tmp_path) -> Path:
    path = tmp_path / "lines.txt"
    words = ["the cat sat on the mat", "a dog ran far away", "birds sang in a tree"]
    path.write_text("\n".join(f"{w} {i}" for i in range(40) for w in words) + "\n")
    return path


def _train_args(lines: Path, *extra: str) -> list[str]:
    return ["train", "--data", str(lines), "--tokenizer", "char", "--preset", "tiny",
            "--device", "cpu", "--quiet", "--out", "runs", "--run-name", "r", *extra]  # fmt: skip


def test_train_nproc_two_then_resume_in_one_process(tmp_path, lines):
    done = _cli(*_train_args(lines, "--nproc", "2"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("trained in") == 1  # rank 0 reports, the other rank is silent
    run = tmp_path / "runs" / "r"
    rows = (run / "metrics.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["g_pretrain"] * 2 + ["d_pretrain"] + [
        "adversarial"
    ] * 2 + ["done"]  # one writer: no row twice
    again = _cli("train", "--resume", "--out", "runs", "--quiet", "--set", "adv_rounds=3",
                 cwd=tmp_path)  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    assert read_checkpoint(run / "checkpoint.pt")["step"] == 3


def _rank_pid(agent: int, rank: int, deadline: float) -> int:
    """The pid of the worker that torchrun's agent started with RANK=rank (Linux /proc)."""
    while time.monotonic() < deadline:
        for task in Path(f"/proc/{agent}/task").iterdir():
            for child in (task / "children").read_text().split():
                with contextlib.suppress(OSError):  # a process that just ended
                    env = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
                    if f"RANK={rank}".encode() in env:
                        return int(child)
        time.sleep(0.2)
    raise AssertionError(f"no rank {rank} under the agent {agent}")


def _kill_rank_one_in_adversarial_phase(cmd: list[str], cwd: Path) -> tuple[int, str]:
    """Start the job, SIGKILL rank 1 once an adversarial round is logged; (exit code, stderr)."""
    job = subprocess.Popen(cmd, cwd=cwd, env=_env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + LAUNCH_TIMEOUT
        while not any("adversarial" in p.read_text() for p in cwd.glob("runs/*/metrics.csv")):
            assert job.poll() is None and time.monotonic() < deadline, "the job did not start"
            time.sleep(0.2)
        os.kill(_rank_pid(job.pid, 1, deadline), signal.SIGKILL)
        _, err = job.communicate(timeout=LAUNCH_TIMEOUT)
    finally:
        job.kill()
    return job.returncode, err


LINUX_PROC = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
# The two kill tests poll a live job (about 20 s each on an idle 2-core machine, a minute on a
# busy one): `slow`, outside the default suite; .ci/run runs them.


@pytest.mark.slow
@LINUX_PROC
def test_a_killed_rank_ends_the_job_with_one_line_and_the_run_resumes(tmp_path, lines):
    args = _train_args(lines, "--nproc", "2", "--set", "adv_rounds=100000")
    code, err = _kill_rank_one_in_adversarial_phase(
        [sys.executable, "-m", "seqgan_music", *args], tmp_path
    )
    assert code == 1
    assert "Traceback" not in err
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith("seqgan-music: error: rank 1 of 2 was killed by SIGKILL")
    ), err[-2000:]
    step = read_checkpoint(tmp_path / "runs" / "r" / "checkpoint.pt")["step"]
    again = _cli("train", "--resume", "--out", "runs", "--quiet", "--set",
                 f"adv_rounds={step + 1}", cwd=tmp_path)  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]


@pytest.mark.slow
@LINUX_PROC
def test_torchrun_restart_after_a_killed_rank_continues_the_same_run(tmp_path, lines):
    args = [a for a in _train_args(lines, "--set", "adv_rounds=40") if a not in ("--run-name", "r")]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
           "--max-restarts=1", "--module", "seqgan_music", *args]  # fmt: skip
    code, err = _kill_rank_one_in_adversarial_phase(cmd, tmp_path)
    assert code == 0, err[-3000:]
    # a fresh start would have made a second run folder (named by the clock): one run, finished,
    # each unit once in its metrics
    runs = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    assert len(runs) == 1
    assert read_checkpoint(runs[0] / "checkpoint.pt")["step"] == 40
    steps = [r.split(",")[:2] for r in (runs[0] / "metrics.csv").read_text().splitlines()[1:]]
    assert [int(s) for p, s in steps if p == "adversarial"] == list(range(1, 41))
