"""core/workers.py: tasks in killable worker processes under a time limit."""

import multiprocessing
import os
import time

from seqgan_music.core.workers import map_with_limit


def test_results_failures_deaths_and_timeouts_each_come_back_with_their_index():
    def run(fn, tasks, workers):
        out = map_with_limit(fn, tasks, workers=workers, limit=1.0,
                             on_timeout=lambda t: ("timeout", t),
                             on_failure=lambda t, why: ("failed", why))  # fmt: skip
        return dict(out)

    assert run(int, ["1", "x", "3"], 2) == {
        0: 1, 1: ("failed", "ValueError: invalid literal for int() with base 10: 'x'"), 2: 3
    }  # fmt: skip
    # a task past the limit is stopped (its worker killed and replaced): the others still run
    assert run(time.sleep, [30, 0, 0], 1) == {0: ("timeout", 30), 1: None, 2: None}
    # a worker that dies mid-task (os._exit) costs that task only
    assert run(os._exit, [3], 1) == {0: ("failed", "its worker process died (exit code 3)")}
    assert multiprocessing.active_children() == []
