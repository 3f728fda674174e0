"""G_theta: embedding -> one-layer LSTM -> linear softmax over the vocabulary (Eqs. 9-10).

Row `vocab_size` of the embedding is the START token: it feeds step 1 and is never sampled (the
original code reused a vocabulary id as start token; a separate row keeps every id generatable).
Conditions: with `config.conditions` = C > 1 there are C start rows, `vocab_size + c` for
condition id c (a domain names the ids: a metre, a mode); C = 1 is the single start token, so
unconditioned checkpoints load unchanged. Sampling can be constrained step by step (`allowed`):
tokens outside a step's allowed set get probability 0, e.g. a cadence at the end of a phrase.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import LongTensor, Tensor, nn

from seqgan_music.core.compiling import STEP_ROWS, compiled, resolve_compile
from seqgan_music.core.config import GeneratorConfig
from seqgan_music.core.precision import compute_dtype
from seqgan_music.core.sampling import fused_draw, head_matrix, sample_logits, sample_rows, uniforms

PROGRESS_EVERY = 256  # sampling steps between progress reports

State = tuple[Tensor, Tensor]  # (h, c), each (1, B, H) as nn.LSTM expects


class Generator(nn.Module):
    def __init__(self, config: GeneratorConfig) -> None:
        super().__init__()
        self.config = config
        self.start_token = config.vocab_size
        self.embedding = nn.Embedding(config.vocab_size + config.conditions, config.emb_dim)
        self.lstm = nn.LSTM(config.emb_dim, config.hidden_dim, batch_first=True)
        self.head = nn.Linear(config.hidden_dim, config.vocab_size)
        # The original code initialises every weight N(0, 0.1).
        for p in self.parameters():
            nn.init.normal_(p, std=0.1)

    def start_tokens(self, n: int, conditions: LongTensor | None = None) -> LongTensor:
        """(n,) start token ids: START, or the start row of each row's condition id."""
        device = self.head.weight.device
        if conditions is None:
            return torch.full((n,), self.start_token, dtype=torch.long, device=device)
        conditions = torch.as_tensor(conditions, dtype=torch.long, device=device).reshape(-1)
        if len(conditions) != n:
            raise ValueError(f"{len(conditions)} condition ids for {n} sequences")
        if len(conditions) and not 0 <= int(conditions.min()) <= int(conditions.max()) < (
            self.config.conditions
        ):
            raise ValueError(f"condition ids must be in 0..{self.config.conditions - 1}")
        return self.start_token + conditions

    def _inputs(self, tokens: LongTensor, conditions: LongTensor | None = None) -> LongTensor:
        """Teacher forcing: [START, y_1 .. y_{T-1}] predicts [y_1 .. y_T]."""
        start = self.start_tokens(tokens.shape[0], conditions).to(tokens.device).unsqueeze(1)
        return torch.cat([start, tokens[:, :-1]], dim=1)  # (B, T)

    def forward(self, tokens: LongTensor, conditions: LongTensor | None = None) -> Tensor:
        """(B, T) token ids -> (B, T, V) logits of G(y_t | y_<t), teacher forced."""
        out, _ = self.lstm(self.embedding(self._inputs(tokens, conditions)))  # (B, T, H)
        return self.head(out)

    def log_probs(
        self, tokens: LongTensor, temperature: float = 1.0, conditions: LongTensor | None = None
    ) -> Tensor:
        """(B, T): log G(y_t | y_1..y_{t-1}) for every step, of softmax(logits / temperature)."""
        logits = self(tokens, conditions)
        logp = F.log_softmax(logits / temperature if temperature != 1.0 else logits, dim=-1)
        return logp.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)

    def nll(self, tokens: LongTensor, conditions: LongTensor | None = None) -> Tensor:
        """Mean per-token negative log-likelihood: the MLE pre-training loss."""
        logits = self(tokens, conditions)
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
        compile: bool | str = False,
        conditions: LongTensor | None = None,
        allowed: Tensor | None = None,
    ) -> LongTensor:
        """(n, length) sequences from G; with `prefix` (n, t) they start with it and continue it.

        `conditions` (n,) picks each row's start token; `allowed` (length, V) bool limits what
        step t may draw (a step whose row allows nothing is refused). `on_step(t)` is told every
        `PROGRESS_EVERY` steps how many are done (a progress bar).
        `compile` (True/False or "on"/"off"/"auto") runs each step compiled (core.compiling):
        the same tokens from the same `rng` up to float rounding."""
        length = self.config.seq_len if length is None else length
        device = self.head.weight.device
        dtype = compute_dtype(device, self.head.weight.dtype)  # bf16 logits under autocast
        with torch.autocast(device.type, enabled=False):  # the LSTM state stays float32
            table, w_hh = self.gate_table(), self.lstm.weight_hh_l0
            head, block = head_matrix(self.head.weight, self.head.bias, temperature, dtype)
            step = Stepper(table, w_hh, head, block, self.config.vocab_size, temperature, rng,
                           compile=resolve_compile(compile, n * length))  # fmt: skip
            h = c = table.new_zeros(n, self.config.hidden_dim)
            token = self.start_tokens(n, conditions)
            masked = _masked_steps(allowed, length, self.config.vocab_size, device)
            out = torch.empty(n, length, dtype=torch.long, device=device)
            given = 0 if prefix is None else prefix.shape[1]
            if prefix is not None:
                if prefix.shape[0] != n or given > length:
                    raise ValueError(
                        f"prefix shape {tuple(prefix.shape)} does not fit ({n}, {length})"
                    )
                out[:, :given] = prefix.to(device)
            for t in range(length):  # step t reads out[:, t-1] (START first) and yields out[:, t]
                if t < given:
                    h, c = lstm_cell(table[token], h, c, w_hh)
                    token = out[:, t]  # teacher forced through the prefix
                    continue
                if t in masked:  # constrained: the head's logits with the others at -inf
                    h, c = lstm_cell(table[token], h, c, w_hh)
                    logits = torch.cat([h, h.new_ones(n, 1)], 1).to(head.dtype) @ head
                    logits = logits[:, : self.config.vocab_size].float()
                    logits[:, ~masked[t]] = float("-inf")
                    token = sample_logits(logits, 1.0 if temperature > 0 else 0.0, rng)[:, 0]
                else:
                    h, c, token = step(token, h, c)
                out[:, t] = token
                if on_step is not None and (t + 1) % PROGRESS_EVERY == 0:
                    on_step(t + 1)
        return out


