"""Algorithm 1: the schedule, the policy-gradient step, MLE, events, and exact resume."""

import functools

import pytest
import torch
from helpers import T, V, tiny_config, tiny_data

import seqgan_music.core.trainer as trainer_mod
from seqgan_music.core.checkpoint import read_checkpoint
from seqgan_music.core.regularisers import cold_weights, entropy_and_kl
from seqgan_music.core.trainer import (
    SeqGANTrainer,
    TrainEvent,
    checkpoint_generator,
    pretrained_path,
)


def params(trainer: SeqGANTrainer) -> list[torch.Tensor]:
    modules = (trainer.generator, trainer.discriminator, trainer.rollout.generator)
    return [p.detach().clone() for m in modules for p in m.state_dict().values()]


def assert_same(a: list[torch.Tensor], b: list[torch.Tensor]) -> None:
    assert len(a) == len(b)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


@functools.cache
def straight_run() -> tuple[list[torch.Tensor], list[dict]]:
    """tiny_config() run start to end in one go: the reference for the resume tests."""
    trainer = SeqGANTrainer(tiny_config(), tiny_data())
    trainer.run()
    return params(trainer), trainer.history


def test_schedule_runs_g_d_k_the_configured_number_of_times(monkeypatch):
    cfg = tiny_config(g_pretrain_epochs=3, d_pretrain_rounds=2, d_pretrain_epochs=2, adv_rounds=2,
                      g_steps=3, d_steps=2, k_epochs=3)  # fmt: skip
    trainer = SeqGANTrainer(cfg, tiny_data())
    calls = {"mle": 0, "d_round": [], "rewards": 0, "update": 0, "d_batches": 0}
    mle, d_round, d_loss = trainer._mle_epoch, trainer._d_round, trainer.discriminator.loss
    real_rewards, real_update = trainer_mod.rollout_rewards, trainer_mod.RolloutPolicy.update

    def count_mle(rng):
        calls["mle"] += 1
        return mle(rng)

    def count_d_round(rng, epochs):
        calls["d_round"].append((trainer.phase, epochs))
        return d_round(rng, epochs)

    def count_d_loss(*args):
        calls["d_batches"] += 1
        return d_loss(*args)

    def count_rewards(*args, **kwargs):
        calls["rewards"] += 1
        return real_rewards(*args, **kwargs)

    def count_update(policy, generator, rate):
        calls["update"] += 1
        assert rate == cfg.train.update_rate
        return real_update(policy, generator, rate)

    monkeypatch.setattr(trainer, "_mle_epoch", count_mle)
    monkeypatch.setattr(trainer, "_d_round", count_d_round)
    monkeypatch.setattr(trainer.discriminator, "loss", count_d_loss)
    monkeypatch.setattr(trainer_mod, "rollout_rewards", count_rewards)
    monkeypatch.setattr(trainer_mod.RolloutPolicy, "update", count_update)
    trainer.run()
    assert calls["mle"] == 3
    assert calls["d_round"] == [("d_pretrain", 2)] * 2 + [("adversarial", 3)] * (2 * 2)
    assert calls["rewards"] == 2 * 3  # adv_rounds * g_steps
    assert calls["update"] == 2  # G_beta updated once per round
    batches = 2 * 16 // 8  # positives + negatives per round, batch 8
    assert calls["d_batches"] == batches * (2 * 2 + 2 * 2 * 3)
    assert (trainer.phase, trainer.step) == ("done", 2)


def test_mle_mode_replaces_adversarial_rounds_by_mle_epochs(monkeypatch):
    trainer = SeqGANTrainer(tiny_config(mode="mle", adv_rounds=3), tiny_data())
    monkeypatch.setattr(trainer_mod, "rollout_rewards", None)  # must never be called
    trainer.run()
    adv = [row for row in trainer.history if row["phase"] == "adversarial"]
    assert [row["step"] for row in adv] == [1, 2, 3]
    assert all(set(row["metrics"]) == {"g_mle_loss"} for row in adv)


