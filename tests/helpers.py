"""Plain helpers shared by several test modules and by the distributed worker script (which runs
outside pytest, so these are functions, not fixtures; tests/ is on pytest's `pythonpath`)."""

from __future__ import annotations

from pathlib import Path

import torch
from click.testing import CliRunner, Result

from seqgan_music.cli import cli
from seqgan_music.core.config import DiscriminatorConfig, GeneratorConfig, SeqGANConfig

V, T = 12, 6  # the tiny models' vocabulary and sequence length

# One tiny schedule: two units of every phase; each module overrides what its tests are about.
TINY_SCHEDULE = dict(batch_size=8, g_pretrain_epochs=2, d_pretrain_rounds=2, d_pretrain_epochs=1,
                     adv_rounds=2, g_steps=2, d_steps=2, k_epochs=1, rollout_num=2,
                     num_negatives=16, eval_every=2, seed=7)  # fmt: skip


def tiny_config(**train: object) -> SeqGANConfig:
    """A SeqGAN small enough to train in well under a second (TINY_SCHEDULE, then `train`)."""
    return SeqGANConfig(
        GeneratorConfig(V, T, emb_dim=8, hidden_dim=8),
        DiscriminatorConfig(V, T, emb_dim=8, filters=((2, 4), (3, 4))),
    ).with_train(**{**TINY_SCHEDULE, **train})


def tiny_data(n: int = 32) -> torch.Tensor:
    """n random (T,) sequences over V ids, the same every call."""
    return torch.randint(0, V, (n, T), generator=torch.Generator().manual_seed(0))


def run_cli(*args: str | Path) -> Result:
    """`seqgan-music ARGS...` in-process (click's CliRunner), exceptions caught into the result."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True)
