"""Roll-out rewards (Eq. 4): the batched version against the original loop, exactly with a greedy
policy and statistically with sampling; G_beta's update rule; D scored in eval mode."""

import pytest
import torch
from scipy.stats import chisquare

from seqgan_music.core.config import DiscriminatorConfig, GeneratorConfig
from seqgan_music.core.discriminator import Discriminator
from seqgan_music.core.generator import Generator
from seqgan_music.core.rollout import (
    RolloutPolicy,
    rollout_rewards,
    rollout_rewards_reference,
    sample_rollouts,
)

V, T = 11, 6


def _models(seed=0, dropout=0.25, gap=1.0, scale=1.0):
    torch.manual_seed(seed)
    g = Generator(GeneratorConfig(V, T, emb_dim=8, hidden_dim=12))
    d = Discriminator(
        DiscriminatorConfig(V, T, emb_dim=8, filters=((1, 4), (2, 5), (4, 3)), dropout=dropout)
    )
    with torch.no_grad():
        for p in g.parameters():
            p.mul_(scale)  # scale > 1: peaked, history-dependent next-token distributions
        g.head.weight.mul_(gap)  # gap >> 1: greedy choices far from ties, robust to rounding
        d.out.weight.mul_(20.0)  # spread D's outputs so reward differences are visible
    return g, d


def test_greedy_rewards_equal_the_reference_exactly():
    g, d = _models(gap=100.0)
    samples = torch.randint(0, V, (5, T), generator=torch.Generator().manual_seed(1))
    fast = rollout_rewards(samples, g, d, 3, temperature=0)
    slow = rollout_rewards_reference(samples, g, d, 3, temperature=0)
    assert fast.shape == (5, T)
    torch.testing.assert_close(fast, slow, atol=1e-6, rtol=0)


def test_greedy_rollouts_continue_each_prefix_like_generate():
    g, _ = _models(gap=100.0)
    samples = torch.randint(0, V, (4, T), generator=torch.Generator().manual_seed(2))
    rollouts = sample_rollouts(samples, g, 2, temperature=0)
    assert rollouts.shape == (T - 1, 2, 4, T)
    for t in range(1, T):
        expected = g.sample(4, T, prefix=samples[:, :t], temperature=0)
        assert torch.equal(rollouts[t - 1, 0], expected)
        assert torch.equal(rollouts[t - 1, 1], expected)


def test_sampled_rollouts_keep_prefixes_and_are_reproducible():
    g, d = _models()
    samples = torch.randint(0, V, (4, T), generator=torch.Generator().manual_seed(3))
    a = sample_rollouts(samples, g, 5, rng=torch.Generator().manual_seed(7))
    b = sample_rollouts(samples, g, 5, rng=torch.Generator().manual_seed(7))
    assert torch.equal(a, b)
    for t in range(1, T):
        assert torch.equal(a[t - 1, :, :, :t], samples[:, :t].expand(5, 4, t))
    r1 = rollout_rewards(samples, g, d, 5, rng=torch.Generator().manual_seed(7))
    r2 = rollout_rewards(samples, g, d, 5, rng=torch.Generator().manual_seed(7), max_chunk=7)
    torch.testing.assert_close(r1, r2, atol=1e-6, rtol=0)  # chunking changes nothing


def test_sampled_rewards_match_the_reference_statistically():
    g, d = _models(seed=4, scale=10.0)  # a peaked policy, so a flatter one is told apart
    samples = torch.randint(0, V, (3, T), generator=torch.Generator().manual_seed(5))
    n = 200
    fast = rollout_rewards(samples, g, d, n, rng=torch.Generator().manual_seed(0))
    slow = rollout_rewards_reference(samples, g, d, n, rng=torch.Generator().manual_seed(1))
    # per-cell spread of D over roll-outs, from an independent batched draw
    rollouts = sample_rollouts(samples, g, n, rng=torch.Generator().manual_seed(2))
    probs = d.prob_real(rollouts.view(-1, T)).view(T - 1, n, 3)
    std = probs.std(1).t()  # (B, T-1)
    assert float(std.mean()) > 0.05  # the test has something to detect
    tolerance = 5.0 * std * (2.0 / n) ** 0.5 + 1e-4
    assert ((fast[:, :-1] - slow[:, :-1]).abs() <= tolerance).all()
    torch.testing.assert_close(fast[:, -1], slow[:, -1], atol=1e-6, rtol=0)
    # ... and the test can fail: roll-outs at the wrong temperature are detected
    wrong = rollout_rewards(samples, g, d, n, temperature=3.0, rng=torch.Generator().manual_seed(0))
    assert ((wrong[:, :-1] - slow[:, :-1]).abs() > tolerance).any()