def test_same_seed_repeats_exactly_and_another_seed_differs():
    trainer = SeqGANTrainer(tiny_config(), tiny_data())
    trainer.run()
    assert_same(params(trainer), straight_run()[0])
    other = SeqGANTrainer(tiny_config(seed=8), tiny_data())
    assert not torch.equal(params(other)[0], params(SeqGANTrainer(tiny_config(), tiny_data()))[0])


def test_global_rng_is_left_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    SeqGANTrainer(tiny_config(adv_rounds=1), tiny_data()).run()
    assert torch.equal(torch.rand(3), expected)


# split inside G, inside D, at the adversarial start, inside it
@pytest.mark.parametrize("split", [1, 3, 4, 5])
def test_resume_is_exact_across_phase_boundaries(tmp_path, split):
    straight, history = straight_run()
    path = tmp_path / "run.pt"
    first = SeqGANTrainer(tiny_config(), tiny_data())
    first.run(path, max_units=split, checkpoint_every=5)
    resumed = SeqGANTrainer.load(path, tiny_data())
    assert resumed.history == first.history
    resumed.run(path)
    assert_same(params(resumed), straight)
    assert resumed.history == history
    assert_same(params(SeqGANTrainer.load(path, tiny_data())), straight)


def test_keyboard_interrupt_saves_the_last_completed_unit(tmp_path):
    path = tmp_path / "run.pt"

    def interrupt(event: TrainEvent) -> None:
        if event.phase == "adversarial" and event.step == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        SeqGANTrainer(tiny_config(), tiny_data(), callback=interrupt).run(path, checkpoint_every=3)
    resumed = SeqGANTrainer.load(path, tiny_data())
    assert (resumed.phase, resumed.step) == ("adversarial", 0)
    resumed.run(path)
    assert_same(params(resumed), straight_run()[0])


def test_events_and_evaluate_schedule():
    events, evaluated = [], []

    def evaluate(generator):
        assert not torch.is_grad_enabled()
        evaluated.append(len(events))
        return {"score": 1.0}

    cfg = tiny_config(g_pretrain_epochs=5, d_pretrain_rounds=1, adv_rounds=3, eval_every=2,
                      g_steps=1, d_steps=1)  # fmt: skip
    SeqGANTrainer(cfg, tiny_data(), callback=events.append, evaluate=evaluate).run()
    seen = [(e.phase, e.step, e.total) for e in events]
    assert seen == (
        [("g_pretrain", s, 5) for s in range(1, 6)] + [("d_pretrain", 1, 1)]
        + [("adversarial", s, 3) for s in range(1, 4)] + [("done", 3, 3)]
    )  # fmt: skip
    scored = [(e.phase, e.step) for e in events if "score" in e.metrics]
    # every eval_every units and at each phase end; D pre-training leaves G unchanged
    assert scored == [("g_pretrain", 2), ("g_pretrain", 4), ("g_pretrain", 5),
                      ("adversarial", 2), ("adversarial", 3)]  # fmt: skip
    assert len(evaluated) == len(scored)
    assert {"pg_loss", "reward", "d_loss"} <= set(events[-2].metrics)


def test_pg_step_raises_the_log_probability_of_rewarded_tokens():
    for baseline in (False, True):
        trainer = SeqGANTrainer(tiny_config(baseline=baseline, pg_lr=0.05), tiny_data())
        samples = trainer.generator.sample(8, rng=torch.Generator().manual_seed(1))
        rewards = torch.zeros(8, T)
        rewards[0] = 1.0  # only the first sequence is rewarded, at every step
        before = trainer.generator.log_probs(samples).sum(1).detach()
        loss = trainer.pg_loss(samples, rewards)
        trainer.g_pg_opt.zero_grad()
        loss.backward()
        trainer.g_pg_opt.step()
        after = trainer.generator.log_probs(samples).sum(1).detach()
        assert after[0] > before[0]


