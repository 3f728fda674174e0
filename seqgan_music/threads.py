"""How many CPU threads the compute commands use (`--threads`), chosen before torch starts.

torch's default on a shared machine is one busy-waiting OpenMP thread per core: when other work
holds a core, every parallel region waits for the slowest thread, and training ran about 20x
slower than with one thread (issue 10; benchmarks/bench_threads.py measures it). Threads beyond
one are therefore started with OMP_WAIT_POLICY=PASSIVE (they sleep instead of spinning), and the
default is DEFAULT_THREADS unless OMP_NUM_THREADS says otherwise.
"""

from __future__ import annotations

import os

DEFAULT_THREADS = 1


def configure_threads(threads: int | None = None) -> int:
    """Set torch's intra-op thread count (None: $OMP_NUM_THREADS, else DEFAULT_THREADS); return
    it. Sets OMP_WAIT_POLICY=PASSIVE when not set, which only acts if torch is not loaded yet."""
    if threads is None:
        env = os.environ.get("OMP_NUM_THREADS", "")
        threads = int(env) if env.isdigit() and int(env) > 0 else DEFAULT_THREADS
    if threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    torch.set_num_threads(threads)
    return threads
