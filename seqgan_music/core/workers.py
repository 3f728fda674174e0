"""A function over tasks in worker processes, each task under a time limit.

A task that runs past its limit is killed with its worker (a fresh worker takes its place) and
gives the caller's fallback instead of a result; a task that raises, or whose worker dies (killed
for memory, a crash in a C library), does the same: one bad input costs at most the limit.
The workers live for the whole map (one start-up, not one per task) and come from a fork server
where the platform has one (a fork of a clean, pre-imported process: cheap to replace after a
kill), else are spawned. Neither forks the caller, which may hold torch threads.
"""

from __future__ import annotations

import multiprocessing
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from seqgan_music.errors import SeqGANMusicError

_READY = "ready"
Warm = tuple[Callable[..., Any], tuple] | None  # (module-level function, its arguments)
_STOP = None


def _context(preload: Sequence[str]) -> Any:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(preload))  # heeded when the server starts (once a process)
    return ctx


def _serve(conn: Connection, fn: Callable[[Any], Any], warm: Warm) -> None:
    """The worker: run `warm` (imports, so that a task's clock does not pay for them), then run
    tasks, sending (True, result) or (False, the error in one line)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's: it stops the workers
    if warm is not None:
        warm[0](*warm[1])
    conn.send(_READY)
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is _STOP:
            return
        try:
            conn.send((True, fn(task)))
        except Exception as err:  # a bug or a library's surprise: one task's failure, reported
            conn.send((False, f"{type(err).__name__}: {err}"[:200]))


class _Worker:
    def __init__(self, ctx: Any, fn: Callable[[Any], Any], warm: Warm) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, fn, warm), daemon=True)
        self.proc.start()
        child.close()
        self.ready = False
        self.index: int | None = None  # the task it runs
        self.deadline = 0.0

    def give(self, index: int, task: Any, limit: float | None) -> None:
        self.conn.send(task)
        self.index = index
        self.deadline = time.monotonic() + limit if limit else float("inf")

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.proc.kill()
        else:
            try:
                self.conn.send(_STOP)
            except OSError:
                self.proc.kill()
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


def map_with_limit(
    fn: Callable[[Any], Any],
    tasks: Sequence[Any],
    *,
    workers: int,
    limit: float | None,
    on_timeout: Callable[[Any], Any],
    on_failure: Callable[[Any, str], Any],
    warm: Warm = None,
    preload: Sequence[str] = (),
) -> Iterator[tuple[int, Any]]:
    """Yield (index, fn(task)) as tasks finish, on `workers` processes; a task still running
    after `limit` seconds (None: no limit) yields (index, on_timeout(task)) and its worker is
    killed; a task that fails or whose worker dies (killed for memory, a crash in a C library)
    yields (index, on_failure(task, why)).

    `fn` must be importable by name (module-level), as must `warm`'s function, which each worker
    runs before its first task (outside any task's clock); a fork server imports `preload` once,
    and every worker forked from it starts with them imported."""
    ctx = _context(preload)
    pending = deque(range(len(tasks)))
    pool = [_Worker(ctx, fn, warm) for _ in range(max(1, min(workers, len(tasks))))]
    remaining = len(tasks)
    try:
        while remaining:
            for w in pool:
                if w.ready and w.index is None and pending:
                    k = pending.popleft()
                    w.give(k, tasks[k], limit)
            running = [w.deadline for w in pool if w.index is not None]
            soonest = min(running, default=float("inf"))
            timeout = None if soonest == float("inf") else max(0.0, soonest - time.monotonic())
            ready = set(wait([w.conn for w in pool if w.index is not None or not w.ready], timeout))
            for i, w in enumerate(pool):
                if w.conn in ready:
                    try:
                        message = w.conn.recv()
                    except (EOFError, OSError):  # the worker died
                        w.proc.join(timeout=5)
                        if w.index is None:  # before its first task: no worker can start
                            raise SeqGANMusicError(
                                f"a worker process failed to start (exit code {w.proc.exitcode});"
                                " a script that calls this must run its top level under "
                                "`if __name__ == '__main__':`"
                            ) from None
                        why = f"its worker process died (exit code {w.proc.exitcode})"
                        yield w.index, on_failure(tasks[w.index], why)
                        remaining -= 1
                        w.index = None
                        w.stop(kill=True)
                        pool[i] = _Worker(ctx, fn, warm)
                        continue
                    if not w.ready:
                        w.ready = True
                        continue
                    k, w.index = w.index, None
                    ok, value = message
                    yield k, value if ok else on_failure(tasks[k], value)
                    remaining -= 1
                elif w.index is not None and time.monotonic() >= w.deadline:
                    k, w.index = w.index, None
                    w.stop(kill=True)
                    pool[i] = _Worker(ctx, fn, warm)
                    yield k, on_timeout(tasks[k])
                    remaining -= 1
    finally:
        for w in pool:
            w.stop(kill=w.index is not None or not w.ready)