def test_pg_loss_is_eq_8_averaged_over_the_batch():
    trainer = SeqGANTrainer(tiny_config(), tiny_data())
    samples = tiny_data(4)
    rewards = torch.rand(4, T)
    expected = -(trainer.generator.log_probs(samples) * rewards).sum() / 4
    assert torch.allclose(trainer.pg_loss(samples, rewards), expected)
    # at another sampling temperature, the gradient is that of the policy that drew the samples
    hot = SeqGANTrainer(tiny_config(temperature=2.0), tiny_data())
    logp = torch.log_softmax(hot.generator(samples) / 2.0, -1).gather(-1, samples[..., None])
    expected = -(logp.squeeze(-1) * rewards).sum() / 4
    assert torch.allclose(hot.pg_loss(samples, rewards), expected)


def test_mle_fits_a_tiny_corpus():
    corpus = torch.tensor([[1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]]).repeat(16, 1)
    cfg = tiny_config(g_pretrain_epochs=40, d_pretrain_rounds=0, adv_rounds=0, g_lr=0.02)
    trainer = SeqGANTrainer(cfg, corpus)
    start = trainer.generator.nll(corpus).item()
    trainer.run()
    # the first token is a coin flip, the rest are determined: log(2) / 6 is the floor
    assert start > 2.0 and trainer.generator.nll(corpus).item() < 0.25


def test_pretrained_checkpoint_branches_the_mle_baseline(tmp_path):
    path = tmp_path / "run.pt"
    trainer = SeqGANTrainer(tiny_config(), tiny_data(), metadata={"domain": "oracle", "k": [1]})
    trainer.run(path)
    pre = pretrained_path(path)
    assert pre.name == "run-pretrained.pt"
    raw = torch.load(pre, weights_only=True)
    assert (raw["phase"], raw["step"], raw["metadata"]) == (
        "adversarial",
        0,
        {"domain": "oracle", "k": [1]},
    )
    baseline = SeqGANTrainer.load(pre, tiny_data(), train_overrides={"mode": "mle"})
    assert baseline.config.train.mode == "mle"
    pretrain_g = [p.clone() for p in baseline.generator.parameters()]
    baseline.run(tmp_path / "mle.pt")
    assert baseline.history[-1]["phase"] == "adversarial" and baseline.phase == "done"
    assert not torch.equal(pretrain_g[0], next(baseline.generator.parameters()))
    g = checkpoint_generator(read_checkpoint(path, expect_domain="oracle"))
    assert_same(list(g.state_dict().values()), list(trainer.generator.state_dict().values()))


def test_more_adversarial_rounds_continue_a_finished_run(tmp_path):
    path = tmp_path / "run.pt"
    SeqGANTrainer(tiny_config(adv_rounds=1), tiny_data()).run(path)
    more = SeqGANTrainer.load(path, tiny_data(), train_overrides={"adv_rounds": 2})
    assert (more.phase, more.step) == ("adversarial", 1)
    more.run()
    assert_same(params(more), straight_run()[0])  # tiny_config() has adv_rounds=2


def test_train_data_must_fit_the_config():
    with pytest.raises(ValueError, match="int64"):
        SeqGANTrainer(tiny_config(), tiny_data().float())
    with pytest.raises(ValueError, match="sequences of 5 tokens, the config 6"):
        SeqGANTrainer(tiny_config(), tiny_data()[:, :5])
    with pytest.raises(ValueError, match=f"outside the config's vocabulary 0..{V - 1}"):
        SeqGANTrainer(tiny_config(), tiny_data() + 1)
    with pytest.raises(ValueError, match="checkpoint_every must be at least 1"):
        SeqGANTrainer(tiny_config(), tiny_data()).run(checkpoint_every=0)


