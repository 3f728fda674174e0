"""Monte Carlo roll-out rewards (Eq. 4) and the delayed roll-out policy G_beta.

Q(Y, t) for t < T is the mean of D(roll-out) over `rollout_num` roll-outs that keep y_1..y_t and
sample the rest from G_beta; Q(Y, T) = D(Y). `rollout_rewards` computes all (T-1) * N * B
roll-outs together: one teacher-forced pass gives the policy's state after every prefix, then all
roll-outs advance step by step (a loop over time only). Roll-outs are ordered by prefix length, so
at each step the ones still generating are a leading slice of the batch: no masking, no wasted
steps. D scores them in chunks, reusing the sample's own conv windows inside each kept prefix.
`rollout_rewards_reference` is the original code's plain loop, kept for tests and the benchmark.
"""

from __future__ import annotations

import copy

import torch
from torch import LongTensor, Tensor

from seqgan_music.core.discriminator import Discriminator
from seqgan_music.core.generator import Generator
from seqgan_music.core.sampling import block_size, sample_logits, sample_probs

# Logits sampled at once, in elements: the (rows, V) softmax buffers stay in cache (128 rows at
# V=5000: 2.5 MB; 3x faster than 4096 rows on the 2-core CPU), while small vocabularies take more
# rows per call. A constant, not memory-derived, so a seed gives the same draws on every machine.
LOGIT_CHUNK = 1 << 19


class RolloutPolicy:
    """G_beta: a delayed copy of G_theta used only to roll out (the paper's Section 2)."""

    def __init__(self, generator: Generator) -> None:
        self.generator = copy.deepcopy(generator)
        self.generator.requires_grad_(False)

    def update(self, generator: Generator, update_rate: float) -> None:
        """beta <- r * beta + (1 - r) * theta for every parameter, embeddings included (r = 0:
        copy the current G, which is what the original code effectively runs)."""
        if not 0.0 <= update_rate <= 1.0:
            raise ValueError(f"update_rate must be in [0, 1], not {update_rate}")
        with torch.no_grad():
            for beta, theta in zip(
                self.generator.parameters(), generator.parameters(), strict=True
            ):
                beta.mul_(update_rate).add_(theta.detach(), alpha=1.0 - update_rate)

    def state_dict(self) -> dict:
        return self.generator.state_dict()

    def load_state_dict(self, d: dict) -> None:
        self.generator.load_state_dict(d)


