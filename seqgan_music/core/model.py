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

ROWS_PER_PASS = 256  # rows scored per forward pass by token_nll / token_entropy

# The most tokens one `sample` call may draw (1 GB as int64): `--length 1000000000` is a one-line
# error, not a request for 32 GB.
MAX_SAMPLE_TOKENS = 1 << 27


@dataclass
class Model:
    """A trained generator, its tokenizer, config and run metadata, and where it was read from."""

    generator: Generator
    tokenizer: Tokenizer
    config: SeqGANConfig
    metadata: dict[str, Any]
    path: Path
    compile: bool | str = "off"  # passed to Generator.sample: on, off or auto (core.compiling)

    @property
    def domain(self) -> str:
        return self.metadata["domain"]

    @property
    def compose_default(self) -> tuple[float, str]:
        """`compose`'s default temperature and why: metadata["compose"] when a test chose one
        (`export --compose-temperature`), else 1."""
        chosen = self.metadata.get("compose")
        if isinstance(chosen, dict):
            t = chosen.get("temperature")
            if isinstance(t, (int, float)) and not isinstance(t, bool) and t > 0:
                return float(t), str(chosen.get("why", "recorded in the checkpoint"))
        return 1.0, "no tuned temperature recorded in the checkpoint"

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
        condition: int | None = None,
        allowed: np.ndarray | None = None,
    ) -> np.ndarray:
        """(n, length) token samples, seeded; `prefix` conditions every sample on a primer,
        `condition` starts each from that condition id's start token, `allowed` (length, V)
        bool constrains each step; `on_step(t)` hears of the steps done (`Generator.sample`)."""
        device = next(self.generator.parameters()).device
        rng = torch.Generator(device=device)
        rng.manual_seed(seed if seed is not None else secrets.randbits(63))  # no global reseed
        prefix_t = None
        if prefix is not None and len(prefix):
            prefix_t = torch.as_tensor(list(prefix), dtype=torch.long, device=device).repeat(n, 1)
        length = self.config.generator.seq_len if length is None else length
        if length < 1:
            raise SeqGANMusicError(f"--length must be at least 1 step, not {length}")
        if n * length > MAX_SAMPLE_TOKENS:
            raise SeqGANMusicError(
                f"{n} samples of {length} steps are {n * length:,} tokens, more than the "
                f"{MAX_SAMPLE_TOKENS:,} one call may draw: lower --num or --length"
            )
        if prefix_t is not None and prefix_t.shape[1] >= length:
            raise SeqGANMusicError(
                f"the primer is {prefix_t.shape[1]} steps long, not shorter than --length {length}"
            )
        with torch.no_grad():
            out = self.generator.sample(
                n,
                length,
                temperature=temperature,
                rng=rng,
                prefix=prefix_t,
                on_step=on_step,
                conditions=None if condition is None else torch.full((n,), condition),
                allowed=None if allowed is None else torch.as_tensor(allowed),
                compile=self.compile,
            )
        return out.cpu().numpy()

    def _per_row(self, tokens: np.ndarray, temperature: float, fn: Callable) -> np.ndarray:
        """fn(log-softmax (n, T, V) at `temperature`, tokens (n, T)) -> (n,), in chunks of rows
        (the (N, T, V) log-probabilities of a word vocabulary would not fit at once)."""
        device = next(self.generator.parameters()).device
        out = []
        for lo in range(0, len(tokens), ROWS_PER_PASS):
            x = torch.as_tensor(np.asarray(tokens[lo : lo + ROWS_PER_PASS]), dtype=torch.long,
                                device=device)  # fmt: skip
            with torch.no_grad():
                logp = torch.log_softmax(self.generator(x).float() / temperature, dim=-1)
                out.append(fn(logp, x).cpu().numpy().astype(np.float64))
        return np.concatenate(out) if out else np.zeros(0)

    def token_nll(self, windows: np.ndarray, temperature: float = 1.0) -> np.ndarray:
        """(N,): each window's mean per-token NLL (nats) under G sampled at `temperature`: how
        likely held-out data is under the distribution the samples come from."""

        def nll(logp: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
            return -logp.gather(-1, x.unsqueeze(-1)).squeeze(-1).mean(dim=1)

        return self._per_row(windows, temperature, nll)

    def token_entropy(self, samples: np.ndarray, temperature: float = 1.0) -> np.ndarray:
        """(N,): mean per-token entropy (nats) of G's next-token distribution at `temperature`
        along each of its own samples: what lowering the temperature (or SeqGAN) takes away."""

        def entropy(logp: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
            return -(logp.exp() * logp).sum(-1).mean(dim=1)

        return self._per_row(samples, temperature, entropy)