def _masked_steps(
    allowed: Tensor | None, length: int, vocab: int, device: torch.device
) -> dict[int, Tensor]:
    """The steps of an (length, V) allowed mask that exclude something: {step: (V,) bool}."""
    if allowed is None:
        return {}
    allowed = torch.as_tensor(allowed, dtype=torch.bool, device=device)
    if allowed.shape != (length, vocab):
        raise ValueError(f"allowed has shape {tuple(allowed.shape)}, not ({length}, {vocab})")
    if not bool(allowed.any(dim=1).all()):
        raise ValueError("allowed leaves a step with no token to draw")
    return {int(t): allowed[t] for t in torch.nonzero(~allowed.all(dim=1)).flatten().tolist()}


def lstm_cell(x_gates: Tensor, h: Tensor, c: Tensor, w_hh: Tensor) -> tuple[Tensor, Tensor]:
    """One LSTM step from the input's gate pre-activations (R, 4H); PyTorch's gate order i,f,g,o."""
    gates = torch.addmm(x_gates, h, w_hh.t())  # (R, 4H)
    i, f, g, o = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def sample_step(
    table: Tensor, token: LongTensor, h: Tensor, c: Tensor, w_hh: Tensor, head: Tensor,
    u: Tensor | None, block: int, vocab: int,
) -> tuple[Tensor, Tensor, LongTensor]:  # fmt: skip
    """One step of sampling, the unit torch.compile fuses: gate gather, LSTM cell, head, and the
    exact sampler on the uniforms u (R, 1) (`fused_draw`; argmax when u is None)."""
    h, c = lstm_cell(table[token], h, c, w_hh)
    logits = torch.cat([h, h.new_ones(h.shape[0], 1)], dim=1).to(head.dtype) @ head
    token = logits.argmax(-1) if u is None else fused_draw(logits, u, block)[:, 0]
    return h, c, token.clamp(max=vocab - 1)


class Stepper:
    """Advances R rows by one sampled token: eagerly (the LSTM cell, then `sample_rows`), or
    compiled (`sample_step` over chunks of exactly `chunk` rows, the last one padded, so nothing
    recompiles), drawing the same uniforms from `rng` either way."""

    def __init__(
        self, table: Tensor, w_hh: Tensor, head: Tensor, block: int, vocab: int,
        temperature: float, rng: torch.Generator | None, *, compile: bool = False,
        chunk: int = STEP_ROWS,
    ) -> None:  # fmt: skip
        self.table, self.w_hh, self.head, self.block, self.vocab = table, w_hh, head, block, vocab
        self.temperature, self.rng, self.compile, self.chunk = temperature, rng, compile, chunk

    def __call__(self, token: LongTensor, h: Tensor, c: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        if not self.compile:
            h, c = lstm_cell(self.table[token], h, c, self.w_hh)
            drawn = sample_rows(h, self.head, self.block, self.vocab, self.temperature, self.rng)
            return h, c, drawn[:, 0]
        rows = token.shape[0]
        u = None
        if self.temperature > 0:
            u = uniforms(rows, 1, self.head.shape[1], self.rng, token.device)
        fn, size = compiled(sample_step), self.chunk
        parts = []
        for start in range(0, rows, size):
            piece = slice(start, start + size)
            args = [_pad(x[piece], size) for x in (token, h, c)]
            uu = None if u is None else _pad(u[piece], size, 0.5)
            parts.append(fn(self.table, *args, self.w_hh, self.head, uu, self.block, self.vocab))
        keep = [min(size, rows - s) for s in range(0, rows, size)]
        h, c, token = (torch.cat([p[i][:n] for p, n in zip(parts, keep, strict=True)])
                       for i in range(3))  # fmt: skip
        return h, c, token


def _pad(x: Tensor, rows: int, value: float = 0) -> Tensor:
    """x's leading dimension padded to `rows` rows of `value`."""
    if x.shape[0] == rows:
        return x
    return torch.cat([x, x.new_full((rows - x.shape[0], *x.shape[1:]), value)])
