"""G_theta (Eqs. 9-10): teacher forcing, step(), sampling with prefixes and temperature, MLE."""

import math

import pytest
import torch
from scipy.stats import chisquare

from seqgan_music.core.config import GeneratorConfig
from seqgan_music.core.generator import Generator
from seqgan_music.core.sampling import block_size, sample_logits, sample_probs


def _generator(vocab=12, seq_len=7, seed=0) -> Generator:
    torch.manual_seed(seed)
    return Generator(GeneratorConfig(vocab, seq_len, emb_dim=8, hidden_dim=16))


def test_shapes_and_start_token():
    g = _generator()
    tokens = torch.randint(0, 12, (3, 7))
    assert g.start_token == 12 and g.embedding.num_embeddings == 13
    assert g(tokens).shape == (3, 7, 12)
    assert g.log_probs(tokens).shape == (3, 7)
    assert g.nll(tokens).shape == ()


def test_log_probs_match_step_by_step():
    g = _generator()
    tokens = torch.randint(0, 12, (4, 7))
    state = g.init_state(4)
    token = torch.full((4,), g.start_token)
    stepped = []
    for t in range(7):
        logits, state = g.step(token, state)
        stepped.append(torch.log_softmax(logits, -1).gather(1, tokens[:, t : t + 1]).squeeze(1))
        token = tokens[:, t]
    torch.testing.assert_close(g.log_probs(tokens), torch.stack(stepped, 1), atol=1e-5, rtol=0)
    torch.testing.assert_close(g.nll(tokens), -g.log_probs(tokens).mean(), atol=1e-5, rtol=0)


def test_sample_never_emits_start_and_is_reproducible():
    g = _generator()
    a = g.sample(50, rng=torch.Generator().manual_seed(3))
    b = g.sample(50, rng=torch.Generator().manual_seed(3))
    assert a.shape == (50, 7) and a.dtype == torch.long
    assert torch.equal(a, b)
    assert int(a.max()) < 12 and int(a.min()) >= 0
    assert g.sample(5, 11).shape == (5, 11)


def test_prefix_continuation_keeps_the_prefix():
    g = _generator()
    prefix = torch.randint(0, 12, (6, 3))
    out = g.sample(6, 9, prefix=prefix, rng=torch.Generator().manual_seed(1))
    assert out.shape == (6, 9)
    assert torch.equal(out[:, :3], prefix)
    with pytest.raises(ValueError):
        g.sample(5, 9, prefix=prefix)


def test_prefix_continuation_follows_the_conditional():
    # Greedy continuation of a prefix equals greedy stepping through that prefix by hand.
    g = _generator()
    prefix = torch.randint(0, 12, (4, 2))
    out = g.sample(4, 6, prefix=prefix, temperature=0)
    state, token = g.init_state(4), torch.full((4,), g.start_token)
    for t in range(6):
        logits, state = g.step(token, state)
        token = prefix[:, t] if t < 2 else logits.argmax(-1)
        assert torch.equal(out[:, t], token)


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_inverse_cdf_sampling_matches_the_softmax(temperature):
    logits = torch.tensor([[2.0, 0.5, -1.0, 0.0, 1.0, -3.0, 0.3, 1.7]])
    draws = 200_000
    tokens = sample_logits(logits, temperature, torch.Generator().manual_seed(0), num=draws)
    counts = torch.bincount(tokens.view(-1), minlength=8).double()
    expected = torch.softmax(logits[0].double() / temperature, 0) * draws
    assert chisquare(counts.numpy(), expected.numpy()).pvalue > 1e-3
    # a wrong temperature is rejected by the same test: it has the power to fail
    wrong = torch.softmax(logits[0].double() / (temperature * 1.2), 0) * draws
    assert chisquare(counts.numpy(), wrong.numpy()).pvalue < 1e-6


