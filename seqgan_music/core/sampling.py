"""Fast categorical sampling by inverse CDF: one uniform draw per row instead of torch.multinomial.

torch.multinomial over a 5,000-way softmax dominated the roll-out in PEERS.md's measurements;
inverse CDF on uniform draws draws from the same distribution (tests/core/test_generator.py checks
the frequencies against the softmax) and is much faster. A running sum over V is a sequential scan,
so wide vocabularies search in two levels: block totals first, then the cumulative sum inside the
one chosen block (about sqrt(V) + V / blocks additions instead of V).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

SAMPLE_CHUNK = 2048  # sequences drawn per call when many are wanted (bounds the (n, V) buffers)


def block_size(vocab: int) -> int:
    """Block width of the two-level search: about sqrt(V); 0 (one level) for small V."""
    return 0 if vocab < 512 else 1 << round(math.log2(math.sqrt(vocab)))


def sample_logits(
    logits: Tensor, temperature: float = 1.0, rng: torch.Generator | None = None, num: int = 1
) -> Tensor:
    """Draw `num` tokens per row from softmax(logits / temperature); (..., V) -> (..., num) int64.

    temperature <= 0 means greedy (argmax), which the roll-out tests use as a deterministic policy.
    No host-device synchronisation: safe inside the roll-out loop on CUDA.
    """
    if temperature <= 0:
        return logits.argmax(-1, keepdim=True).expand(*logits.shape[:-1], num).contiguous()
    probs = torch.softmax(logits / temperature if temperature != 1.0 else logits, dim=-1)
    return sample_probs(probs, rng, num)


def sample_probs(
    probs: Tensor, rng: torch.Generator | None = None, num: int = 1, block: int | None = None
) -> Tensor:
    """Inverse-CDF draws from (..., V) non-negative weights (need not sum to 1) -> (..., num).

    `block` (default `block_size(V)`, must divide V; 0 = one level) sets the two-level search.
    Zero-weight tokens are never drawn, except within float rounding of a block boundary.
    """
    vocab = probs.shape[-1]
    block = block_size(vocab) if block is None else block
    if block and vocab % block:
        block = 0  # the caller did not pad V to whole blocks: fall back to one level
    u = torch.rand((*probs.shape[:-1], num), generator=rng, device=probs.device, dtype=probs.dtype)
    if not block:
        cdf = probs.cumsum(-1)  # (..., V); cdf[..., -1] is the total mass
        # right=True: the first index whose cdf exceeds u, so zero weights are skipped.
        idx = torch.searchsorted(cdf, u * cdf[..., -1:], right=True)
        return idx.clamp_(max=vocab - 1)
    blocks = probs.unflatten(-1, (vocab // block, block))  # (..., nb, blk)
    sums = blocks.sum(-1)  # (..., nb)
    cdf = sums.cumsum(-1)
    target = u * cdf[..., -1:]  # (..., num)
    k = torch.searchsorted(cdf, target, right=True).clamp_(max=sums.shape[-1] - 1)
    rest = target - (cdf.gather(-1, k) - sums.gather(-1, k))  # mass left inside block k
    chosen = blocks.gather(-2, k.unsqueeze(-1).expand(*k.shape, block))  # (..., num, blk)
    inner = torch.searchsorted(chosen.cumsum_(-1), rest.unsqueeze(-1), right=True).squeeze(-1)
    return (k * block + inner.clamp_(max=block - 1)).clamp_(max=vocab - 1)


def sample_in_chunks(draw: Callable[[int], Tensor], n: int, chunk: int = SAMPLE_CHUNK) -> Tensor:
    """`n` sequences from `draw(k)` (which returns (k, T)), asked for `chunk` at a time."""
    return torch.cat([draw(min(chunk, n - i)) for i in range(0, n, chunk)])
