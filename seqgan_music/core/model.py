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
        rng = self._rng(seed)
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
                conditions=self._conditions(n, condition, rng),
                allowed=None if allowed is None else torch.as_tensor(allowed),
                compile=self.compile,
            )
        return out.cpu().numpy()

    def _rng(self, seed: int | None) -> torch.Generator:
        """`sample`'s stream: seeded by `seed` (None: a fresh one), no global reseed."""
        rng = torch.Generator(device=next(self.generator.parameters()).device)
        rng.manual_seed(seed if seed is not None else secrets.randbits(63))
        return rng

    def sample_conditions(
        self, n: int, *, seed: int, condition: int | None = None
    ) -> np.ndarray | None:
        """(n,) the condition ids `sample(n, seed=seed, condition=condition)` starts its rows
        from (it draws them first from the same stream); None for an unconditioned model."""
        ids = self._conditions(n, condition, self._rng(seed))
        return None if ids is None else ids.cpu().numpy()

    def _conditions(
        self, n: int, condition: int | None, rng: torch.Generator
    ) -> torch.Tensor | None:
        """Each sample's condition id: `condition`; for a conditioned model asked for none, ids
        drawn in proportion to `_condition_weights`, so samples, evaluate and compare see the
        model's mixture, not condition 0 alone."""
        if condition is not None:
            return torch.full((n,), condition)
        if self.generator.config.conditions == 1:
            return None
        weights = self._condition_weights().float().to(rng.device)
        return torch.multinomial(weights, n, replacement=True, generator=rng)

    def _condition_weights(self) -> torch.Tensor:
        """(C,) float64, unnormalised: each condition's training windows (the checkpoint's
        "conditions" counts), else all equal."""
        count = self.generator.config.conditions
        known = self.metadata.get("conditions")
        weights = known.get("train_windows") if isinstance(known, dict) else None
        counts_ok = (
            isinstance(weights, list)
            and len(weights) == count
            and all(isinstance(w, int) and not isinstance(w, bool) and w >= 0 for w in weights)
        )
        if not counts_ok or not sum(weights) > 0:  # a checkpoint may hold anything
            weights = [1.0] * count
        return torch.as_tensor(weights, dtype=torch.float64)

    def _per_row(
        self, tokens: np.ndarray, temperature: float, fn: Callable,
        conditions: np.ndarray | None = None,
    ) -> np.ndarray:  # fmt: skip
        """fn(log-softmax (n, T, V) at `temperature`, tokens (n, T)) -> (n,), in chunks of rows
        (the (N, T, V) log-probabilities of a word vocabulary would not fit at once); G reads
        row i from `conditions[i]`'s start token (None: the one START)."""
        device = next(self.generator.parameters()).device
        out = []
        for lo in range(0, len(tokens), ROWS_PER_PASS):
            x = torch.as_tensor(np.asarray(tokens[lo : lo + ROWS_PER_PASS]), dtype=torch.long,
                                device=device)  # fmt: skip
            ids = None
            if conditions is not None:
                ids = torch.as_tensor(np.asarray(conditions[lo : lo + ROWS_PER_PASS]),
                                      dtype=torch.long, device=device)  # fmt: skip
            with torch.no_grad():
                logp = torch.log_softmax(self.generator(x, ids).float() / temperature, dim=-1)
                out.append(fn(logp, x).cpu().numpy().astype(np.float64))
        return np.concatenate(out) if out else np.zeros(0)

    def token_nll(self, windows: np.ndarray, temperature: float = 1.0) -> np.ndarray:
        """(N,): each window's mean per-token NLL (nats) under G sampled at `temperature`: how
        likely held-out data is under the distribution the samples come from. A conditioned G
        samples a mixture (`_conditions`): a window's likelihood is the mixture's,
        sum_c P(c) G(window | c)."""

        def nll(logp: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
            return -logp.gather(-1, x.unsqueeze(-1)).squeeze(-1).mean(dim=1)

        count = self.generator.config.conditions
        if count == 1:
            return self._per_row(windows, temperature, nll)
        weights = self._condition_weights()
        weights = weights / weights.sum()
        steps = np.asarray(windows).shape[1] if len(windows) else 1
        # (C, N) log G(window | c) + log P(c), then log-sum-exp over c, per token
        joint = np.stack([-steps * self._per_row(windows, temperature, nll,
                                                 np.full(len(windows), c)) + np.log(w)
                          for c, w in enumerate(weights.tolist()) if w > 0])  # fmt: skip
        top = joint.max(axis=0)
        return -(top + np.log(np.exp(joint - top).sum(axis=0))) / steps

    def token_entropy(
        self, samples: np.ndarray, temperature: float = 1.0, conditions: np.ndarray | None = None
    ) -> np.ndarray:
        """(N,): mean per-token entropy (nats) of G's next-token distribution at `temperature`
        along each of its own samples: what lowering the temperature (or SeqGAN) takes away.
        A conditioned G reads each sample under the condition it was drawn from: `conditions`
        (N,), e.g. `sample_conditions` of the draw (the first start token alone would score
        every sample as if drawn from one condition)."""

        def entropy(logp: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
            return -(logp.exp() * logp).sum(-1).mean(dim=1)

        if conditions is None and self.generator.config.conditions > 1:
            raise SeqGANMusicError(f"{self.path}: a conditioned model's entropy along its samples "
                                   "needs each sample's condition id")  # fmt: skip
        return self._per_row(samples, temperature, entropy, conditions)
