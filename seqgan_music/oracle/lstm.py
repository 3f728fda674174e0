"""The synthetic oracle of the paper's Section "Synthetic Data Experiments": an LSTM with N(0, 1)
parameters that plays the real data distribution, so NLL-oracle (Eq. 14) can score a generator.

The gate equations are exactly those of the original `target_lstm.py` (row-vector convention,
x is batch x emb; see ../shared/data/oracle/PROVENANCE.md):
    i = sigmoid(x Wi + h Ui + bi)    f = sigmoid(x Wf + h Uf + bf)
    o = sigmoid(x Wog + h Uog + bog) c~ = tanh(x Wc + h Uc + bc)
    c_t = f * c_{t-1} + i * c~       h_t = o * tanh(c_t)        logits = h_t Wo + bo
with h_0 = c_0 = 0 and the embedding of token 0 as the first input (token 0 is also a normal token).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from seqgan_music.core.sampling import sample_logits

START_TOKEN = 0

# (name, shape) in the released file's order; E = emb_dim, H = hidden_dim, V = vocab_size.
_PARAM_SHAPES = (
    ("embedding", "VE"),
    ("Wi", "EH"), ("Ui", "HH"), ("bi", "H"),
    ("Wf", "EH"), ("Uf", "HH"), ("bf", "H"),
    ("Wog", "EH"), ("Uog", "HH"), ("bog", "H"),
    ("Wc", "EH"), ("Uc", "HH"), ("bc", "H"),
    ("Wo", "HV"), ("bo", "V"),
)  # fmt: skip


class OracleLSTM(nn.Module):
    """The paper's oracle G_oracle: samples are the "real" data, its NLL scores generated data."""

    def __init__(self, vocab_size: int = 5000, emb_dim: int = 32, hidden_dim: int = 32) -> None:
        super().__init__()
        self.vocab_size, self.emb_dim, self.hidden_dim = vocab_size, emb_dim, hidden_dim
        dims = {"V": vocab_size, "E": emb_dim, "H": hidden_dim}
        for name, shape in _PARAM_SHAPES:
            size = tuple(dims[c] for c in shape)
            self.register_parameter(name, nn.Parameter(torch.zeros(size), requires_grad=False))

    @classmethod
    def from_npz(cls, path: str | Path) -> OracleLSTM:
        """Load the released parameters (a plain .npz; numpy.load refuses pickles by default)."""
        arrays = np.load(path)
        if not isinstance(arrays, np.lib.npyio.NpzFile):  # a lone .npy array
            raise ValueError(f"{path}: not an .npz archive of named arrays")
        with arrays:
            vocab_size, emb_dim = arrays["embedding"].shape
            oracle = cls(vocab_size, emb_dim, arrays["Ui"].shape[0])
            for name, _ in _PARAM_SHAPES:
                param = getattr(oracle, name)
                if arrays[name].shape != tuple(param.shape):
                    raise ValueError(f"{path}: {name} has shape {arrays[name].shape}, "
                                     f"expected {tuple(param.shape)}")  # fmt: skip
                param.data.copy_(torch.from_numpy(arrays[name]))
        return oracle

    @classmethod
    def random(
        cls, seed: int, vocab_size: int = 5000, emb_dim: int = 32, hidden_dim: int = 32
    ) -> OracleLSTM:
        """A fresh oracle with every parameter drawn from N(0, 1), as the paper's."""
        oracle = cls(vocab_size, emb_dim, hidden_dim)
        rng = torch.Generator().manual_seed(seed)
        for param in oracle.parameters():
            param.data.normal_(0.0, 1.0, generator=rng)
        return oracle

    def step(
        self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One LSTM step on embedded input x (B, E): returns logits (B, V) and the new (h, c)."""
        i = torch.sigmoid(x @ self.Wi + h @ self.Ui + self.bi)
        f = torch.sigmoid(x @ self.Wf + h @ self.Uf + self.bf)
        o = torch.sigmoid(x @ self.Wog + h @ self.Uog + self.bog)
        c_tilde = torch.tanh(x @ self.Wc + h @ self.Uc + self.bc)
        c = f * c + i * c_tilde
        h = o * torch.tanh(c)
        return h @ self.Wo + self.bo, h, c

    def _initial(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.Wo.new_zeros(n, self.hidden_dim)
        first = torch.full((n,), START_TOKEN, dtype=torch.long, device=self.Wo.device)
        return self.embedding[first], h, h.clone()

    @torch.no_grad()
    def sample(self, n: int, length: int = 20, rng: torch.Generator | None = None) -> torch.Tensor:
        """`n` sequences (n, length) of token ids drawn from the oracle."""
        x, h, c = self._initial(n)
        out = []
        for _ in range(length):
            logits, h, c = self.step(x, h, c)
            token = sample_logits(logits, 1.0, rng).squeeze(-1)  # (n,)
            out.append(token)
            x = self.embedding[token]
        return torch.stack(out, dim=1)

    @torch.no_grad()
    def nll(self, tokens: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
        """Per-sequence mean per-token negative log-likelihood (n,) under the oracle (Eq. 14)."""
        tokens = tokens.to(self.Wo.device)
        return torch.cat([self._nll_chunk(part) for part in tokens.split(chunk)])

    def _nll_chunk(self, tokens: torch.Tensor) -> torch.Tensor:
        x, h, c = self._initial(tokens.shape[0])
        total = self.Wo.new_zeros(tokens.shape[0])
        for t in range(tokens.shape[1]):
            logits, h, c = self.step(x, h, c)
            logp = torch.log_softmax(logits, dim=-1)  # (n, V)
            total -= logp.gather(1, tokens[:, t : t + 1]).squeeze(1)
            x = self.embedding[tokens[:, t]]
        return total / tokens.shape[1]