@pytest.mark.parametrize("num_negatives", [10, 32, 100])
def test_d_rounds_balance_the_classes_both_ways(monkeypatch, num_negatives):
    data = tiny_data(32)
    trainer = SeqGANTrainer(tiny_config(num_negatives=num_negatives), data)
    seen = []
    real_loss = trainer.discriminator.loss

    def record(tokens, labels):
        seen.append((tokens, labels))
        return real_loss(tokens, labels)

    monkeypatch.setattr(trainer.discriminator, "loss", record)
    trainer._d_round(torch.Generator().manual_seed(1), 1)
    tokens = torch.cat([t for t, _ in seen])
    labels = torch.cat([lab for _, lab in seen])
    assert int(labels.sum()) == num_negatives == int((labels == 0).sum())
    positives = tokens[labels == 1]
    # each positive is used as evenly as the count allows (never twice before all are used once)
    counts = [int((positives == row).all(1).sum()) for row in data.unique(dim=0)]
    assert max(counts) - min(counts) <= 1 or num_negatives < len(data)
    assert sum(counts) == num_negatives


def test_diagnostics_report_d_accuracy_without_changing_training():
    valid = torch.randint(0, V, (20, T), generator=torch.Generator().manual_seed(9))
    trainer = SeqGANTrainer(tiny_config(), tiny_data(), valid_data=valid)
    trainer.run()
    expected_params, expected_history = straight_run()
    assert_same(params(trainer), expected_params)  # the diagnostics draw their own randomness
    for got, plain in zip(trainer.history, expected_history, strict=True):
        extra = set(got["metrics"]) - set(plain["metrics"])
        if got["phase"] == "g_pretrain":
            assert not extra
        else:
            assert extra == {"d_acc_fake", "d_acc_valid", "d_p_fake"}
            assert all(0.0 <= got["metrics"][k] <= 1.0 for k in extra)


def test_g_pretraining_ends_with_its_best_validation_epoch(tmp_path):
    nlls = iter([3.0, 1.0, 2.0])  # epoch 2 is the best
    states = []
    trainer = SeqGANTrainer(
        tiny_config(
            g_pretrain_epochs=3, d_pretrain_rounds=0, adv_rounds=0, eval_every=1
        ),  # fmt: skip
        tiny_data(),
        evaluate=lambda g: {"valid_nll": next(nlls)},
    )
    trainer.callback = lambda e: states.append(
        {k: v.clone() for k, v in trainer.generator.state_dict().items()}
    )
    trainer.run(tmp_path / "c.pt")
    assert trainer.early_stop.best["epoch"] == 2 and trainer.early_stop.best["valid_nll"] == 1.0
    after = trainer.generator.state_dict()
    assert all(torch.equal(after[k], states[1][k]) for k in after)
    assert not all(torch.equal(after[k], states[2][k]) for k in after)
    pretrained = read_checkpoint(pretrained_path(tmp_path / "c.pt"))
    assert all(torch.equal(pretrained["generator"][k], states[1][k]) for k in after)
    # off: the last epoch is kept
    nlls = iter([3.0, 1.0, 2.0])
    plain = SeqGANTrainer(
        tiny_config(
            g_pretrain_epochs=3, d_pretrain_rounds=0, adv_rounds=0, eval_every=1, g_early_stop=False
        ),  # fmt: skip
        tiny_data(),
        evaluate=lambda g: {"valid_nll": next(nlls)},
    )
    plain.run()
    last = plain.generator.state_dict()
    assert all(torch.equal(last[k], states[2][k]) for k in last)


class ScriptedScores:
    """An evaluator that reports scripted validation scores, one dict per call, in order."""

    def __init__(self, scores: list[dict[str, float]]) -> None:
        self.scores = iter(scores)

    def __call__(self, generator) -> dict[str, float]:
        return dict(next(self.scores))


