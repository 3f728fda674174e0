"""D_phi: a CNN over token embeddings with max-over-time pooling and a highway layer (Eqs. 11-12).

As in the original code (LantaoYu/SeqGAN discriminator.py): embedding U(-1, 1); one convolution
per (window, filters) pair, weights truncated normal (std 0.1, cut at 2 std as tf.truncated_normal)
and biases 0.1; ReLU; max over time; one highway layer with separate transform and gate maps
(Glorot-uniform weights and biases, tf.get_variable's default; no extra gate bias); dropout; L2
on the output layer only. The original's output is a two-way softmax whose columns start
truncated normal (std 0.1) with biases 0.1; only the difference of the two columns matters, so we
keep one logit initialised as that difference (weights: the difference of two truncated normal
draws; bias 0.1 - 0.1 = 0) and scale the L2 term to the same optimum (see `loss`).

The convolutions never call conv1d (46-150 GFLOP/s here, in float32 and bfloat16 alike). Two
exact ways, chosen per call by cost (`_use_tables`), measured on one thread at the paper's and
the music D (benchmarks/bench_precision.py):
- *tables*: a window's activation is a sum of per-(offset, token) rows of `embedding @ W_k`, so
  one (w*V, n) table per window, built once per call, turns the convolution into
  `F.embedding_bag` sums: w row additions per output instead of w*E multiply-adds. It pays when
  the table costs less than the convolution (the music D always; the paper D on roll-outs).
- *matmul*: the windows unfolded from the (R, T*E) embeddings as one (R*L, w*E) matrix times the
  (w*E, n) weights, which runs on the bf16 matrix units under autocast (the paper D in training).
The bias is added after the max (max(x + b) = max(x) + b). Under `torch.autocast` everything but
small tables runs in the autocast dtype; the weights stay float32 (the master copy).

The roll-out reward uses `prefix_pools` + `logits_from_prefix`: windows that lie wholly inside a
roll-out's kept prefix are the same as the sample's own, so their max is computed once per prefix
and only the windows ending after it are convolved (exact: equals `forward`).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import LongTensor, Tensor, nn

from seqgan_music.core.config import DiscriminatorConfig
from seqgan_music.core.precision import compute_dtype
from seqgan_music.errors import ConfigError

# Tables of up to this many float32 bytes keep the weights' dtype under bf16 autocast: they sit
# in cache, where float32 embedding_bag measured 2x faster than bfloat16 (14.6 vs 32 ms, music D).
SMALL_TABLE_BYTES = 4 << 20
# Never build tables larger than this (the paper D's are 250 MB in float32).
MAX_TABLE_BYTES = 1 << 30


class Discriminator(nn.Module):
    def __init__(self, config: DiscriminatorConfig) -> None:
        super().__init__()
        self.config = config
        self.windows = tuple(w for w, _ in config.active_filters)
        if not self.windows:
            raise ConfigError(f"no discriminator window fits seq_len {config.seq_len}")
        emb, feats = config.emb_dim, sum(n for _, n in config.active_filters)
        self.embedding = nn.Embedding(config.vocab_size, emb)
        self.convs = nn.ModuleList(nn.Conv1d(emb, n, w) for w, n in config.active_filters)
        self.highway_transform = nn.Linear(feats, feats)
        self.highway_gate = nn.Linear(feats, feats)
        self.dropout = nn.Dropout(config.dropout)
        self.out = nn.Linear(feats, 1)
        # a projection discriminator (Miyato & Koyama 2018): logit + <embed(c), features>, zero
        # at the start (D begins as the unconditioned one); none at one condition, so the
        # parameters, their initial values and the checkpoints are the unconditioned D's
        self.projection = None
        if config.conditions > 1:
            self.projection = nn.Embedding(config.conditions, feats)
            nn.init.zeros_(self.projection.weight)
        self.conv_method = "auto"  # "auto", "tables", "matmul" or "conv1d" (tests pin one)
        self._init_as_original()

    @torch.no_grad()
    def _init_as_original(self) -> None:
        """The original's initialisers (module docstring); the logit = the columns' difference."""
        nn.init.uniform_(self.embedding.weight, -1.0, 1.0)
        for conv in self.convs:
            _truncated_normal_(conv.weight, 0.1)
            nn.init.constant_(conv.bias, 0.1)
        for layer in (self.highway_transform, self.highway_gate):
            nn.init.xavier_uniform_(layer.weight)
            bound = (3.0 / layer.bias.numel()) ** 0.5  # Glorot uniform of a 1-D variable
            nn.init.uniform_(layer.bias, -bound, bound)
        real, fake = torch.empty_like(self.out.weight), torch.empty_like(self.out.weight)
        self.out.weight.copy_(_truncated_normal_(real, 0.1) - _truncated_normal_(fake, 0.1))
        nn.init.zeros_(self.out.bias)  # 0.1 - 0.1

    # -- the convolutions -----------------------------------------------------------------------
    def _use_tables(self, rows: int) -> bool:
        """Tables when building them costs no more multiply-adds than convolving `rows` sequences
        directly (V * sum(w n) <= rows * sum((T-w+1) w n)) and they fit in memory."""
        if self.conv_method != "auto":
            return self.conv_method == "tables"
        cfg = self.config
        entries = cfg.vocab_size * sum(w * n for w, n in cfg.active_filters)
        direct = rows * sum((cfg.seq_len - w + 1) * w * n for w, n in cfg.active_filters)
        return entries <= direct and 4 * entries <= MAX_TABLE_BYTES

    def conv_tables(self) -> list[Tensor]:
        """Per conv i: the (w*V, n) table whose row k*V + v is W_i[:, :, k] @ embedding[v]."""
        emb = self.embedding.weight  # (V, E)
        vocab = emb.shape[0]
        tables = []
        for conv, w in zip(self.convs, self.windows, strict=True):
            small = 4 * w * vocab * conv.out_channels <= SMALL_TABLE_BYTES
            dtype = (torch.promote_types(emb.dtype, torch.float32) if small
                     else compute_dtype(emb.device, emb.dtype))  # fmt: skip
            with torch.autocast(emb.device.type, enabled=False):
                weight = conv.weight.to(dtype).permute(2, 1, 0)  # (w, E, n)
                tables.append(torch.matmul(emb.to(dtype), weight).reshape(w * vocab, -1))
        return tables

    def scorer(self) -> Discriminator:
        """This D for scoring under the current autocast: itself, or an eval-mode copy with its
        weights cast once to the autocast dtype (autocast would cast them on every call)."""
        weight = self.embedding.weight
        dtype = compute_dtype(weight.device, weight.dtype)
        if dtype == weight.dtype:
            return self
        scorer = copy.deepcopy(self).to(dtype).eval()
        scorer.requires_grad_(False)
        return scorer

    def _embed(self, tokens: LongTensor) -> Tensor:
        """(R, T) -> (R, T*E) embeddings in the compute dtype, windows of w*E values apart E."""
        weight = self.embedding.weight
        emb = F.embedding(tokens, weight.to(compute_dtype(weight.device, weight.dtype)))
        return emb.reshape(tokens.shape[0], -1)

    def _acts(self, source: Tensor, i: int, first: int, tables: list[Tensor] | None) -> Tensor:
        """Pre-bias activations of conv i at the windows starting at >= first: (R, L, n).
        `source` is the tokens (R, T) with tables, else `_embed(tokens)`."""
        w, conv = self.windows[i], self.convs[i]
        if tables is not None:
            vocab = self.config.vocab_size
            offsets = torch.arange(0, w * vocab, vocab, device=source.device)
            idx = source[:, first:].unfold(1, w, 1) + offsets  # (R, L, w) table rows
            rows, windows = idx.shape[:2]
            out = F.embedding_bag(idx.reshape(-1, w), tables[i], mode="sum")
            return out.view(rows, windows, -1)
        emb = self.config.emb_dim
        if self.conv_method == "conv1d":  # the former way: the benchmarks' baseline
            x = source.view(source.shape[0], -1, emb)[:, first:].transpose(1, 2)
            return F.conv1d(x, conv.weight.to(x.dtype)).transpose(1, 2)
        x = _Windows.apply(source[:, first * emb :], w, emb)  # (R, L, w*E), offset-major
        weight = conv.weight.permute(0, 2, 1).reshape(conv.out_channels, w * emb)
        return x @ weight.t().to(x.dtype)

    def _prepare(self, tokens: LongTensor) -> tuple[Tensor, list[Tensor] | None]:
        if self._use_tables(tokens.shape[0]):
            return tokens, self.conv_tables()
        return self._embed(tokens), None

    def _pooled(self, source: Tensor, firsts: list[int], tables: list[Tensor] | None) -> Tensor:
        """(R, F) max pre-ReLU activation of each conv over its windows starting at >= firsts[i]."""
        pooled = []
        for i, first in enumerate(firsts):
            acts = self._acts(source, i, first, tables)
            pooled.append(acts.amax(1) + self.convs[i].bias.to(acts.dtype))
        return torch.cat(pooled, dim=1)

    def _head(self, pooled: Tensor, conditions: LongTensor | None = None) -> Tensor:
        """(R, F) max-pooled pre-ReLU features -> (R,) logits: ReLU, highway, dropout, output;
        a conditioned D adds each row's condition projection of the same features."""
        x = F.relu(pooled.to(compute_dtype(pooled.device, pooled.dtype)))
        gate = torch.sigmoid(self.highway_gate(x))
        x = self.dropout(gate * F.relu(self.highway_transform(x)) + (1.0 - gate) * x)
        logits = self.out(x).squeeze(-1)
        if self.projection is not None:
            if conditions is None:
                raise ValueError(f"this discriminator judges {self.config.conditions} "
                                 "conditions: give each row's id")  # fmt: skip
            logits = logits + (self.projection(conditions).to(x.dtype) * x).sum(-1)
        return logits.to(torch.promote_types(logits.dtype, torch.float32))  # bf16 -> float32

    def forward(self, tokens: LongTensor, conditions: LongTensor | None = None) -> Tensor:
        """(B, T) token ids -> (B,) float32 logits of P(real) (Eq. 11-12); `conditions` (B,):
        each row's condition id, for a conditioned D (ignored by an unconditioned one)."""
        source, tables = self._prepare(tokens)
        return self._head(self._pooled(source, [0] * len(self.windows), tables), conditions)

    def loss(
        self, tokens: LongTensor, labels: Tensor, conditions: LongTensor | None = None
    ) -> Tensor:
        """BCE with logits (Eq. 5) + the original's L2 on its two-way output layer, written for
        one logit: (l2_reg / 2) * tf.nn.l2_loss(w, b) (half the sum of squares).

        Why the halving: the two-way softmax sees only u = W_real - W_fake; for a given u the
        penalty l2_reg * (|W_real|^2 + |W_fake|^2) / 2 is smallest at W_real = -W_fake = u / 2,
        where it is l2_reg * |u|^2 / 4, and L2 drives the unseen direction W_real + W_fake to 0,
        so both formulations share their optimum (tests fit both and compare).
        """
        logits = self(tokens, conditions)
        bce = F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
        l2 = 0.5 * (self.out.weight.square().sum() + self.out.bias.square().sum())
        return bce + 0.5 * self.config.l2_reg * l2

    @torch.no_grad()
    def prob_real(self, tokens: LongTensor, conditions: LongTensor | None = None) -> Tensor:
        """(B,) D(Y) = P(real), computed in eval mode (dropout off); the train/eval mode is kept."""
        was_training = self.training
        self.eval()
        try:
            return torch.sigmoid(self(tokens, conditions))
        finally:
            self.train(was_training)

    # -- the exact prefix shortcut for roll-outs ---------------------------------------------------
    def prefix_pools(self, samples: LongTensor, tables: list[Tensor] | None = None) -> list[Tensor]:
        """Per conv i: (B, T+1, n_i) where [:, t] is the max pre-ReLU activation over the windows
        lying wholly inside samples[:, :t] (-inf when none does); [:, T] is the full pooled max.
        `tables` (from `conv_tables`) computes by tables, else by matmul."""
        source = samples if tables is not None else self._embed(samples)
        pools = []
        for i, w in enumerate(self.windows):
            acts = self._acts(source, i, 0, tables)  # (B, L, n)
            running = acts.cummax(dim=1).values + self.convs[i].bias.to(acts.dtype)
            # [:, s] is the max over windows starting at <= s, ending at s+w: pad w rows
            pad = running.new_full((running.shape[0], w, running.shape[2]), float("-inf"))
            pools.append(torch.cat([pad, running], dim=1))  # (B, T+1, n)
        return pools

    def logits_from_prefix(
        self,
        tokens: LongTensor,
        prefix_len: int,
        prefix_pooled: list[Tensor],
        tables: list[Tensor] | None = None,
        conditions: LongTensor | None = None,
    ) -> Tensor:
        """Logits of `tokens` (R, T) that all keep the first `prefix_len` tokens of samples whose
        `prefix_pools(...)[i][b, prefix_len]` rows are `prefix_pooled[i]` (R, n_i): only windows
        ending after the prefix are computed. Equals `forward(tokens)` up to float rounding."""
        length = tokens.shape[1]
        # first window not inside the prefix (with none, the last window: it is in the pool)
        firsts = [min(max(prefix_len - w + 1, 0), length - w) for w in self.windows]
        source = tokens if tables is not None else self._embed(tokens)
        new = self._pooled(source, firsts, tables)
        pooled = torch.maximum(new, torch.cat(prefix_pooled, dim=1).to(new.dtype))
        return self._head(pooled, conditions)


class _Windows(torch.autograd.Function):
    """(R, T*E) -> the (R, T-w+1, w*E) windows, contiguous. Backward adds the w offsets' slices
    (3x faster than unfold's generic backward at the paper D), summing in float32."""

    @staticmethod
    def forward(ctx, x: Tensor, w: int, emb: int) -> Tensor:
        ctx.w, ctx.emb, ctx.rows, ctx.dtype = w, emb, x.shape[0], x.dtype
        return x.unfold(1, w * emb, emb).contiguous()

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None, None]:
        w, emb, windows = ctx.w, ctx.emb, grad.shape[1]
        out = grad.new_zeros(ctx.rows, windows + w - 1, emb, dtype=torch.float32)
        parts = grad.view(ctx.rows, windows, w, emb)
        for k in range(w):
            out[:, k : k + windows] += parts[:, :, k]
        return out.view(ctx.rows, -1).to(ctx.dtype), None, None


def _truncated_normal_(tensor: Tensor, std: float) -> Tensor:
    """In place: N(0, std) redrawn outside 2 std, as tf.truncated_normal(stddev=std)."""
    return nn.init.trunc_normal_(tensor, 0.0, std, -2.0 * std, 2.0 * std)
