"""A trained generator with what is needed to decode its samples: what `compose` and `evaluate` use.

Domain-free: the tokenizer is rebuilt by name from the checkpoint, and the domain that decodes the
samples is named in the metadata.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seqgan_music.core.config import SeqGANConfig
from seqgan_music.core.generator import Generator
from seqgan_music.core.metadata import RunMetadata
from seqgan_music.core.tokenizer import Tokenizer
from seqgan_music.errors import SeqGANMusicError


@dataclass
class Model:
    """A trained generator, its tokenizer, config and run metadata, and where it was read from."""

    generator: Generator
    tokenizer: Tokenizer
    config: SeqGANConfig
    metadata: dict[str, Any]
    path: Path

    @property
    def domain(self) -> str:
        return self.metadata["domain"]

    @property
    def run(self) -> RunMetadata:
        return RunMetadata.from_dict(self.metadata)

    def sample(
        self,
        n: int,
        *,
        length: int | None = None,
        temperature: float = 1.0,
        seed: int | None = None,
        prefix: Sequence[int] | None = None,
        on_step: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """(n, length) token samples, seeded; `prefix` conditions every sample on a primer;
        `on_step(t)` hears of the steps done (see `Generator.sample`)."""
        device = next(self.generator.parameters()).device
        rng = torch.Generator(device=device)
        rng.manual_seed(seed if seed is not None else secrets.randbits(63))  # no global reseed
        prefix_t = None
        if prefix is not None and len(prefix):
            prefix_t = torch.as_tensor(list(prefix), dtype=torch.long, device=device).repeat(n, 1)
        length = self.config.generator.seq_len if length is None else length
        if length < 1:
            raise SeqGANMusicError(f"--length must be at least 1 step, not {length}")
        if prefix_t is not None and prefix_t.shape[1] >= length:
            raise SeqGANMusicError(
                f"the primer is {prefix_t.shape[1]} steps long, not shorter than --length {length}"
            )
        with torch.no_grad():
            out = self.generator.sample(
                n, length, temperature=temperature, rng=rng, prefix=prefix_t, on_step=on_step
            )
        return out.cpu().numpy()