def _lstm_cell(x_gates: Tensor, h: Tensor, c: Tensor, w_hh: Tensor) -> tuple[Tensor, Tensor]:
    """One LSTM step from the input's gate pre-activations (R, 4H); PyTorch's gate order i,f,g,o."""
    gates = torch.addmm(x_gates, h, w_hh.t())  # (R, 4H)
    i, f, g, o = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _augmented_head(policy: Generator, temperature: float) -> tuple[Tensor, int]:
    """The head as one (H+1, V') matrix for [h, 1] rows: bias folded in (no bias copy per call),
    divided by the temperature, V padded to whole sampling blocks with logit -1e30 (probability
    exactly 0). Returns it and the block width."""
    weight, bias = policy.head.weight, policy.head.bias  # (V, H), (V,)
    vocab = weight.shape[0]
    block = block_size(vocab)
    padded = -(-vocab // block) * block if block else vocab
    head = weight.new_zeros(weight.shape[1] + 1, padded)  # (H+1, V')
    head[:-1, :vocab] = weight.t()
    head[-1, :vocab] = bias
    head[-1, vocab:] = -1e30
    if temperature > 0:
        head /= temperature
    return head, block


def _sample_rows(
    h: Tensor, head: Tensor, block: int, vocab: int, temperature: float, rng
) -> Tensor:
    """(R, H) LSTM outputs -> (R,) sampled next tokens, the (R, V) logits taken in chunks."""
    h = torch.cat([h, h.new_ones(h.shape[0], 1)], dim=1)  # (R, H+1): the bias row of `head`
    out = torch.empty(h.shape[0], dtype=torch.long, device=h.device)
    rows = max(1, LOGIT_CHUNK // head.shape[1])
    for start in range(0, h.shape[0], rows):
        part = slice(start, start + rows)
        logits = h[part] @ head  # (r, V')
        if temperature <= 0:
            out[part] = logits.argmax(-1)
        else:
            probs = torch.softmax(logits, dim=-1)
            out[part] = sample_probs(probs, rng, block=block).squeeze(-1).clamp_(max=vocab - 1)
    return out


def sample_rollouts(
    samples: LongTensor,
    policy: Generator,
    rollout_num: int,
    *,
    temperature: float = 1.0,
    rng: torch.Generator | None = None,
) -> LongTensor:
    """All roll-outs at once: (B, T) -> (T-1, N, B, T); [t-1, n, b] keeps samples[b, :t] and
    continues it with the policy (the n-th independent roll-out of prefix length t)."""
    batch, length = samples.shape
    groups, per_group = length - 1, rollout_num * batch  # prefix lengths t = 1..T-1; rows per t
    lstm = policy.lstm
    # The input half of the gates depends on the token only: one (V+1, 4H) table.
    table = torch.addmm(
        lstm.bias_ih_l0 + lstm.bias_hh_l0, policy.embedding.weight, lstm.weight_ih_l0.t()
    )
    w_hh = lstm.weight_hh_l0
    head, block = _augmented_head(policy, temperature)
    # Teacher forced: after inputs [START, y_1..y_t] the state is the prefix-t state.
    x_gates = table[policy._inputs(samples)]  # (B, T, 4H)
    h = c = samples.new_zeros(batch, lstm.hidden_size, dtype=table.dtype)
    hs, cs = [], []
    for k in range(length):
        h, c = _lstm_cell(x_gates[:, k], h, c, w_hh)
        hs.append(h)
        cs.append(c)
    h = torch.stack(hs[1:])  # (T-1, B, H): state after prefix t = 1..T-1
    c = torch.stack(cs[1:])
    # y_{t+1}: the prefix's logits are shared; the N roll-outs draw from them independently.
    first = sample_logits(policy.head(h), temperature, rng, num=rollout_num)  # (T-1, B, N)
    token = first.permute(0, 2, 1).reshape(-1)  # (T-1 * N * B,), rows ordered (t, n, b)
    h = h.unsqueeze(1).expand(groups, rollout_num, batch, -1).reshape(groups * per_group, -1)
    c = c.unsqueeze(1).expand(groups, rollout_num, batch, -1).reshape(groups * per_group, -1)
    # out[g, k, n*B + b]: position k of roll-out n from prefix g+1; starts as copies of the samples.
    out = samples.t().unsqueeze(1).expand(length, rollout_num, batch)  # (T, N, B)
    out = out.reshape(1, length, per_group).repeat(groups, 1, 1)  # (T-1, T, N*B)
    diag = torch.arange(groups, device=samples.device)
    out[diag, diag + 1] = token.view(groups, per_group)
    for j in range(1, length - 1):
        active = groups - j  # prefixes t <= T-1-j still have positions left: a leading slice
        rows = active * per_group
        h, c = _lstm_cell(table[token[:rows]], h[:rows], c[:rows], w_hh)
        token = _sample_rows(h, head, block, policy.config.vocab_size, temperature, rng)
        out[diag[:active], diag[:active] + 1 + j] = token.view(active, per_group)
    # (T-1, T, N*B) -> (T-1, N, B, T)
    return out.permute(0, 2, 1).contiguous().view(groups, rollout_num, batch, length)


def default_chunk(discriminator: Discriminator, device: torch.device) -> int:
    """Roll-outs scored per D call: ~64 MB of live activations on CPU (about 1,000-2,400 rows at
    the paper's and the music sizes; larger chunks measured no faster there), 2 GB on CUDA."""
    cfg = discriminator.config
    feats = sum(n for _, n in cfg.active_filters)
    widest = max(n * (cfg.seq_len - w + 1) for w, n in cfg.active_filters)
    per_row = 4 * (2 * cfg.emb_dim * cfg.seq_len + widest + 6 * feats)  # bytes
    budget = (2 << 30) if device.type == "cuda" else (64 << 20)
    return max(64, budget // per_row)


@torch.no_grad()
def rollout_rewards(
    samples: LongTensor,
    policy: Generator,
    discriminator: Discriminator,
    rollout_num: int,
    *,
    temperature: float = 1.0,
    rng: torch.Generator | None = None,
    max_chunk: int | None = None,
) -> Tensor:
    """Rewards (B, T) of Eq. 4: Q(t) = mean D over `rollout_num` roll-outs from prefix t (t < T),
    Q(T) = D(Y). D is scored in eval mode (dropout off); its mode is restored afterwards."""
    batch, length = samples.shape
    was_training = discriminator.training
    discriminator.eval()
    try:
        rows_total = batch * (1 + (length - 1) * rollout_num)
        tables = discriminator.conv_tables() if discriminator._use_tables(rows_total) else None
        pools = discriminator.prefix_pools(samples, tables)  # per conv: (B, T+1, n)
        rewards = samples.new_empty(batch, length, dtype=torch.float32)
        full = torch.cat([p[:, length] for p in pools], dim=1)  # (B, F): all of Y's windows
        rewards[:, -1] = torch.sigmoid(discriminator._head(full))
        if length == 1:
            return rewards
        rollouts = sample_rollouts(samples, policy, rollout_num, temperature=temperature, rng=rng)
        flat = rollouts.view(-1, length)  # (R, T), R = (T-1)*N*B, rows ordered (t, n, b)
        num_rows, per_group = flat.shape[0], rollout_num * batch
        # Chunks never straddle two prefix lengths, so each chunk shares one prefix length;
        # a prefix length's N*B roll-outs split into equal chunks of at most max_chunk rows.
        chunk = max_chunk or default_chunk(discriminator, samples.device)
        size = -(-per_group // -(-per_group // chunk))  # ceil(per_group / number of pieces)
        starts = [g + o for g in range(0, num_rows, per_group) for o in range(0, per_group, size)]
        bounds = [*starts, num_rows]
        source = torch.arange(batch, device=samples.device).repeat(rollout_num)  # (N*B,): b
        probs = []
        for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
            t = start // per_group + 1  # prefix length of these roll-outs
            rows = source[start % per_group : start % per_group + stop - start]
            kept = [p[:, t].index_select(0, rows) for p in pools]  # (r, n_i)
            logits = discriminator.logits_from_prefix(flat[start:stop], t, kept, tables)
            probs.append(torch.sigmoid(logits))
        # (R,) -> (T-1, N, B) -> mean over the N roll-outs -> (B, T-1)
        rewards[:, :-1] = torch.cat(probs).view(length - 1, rollout_num, batch).mean(1).t()
        return rewards
    finally:
        discriminator.train(was_training)


def _draw(logits: Tensor, temperature: float, rng: torch.Generator | None) -> Tensor:
    """The reference's sampler: torch.multinomial over the softmax (argmax at temperature <= 0)."""
    if temperature <= 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits / temperature, dim=-1)
    return torch.multinomial(probs, 1, generator=rng).squeeze(-1)


@torch.no_grad()
def rollout_rewards_reference(
    samples: LongTensor,
    policy: Generator,
    discriminator: Discriminator,
    rollout_num: int,
    *,
    temperature: float = 1.0,
    rng: torch.Generator | None = None,
) -> Tensor:
    """The original code's loop: for each roll-out n and prefix length t, re-run the prefix through
    the policy, sample the rest one step at a time, score with D. Slow; for tests and benchmarks."""
    batch, length = samples.shape
    was_training = discriminator.training
    discriminator.eval()
    try:
        rewards = samples.new_zeros(batch, length, dtype=torch.float32)
        for _ in range(rollout_num):
            for t in range(1, length):
                state = policy.init_state(batch)
                start = samples.new_full((batch, 1), policy.start_token)
                prefix_in = torch.cat([start, samples[:, :t]], dim=1)  # [START, y_1..y_t]
                out, state = policy.lstm(policy.embedding(prefix_in), state)
                logits = policy.head(out[:, -1])  # distribution of y_{t+1}
                seq = samples.clone()
                for k in range(t, length):
                    seq[:, k] = _draw(logits, temperature, rng)
                    if k + 1 < length:
                        logits, state = policy.step(seq[:, k], state)
                rewards[:, t - 1] += torch.sigmoid(discriminator(seq))
        rewards[:, :-1] /= rollout_num
        rewards[:, -1] = torch.sigmoid(discriminator(samples))
        return rewards
    finally:
        discriminator.train(was_training)