def selection_run(tmp_path, scores, **train):
    """A run with no G pre-training evaluation to script: the first call scores the G entering
    the adversarial phase, the next ones its rounds; returns the trainer and G after each round."""
    cfg = tiny_config(g_pretrain_epochs=1, d_pretrain_rounds=1, adv_rounds=len(scores) - 1,
                      eval_every=1, g_early_stop=False, **train)  # fmt: skip
    # G pre-training's epoch is evaluated too: it gets the first score (unused by selection)
    trainer = SeqGANTrainer(cfg, tiny_data(), evaluate=ScriptedScores([scores[0], *scores]))
    states = []

    def snapshot(event):
        if event.phase == "adversarial":
            states.append({k: v.clone() for k, v in trainer.generator.state_dict().items()})

    trainer.callback = snapshot
    trainer.run(tmp_path / "c.pt")
    return trainer, states


def same_state(a, b) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a)


def test_adversarial_phase_ends_with_the_round_better_on_every_score_by_most(tmp_path):
    base = {"valid_bleu": 0.50, "valid_mse": 20.0}
    rounds = [
        {"valid_bleu": 0.60, "valid_mse": 21.0},  # BLEU +20%, MSE 5% worse: score -0.05
        {"valid_bleu": 0.55, "valid_mse": 18.0},  # +10% and +10%: score 0.10, the best
        {"valid_bleu": 0.70, "valid_mse": 19.8},  # +40% but MSE only +1%: score 0.01
        {"valid_bleu": 0.45, "valid_mse": 15.0},  # the last round: BLEU 10% worse
    ]
    trainer, states = selection_run(tmp_path, [base, *rounds], select_on="valid_bleu,-valid_mse")
    assert trainer.selected_round == 2
    rows = [h["metrics"] for h in trainer.history if h["phase"] == "adversarial"]
    scores = [m["selection_score"] for m in rows]
    assert scores == pytest.approx([-0.05, 0.10, 0.01, -0.10])
    assert same_state(trainer.generator.state_dict(), states[1])
    assert not same_state(trainer.generator.state_dict(), states[3])
    saved = read_checkpoint(tmp_path / "c.pt")
    assert saved["best_round"]["round"] == 2 and same_state(saved["generator"], states[1])
    # without select_on (the paper's protocol) the last round is kept
    plain, plain_states = selection_run(tmp_path / "plain", [base, *rounds])
    assert plain.selected_round is None
    assert same_state(plain.generator.state_dict(), plain_states[3])


def test_a_round_is_kept_even_when_none_beats_the_starting_generator(tmp_path):
    base = {"valid_bleu": 0.50}
    rounds = [{"valid_bleu": 0.40}, {"valid_bleu": 0.45}, {"valid_bleu": 0.30}]
    trainer, states = selection_run(tmp_path, [base, *rounds], select_on="valid_bleu")
    assert trainer.selected_round == 2  # the least bad round, never the untrained start
    assert same_state(trainer.generator.state_dict(), states[1])


def test_resume_with_round_selection_is_exact(tmp_path):
    cfg = tiny_config(adv_rounds=3, eval_every=1, select_on="valid_score")

    def evaluate(generator):  # a real score of G: its NLL on fixed data, higher is "better"
        return {"valid_score": float(generator.nll(tiny_data(8)))}

    straight = SeqGANTrainer(cfg, tiny_data(), evaluate=evaluate)
    straight.run()
    assert straight.selected_round is not None
    for split in (2, 5, 6):  # before the adversarial phase, after its first round, after two
        path = tmp_path / f"run{split}.pt"
        SeqGANTrainer(cfg, tiny_data(), evaluate=evaluate).run(path, max_units=split)
        resumed = SeqGANTrainer.load(path, tiny_data(), evaluate=evaluate)
        resumed.run(path)
        assert resumed.selected_round == straight.selected_round
        assert_same(params(resumed), params(straight))


