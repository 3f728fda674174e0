"""How many CPU threads the compute commands use (`--threads`), chosen before torch starts.

torch's default is one OpenMP thread per core that spins while it waits: when other work holds a
core, every parallel region waits for the thread that lost its core, and training ran many times
slower than with one thread (issue 10). benchmarks/bench_threads.py, with other jobs loading this
2-core machine: torch's default 95-221 s, one thread 18.5-22.6 s, both cores with
OMP_WAIT_POLICY=PASSIVE (waiting threads sleep) 9.5-19.3 s for the same work. So the default is
every core with PASSIVE waiting when that can still be set (torch not loaded yet), else one thread;
$OMP_NUM_THREADS or `--threads N` override it.
"""

from __future__ import annotations

import os
import sys


def default_threads() -> int:
    """$OMP_NUM_THREADS when set, else every core if PASSIVE waiting can still act, else 1."""
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    passive = os.environ.get("OMP_WAIT_POLICY", "PASSIVE").upper() == "PASSIVE"
    if "torch" in sys.modules or not passive:  # OpenMP has read its wait policy already
        return 1
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)  # fmt: skip


def configure_threads(threads: int | None = None) -> int:
    """Set torch's intra-op thread count (None: `default_threads()`) and return it. Sets
    OMP_WAIT_POLICY=PASSIVE when not set, which only acts if torch is not loaded yet."""
    if threads is None:
        threads = default_threads()
    if threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    torch.set_num_threads(threads)
    return threads
