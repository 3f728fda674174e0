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

from seqgan_music.core.compiling import STEP_ROWS, resolve_compile
from seqgan_music.core.discriminator import Discriminator
from seqgan_music.core.generator import Generator, Stepper, lstm_cell
from seqgan_music.core.precision import compute_dtype
from seqgan_music.core.sampling import head_matrix, sample_rows


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


def sample_rollouts(
    samples: LongTensor,
    policy: Generator,
    rollout_num: int,
    *,
    temperature: float = 1.0,
    rng: torch.Generator | None = None,
    compile: bool | str = False,
    conditions: LongTensor | None = None,
) -> LongTensor:
    """All roll-outs at once: (B, T) -> (T-1, N, B, T); [t-1, n, b] keeps samples[b, :t] and
    continues it with the policy (the n-th independent roll-out of prefix length t). `compile`:
    the steps run compiled (core.compiling), same draws up to float rounding. `conditions` (B,):
    each sample's condition id, whose start token the prefix is read from (None: the one START)."""
    batch, length = samples.shape
    groups, per_group = length - 1, rollout_num * batch  # prefix lengths t = 1..T-1; rows per t
    vocab, device = policy.config.vocab_size, samples.device
    dtype = compute_dtype(device, policy.head.weight.dtype)  # the head's; the LSTM stays float32
    with torch.autocast(device.type, enabled=False):
        table, w_hh = policy.gate_table(), policy.lstm.weight_hh_l0  # (V+1, 4H): input gates
        head, block = head_matrix(policy.head.weight, policy.head.bias, temperature, dtype)
        # Teacher forced: after inputs [START, y_1..y_t] the state is the prefix-t state.
        x_gates = table[policy._inputs(samples, conditions)]  # (B, T, 4H)
        h = c = table.new_zeros(batch, policy.config.hidden_dim)
        hs, cs = [], []
        for k in range(length):
            h, c = lstm_cell(x_gates[:, k], h, c, w_hh)
            hs.append(h)
            cs.append(c)
        h = torch.stack(hs[1:]).flatten(0, 1)  # ((T-1)*B, H): state after prefix t = 1..T-1
        c = torch.stack(cs[1:]).flatten(0, 1)
        # y_{t+1}: the prefix's logits are shared; the N roll-outs draw from them independently.
        first = sample_rows(h, head, block, vocab, temperature, rng, num=rollout_num)
        token = first.view(groups, batch, rollout_num).permute(0, 2, 1).reshape(-1)  # (t, n, b)
        h = h.view(groups, 1, batch, -1).expand(-1, rollout_num, -1, -1).reshape(-1, h.shape[1])
        c = c.view(groups, 1, batch, -1).expand(-1, rollout_num, -1, -1).reshape(-1, c.shape[1])
        # out[g, k, n*B + b]: position k of roll-out n from prefix g+1; starts as the samples.
        out = samples.t().unsqueeze(1).expand(length, rollout_num, batch)  # (T, N, B)
        out = out.reshape(1, length, per_group).repeat(groups, 1, 1)  # (T-1, T, N*B)
        diag = torch.arange(groups, device=device)
        out[diag, diag + 1] = token.view(groups, per_group)
        work = per_group * groups * (length - 1) // 2  # row-steps in this call
        # compiled steps take whole prefix groups (N*B rows), so no slice needs padding
        step = Stepper(table, w_hh, head, block, vocab, temperature, rng,
                       compile=resolve_compile(compile, work),
                       chunk=min(per_group, STEP_ROWS))  # fmt: skip
        for j in range(1, length - 1):
            active = groups - j  # prefixes t <= T-1-j still have positions left: a leading slice
            rows = active * per_group
            h, c, token = step(token[:rows], h[:rows], c[:rows])
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
    compile: bool | str = False,
    conditions: LongTensor | None = None,
) -> Tensor:
    """Rewards (B, T) of Eq. 4: Q(t) = mean D over `rollout_num` roll-outs from prefix t (t < T),
    Q(T) = D(Y). D is scored in eval mode (dropout off); its mode is restored afterwards.
    `compile` (True/False or "on"/"off"/"auto"): the roll-out steps run compiled. `conditions`
    (B,): the roll-outs continue each sample under its own condition (G_beta's start token for
    it); an unconditioned D scores the tokens alone, a conditioned one (d_conditions)
    each roll-out under its sample's id."""
    batch, length = samples.shape
    was_training = discriminator.training
    discriminator.eval()
    try:
        d = discriminator.scorer()  # itself, or a copy in bf16 under bf16 autocast
        rows_total = batch * (1 + (length - 1) * rollout_num)
        tables = d.conv_tables() if d._use_tables(rows_total) else None
        pools = d.prefix_pools(samples, tables)  # per conv: (B, T+1, n)
        rewards = samples.new_empty(batch, length, dtype=torch.float32)
        full = torch.cat([p[:, length] for p in pools], dim=1)  # (B, F): all of Y's windows
        judged = conditions if d.projection is not None else None  # D's own condition input
        rewards[:, -1] = torch.sigmoid(d._head(full, judged))
        if length == 1:
            return rewards
        rollouts = sample_rollouts(samples, policy, rollout_num, temperature=temperature, rng=rng,
                                   compile=compile, conditions=conditions)  # fmt: skip
        probs = _score(d, rollouts.view(-1, length), pools, tables, max_chunk, judged)
        # (R,) -> (T-1, N, B) -> mean over the N roll-outs -> (B, T-1)
        rewards[:, :-1] = probs.view(length - 1, rollout_num, batch).mean(1).t()
        return rewards
    finally:
        discriminator.train(was_training)