def test_the_mle_branch_selects_its_epochs_against_the_same_start(tmp_path):
    base = {"valid_bleu": 0.50}
    trainer, _ = selection_run(tmp_path, [base, {"valid_bleu": 0.6}], select_on="valid_bleu")
    pretrained = pretrained_path(tmp_path / "c.pt")
    assert read_checkpoint(pretrained)["best_round"]["base"] == base
    epochs = ScriptedScores([{"valid_bleu": 0.52}, {"valid_bleu": 0.51}])
    branch = trainer_mod.branch_mle(pretrained, tiny_data(), evaluate=epochs,
                                    overrides={"adv_rounds": 2})  # fmt: skip
    branch.run()
    assert branch.config.train.mode == "mle" and branch.selected_round == 1


@pytest.mark.parametrize("bad", ["valid bleu", "-", "valid_bleu,,2x"])
def test_select_on_must_name_metrics(bad):
    from seqgan_music.errors import ConfigError

    with pytest.raises(ConfigError, match="select_on"):
        tiny_config(select_on=bad)


def test_more_rounds_after_a_selected_round_continue_from_the_last_round(tmp_path):
    # scripted scores (two G epochs, the phase's start, then rounds): round 1 stays the best
    def scripted():
        scores = iter([0.0, 0.0, 1.0, 0.5, 0.2, 0.1, 0.0])
        return lambda generator: {"valid_score": next(scores)}

    def config(rounds):
        return tiny_config(adv_rounds=rounds, eval_every=1, select_on="valid_score")

    straight = SeqGANTrainer(config(4), tiny_data(), evaluate=scripted())
    straight.run()
    path = tmp_path / "run.pt"
    evaluate = scripted()
    SeqGANTrainer(config(2), tiny_data(), evaluate=evaluate).run(path)
    more = SeqGANTrainer.load(path, tiny_data(), evaluate=evaluate,
                              train_overrides={"adv_rounds": 4})  # fmt: skip
    more.run()
    assert straight.selected_round == more.selected_round == 1
    assert_same(params(more), params(straight))


def test_a_branch_given_select_on_scores_its_own_start(tmp_path):
    base, epochs = {"valid_bleu": 0.5}, [{"valid_bleu": 0.4}, {"valid_bleu": 0.45}]
    trainer, _ = selection_run(tmp_path, [base, {"valid_bleu": 0.6}])  # no select_on
    pretrained = pretrained_path(tmp_path / "c.pt")
    assert read_checkpoint(pretrained)["best_round"] is None
    scores = ScriptedScores([base, *epochs])
    overrides = {"adv_rounds": 2, "select_on": "valid_bleu"}
    branch = trainer_mod.branch_mle(pretrained, tiny_data(), evaluate=scores, overrides=overrides)
    branch.run()
    assert branch.selection.record["base"] == base and branch.selected_round == 2


@pytest.mark.parametrize(
    "broken",
    [{"base": "x"}, {"base": {}, "round": "2", "score": None, "state": None},
     {"base": {"a": 1.0}, "round": 1, "score": 0.1, "state": {"w": torch.zeros(2)}}],
)  # fmt: skip
def test_a_malformed_best_round_is_a_checkpoint_error(tmp_path, broken):
    from seqgan_music.core.checkpoint import save_checkpoint
    from seqgan_music.errors import CheckpointError

    trainer = SeqGANTrainer(tiny_config(adv_rounds=1), tiny_data())
    trainer.run(tmp_path / "c.pt")
    state = read_checkpoint(tmp_path / "c.pt")
    state["best_round"] = broken
    save_checkpoint(tmp_path / "bad.pt", state)
    with pytest.raises(CheckpointError, match="best_round"):
        SeqGANTrainer.load(tmp_path / "bad.pt", tiny_data())


def test_select_on_set_mid_phase_warns_that_the_last_round_is_kept(tmp_path):
    path = tmp_path / "run.pt"
    SeqGANTrainer(tiny_config(adv_rounds=2), tiny_data()).run(path, max_units=5)  # round 1 done
    later = SeqGANTrainer.load(path, tiny_data(), evaluate=lambda g: {"valid_x": 1.0},
                               train_overrides={"select_on": "valid_x"})  # fmt: skip
    with pytest.warns(UserWarning, match="last round is kept"):
        later.run()
    assert later.selected_round is None