def test_discriminator_is_scored_in_eval_mode():
    g, d = _models(dropout=0.5)
    d.train()
    samples = torch.randint(0, V, (4, T), generator=torch.Generator().manual_seed(6))
    a = rollout_rewards(samples, g, d, 4, rng=torch.Generator().manual_seed(0))
    b = rollout_rewards(samples, g, d, 4, rng=torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and d.training  # deterministic given the roll-outs; mode restored
    rollouts = sample_rollouts(samples, g, 4, rng=torch.Generator().manual_seed(0))
    expected = d.prob_real(rollouts.view(-1, T)).view(T - 1, 4, 4).mean(1).t()
    torch.testing.assert_close(a[:, :-1], expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(a[:, -1], d.prob_real(samples), atol=1e-6, rtol=0)
    assert not a.requires_grad


def test_length_one_sequences_get_d_only():
    torch.manual_seed(0)
    g = Generator(GeneratorConfig(V, 1))
    d = Discriminator(DiscriminatorConfig(V, 1, filters=((1, 3),)))
    samples = torch.randint(0, V, (3, 1))
    torch.testing.assert_close(rollout_rewards(samples, g, d, 4)[:, 0], d.prob_real(samples))


def test_policy_update_rule():
    g, _ = _models()
    policy = RolloutPolicy(g)
    assert all(not p.requires_grad for p in policy.generator.parameters())
    beta0 = {k: v.clone() for k, v in policy.state_dict().items()}
    with torch.no_grad():
        for p in g.parameters():
            p.add_(1.0)  # theta = beta0 + 1
    assert torch.equal(policy.generator.embedding.weight, beta0["embedding.weight"])  # a copy
    policy.update(g, 0.8)
    for name, value in policy.state_dict().items():
        # 0.8 * beta + 0.2 * (beta + 1) = beta + 0.2, embeddings included
        torch.testing.assert_close(value, beta0[name] + 0.2)
    policy.update(g, 0.0)
    for name, theta in g.state_dict().items():
        assert torch.equal(policy.state_dict()[name], theta)
    fresh = RolloutPolicy(_models(seed=3)[0])
    fresh.load_state_dict(policy.state_dict())
    assert torch.equal(fresh.generator.head.weight, g.head.weight)
    with pytest.raises(ValueError):
        policy.update(g, 1.5)


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_rollout_steps_sample_the_policy_distribution(temperature):
    # A wide vocabulary (two-level search, V padded to whole blocks) and a policy whose next-token
    # distribution is softmax(bias / temperature) at every step: zero LSTM weights give h = 0.
    vocab, n = 600, 20_000
    g = Generator(GeneratorConfig(vocab, 3, emb_dim=4, hidden_dim=4))
    with torch.no_grad():
        for p in g.lstm.parameters():
            p.zero_()
        g.head.bias.copy_(torch.randn(vocab, generator=torch.Generator().manual_seed(0)) * 1.5)
    samples = torch.zeros(1, 3, dtype=torch.long)
    rollouts = sample_rollouts(samples, g, n, temperature=temperature,
                               rng=torch.Generator().manual_seed(1))  # fmt: skip
    third = rollouts[0, :, 0, 2]  # from prefix length 1, the second sampled step
    counts = torch.bincount(third, minlength=vocab).double()
    assert counts.shape[0] == vocab  # no padded id is ever drawn
    expected = torch.softmax(g.head.bias.detach().double() / temperature, 0) * n
    common = expected > 10
    observed = torch.cat([counts[common], counts[~common].sum().view(1)]).numpy()
    wanted = torch.cat([expected[common], expected[~common].sum().view(1)]).numpy()
    assert chisquare(observed, wanted).pvalue > 1e-3