def _score(
    d: Discriminator,
    flat: LongTensor,
    pools: list[Tensor],
    tables: list[Tensor] | None,
    max_chunk: int | None,
    conditions: LongTensor | None = None,
) -> Tensor:
    """D(roll-out) for the (R, T) roll-outs ordered (t, n, b), R = (T-1)*N*B, in chunks;
    `conditions` (B,): each sample's id, which its roll-outs are judged under."""
    batch = pools[0].shape[0]
    num_rows, per_group = flat.shape[0], flat.shape[0] // (flat.shape[1] - 1)  # N*B per t
    # Chunks never straddle two prefix lengths, so each chunk shares one prefix length;
    # a prefix length's N*B roll-outs split into equal chunks of at most max_chunk rows.
    chunk = max_chunk or default_chunk(d, flat.device)
    size = -(-per_group // -(-per_group // chunk))  # ceil(per_group / number of pieces)
    starts = [g + o for g in range(0, num_rows, per_group) for o in range(0, per_group, size)]
    bounds = [*starts, num_rows]
    source = torch.arange(batch, device=flat.device).repeat(per_group // batch)  # (N*B,): b
    probs = []
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        t = start // per_group + 1  # prefix length of these roll-outs
        rows = source[start % per_group : start % per_group + stop - start]
        kept = [p[:, t].index_select(0, rows) for p in pools]  # (r, n_i)
        ids = None if conditions is None else conditions[rows]
        probs.append(torch.sigmoid(d.logits_from_prefix(flat[start:stop], t, kept, tables, ids)))
    return torch.cat(probs)


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
    conditions: LongTensor | None = None,
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
                start = policy.start_tokens(batch, conditions).unsqueeze(1)  # (B, 1)
                prefix_in = torch.cat([start, samples[:, :t]], dim=1)  # [START, y_1..y_t]
                out, state = policy.lstm(policy.embedding(prefix_in), state)
                logits = policy.head(out[:, -1])  # distribution of y_{t+1}
                seq = samples.clone()
                for k in range(t, length):
                    seq[:, k] = _draw(logits, temperature, rng)
                    if k + 1 < length:
                        logits, state = policy.step(seq[:, k], state)
                rewards[:, t - 1] += torch.sigmoid(discriminator(seq, conditions))
        rewards[:, :-1] /= rollout_num
        rewards[:, -1] = torch.sigmoid(discriminator(samples, conditions))
        return rewards
    finally:
        discriminator.train(was_training)