# ---- the adversarial phase's remedies (issue #22; core/regularisers.py) ----------------------


def _one_step(trainer: SeqGANTrainer, samples: torch.Tensor) -> None:
    loss = trainer.pg_loss(samples, torch.zeros(len(samples), T))  # no reward: only the terms
    trainer.g_pg_opt.zero_grad()
    loss.backward()
    trainer.g_pg_opt.step()


def _entropy(trainer: SeqGANTrainer, samples: torch.Tensor) -> float:
    logp = trainer.generator(samples).log_softmax(-1)
    return entropy_and_kl(logp, None)[0].mean().item()


def test_entropy_bonus_raises_g_entropy_and_kl_pulls_g_back_to_the_reference():
    samples = tiny_data(16)
    trainer = SeqGANTrainer(tiny_config(entropy_bonus=0.5, pg_lr=0.05), tiny_data())
    before = _entropy(trainer, samples)
    _one_step(trainer, samples)
    assert _entropy(trainer, samples) > before
    assert trainer.pg_terms["pg_entropy"].item() == pytest.approx(before, rel=1e-5)

    trainer = SeqGANTrainer(tiny_config(kl_coef=1.0, pg_lr=0.05), tiny_data())
    trainer._freeze_reference()
    with torch.no_grad():  # G drifts away from the frozen reference
        trainer.generator.head.bias.add_(torch.linspace(-1, 1, V))

    def kl() -> float:
        logp = trainer.generator(samples).log_softmax(-1)
        return entropy_and_kl(logp, trainer.reference(samples).log_softmax(-1))[1].mean().item()

    drifted = kl()
    _one_step(trainer, samples)
    assert 0 < kl() < drifted


def test_defaults_leave_training_unchanged_and_the_remedies_change_it():
    straight = straight_run()[0]
    off = dict(entropy_bonus=0.0, kl_coef=0.0, reward_norm="none", d_label_smoothing=0.0,
               d_noise=0.0, d_every=1, d_weight_decay=0.0, pg_temperature=0.0,
               pg_is_clip=5.0)  # fmt: skip
    trainer = SeqGANTrainer(tiny_config(**off), tiny_data())
    trainer.run()
    assert_same(params(trainer), straight)
    for setting in ({"kl_coef": 0.1}, {"entropy_bonus": 0.1}, {"reward_norm": "maligan"},
                    {"d_label_smoothing": 0.2}, {"d_noise": 0.1}, {"d_every": 2},
                    {"d_weight_decay": 0.1}, {"pg_temperature": 0.5}):  # fmt: skip
        other = SeqGANTrainer(tiny_config(**setting), tiny_data())
        other.run()
        assert not all(torch.equal(a, b) for a, b in zip(params(other), straight, strict=True))


def test_d_every_skips_d_rounds(monkeypatch):
    trainer = SeqGANTrainer(tiny_config(adv_rounds=4, d_every=2, d_steps=1), tiny_data())
    rounds = []
    real = trainer._d_round

    def counted(rng, epochs):
        rounds.append(trainer.phase)
        return real(rng, epochs)

    monkeypatch.setattr(trainer, "_d_round", counted)
    trainer.run()
    assert rounds.count("adversarial") == 2
    adv = [row["metrics"] for row in trainer.history if row["phase"] == "adversarial"]
    assert ["d_loss" in m for m in adv] == [False, True, False, True]


