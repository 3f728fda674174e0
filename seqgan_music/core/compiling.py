"""The `compile` setting: "on", "off" or "auto" (compile where the run is long enough to repay it).

"on" runs the hot paths through torch.compile (inductor; on CPU its C++/OpenMP backend, which needs
a C++ compiler): the sampling step shared by `Generator.sample` and the roll-out (gate gather, LSTM
cell, head, the exact sampler as one fused pass), D's training loss and G's MLE / policy-gradient
losses (forward and backward). "auto" compiles the sampling step alone, and only for runs long
enough to repay it: compiled, D's training measured slower at the paper sizes (docs/speed.md).
Shapes are static: the sampling step always sees `STEP_ROWS` rows (the last chunk padded), so a run
compiles each function once and never again in its loop.

Compiling costs tens of seconds per function on a busy 2-core CPU the first time; inductor keeps
its results on disk, in `<cache>/inductor` where <cache> is $SEQGAN_MUSIC_CACHE or
~/.cache/seqgan-music ($TORCHINDUCTOR_CACHE_DIR, when set, wins), so later runs on the same
machine load them in seconds. A compile that fails (no compiler, an unsupported op) warns once in
one line and the function runs eagerly: the results are the same either way, up to float
rounding (tests/core/test_compiling.py states the tolerances).
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

COMPILE_SETTINGS = ("auto", "on", "off")

# Rows of one compiled sampling step: the roll-out's N * B at the paper's and the music presets'
# N = 16, B = 64, so its slices need no padding; fewer rows are padded up to it.
STEP_ROWS = 1024

# `auto` compiles when a run samples at least this many (row, step) pairs: the sampling step
# saves about 1 us per row-step at the music sizes (docs/speed.md), against about 60 s of
# compiling on a fresh cache, so it repays itself from ~6e7 row-steps on.
AUTO_MIN_ROW_STEPS = 60_000_000


def check_setting(setting: str) -> str:
    if setting not in COMPILE_SETTINGS:
        raise ValueError(f"compile must be one of {', '.join(COMPILE_SETTINGS)}, not {setting!r}")
    return setting


def resolve_compile(setting: str | bool, row_steps: int) -> bool:
    """Whether to compile: `on`/True, `off`/False, or `auto`: when the work (`row_steps`
    sampled (row, step) pairs in the run) repays the compile."""
    if isinstance(setting, bool):
        return setting
    check_setting(setting)
    if setting == "auto":
        return row_steps >= AUTO_MIN_ROW_STEPS
    return setting == "on"


def cache_dir() -> Path:
    """Where inductor keeps its compiled kernels: $TORCHINDUCTOR_CACHE_DIR, else
    <$SEQGAN_MUSIC_CACHE or ~/.cache/seqgan-music>/inductor."""
    env = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("SEQGAN_MUSIC_CACHE")
    return (Path(base) if base else Path.home() / ".cache" / "seqgan-music") / "inductor"


def _configure_cache() -> None:
    """Point inductor (and its Triton cache) at `cache_dir()` before its first compile."""
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_dir()))


class Compiled:
    """`fn` through torch.compile, falling back to `fn` for good after a failed compile."""

    def __init__(self, fn: Callable[..., Any], name: str) -> None:
        self.fn, self.name = fn, name
        self._compiled: Callable[..., Any] | None = None
        self.failed = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.failed:
            return self.fn(*args, **kwargs)
        if self._compiled is None:
            _configure_cache()
            # fallback_random: dropout inside a compiled loss draws from torch's own generator,
            # as eager does, so a seed gives the same masks compiled or not
            self._compiled = torch.compile(
                self.fn, dynamic=False, options={"fallback_random": True}
            )
        try:
            return self._compiled(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 - any compiler failure means: run eagerly
            self.failed = True
            first = str(err).strip().splitlines()[0][:160] if str(err).strip() else ""
            warnings.warn(f"torch.compile of {self.name} failed, running it eagerly: "
                          f"{type(err).__name__}: {first}", stacklevel=2)  # fmt: skip
            return self.fn(*args, **kwargs)


@functools.cache
def compiled(fn: Callable[..., Any]) -> Compiled:
    """One `Compiled` per function for the whole process (torch.compile caches per function)."""
    return Compiled(fn, getattr(fn, "__qualname__", repr(fn)))
