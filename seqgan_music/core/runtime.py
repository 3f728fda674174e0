"""Where and how the compute runs: device, precision, CPU threads and compile, as one `Runtime`.

A `Runtime` is resolved once, where a command or an API call enters (`Runtime.resolve`), and passed
down; nothing below resolves a device, a precision or a thread count again. Precision and compile
given here override the run's TrainConfig (stored in its checkpoint); None keeps the run's own.

Threads: torch's default is one OpenMP thread per core that spins while it waits: when other work
holds a core, every parallel region waits for the thread that lost its core, and training ran many
times slower than with one thread (issue 10). benchmarks/bench_threads.py, with other jobs loading
this 2-core machine: torch's default 95-221 s, one thread 18.5-22.6 s, both cores with
OMP_WAIT_POLICY=PASSIVE (waiting threads sleep) 9.5-19.3 s for the same work. So the default is
every core with PASSIVE waiting when that can still be set (torch not loaded yet), else one thread;
$OMP_NUM_THREADS or `--threads N` override it. This module imports torch only inside functions, so
the CLI can set the thread policy before torch loads.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from seqgan_music.errors import ConfigError

if TYPE_CHECKING:
    import torch

PRECISIONS = ("fp32", "bf16", "auto")
COMPILE_MODES = ("auto", "on", "off")


def default_threads() -> int:
    """$OMP_NUM_THREADS when set, else every core if PASSIVE waiting can still act, else 1."""
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    passive = os.environ.get("OMP_WAIT_POLICY", "PASSIVE").upper() == "PASSIVE"
    if "torch" in sys.modules or not passive:  # OpenMP has read its wait policy already
        return 1
    return usable_cores()


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


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


@dataclass(frozen=True)
class Runtime:
    """A resolved runtime: build it with `Runtime.resolve`, then pass it down."""

    device: torch.device
    threads: int  # torch's intra-op threads, as set
    precision: str | None = None  # fp32 | bf16 | auto; None: the run's own (sampling: fp32)
    compile: str | None = None  # auto | on | off; None: the run's own

    @classmethod
    def resolve(
        cls, device: str = "auto", precision: str | None = None, threads: int | None = None,
        compile: str | None = None, *, set_threads: bool = True,
    ) -> Runtime:  # fmt: skip
        """Check and resolve every setting; the threads first (before torch loads). Without
        `set_threads` (a Python caller that keeps its own thread settings) torch's count stays."""
        if precision is not None and precision not in PRECISIONS:
            raise ConfigError(
                f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}"
            )
        if compile is not None and compile not in COMPILE_MODES:
            raise ConfigError(f"compile must be one of {', '.join(COMPILE_MODES)}, not {compile!r}")
        if set_threads or threads is not None:
            threads = configure_threads(threads)
        else:
            import torch

            threads = torch.get_num_threads()
        from seqgan_music.core.devices import resolve_device

        return cls(resolve_device(device), threads, precision, compile)

    def train_settings(self) -> dict[str, Any]:
        """The TrainConfig fields this runtime overrides (stored in the run's checkpoints)."""
        given = {"precision": self.precision, "compile": self.compile}
        return {k: v for k, v in given.items() if v is not None}

    @contextlib.contextmanager
    def sampling(self) -> Iterator[None]:
        """Around sampling outside training (compose): bf16 autocast when asked, else fp32."""
        from seqgan_music.core.precision import autocast

        with autocast(self.precision or "fp32", self.device):
            yield


def runtime_or_default(runtime: Runtime | None) -> Runtime:
    """The runtime a Python caller gave, else auto device, the run's precision and compile, and
    torch's current thread count (a library call does not change the process's threads)."""
    return runtime if runtime is not None else Runtime.resolve(set_threads=False)