def test_kl_reference_is_the_pretrained_g_and_survives_resume(tmp_path):
    cfg = tiny_config(kl_coef=0.2, entropy_bonus=0.01)
    straight = SeqGANTrainer(cfg, tiny_data())
    straight.run()
    assert {"pg_kl", "pg_entropy"} <= set(straight.history[-1]["metrics"])
    path = tmp_path / "run.pt"
    first = SeqGANTrainer(cfg, tiny_data())
    first.run(path, max_units=first.phase_total("g_pretrain") + 3)  # one adversarial round
    pretrained = SeqGANTrainer.load(pretrained_path(path), tiny_data())
    reference = {k: v.clone() for k, v in first.reference.state_dict().items()}
    assert_same(list(reference.values()), list(pretrained.generator.state_dict().values()))
    resumed = SeqGANTrainer.load(path, tiny_data())
    assert_same(list(resumed.reference.state_dict().values()), list(reference.values()))
    resumed.run(path)
    assert_same(params(resumed), params(straight))
    # a run without the penalty, branched from its -pretrained checkpoint with one: the
    # reference is that checkpoint's G
    plain = tmp_path / "plain.pt"
    SeqGANTrainer(tiny_config(), tiny_data()).run(plain, max_units=4)
    assert "reference" not in torch.load(pretrained_path(plain), weights_only=True)
    branch = SeqGANTrainer.load(
        pretrained_path(plain), tiny_data(), train_overrides={"kl_coef": 0.2}
    )
    assert_same(list(branch.reference.state_dict().values()), list(reference.values()))


def test_cold_pg_batch_is_drawn_cold_rolled_out_at_g_temperature_and_importance_weighted(
    monkeypatch,
):
    trainer = SeqGANTrainer(tiny_config(pg_temperature=0.5, pg_is_clip=3.0), tiny_data())
    drawn, rolled = [], []
    sample = trainer.generator.sample

    def recorded_sample(n, **kw):
        drawn.append(kw["temperature"])
        return sample(n, **kw)

    def recorded_rollout(samples, *args, temperature, **kw):
        rolled.append(temperature)
        return torch.rand(samples.shape)

    monkeypatch.setattr(trainer.generator, "sample", recorded_sample)
    monkeypatch.setattr(trainer_mod, "rollout_rewards", recorded_rollout)
    monkeypatch.setattr(trainer, "_d_round", lambda rng, epochs: 0.0)
    metrics = trainer._adversarial_round(torch.Generator().manual_seed(0))
    steps = trainer.config.train.g_steps
    assert drawn == [0.5] * steps and rolled == [1.0] * steps
    assert 0 < metrics["pg_is_weight"] <= 3.0
    # the loss: Eq. 8 of G at T = 1 with each step's reward times its truncated weight
    samples, rewards = tiny_data(4), torch.rand(4, T)
    logits = trainer.generator(samples)
    weights = cold_weights(logits, samples, 1.0, 0.5, 3.0)
    logp = logits.log_softmax(-1).gather(-1, samples[..., None]).squeeze(-1)
    expected = -(logp * rewards * weights).sum() / 4
    assert torch.allclose(trainer.pg_loss(samples, rewards), expected, atol=1e-6)


def test_d_weight_decay_reaches_d_optimiser_and_a_branch_may_change_it(tmp_path):
    path = tmp_path / "run.pt"
    trainer = SeqGANTrainer(tiny_config(d_weight_decay=0.01), tiny_data())
    assert [g["weight_decay"] for g in trainer.d_opt.param_groups] == [0.01]
    assert trainer.g_pg_opt.param_groups[0]["weight_decay"] == 0.0
    trainer.run(path, max_units=trainer.phase_total("g_pretrain") + 2)
    resumed = SeqGANTrainer.load(path, tiny_data())
    assert resumed.config.train.d_weight_decay == 0.01  # stored with the run
    assert resumed.d_opt.param_groups[0]["weight_decay"] == 0.01
    branch = SeqGANTrainer.load(
        pretrained_path(path), tiny_data(), train_overrides={"d_weight_decay": 0.1}
    )
    assert branch.d_opt.param_groups[0]["weight_decay"] == 0.1
