"""Remedies for the adversarial phase (issue #22): reward shaping, policy regularisers, D noise,
cold sampling.

Each is off at its TrainConfig default, so runs that leave them alone keep their numbers; the
trainer calls these functions from the policy-gradient loss and from D's rounds. Why they exist:
adversarial fine-tuning of a language GAN mostly lowers G's entropy (Caccia et al., "Language
GANs Falling Short", ICLR 2020), and D saturates (accuracy 0.97-0.99 on fresh samples), so its
rewards carry little signal. The remedies keep G near the pre-trained policy and D less certain.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import LongTensor, Tensor

REWARD_NORMS = ("none", "std", "maligan")
MALIGAN_MAX_PROB = 1.0 - 1e-4  # D's P(real) is capped here so r / (1 - r) stays finite

BatchMean = Callable[[Tensor], Tensor]  # (B, T) -> (1, T): the mean over the (global) batch


def _local_mean(x: Tensor) -> Tensor:
    return x.mean(dim=0, keepdim=True)


def shape_rewards(
    rewards: Tensor, norm: str, baseline: bool, batch_mean: BatchMean = _local_mean
) -> Tensor:
    """(B, T) roll-out rewards Q(t) -> the weights of the policy gradient, per step over the batch.

    "maligan": r / (1 - r), D's estimate of p_data / p_G (Che et al., "Maximum-Likelihood
    Augmented Discrete Generative Adversarial Networks", 2017, Eq. 8-9: importance weights
    normalised over the batch), divided by its batch mean so it averages 1; applied to the
    roll-out's mean Q(t) rather than to each roll-out's D (an approximation). "std": a z-score per
    step (mean 0, sd 1), which includes the baseline. Then `baseline` subtracts the batch mean.
    """
    if norm == "maligan":
        ratio = rewards.clamp(max=MALIGAN_MAX_PROB)
        ratio = ratio / (1.0 - ratio)
        rewards = ratio / batch_mean(ratio).clamp(min=1e-12)
    elif norm == "std":
        centred = rewards - batch_mean(rewards)
        rewards = centred / batch_mean(centred.square()).sqrt().clamp(min=1e-6)
        return rewards  # already centred: a baseline would subtract ~0
    elif norm != "none":
        raise ValueError(f"reward_norm must be one of {', '.join(REWARD_NORMS)}, not {norm!r}")
    if baseline:
        rewards = rewards - batch_mean(rewards)
    return rewards


def entropy_and_kl(
    log_probs: Tensor, reference_log_probs: Tensor | None
) -> tuple[Tensor, Tensor | None]:
    """(B, T, V) log-softmax of G (and of the frozen reference G) at every step of the sampled
    sequences -> (B, T) entropy H(G(.|y_<t)) and KL(G || reference) per step, exact over V.

    The entropy bonus is the usual one of policy-gradient methods (Williams & Peng 1991; Mnih et
    al. 2016, A3C); the KL penalty to the pre-trained policy is the one RL fine-tuning of language
    models uses to keep the MLE model's coverage (Jaques et al. 2017; Ziegler et al. 2019)."""
    probs = log_probs.exp()
    entropy = -(probs * log_probs).sum(-1)  # (B, T)
    if reference_log_probs is None:
        return entropy, None
    return entropy, (probs * (log_probs - reference_log_probs)).sum(-1)  # (B, T)


def smoothed_labels(labels: Tensor, smoothing: float) -> Tensor:
    """One-sided label smoothing: real labels 1 -> 1 - smoothing, fake labels stay 0 (Salimans
    et al., "Improved Techniques for Training GANs", 2016, Section 3.4)."""
    return labels * (1.0 - smoothing) if smoothing else labels


def token_noise(
    tokens: LongTensor, rate: float, vocab_size: int, rng: torch.Generator | None
) -> LongTensor:
    """Instance noise for a discrete D: each token replaced by a uniformly random one with
    probability `rate`, in real and fake inputs alike, so their distributions overlap (Sønderby
    et al., "Amortised MAP Inference for Image Super-resolution", 2017; Arjovsky & Bottou 2017,
    whose noise is Gaussian on continuous inputs). No draw at rate 0: the random stream is kept."""
    if not rate:
        return tokens
    hit = torch.rand(tokens.shape, generator=rng, device=tokens.device) < rate
    noise = torch.randint(0, vocab_size, tokens.shape, generator=rng, device=tokens.device)
    return torch.where(hit, noise, tokens)


def cold_weights(
    logits: Tensor, samples: LongTensor, temperature: float, cold: float, clip: float
) -> Tensor:
    """ColdGANs' importance weights (Scialom et al., "ColdGANs: Taming Language GANs with
    Cautious Sampling Strategies", NeurIPS 2020): (B, T, V) logits of G along `samples` drawn at
    the lower temperature `cold` -> (B, T) min(G_T(y_t | y_<t) / G_cold(y_t | y_<t), clip), no
    gradient. The cold draw stays near G's modes (a smoother reward signal); the weights keep the
    gradient that of G at `temperature`, truncated at `clip` as the paper's importance weight
    clipping bounds its variance. Per step, as PPO's surrogate (Schulman et al. 2017): the prefix's
    ratio is left out, a biased but far lower-variance estimate than the sequence's product."""
    with torch.no_grad():
        tokens = samples.unsqueeze(-1)
        target = step_log_softmax(logits, temperature).gather(-1, tokens).squeeze(-1)
        drawn = step_log_softmax(logits, cold).gather(-1, tokens).squeeze(-1)
        return (target - drawn).exp().clamp(max=clip)


def step_log_softmax(logits: Tensor, temperature: float) -> Tensor:
    """(B, T, V) logits -> log softmax(logits / temperature), as the policy that sampled them."""
    return F.log_softmax(logits / temperature if temperature != 1.0 else logits, dim=-1)