@pytest.mark.parametrize("block", [0, 16, None])
def test_two_level_inverse_cdf_matches_the_distribution(block):
    # V=1024: one level (0), blocks of 16, and the default (sqrt V = 32); a skewed distribution
    probs = torch.softmax(torch.randn(1024, generator=torch.Generator().manual_seed(1)) * 2, 0)
    probs[100:140] = 0.0  # a run of zero weights, whole blocks and part blocks
    draws = 400_000
    tokens = sample_probs(probs.expand(400, 1024), torch.Generator().manual_seed(0), 1000, block)
    assert not ((tokens >= 100) & (tokens < 140)).any()
    counts = torch.bincount(tokens.view(-1), minlength=1024).double()
    expected = probs.double() / probs.double().sum() * draws
    common = expected > 20  # chi-square needs enough expected counts per cell
    rest = (counts[~common].sum(), expected[~common].sum())
    observed = torch.cat([counts[common], rest[0].view(1)]).numpy()
    wanted = torch.cat([expected[common], rest[1].view(1)]).numpy()
    assert chisquare(observed, wanted * observed.sum() / wanted.sum()).pvalue > 1e-3
    assert block_size(1024) == 32 and block_size(89) == 0


def test_sampling_edge_cases():
    logits = torch.tensor([[0.0, float("-inf"), 0.0], [5.0, 1.0, 9.0]])
    tokens = sample_logits(logits, 1.0, torch.Generator().manual_seed(0), num=5000)
    assert not (tokens[0] == 1).any()  # zero probability is never drawn
    assert torch.equal(sample_logits(logits, 0.0, num=2), torch.tensor([[0, 0], [2, 2]]))


def test_mle_memorises_a_tiny_corpus():
    g = _generator(vocab=20, seq_len=8, seed=1)
    corpus = torch.randint(0, 20, (4, 8), generator=torch.Generator().manual_seed(0))
    opt = torch.optim.Adam(g.parameters(), lr=0.02)
    start = g.nll(corpus).item()
    for _ in range(80):
        opt.zero_grad()
        loss = g.nll(corpus)
        loss.backward()
        opt.step()
    assert start > 0.9 * math.log(20)
    assert g.nll(corpus).item() < 0.25 * math.log(20)


def test_condition_ids_pick_the_start_token_and_change_the_distribution():
    torch.manual_seed(0)
    g = Generator(GeneratorConfig(vocab_size=7, seq_len=5, conditions=3))
    assert g.embedding.num_embeddings == 7 + 3
    tokens = torch.randint(0, 7, (4, 5))
    assert g._inputs(tokens, torch.tensor([0, 1, 2, 1]))[:, 0].tolist() == [7, 8, 9, 8]
    a = g(tokens, torch.zeros(4, dtype=torch.long))
    b = g(tokens, torch.full((4,), 2))
    assert not torch.allclose(a[:, 0], b[:, 0])  # the first step sees the condition
    rng = torch.Generator().manual_seed(1)
    out = g.sample(4, 5, rng=rng, conditions=torch.tensor([0, 1, 2, 0]))
    assert out.shape == (4, 5) and int(out.max()) < 7
    with pytest.raises(ValueError, match="condition ids"):
        g.sample(2, 5, conditions=torch.tensor([0, 3]))


def test_an_unconditioned_checkpoint_is_one_condition():
    old = Generator(GeneratorConfig(vocab_size=7, seq_len=5))
    assert old.embedding.num_embeddings == 8 and old.start_token == 7
    again = Generator(GeneratorConfig(vocab_size=7, seq_len=5, conditions=1))
    again.load_state_dict(old.state_dict())  # same shapes: loads unchanged


def test_allowed_steps_draw_only_allowed_tokens():
    torch.manual_seed(0)
    g = Generator(GeneratorConfig(vocab_size=6, seq_len=8))
    allowed = torch.ones(8, 6, dtype=torch.bool)
    allowed[3] = False
    allowed[3, 4] = True  # step 3: only token 4
    allowed[5:, :2] = False  # steps 5..7: not 0 or 1
    out = g.sample(200, 8, rng=torch.Generator().manual_seed(0), allowed=allowed)
    assert (out[:, 3] == 4).all()
    assert (out[:, 5:] >= 2).all()
    assert len(set(out[:, 0].tolist())) > 1  # free steps stay free
    with pytest.raises(ValueError, match="no token"):
        g.sample(2, 8, allowed=torch.zeros(8, 6, dtype=torch.bool))
