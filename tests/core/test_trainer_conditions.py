"""Conditions in the trainer: MLE reads each window under its own condition id, the adversarial
phase draws ids as the positives' are distributed and rolls out under the sample's id, resume
stays exact, and at C = 1 nothing changes."""

from dataclasses import replace

import pytest
import torch
from helpers import T, V, tiny_config, tiny_data

import seqgan_music.core.trainer as trainer_mod
from seqgan_music.core.discriminator import Discriminator
from seqgan_music.core.generator import Generator
from seqgan_music.core.rollout import rollout_rewards, rollout_rewards_reference
from seqgan_music.core.trainer import SeqGANTrainer
from seqgan_music.errors import ConfigError

A, B = 3, 8  # condition 0's windows are all token A, condition 1's all token B


def conditioned(judged: bool = False, **train: object):
    """tiny_config with two conditions for G (and for D too when `judged`)."""
    config = tiny_config(**train)
    d = replace(config.discriminator, conditions=2 if judged else 1)
    return replace(config, generator=replace(config.generator, conditions=2), discriminator=d)


def toy_corpus(n: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """n windows of all-A (condition 0) then n of all-B (condition 1)."""
    data = torch.cat([torch.full((n, T), A), torch.full((n, T), B)])
    return data, torch.cat([torch.zeros(n, dtype=torch.long), torch.ones(n, dtype=torch.long)])


def params(trainer: SeqGANTrainer) -> list[torch.Tensor]:
    modules = (trainer.generator, trainer.discriminator, trainer.rollout.generator)
    return [p.detach().clone() for m in modules for p in m.state_dict().values()]


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def shares(trainer: SeqGANTrainer, condition: int) -> tuple[float, float]:
    """The shares of A and B among 64 samples drawn under `condition`."""
    rng = torch.Generator().manual_seed(0)
    out = trainer.generator.sample(64, rng=rng, conditions=torch.full((64,), condition))
    return (out == A).float().mean().item(), (out == B).float().mean().item()


def test_mle_learns_each_condition_from_its_own_start_token():
    data, ids = toy_corpus()
    config = conditioned(g_pretrain_epochs=30, d_pretrain_rounds=0, adv_rounds=0, g_lr=0.05)
    trainer = SeqGANTrainer(config, data, train_conditions=ids)
    trainer.run()
    a0, b0 = shares(trainer, 0)
    a1, b1 = shares(trainer, 1)
    # one start token could give each window only the corpus's mixture (half A, half B)
    assert a0 > 0.9 and b1 > 0.9 and b0 < 0.1 and a1 < 0.1


def test_the_adversarial_phase_samples_and_rolls_out_under_the_drawn_ids(monkeypatch):
    data, ids = toy_corpus()
    ids[:8] = 1  # 40 of the 64 positives are condition 1: the draws follow that share
    drawn, rolled = [], []
    sample, rollout = trainer_mod.Generator.sample, trainer_mod.rollout_rewards

    def spy_sample(self, n, *args, conditions=None, **kw):
        drawn.append(conditions)
        return sample(self, n, *args, conditions=conditions, **kw)

    def spy_rollout(*args, conditions=None, **kw):
        rolled.append(conditions)
        return rollout(*args, conditions=conditions, **kw)

    monkeypatch.setattr(trainer_mod.Generator, "sample", spy_sample)
    monkeypatch.setattr(trainer_mod, "rollout_rewards", spy_rollout)
    config = conditioned(adv_rounds=4, g_steps=1, num_negatives=400, pg_batch_size=400)
    SeqGANTrainer(config, data, train_conditions=ids).run()
    assert len(rolled) == 4 and all(r is not None and len(r) == 400 for r in rolled)
    pg_batches = [d for d in drawn if d is not None and any(d is r for r in rolled)]
    assert len(pg_batches) == 4  # each roll-out is of the PG batch's own ids
    every = torch.cat([d for d in drawn if d is not None])
    assert None not in drawn  # D's negatives too are drawn under condition ids
    assert abs((every == 1).float().mean().item() - 40 / 64) < 0.05


def test_resume_of_a_conditioned_run_is_exact(tmp_path):
    data, ids = toy_corpus(16)
    straight = SeqGANTrainer(conditioned(), data, train_conditions=ids)
    straight.run()
    for split in (1, 3, 5):  # inside G pre-training, D pre-training, the adversarial phase
        path = tmp_path / f"run{split}.pt"
        SeqGANTrainer(conditioned(), data, train_conditions=ids).run(path, max_units=split)
        resumed = SeqGANTrainer.load(path, data, train_conditions=ids)
        resumed.run(path)
        assert same(params(resumed), params(straight))
        assert resumed.history == straight.history


def test_an_unconditioned_run_ignores_ids_and_draws_nothing_more():
    data = tiny_data()
    ids = torch.arange(len(data)) % 2
    plain = SeqGANTrainer(tiny_config(), data)
    plain.run()
    given = SeqGANTrainer(tiny_config(), data, train_conditions=ids)
    given.run()
    assert given.train_conditions is None
    assert same(params(plain), params(given))


@pytest.mark.parametrize(
    "ids, message",
    [(None, "give each training window"), (torch.zeros(3, dtype=torch.long), "3 condition ids"),
     (torch.full((64,), 2), "must be in 0..1")],
)  # fmt: skip
def test_a_conditioned_config_needs_an_id_per_window_in_range(ids, message):
    data, _ = toy_corpus()
    with pytest.raises(ConfigError, match=message):
        SeqGANTrainer(conditioned(), data, train_conditions=ids)


def test_the_vocabulary_check_is_unchanged_by_conditions():
    data, ids = toy_corpus()
    data[0, 0] = V  # an id the vocabulary lacks
    with pytest.raises(ConfigError, match="outside"):
        SeqGANTrainer(conditioned(), data, train_conditions=ids)


def test_a_conditioned_d_tells_a_window_under_the_wrong_condition():
    """All-A under condition 0 and all-B under 1 are real; the same windows under the other
    condition are fake: the tokens alone cannot tell them apart, the projection can."""
    data, ids = toy_corpus(16)
    d = Discriminator(replace(conditioned(judged=True).discriminator))
    tokens = torch.cat([data, data])
    judged = torch.cat([ids, 1 - ids])
    labels = torch.cat([torch.ones(32), torch.zeros(32)])
    opt = torch.optim.Adam(d.parameters(), lr=0.01)
    assert torch.allclose(d.prob_real(tokens, judged), d.prob_real(tokens, 1 - judged))  # zero
    for _ in range(60):
        opt.zero_grad()
        d.loss(tokens, labels, judged).backward()
        opt.step()
    p = d.prob_real(tokens, judged)
    assert p[:32].min() > 0.8 and p[32:].max() < 0.2
    with pytest.raises(ValueError, match="give each row's id"):
        d(tokens)


def test_a_conditioned_d_judges_roll_outs_under_the_sample_s_condition():
    data, ids = toy_corpus(4)
    config = conditioned(judged=True)
    g, d = Generator(config.generator), Discriminator(config.discriminator)
    with torch.no_grad():
        d.projection.weight.normal_()  # not zero: the conditions change the rewards
    kw = dict(temperature=0.0)  # greedy roll-outs: the batched and the plain loop agree exactly
    fast = rollout_rewards(data, g, d, 2, conditions=ids, **kw)
    slow = rollout_rewards_reference(data, g, d, 2, conditions=ids, **kw)
    assert torch.allclose(fast, slow, atol=1e-5)
    other = rollout_rewards(data, g, d, 2, conditions=1 - ids, **kw)
    assert not torch.allclose(fast, other)


def test_resume_of_a_run_with_a_conditioned_d_is_exact(tmp_path):
    data, ids = toy_corpus(16)
    valid = data[::4]
    kw = dict(train_conditions=ids, valid_data=valid, valid_conditions=ids[::4])
    straight = SeqGANTrainer(conditioned(judged=True), data, **kw)
    straight.run()
    assert "d_acc_valid" in straight.history[-1]["metrics"]
    path = tmp_path / "run.pt"
    SeqGANTrainer(conditioned(judged=True), data, **kw).run(path, max_units=4)
    resumed = SeqGANTrainer.load(path, data, **kw)
    resumed.run(path)
    assert same(params(resumed), params(straight)) and resumed.history == straight.history
    assert straight.discriminator.projection.weight.abs().sum() > 0  # D trained its projection


def test_pg_loss_and_d_judge_each_sample_under_the_id_it_was_drawn_with(monkeypatch):
    """The same id per sample from draw to gradient: the PG loss reads each PG sample under the
    id G drew it with, and a conditioned D judges each negative under its draw's id and each
    positive under its window's."""
    data, ids = toy_corpus(16)
    drawn: list[tuple[torch.Tensor, torch.Tensor]] = []  # (samples, their ids) as G drew them
    losses: list[tuple[torch.Tensor, torch.Tensor | None]] = []
    judged: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]] = []
    sample, pg_loss, d_loss = Generator.sample, SeqGANTrainer.pg_loss, Discriminator.loss

    def spy_sample(self, n, *args, conditions=None, **kw):
        out = sample(self, n, *args, conditions=conditions, **kw)
        if conditions is not None:
            drawn.append((out, conditions))
        return out

    def spy_pg(self, samples, rewards, conditions=None):
        losses.append((samples, conditions))
        return pg_loss(self, samples, rewards, conditions)

    def spy_d(self, tokens, labels, conditions=None):
        judged.append((tokens, labels, conditions))
        return d_loss(self, tokens, labels, conditions)

    monkeypatch.setattr(Generator, "sample", spy_sample)
    monkeypatch.setattr(SeqGANTrainer, "pg_loss", spy_pg)
    monkeypatch.setattr(Discriminator, "loss", spy_d)
    SeqGANTrainer(conditioned(judged=True, num_negatives=24), data, train_conditions=ids).run()
    ids_of = {}  # each drawn row -> the ids it was drawn under
    for out, cond in drawn:
        for row, c in zip(out.tolist(), cond.tolist(), strict=True):
            ids_of.setdefault(tuple(row), set()).add(c)
    assert losses and all(c is not None for _, c in losses)
    for samples, cond in losses:  # a PG batch is one draw: the very ids it was drawn with
        assert any(s is samples and torch.equal(c, cond) for s, c in drawn)
    assert judged
    for tokens, labels, cond in judged:
        for row, label, c in zip(tokens.tolist(), labels.tolist(), cond.tolist(), strict=True):
            if label > 0.5:  # a positive: all-A windows are condition 0, all-B condition 1
                assert c == (0 if row[0] == A else 1)
            else:
                assert c in ids_of[tuple(row)]
