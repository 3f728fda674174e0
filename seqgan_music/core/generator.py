"""G_theta: embedding -> one-layer LSTM -> linear softmax over the vocabulary (Eqs. 9-10).

Row `vocab_size` of the embedding is the START token: it feeds step 1 and is never sampled (the
original code reused a vocabulary id as start token; a separate row keeps every id generatable).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import LongTensor, Tensor, nn

from seqgan_music.core.config import GeneratorConfig
from seqgan_music.core.precision import compute_dtype
from seqgan_music.core.sampling import head_matrix, sample_rows

PROGRESS_EVERY = 256  # sampling steps between progress reports

State = tuple[Tensor, Tensor]  # (h, c), each (1, B, H) as nn.LSTM expects


class Generator(nn.Module):
    def __init__(self, config: GeneratorConfig) -> None:
        super().__init__()
        self.config = config
        self.start_token = config.vocab_size
        self.embedding = nn.Embedding(config.vocab_size + 1, config.emb_dim)
        self.lstm = nn.LSTM(config.emb_dim, config.hidden_dim, batch_first=True)
        self.head = nn.Linear(config.hidden_dim, config.vocab_size)
        # The original code initialises every weight N(0, 0.1).
        for p in self.parameters():
            nn.init.normal_(p, std=0.1)

    def _inputs(self, tokens: LongTensor) -> LongTensor:
        """Teacher forcing: [START, y_1 .. y_{T-1}] predicts [y_1 .. y_T]."""
        start = tokens.new_full((tokens.shape[0], 1), self.start_token)
        return torch.cat([start, tokens[:, :-1]], dim=1)  # (B, T)

    def forward(self, tokens: LongTensor) -> Tensor:
        """(B, T) token ids -> (B, T, V) logits of G(y_t | y_<t), teacher forced."""
        out, _ = self.lstm(self.embedding(self._inputs(tokens)))  # (B, T, H)
        return self.head(out)

    def log_probs(self, tokens: LongTensor, temperature: float = 1.0) -> Tensor:
        """(B, T): log G(y_t | y_1..y_{t-1}) for every step, of softmax(logits / temperature)."""
        logits = self(tokens)
        logp = F.log_softmax(logits / temperature if temperature != 1.0 else logits, dim=-1)
        return logp.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)

    def nll(self, tokens: LongTensor) -> Tensor:
        """Mean per-token negative log-likelihood: the MLE pre-training loss."""
        logits = self(tokens)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens.reshape(-1))

    def gate_table(self) -> Tensor:
        """(V+1, 4H) input half of the LSTM gates per token (it depends on the token only)."""
        lstm = self.lstm
        bias = lstm.bias_ih_l0 + lstm.bias_hh_l0
        return torch.addmm(bias, self.embedding.weight, lstm.weight_ih_l0.t())

    def init_state(self, batch: int) -> State:
        """Zero LSTM state for `batch` sequences, on the model's device."""
        h = self.head.weight.new_zeros(1, batch, self.config.hidden_dim)
        return h, h.clone()

    def step(self, token: LongTensor, state: State) -> tuple[Tensor, State]:
        """Feed one token per sequence (B,): logits (B, V) for the next token and the new state."""
        out, state = self.lstm(self.embedding(token).unsqueeze(1), state)  # (B, 1, H)
        return self.head(out.squeeze(1)), state

    @torch.no_grad()
    def sample(
        self,
        n: int,
        length: int | None = None,
        *,
        temperature: float = 1.0,
        rng: torch.Generator | None = None,
        prefix: LongTensor | None = None,
        on_step: Callable[[int], None] | None = None,
    ) -> LongTensor:
        """(n, length) sequences from G; with `prefix` (n, t) they start with it and continue it.

        `on_step(t)` is told every `PROGRESS_EVERY` steps how many are done (a progress bar)."""
        length = self.config.seq_len if length is None else length
        device = self.head.weight.device
        dtype = compute_dtype(device, self.head.weight.dtype)  # bf16 logits under autocast
        with torch.autocast(device.type, enabled=False):  # the LSTM state stays float32
            table, w_hh = self.gate_table(), self.lstm.weight_hh_l0
            head, block = head_matrix(self.head.weight, self.head.bias, temperature, dtype)
            h = c = table.new_zeros(n, self.config.hidden_dim)
            token = torch.full((n,), self.start_token, dtype=torch.long, device=device)
            out = torch.empty(n, length, dtype=torch.long, device=device)
            given = 0 if prefix is None else prefix.shape[1]
            if prefix is not None:
                if prefix.shape[0] != n or given > length:
                    raise ValueError(
                        f"prefix shape {tuple(prefix.shape)} does not fit ({n}, {length})"
                    )
                out[:, :given] = prefix.to(device)
            for t in range(length):  # step t reads out[:, t-1] (START first) and yields out[:, t]
                h, c = lstm_cell(table[token], h, c, w_hh)
                if t < given:
                    token = out[:, t]  # teacher forced through the prefix
                    continue
                token = sample_rows(h, head, block, self.config.vocab_size, temperature, rng)[:, 0]
                out[:, t] = token
                if on_step is not None and (t + 1) % PROGRESS_EVERY == 0:
                    on_step(t + 1)
        return out


def lstm_cell(x_gates: Tensor, h: Tensor, c: Tensor, w_hh: Tensor) -> tuple[Tensor, Tensor]:
    """One LSTM step from the input's gate pre-activations (R, 4H); PyTorch's gate order i,f,g,o."""
    gates = torch.addmm(x_gates, h, w_hh.t())  # (R, 4H)
    i, f, g, o = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c
