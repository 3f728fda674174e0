"""Atomic writes (unique temporary files, removed on failure, the user's umask) and run locks."""

import errno
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from seqgan_music.core.checkpoint import save_checkpoint
from seqgan_music.core.files import RunLock, atomic_write, atomic_write_text
from seqgan_music.errors import SeqGANMusicError

REPO = Path(__file__).resolve().parents[2]


def _full_disk(fh):
    fh.write(b"half a file")
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = atomic_write_text(tmp_path / "metrics.csv", "old\n")
    with pytest.raises(OSError, match="No space"):
        atomic_write(target, _full_disk)
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.csv"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_get_the_users_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        save_checkpoint(tmp_path / "checkpoint.pt", {"w": torch.zeros(2)})
        atomic_write_text(tmp_path / "latest", "run\n")
    finally:
        os.umask(old)
    for name in ("checkpoint.pt", "latest"):
        assert (tmp_path / name).stat().st_mode & 0o777 == mode, name


def test_a_checkpoint_save_that_fails_removes_its_temporary(tmp_path, monkeypatch):
    save_checkpoint(tmp_path / "checkpoint.pt", {"w": torch.zeros(2)})

    def no_space(obj, fh):
        fh.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", no_space)
    with pytest.raises(OSError):
        save_checkpoint(tmp_path / "checkpoint.pt", {"w": torch.ones(2)})
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


def test_a_corpus_cache_and_a_wav_that_fail_leave_nothing(tmp_path, monkeypatch):
    from seqgan_music.music import corpus as corpus_mod
    from seqgan_music.music import render
    from seqgan_music.music.paper.tunes import write_wav

    c = corpus_mod.Corpus(*(np.zeros((1, 4), dtype=np.int64) for _ in range(3)))
    monkeypatch.setattr(np, "savez", lambda fh, **a: _full_disk(fh))
    with pytest.raises(OSError):
        corpus_mod.save_corpus(c, tmp_path / "cache" / "x.npz")
    assert list((tmp_path / "cache").iterdir()) == []

    class FullWave:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def __getattr__(self, name):
            return lambda *a: _full_disk(self.fh) if name == "writeframes" else None

    monkeypatch.setattr(render.wave, "open", lambda fh, mode: FullWave(fh))
    with pytest.raises(OSError):
        write_wav([40, 41], tmp_path / "tune.wav")
    assert not (tmp_path / "tune.wav").exists() and list(tmp_path.glob(".*")) == []


def test_a_second_writer_is_told_who_holds_the_run(tmp_path):
    with RunLock(tmp_path / "run"):
        with pytest.raises(SeqGANMusicError) as err:
            RunLock(tmp_path / "run").acquire()
        message = str(err.value)
        assert f"pid {os.getpid()} on {socket.gethostname()}" in message and "\n" not in message
    with RunLock(tmp_path / "run"):  # released: free again
        pass


def test_the_lock_of_a_killed_process_is_taken_over(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from seqgan_music.core.files import RunLock; "
         "RunLock(sys.argv[1]).acquire(); print('locked', flush=True); time.sleep(60)",
         str(tmp_path / "run")],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(SeqGANMusicError, match=f"pid {holder.pid} "):
            RunLock(tmp_path / "run").acquire()
        holder.kill()
        holder.wait()  # its descriptors are closed by the time it is reaped: the lock is free
        RunLock(tmp_path / "run").acquire().release()
    finally:
        holder.kill()
        holder.stdout.close()


def test_a_write_error_names_the_target_not_the_temporary(tmp_path, monkeypatch):
    target = tmp_path / "model.pt"
    with pytest.raises(OSError) as err:
        atomic_write(target, _full_disk)
    assert err.value.errno == errno.ENOSPC and err.value.filename == str(target)

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / ".model.pt.x.tmp"))

    monkeypatch.setattr("tempfile.mkstemp", denied)  # a read-only folder (tests may run as root)
    with pytest.raises(OSError) as err:
        atomic_write_text(target, "x")
    assert err.value.filename == str(target) and ".model.pt.x.tmp" not in str(err.value)
