"""D_phi (Eqs. 11-12): forward (max before ReLU) equals the textbook Conv1d-ReLU-max D, the loss,
eval-mode scoring and the exact prefix shortcut used by the roll-out."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from seqgan_music.core.config import PAPER_FILTERS, DiscriminatorConfig
from seqgan_music.core.discriminator import Discriminator

FILTERS = ((1, 5), (2, 6), (3, 4), (5, 3), (9, 2))


def _discriminator(
    vocab=15, seq_len=9, filters=FILTERS, dropout=0.25, seed=0, method="auto"
) -> Discriminator:
    torch.manual_seed(seed)
    d = Discriminator(
        DiscriminatorConfig(vocab, seq_len, emb_dim=6, filters=filters, dropout=dropout)
    )
    d.conv_method = method
    return d


METHODS = ("tables", "matmul", "conv1d")


def _plain_forward(d: Discriminator, tokens: torch.Tensor) -> torch.Tensor:
    """The textbook D: Conv1d per window, ReLU, max over time, highway, output (eval mode)."""
    emb = d.embedding(tokens).transpose(1, 2)  # (B, E, T)
    x = torch.cat([F.relu(conv(emb)).amax(-1) for conv in d.convs], 1)
    gate = torch.sigmoid(d.highway_gate(x))
    x = gate * F.relu(d.highway_transform(x)) + (1 - gate) * x
    return d.out(x).squeeze(-1)


@pytest.mark.parametrize("method", METHODS)
def test_forward_equals_conv1d_reference(method):
    d = _discriminator(method=method).eval()
    tokens = torch.randint(0, 15, (7, 9))
    assert d(tokens).shape == (7,)
    torch.testing.assert_close(d(tokens), _plain_forward(d, tokens), atol=1e-5, rtol=0)


def test_windows_longer_than_the_sequence_are_dropped():
    d = Discriminator(DiscriminatorConfig(50, 12, filters=PAPER_FILTERS))
    assert d.windows == (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
    assert d.out.in_features == 100 + 4 * 200 + 5 * 100
    assert d(torch.randint(0, 50, (2, 12))).shape == (2,)


def test_loss_is_bce_plus_the_one_logit_form_of_the_two_way_l2():
    d = _discriminator(dropout=0.0)
    tokens, labels = torch.randint(0, 15, (6, 9)), torch.tensor([1, 0, 1, 1, 0, 0])
    with torch.no_grad():
        d.out.weight.fill_(0.5)
        d.out.bias.fill_(2.0)
    l2 = 0.5 * (0.25 * d.out.in_features + 4.0)  # tf.nn.l2_loss of weight and bias
    expected = F.binary_cross_entropy_with_logits(d(tokens), labels.float()) + 0.5 * 0.2 * l2
    torch.testing.assert_close(d.loss(tokens, labels), expected)


def _fit(params, objective):
    """Minimise a smooth convex objective to optimum (float64 L-BFGS)."""
    opt = torch.optim.LBFGS(params, lr=1, max_iter=500, tolerance_grad=1e-12,
                            tolerance_change=1e-14, line_search_fn="strong_wolfe")  # fmt: skip

    def closure():
        opt.zero_grad()
        loss = objective()
        loss.backward()
        return loss

    for _ in range(5):
        opt.step(closure)


def test_one_logit_loss_has_the_two_way_softmax_optimum():
    """The original: softmax over two columns, mean CE + 0.2 * l2_loss(W) + 0.2 * l2_loss(b).
    Fitting our output layer with `Discriminator.loss` reaches the same logit map."""
    d = _discriminator(dropout=0.0).double()
    for p in d.parameters():
        p.requires_grad_(False)
    d.out.weight.requires_grad_(True)
    d.out.bias.requires_grad_(True)
    gen = torch.Generator().manual_seed(3)
    tokens = torch.randint(0, 15, (64, 9), generator=gen)
    labels = (torch.rand(64, generator=gen) < 0.5).long()
    feats = []
    hook = d.out.register_forward_hook(lambda mod, inp, out: feats.append(inp[0]))
    d(tokens)
    hook.remove()
    x = feats[0].detach()
    _fit([d.out.weight, d.out.bias], lambda: d.loss(tokens, labels))

    w2 = torch.zeros(x.shape[1], 2, dtype=torch.float64, requires_grad=True)
    b2 = torch.full((2,), 0.1, dtype=torch.float64, requires_grad=True)

    def two_way():
        ce = F.cross_entropy(x @ w2 + b2, labels)  # column 1 = real
        return ce + 0.2 * 0.5 * (w2.square().sum() + b2.square().sum())

    _fit([w2, b2], two_way)
    weight, bias = (w2[:, 1] - w2[:, 0]).detach(), (b2[1] - b2[0]).detach()
    torch.testing.assert_close(d.out.weight.detach()[0], weight, atol=1e-6, rtol=0)
    torch.testing.assert_close(d.out.bias.detach()[0], bias, atol=1e-6, rtol=0)
    assert weight.norm() > 0.1  # a real fit, not two zero vectors


def test_initialisation_follows_the_original():
    torch.manual_seed(0)
    d = Discriminator(DiscriminatorConfig(30, 32, emb_dim=16, filters=((2, 200), (3, 200))))
    conv_w = torch.cat([c.weight.flatten() for c in d.convs])
    assert conv_w.abs().max() <= 0.2  # truncated at 2 std
    assert 0.085 < conv_w.std() < 0.091  # 0.1 * 0.8796, the std of a 2-sigma truncated normal
    assert all(torch.equal(c.bias, torch.full_like(c.bias, 0.1)) for c in d.convs)
    out_w = d.out.weight
    assert out_w.abs().max() <= 0.4  # a difference of two truncated normals
    assert 0.11 < out_w.std() < 0.139  # sqrt(2) * 0.088
    assert d.out.bias.item() == 0.0  # 0.1 - 0.1: the two columns' biases cancel
    bound = (6 / (2 * 400)) ** 0.5  # Glorot uniform of the 400 x 400 highway maps
    assert d.highway_gate.weight.abs().max() <= bound
    assert d.highway_gate.weight.std() > 0.9 * bound / 3**0.5
    assert d.embedding.weight.abs().max() <= 1.0 and d.embedding.weight.std() > 0.5


def test_prob_real_is_eval_mode_and_restores_mode():
    d = _discriminator(dropout=0.5).train()
    tokens = torch.randint(0, 15, (5, 9))
    p = d.prob_real(tokens)
    assert d.training
    torch.testing.assert_close(p, torch.sigmoid(_plain_forward(d, tokens)), atol=1e-6, rtol=0)
    assert torch.equal(p, d.prob_real(tokens))  # no dropout noise
    d.eval()
    d.prob_real(tokens)
    assert not d.training


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), seq_len=st.integers(1, 12), data=st.data())
def test_prefix_shortcut_equals_plain_forward(seed, seq_len, data):
    """fp32, both ways of convolving; the shortcut's tables are the roll-out's."""
    prefix_len = data.draw(st.integers(0, seq_len), label="prefix_len")
    method = data.draw(st.sampled_from(METHODS), label="method")
    d = _discriminator(seq_len=seq_len, seed=seed % 7, method=method).eval()
    gen = torch.Generator().manual_seed(seed)
    samples = torch.randint(0, 15, (4, seq_len), generator=gen)
    rows = 24
    source = torch.randint(0, 4, (rows,), generator=gen)
    fresh = torch.randint(0, 15, (rows, seq_len), generator=gen)
    keep = torch.arange(seq_len) < prefix_len
    tokens = torch.where(keep, samples[source], fresh)  # rows sharing their sample's prefix
    with torch.no_grad():
        tables = d.conv_tables() if method == "tables" else None
        pools = d.prefix_pools(samples, tables)
        kept = [p[source, prefix_len] for p in pools]
        shortcut = d.logits_from_prefix(tokens, prefix_len, kept, tables)
        torch.testing.assert_close(shortcut, d(tokens), atol=1e-5, rtol=0)
        torch.testing.assert_close(d(tokens), _plain_forward(d, tokens), atol=1e-5, rtol=0)


@pytest.mark.parametrize("method", METHODS)
def test_gradients_of_both_ways_equal_the_conv1d_reference(method):
    d = _discriminator(method=method, dropout=0.0)
    tokens = torch.randint(0, 15, (7, 9))
    grads = torch.autograd.grad(d(tokens).sum(), list(d.parameters()))
    plain = torch.autograd.grad(_plain_forward(d, tokens).sum(), list(d.parameters()))
    for g, p in zip(grads, plain, strict=True):
        torch.testing.assert_close(g, p, atol=1e-5, rtol=1e-5)


def test_bf16_autocast_runs_the_matmuls_in_bf16_and_stays_close():
    d = _discriminator(method="matmul").eval()
    tokens = torch.randint(0, 15, (64, 9))
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert d._embed(tokens).dtype == torch.bfloat16
        low = d(tokens)
    assert low.dtype == torch.float32  # logits come back float32 for the losses
    # bf16 keeps 8 significant bits: errors of about 2^-8 of the activations' size
    torch.testing.assert_close(low, d(tokens), atol=0.1, rtol=0.05)


def test_prefix_pools_at_full_length_give_d_of_the_sample():
    d = _discriminator().eval()
    samples = torch.randint(0, 15, (3, 9))
    with torch.no_grad():
        pools = d.prefix_pools(samples)
        full = d._head(torch.cat([p[:, 9] for p in pools], 1))
        assert all(torch.isneginf(p[:, 0]).all() for p in pools)  # nothing inside an empty prefix
    torch.testing.assert_close(full, d(samples), atol=1e-5, rtol=0)


def test_no_window_fits_is_an_error():
    with pytest.raises(ValueError, match="no discriminator window"):
        Discriminator(DiscriminatorConfig(10, 3, filters=((4, 2),)))
