"""The adversarial phase's remedies (issue #22): reward shaping, entropy bonus, KL to the
pre-trained G, D label smoothing, instance noise, fewer D rounds, D weight decay, ColdGANs'
cold sampling; each off by default."""

import pytest
import torch

from seqgan_music.core.config import TrainConfig
from seqgan_music.core.regularisers import (
    cold_weights,
    entropy_and_kl,
    shape_rewards,
    smoothed_labels,
    token_noise,
)

T, V = 6, 12


@pytest.mark.parametrize("override, message", [
    ({"reward_norm": "zscore"}, "reward_norm must be none, std or maligan"),
    ({"kl_coef": -0.1}, "kl_coef must be >= 0"),
    ({"entropy_bonus": float("nan")}, "entropy_bonus"),
    ({"d_noise": 1.0}, r"d_noise in \[0, 1\)"),
    ({"d_label_smoothing": 0.5}, r"d_label_smoothing in \[0, 0.5\)"),
    ({"d_every": 0}, "d_every must be at least 1"),
    ({"d_weight_decay": -1e-3}, "d_weight_decay and pg_temperature must be >= 0"),
    ({"pg_temperature": -0.5}, "d_weight_decay and pg_temperature must be >= 0"),
    ({"pg_is_clip": 0.5}, "pg_is_clip >= 1"),
])  # fmt: skip
def test_bad_remedy_settings_are_config_errors(override, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**override)


def test_reward_shapes():
    rewards = torch.rand(16, T, generator=torch.Generator().manual_seed(0)) * 0.9
    assert torch.equal(shape_rewards(rewards, "none", False), rewards)
    centred = shape_rewards(rewards, "none", True)
    assert torch.allclose(centred, rewards - rewards.mean(0, keepdim=True))
    z = shape_rewards(rewards, "std", False)
    assert torch.allclose(z.mean(0), torch.zeros(T), atol=1e-6)
    assert torch.allclose(z.square().mean(0), torch.ones(T), atol=1e-5)
    ratio = rewards / (1 - rewards)
    mali = shape_rewards(rewards, "maligan", False)
    assert torch.allclose(mali, ratio / ratio.mean(0, keepdim=True))  # mean 1 at every step
    assert torch.allclose(shape_rewards(rewards, "maligan", True), mali - 1.0, atol=1e-6)
    # D certain a sample is real: the ratio is capped, not infinite
    assert torch.isfinite(shape_rewards(torch.ones(4, T), "maligan", True)).all()


def test_entropy_and_kl_are_exact_over_the_vocabulary():
    logits = torch.randn(3, T, V, generator=torch.Generator().manual_seed(1))
    ref = torch.randn(3, T, V, generator=torch.Generator().manual_seed(2))
    logp, ref_logp = logits.log_softmax(-1), ref.log_softmax(-1)
    entropy, kl = entropy_and_kl(logp, ref_logp)
    p, q = (
        torch.distributions.Categorical(logits=logits),
        torch.distributions.Categorical(logits=ref),
    )
    assert torch.allclose(entropy, p.entropy(), atol=1e-5)
    assert torch.allclose(kl, torch.distributions.kl_divergence(p, q), atol=1e-5)
    assert torch.allclose(entropy_and_kl(logp, logp)[1], torch.zeros(3, T), atol=1e-6)
    uniform = torch.zeros(1, 1, V).log_softmax(-1)
    assert torch.allclose(entropy_and_kl(uniform, None)[0], torch.tensor(float(V)).log())


def test_label_smoothing_is_one_sided_and_noise_replaces_about_its_rate():
    labels = torch.tensor([1.0, 1.0, 0.0])
    assert torch.equal(smoothed_labels(labels, 0.1), torch.tensor([0.9, 0.9, 0.0]))
    tokens = torch.zeros(200, 50, dtype=torch.long)
    rng = torch.Generator().manual_seed(3)
    assert token_noise(tokens, 0.0, V, rng) is tokens
    assert torch.equal(rng.get_state(), torch.Generator().manual_seed(3).get_state())  # no draw
    noisy = token_noise(tokens, 0.3, V, rng)
    changed = (noisy != 0).float().mean().item()  # a replacement by 0 itself is no change
    assert abs(changed - 0.3 * (V - 1) / V) < 0.02
    assert noisy.max() < V


def test_cold_weights_are_the_truncated_ratio_of_the_two_policies_at_the_drawn_tokens():
    logits = torch.randn(4, T, V, generator=torch.Generator().manual_seed(4)) * 3
    samples = torch.randint(0, V, (4, T), generator=torch.Generator().manual_seed(5))
    weights = cold_weights(logits, samples, 1.0, 0.5, clip=1e9)
    p = logits.softmax(-1).gather(-1, samples[..., None]).squeeze(-1)
    q = (logits / 0.5).softmax(-1).gather(-1, samples[..., None]).squeeze(-1)
    assert torch.allclose(weights, p / q, rtol=1e-4)
    # a cold draw over-samples G's modes (weight < 1) and under-samples its tail (weight > 1)
    mode = logits.argmax(-1)
    assert (cold_weights(logits, mode, 1.0, 0.5, clip=1e9) <= 1 + 1e-6).all()
    clipped = cold_weights(logits, samples, 1.0, 0.5, clip=2.0)
    assert clipped.max() <= 2.0 and torch.equal(clipped, weights.clamp(max=2.0))
    assert torch.allclose(cold_weights(logits, samples, 0.7, 0.7, clip=5.0), torch.ones(4, T))
    assert not cold_weights(logits.requires_grad_(), samples, 1.0, 0.5, 5.0).requires_grad
