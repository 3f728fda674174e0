"""D_phi: a CNN over token embeddings with max-over-time pooling and a highway layer (Eqs. 11-12).

As in the original code (LantaoYu/SeqGAN discriminator.py): embedding U(-1, 1); one convolution
per (window, filters) pair, weights truncated normal (std 0.1, cut at 2 std as tf.truncated_normal)
and biases 0.1; ReLU; max over time; one highway layer with separate transform and gate maps
(Glorot-uniform weights and biases, tf.get_variable's default; no extra gate bias); dropout; L2
on the output layer only. The original's output is a two-way softmax whose columns start
truncated normal (std 0.1) with biases 0.1; only the difference of the two columns matters, so we
keep one logit initialised as that difference (weights: the difference of two truncated normal
draws; bias 0.1 - 0.1 = 0) and scale the L2 term to the same optimum (see `loss`).

The convolutions run as conv1d over channels-first embeddings (on the 2-core CPU this beat one
matmul over unfolded windows: 82 vs 74 GFLOP/s at the paper's windows, 84 vs 39 at the music
ones). The roll-out reward uses `prefix_pools` + `logits_from_prefix`: windows that lie wholly
inside a roll-out's kept prefix are the same as the sample's own, so their max is computed once
per prefix and only the windows ending after it are convolved (exact: equals `forward`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import LongTensor, Tensor, nn

from seqgan_music.core.config import DiscriminatorConfig


class Discriminator(nn.Module):
    def __init__(self, config: DiscriminatorConfig) -> None:
        super().__init__()
        self.config = config
        self.windows = tuple(w for w, _ in config.active_filters)
        if not self.windows:
            raise ValueError(f"no discriminator window fits seq_len {config.seq_len}")
        emb, feats = config.emb_dim, sum(n for _, n in config.active_filters)
        self.embedding = nn.Embedding(config.vocab_size, emb)
        self.convs = nn.ModuleList(nn.Conv1d(emb, n, w) for w, n in config.active_filters)
        self.highway_transform = nn.Linear(feats, feats)
        self.highway_gate = nn.Linear(feats, feats)
        self.dropout = nn.Dropout(config.dropout)
        self.out = nn.Linear(feats, 1)
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
    def _conv(self, emb_t: Tensor, i: int) -> Tensor:
        """Pre-ReLU activations of conv i at every window: (R, E, T') -> (R, n, T'-w+1)."""
        return F.conv1d(emb_t, self.convs[i].weight, self.convs[i].bias)

    def _embed_t(self, tokens: LongTensor) -> Tensor:
        """(R, T) -> (R, E, T) channels-first embeddings, the layout conv1d wants."""
        return self.embedding(tokens).transpose(1, 2).contiguous()

    def _head(self, pooled: Tensor) -> Tensor:
        """(R, F) max-pooled pre-ReLU features -> (R,) logits: ReLU, highway, dropout, output."""
        x = F.relu(pooled)
        gate = torch.sigmoid(self.highway_gate(x))
        x = gate * F.relu(self.highway_transform(x)) + (1.0 - gate) * x
        return self.out(self.dropout(x)).squeeze(-1)

    def forward(self, tokens: LongTensor) -> Tensor:
        """(B, T) token ids -> (B,) logits of P(real) (Eq. 11-12)."""
        emb_t = self._embed_t(tokens)  # (B, E, T)
        pooled = [self._conv(emb_t, i).amax(2) for i in range(len(self.windows))]  # (B, n_i) each
        return self._head(torch.cat(pooled, dim=1))

    def loss(self, tokens: LongTensor, labels: Tensor) -> Tensor:
        """BCE with logits (Eq. 5) + the original's L2 on its two-way output layer, written for
        one logit: (l2_reg / 2) * tf.nn.l2_loss(w, b) (half the sum of squares).

        Why the halving: the two-way softmax sees only u = W_real - W_fake; for a given u the
        penalty l2_reg * (|W_real|^2 + |W_fake|^2) / 2 is smallest at W_real = -W_fake = u / 2,
        where it is l2_reg * |u|^2 / 4, and L2 drives the unseen direction W_real + W_fake to 0,
        so both formulations share their optimum (tests fit both and compare).
        """
        logits = self(tokens)
        bce = F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
        l2 = 0.5 * (self.out.weight.square().sum() + self.out.bias.square().sum())
        return bce + 0.5 * self.config.l2_reg * l2

    @torch.no_grad()
    def prob_real(self, tokens: LongTensor) -> Tensor:
        """(B,) D(Y) = P(real), computed in eval mode (dropout off); the train/eval mode is kept."""
        was_training = self.training
        self.eval()
        try:
            return torch.sigmoid(self(tokens))
        finally:
            self.train(was_training)

    # -- the exact prefix shortcut for roll-outs ---------------------------------------------------
    def prefix_pools(self, samples: LongTensor) -> list[Tensor]:
        """Per conv i: (B, T+1, n_i) where [:, t] is the max pre-ReLU activation over the windows
        lying wholly inside samples[:, :t] (-inf when none does); [:, T] is the full pooled max."""
        emb_t = self._embed_t(samples)  # (B, E, T)
        pools = []
        for i, w in enumerate(self.windows):
            acts = self._conv(emb_t, i).transpose(1, 2)  # (B, L, n)
            running = acts.cummax(dim=1).values  # [:, s]: max over windows starting at <= s
            # a window starting at s ends at s+w, so prefix t holds windows s <= t-w: pad w rows
            pad = running.new_full((running.shape[0], w, running.shape[2]), float("-inf"))
            pools.append(torch.cat([pad, running], dim=1))  # (B, T+1, n)
        return pools

    def logits_from_prefix(
        self, tokens: LongTensor, prefix_len: int, prefix_pooled: list[Tensor]
    ) -> Tensor:
        """Logits of `tokens` (R, T) that all keep the first `prefix_len` tokens of samples whose
        `prefix_pools(...)[i][b, prefix_len]` rows are `prefix_pooled[i]` (R, n_i): only windows
        ending after the prefix are computed. Equals `forward(tokens)` up to float rounding."""
        emb_t = self._embed_t(tokens)  # (R, E, T)
        length = tokens.shape[1]
        pooled = []
        for i, w in enumerate(self.windows):
            # first window not inside the prefix (with none, the last window: it is in the pool)
            first = min(max(prefix_len - w + 1, 0), length - w)
            new = self._conv(emb_t[:, :, first:].contiguous(), i).amax(2)  # (R, n): starts >= first
            pooled.append(torch.maximum(new, prefix_pooled[i]))
        return self._head(torch.cat(pooled, dim=1))


def _truncated_normal_(tensor: Tensor, std: float) -> Tensor:
    """In place: N(0, std) redrawn outside 2 std, as tf.truncated_normal(stddev=std)."""
    return nn.init.trunc_normal_(tensor, 0.0, std, -2.0 * std, 2.0 * std)
