"""D_phi: a CNN over token embeddings with max-over-time pooling and a highway layer (Eqs. 11-12).

As in the original code: embedding U(-1, 1); one convolution per (window, filters) pair; ReLU;
max over time; one highway layer with separate transform and gate maps (gate bias 0); dropout;
one output logit (the original's two-way softmax is equivalent); L2 on the output layer only.

Each convolution is computed as one matmul over unfolded windows (the window's w embeddings laid
end to end), which is exactly Conv1d(E, n, w) with the same weights. The roll-out reward uses
`prefix_pools` + `logits_from_prefix`: windows that lie wholly inside a roll-out's kept prefix are
the same as the sample's own, so their max is computed once per prefix (exact: equals `forward`).
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
        nn.init.uniform_(self.embedding.weight, -1.0, 1.0)
        self.convs = nn.ModuleList(nn.Conv1d(emb, n, w) for w, n in config.active_filters)
        self.highway_transform = nn.Linear(feats, feats)
        self.highway_gate = nn.Linear(feats, feats)
        nn.init.zeros_(self.highway_gate.bias)
        self.dropout = nn.Dropout(config.dropout)
        self.out = nn.Linear(feats, 1)

    # -- the convolution as one matmul per window -------------------------------------------------
    def _window_weight(self, i: int) -> Tensor:
        """Conv i's weight (n, E, w) as a (w*E, n) matrix matching `_unfold`'s window layout."""
        weight = self.convs[i].weight
        return weight.permute(2, 1, 0).reshape(-1, weight.shape[0])  # (w*E, n)

    @staticmethod
    def _unfold(emb: Tensor, w: int) -> Tensor:
        """(R, T, E) -> (R, T-w+1, w*E) view: window s is emb[:, s:s+w] laid end to end."""
        rows, length, dim = emb.shape
        return emb.reshape(rows, length * dim).unfold(1, w * dim, dim)

    def _conv(self, emb: Tensor, i: int) -> Tensor:
        """Pre-ReLU activations of conv i at every window: (R, T, E) -> (R, T-w+1, n)."""
        windows = self._unfold(emb.contiguous(), self.windows[i])  # (R, L, w*E)
        rows, length, width = windows.shape
        acts = torch.addmm(
            self.convs[i].bias, windows.reshape(rows * length, width), self._window_weight(i)
        )  # (R*L, n)
        return acts.view(rows, length, -1)

    def _head(self, pooled: Tensor) -> Tensor:
        """(R, F) max-pooled pre-ReLU features -> (R,) logits: ReLU, highway, dropout, output."""
        x = F.relu(pooled)
        gate = torch.sigmoid(self.highway_gate(x))
        x = gate * F.relu(self.highway_transform(x)) + (1.0 - gate) * x
        return self.out(self.dropout(x)).squeeze(-1)

    def forward(self, tokens: LongTensor) -> Tensor:
        """(B, T) token ids -> (B,) logits of P(real) (Eq. 11-12)."""
        emb = self.embedding(tokens)  # (B, T, E)
        pooled = [self._conv(emb, i).amax(1) for i in range(len(self.windows))]  # (B, n_i) each
        return self._head(torch.cat(pooled, dim=1))

    def loss(self, tokens: LongTensor, labels: Tensor) -> Tensor:
        """BCE with logits (Eq. 5) + l2_reg * tf.nn.l2_loss of the output layer (sum of squares / 2,
        weight and bias, as the original)."""
        logits = self(tokens)
        bce = F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
        l2 = 0.5 * (self.out.weight.square().sum() + self.out.bias.square().sum())
        return bce + self.config.l2_reg * l2

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
        emb = self.embedding(samples)  # (B, T, E)
        pools = []
        for i, w in enumerate(self.windows):
            running = self._conv(emb, i).cummax(dim=1).values  # (B, L, n): max over windows s<=j
            # a window starting at s ends at s+w, so prefix t holds windows s <= t-w: pad w rows
            pad = running.new_full((running.shape[0], w, running.shape[2]), float("-inf"))
            pools.append(torch.cat([pad, running], dim=1))  # (B, T+1, n)
        return pools

    def logits_from_prefix(
        self, tokens: LongTensor, prefix_lens: Tensor, prefix_pooled: list[Tensor]
    ) -> Tensor:
        """Logits of `tokens` (R, T) whose first prefix_lens[r] tokens are a sample's whose
        `prefix_pools(...)[i][b, t]` rows are `prefix_pooled[i]` (R, n_i): only windows ending
        after the prefix are computed. prefix_lens is a host (CPU) int64 tensor, so the gather
        indices are built without a device sync. Equals `forward(tokens)` up to float rounding."""
        rows, length = tokens.shape
        pooled = []
        for i, w in enumerate(self.windows):
            num = length - w + 1
            first = (prefix_lens - w + 1).clamp(0, num - 1)  # first window not inside the prefix
            width = num - int(first.min())  # new windows of the row with the shortest prefix
            # Right-aligned (R, width) window starts; shorter rows repeat their first new window
            # (or, with nothing new, a window inside the prefix): repeats leave the max unchanged.
            starts = torch.maximum(first.unsqueeze(1), torch.arange(num - width, num))
            pos = (starts.unsqueeze(2) + torch.arange(w)).to(tokens.device)  # (R, width, w)
            windows = self.embedding(tokens.gather(1, pos.view(rows, -1)))  # (R, width*w, E)
            acts = torch.addmm(
                self.convs[i].bias, windows.view(rows * width, -1), self._window_weight(i)
            )  # (R*width, n)
            best = acts.view(rows, width, -1).amax(1)  # (R, n)
            pooled.append(torch.maximum(best, prefix_pooled[i]))
        return self._head(torch.cat(pooled, dim=1))
