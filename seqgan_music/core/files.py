"""Files that other processes may read while they are written: atomic replacement, run locks.

`atomic_write` writes to a unique temporary file beside the target (`.NAME.XXXX.tmp`), fsyncs it,
gives it the mode any new file gets under the user's umask (mkstemp's are 0600) and renames it over
the target; on any failure, a full disk or Ctrl-C included, the temporary file is removed and the
old target is untouched. Two writers never share a temporary name.

`RunLock` is an advisory lock (fcntl.flock) on `FOLDER/.lock`: a second writer of the same run
folder gets a one-line error naming the holder's pid and host. The kernel drops the lock when its
process dies, so the lock of a killed run is simply taken over; the file itself stays.
"""

from __future__ import annotations

import fcntl
import os
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from seqgan_music.errors import SeqGANMusicError

LOCK_NAME = ".lock"


def umask_mode(base: int = 0o666) -> int:
    """The mode a file created now with `base` would get (base & ~umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


def atomic_write(path: str | Path, write: Callable[[IO[Any]], Any], *, binary: bool = True) -> Path:
    """Call `write(fh)` on a unique temporary file beside `path`, then rename it to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:  # name the file the user asked for, not our temporary one
        raise OSError(err.errno, err.strerror, str(path)) from err
    try:
        os.fchmod(fd, umask_mode())
        mode = "wb" if binary else "w"
        with os.fdopen(fd, mode, **({} if binary else {"encoding": "utf-8", "newline": ""})) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as err:  # a full disk: "[Errno 28]" alone names no file
        Path(tmp).unlink(missing_ok=True)
        raise OSError(err.errno, err.strerror, str(path)) from err
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def remove_stale_temp_files(folder: str | Path) -> list[Path]:
    """Remove `atomic_write`'s temporary files (`.NAME.XXXX.tmp`) left in `folder` by writers
    that were killed mid-write; call it only while holding the folder's lock (no other writer).
    Returns what was removed."""
    removed = []
    for path in Path(folder).glob(".*.tmp"):
        if path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def atomic_write_text(path: str | Path, text: str) -> Path:
    """`atomic_write` of a UTF-8 string."""
    return atomic_write(path, lambda fh: fh.write(text), binary=False)


def refuse_existing(paths: list[Path], force: bool) -> None:
    """Raise a one-line error naming the first of `paths` that exists, unless `force`."""
    taken = [p for p in paths if os.path.lexists(p)]
    if taken and not force:
        more = f" (and {len(taken) - 1} more)" if len(taken) > 1 else ""
        raise SeqGANMusicError(
            f"{taken[0]} exists{more}: give --force to overwrite, or another --out"
        )


class RunLock:
    """An exclusive lock on a run folder while one process writes it (see the module docstring)."""

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, umask_mode())
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").split() or ["?", "?"]
            os.close(fd)
            pid, host = (holder + ["?"])[:2]
            raise SeqGANMusicError(
                f"{self.path.parent} is in use by another training process (pid {pid} on "
                f"{host}); wait for it to finish, or give another --run-name or --out"
            ) from None
        except OSError:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {socket.gethostname()} {time.time():.0f}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
