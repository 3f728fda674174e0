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
from torch import LongTensor, Tensor

# Logits sampled at once, in elements: the (rows, V) softmax buffers stay in cache (128 rows at
# V=5000: 2.5 MB; 3x faster than 4096 rows on the 2-core CPU), while small vocabularies take more
# rows per call. A constant, not memory-derived, so a seed gives the same draws on every machine.
LOGIT_CHUNK = 1 << 19

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
    # float32 draws and running sums even for bf16 probabilities: a bf16 sum stops growing
    u = torch.rand((*probs.shape[:-1], num), generator=rng, device=probs.device)
    return inverse_cdf(probs, u, block)


def inverse_cdf(probs: Tensor, u: Tensor, block: int) -> Tensor:
    """The draws of `sample_probs` for given uniforms u (..., num) in [0, 1)."""
    vocab = probs.shape[-1]
    if not block:
        cdf = probs.cumsum(-1, dtype=torch.float32)  # (..., V); cdf[..., -1] is the total mass
        # right=True: the first index whose cdf exceeds u, so zero weights are skipped.
        idx = torch.searchsorted(cdf, u * cdf[..., -1:], right=True)
        return idx.clamp_(max=vocab - 1)
    blocks = probs.unflatten(-1, (vocab // block, block))  # (..., nb, blk)
    sums = blocks.sum(-1).float()  # (..., nb); CPU reductions accumulate bf16 in float32 anyway
    cdf = sums.cumsum(-1)
    target = u * cdf[..., -1:]  # (..., num)
    k = torch.searchsorted(cdf, target, right=True).clamp_(max=sums.shape[-1] - 1)
    rest = target - (cdf.gather(-1, k) - sums.gather(-1, k))  # mass left inside block k
    chosen = blocks.gather(-2, k.unsqueeze(-1).expand(*k.shape, block))  # (..., num, blk)
    inner = torch.searchsorted(
        chosen.cumsum(-1, dtype=torch.float32), rest.unsqueeze(-1), right=True
    ).squeeze(-1)
    return (k * block + inner.clamp_(max=block - 1)).clamp_(max=vocab - 1)


def head_matrix(
    weight: Tensor, bias: Tensor, temperature: float, dtype: torch.dtype | None = None
) -> tuple[Tensor, int]:
    """The output layer (V, H) + (V,) as one (H+1, V') matrix for [h, 1] rows: bias folded in,
    divided by the temperature, V padded to whole sampling blocks with logit -1e30 (probability
    exactly 0), in `dtype` (bf16 halves the logits' cost on the matrix units). Returns it and the
    block width of `sample_probs`."""
    vocab = weight.shape[0]
    block = block_size(vocab)
    padded = -(-vocab // block) * block if block else vocab
    head = weight.new_zeros(weight.shape[1] + 1, padded)  # (H+1, V')
    head[:-1, :vocab] = weight.t()
    head[-1, :vocab] = bias
    head[-1, vocab:] = -1e30
    if temperature > 0:
        head /= temperature
    return head.to(dtype or weight.dtype), block


def sample_rows(
    h: Tensor,
    head: Tensor,
    block: int,
    vocab: int,
    temperature: float,
    rng: torch.Generator | None,
    num: int = 1,
) -> LongTensor:
    """(R, H) LSTM outputs -> (R, num) tokens drawn from softmax([h, 1] @ head), the (R, V')
    logits taken LOGIT_CHUNK elements at a time (argmax at temperature <= 0)."""
    h = torch.cat([h, h.new_ones(h.shape[0], 1)], dim=1).to(head.dtype)  # the bias row
    out = torch.empty(h.shape[0], num, dtype=torch.long, device=h.device)
    rows = max(1, LOGIT_CHUNK // head.shape[1])
    for start in range(0, h.shape[0], rows):
        part = slice(start, start + rows)
        logits = h[part] @ head  # (r, V')
        if temperature <= 0:
            out[part] = logits.argmax(-1, keepdim=True)
        else:
            probs = torch.softmax(logits, dim=-1)
            out[part] = sample_probs(probs, rng, num, block=block).clamp_(max=vocab - 1)
    return out


def sample_in_chunks(draw: Callable[[int], Tensor], n: int, chunk: int = SAMPLE_CHUNK) -> Tensor:
    """`n` sequences from `draw(k)` (which returns (k, T)), asked for `chunk` at a time."""
    return torch.cat([draw(min(chunk, n - i)) for i in range(0, n, chunk)])


def uniforms(
    rows: int, num: int, width: int, rng: torch.Generator | None, device: torch.device
) -> Tensor:
    """(rows, num) uniforms drawn as `sample_rows` draws them for a (rows, H+1) @ (H+1, width)
    head (one call per LOGIT_CHUNK of logits), so a compiled step given them samples the same
    tokens as the eager one from the same generator, on every device."""
    per = max(1, LOGIT_CHUNK // width)
    return torch.cat([torch.rand((min(per, rows - s), num), generator=rng, device=device)
                      for s in range(0, rows, per)])  # fmt: skip


def fused_draw(logits: Tensor, u: Tensor, block: int) -> Tensor:
    """`inverse_cdf(softmax(logits), u, block)` written for the compiler: exponentials of
    (logit - row max) summed per block on the fly, never stored as (rows, V) probabilities (the
    total mass scales the draw instead of normalising); the chosen block's are recomputed.
    (..., V) logits and (..., num) uniforms -> (..., num) ids; block 0 is one level."""
    x = logits.float()
    top = x.amax(-1, keepdim=True)
    if not block:
        cdf = torch.exp(x - top).cumsum(-1)  # (..., V)
        # the count of cdf values <= target is searchsorted(right=True) on a running sum
        idx = (cdf.unsqueeze(-2) <= (u * cdf[..., -1:]).unsqueeze(-1)).sum(-1)
        return idx.clamp(max=x.shape[-1] - 1)
    blocks = x.unflatten(-1, (x.shape[-1] // block, block))  # (..., nb, blk)
    sums = torch.exp(blocks - top.unsqueeze(-1)).sum(-1)  # (..., nb)
    cdf = sums.cumsum(-1)
    target = u * cdf[..., -1:]  # (..., num)
    k = (cdf.unsqueeze(-2) <= target.unsqueeze(-1)).sum(-1).clamp(max=sums.shape[-1] - 1)
    rest = target - (cdf.gather(-1, k) - sums.gather(-1, k))  # mass left inside block k
    chosen = blocks.gather(-2, k.unsqueeze(-1).expand(*k.shape, block))  # (..., num, blk)
    inner_cdf = torch.exp(chosen - top.unsqueeze(-1)).cumsum(-1)
    inner = (inner_cdf <= rest.unsqueeze(-1)).sum(-1).clamp(max=block - 1)
    return k * block + inner
