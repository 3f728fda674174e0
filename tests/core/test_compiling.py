"""The `compile` setting: resolution, the inductor cache's place, the eager fallback, and (slow:
each compile takes tens of seconds on a 2-core CPU) compiled against eager results.

Tolerances: the compiled sampler sums exponentials in another order than softmax + cumsum, so a
draw whose uniform falls within float rounding of a token boundary may pick the neighbour: with a
one-level search (V < 512) the tiny vocabularies here draw identical tokens; with the two-level
search at least 99.9% agree. Rewards (means of D over roll-outs) and losses agree to 1e-5 when the
tokens are the same; one optimiser step leaves weights within 1e-5 of eager's.
"""

import warnings

import pytest
import torch
from torch._dynamo.utils import counters

import seqgan_music.core.compiling as compiling
from seqgan_music.core.compiling import Compiled, cache_dir, resolve_compile
from seqgan_music.core.config import DiscriminatorConfig, GeneratorConfig, SeqGANConfig
from seqgan_music.core.discriminator import Discriminator
from seqgan_music.core.generator import Generator
from seqgan_music.core.rollout import rollout_rewards, sample_rollouts
from seqgan_music.core.trainer import SeqGANTrainer


def test_resolve_compile_settings():
    assert resolve_compile("on", 0) and resolve_compile(True, 0)
    assert not resolve_compile("off", 10**12) and not resolve_compile(False, 10**12)
    assert not resolve_compile("auto", compiling.AUTO_MIN_ROW_STEPS - 1)
    assert resolve_compile("auto", compiling.AUTO_MIN_ROW_STEPS)
    with pytest.raises(ValueError, match="compile must be one of"):
        resolve_compile("yes", 0)


def test_cache_dir_follows_the_project_cache_and_torch_variable(monkeypatch, tmp_path):
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    monkeypatch.setenv("SEQGAN_MUSIC_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path / "inductor"
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "torch"))
    assert cache_dir() == tmp_path / "torch"


def test_a_failed_compile_warns_once_and_runs_eagerly(monkeypatch):
    def broken(fn, **kwargs):
        def run(*args):
            raise RuntimeError("no C++ compiler\nsecond line")

        return run

    monkeypatch.setattr(torch, "compile", broken)
    double = Compiled(lambda x: 2 * x, "double")
    with pytest.warns(UserWarning, match="compile of double failed, running it eagerly") as got:
        assert double(torch.ones(2)).tolist() == [2.0, 2.0]
    assert len(got) == 1 and "second line" not in str(got[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert double(torch.ones(1)).tolist() == [2.0]  # eager from now on, no second warning
    assert double.failed


def test_trainer_resolves_auto_from_the_work_and_stores_it():
    cfg = SeqGANConfig(GeneratorConfig(12, 6, 8, 8), DiscriminatorConfig(12, 6, 8, ((2, 4),)))
    data = torch.randint(0, 12, (32, 6))
    assert not SeqGANTrainer(cfg.with_train(compile="auto"), data).compile  # tiny: not worth it
    big = cfg.with_train(compile="auto", adv_rounds=10**6)
    trainer = SeqGANTrainer(big, data)
    state = trainer.state_dict()
    assert trainer.compile and state["compile"] is True
    # auto compiles the sampling step alone: the losses stay eager (compiled D trained slower)
    import seqgan_music.core.trainer as trainer_mod

    def refuse(fn):
        raise AssertionError("auto compiled a loss")

    trainer_mod_compiled, trainer_mod.compiled = trainer_mod.compiled, refuse
    try:
        labels = torch.ones(4)
        trainer._loss(trainer.discriminator, "loss", data[:4], labels).backward()
    finally:
        trainer_mod.compiled = trainer_mod_compiled
    # the checkpoint says how the run computed
    assert state["world_size"] == 1 and state["threads"] == torch.get_num_threads()


# ---- compiled against eager (slow: each compile takes tens of seconds here) --------------------


def models(vocab: int, length: int) -> tuple[Generator, Discriminator]:
    torch.manual_seed(0)
    g = Generator(GeneratorConfig(vocab, length, emb_dim=8, hidden_dim=16))
    d = Discriminator(DiscriminatorConfig(vocab, length, emb_dim=8, filters=((2, 8), (3, 8))))
    return g, d


def rng(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.slow
def test_compiled_sampling_and_rewards_match_eager_small_vocabulary():
    g, d = models(20, 7)
    samples = g.sample(40, rng=rng(1))
    assert torch.equal(g.sample(40, rng=rng(1), compile=True), samples)
    rollouts = sample_rollouts(samples, g, 3, rng=rng(2))
    assert torch.equal(sample_rollouts(samples, g, 3, rng=rng(2), compile=True), rollouts)
    eager = rollout_rewards(samples, g, d, 3, rng=rng(3))
    fast = rollout_rewards(samples, g, d, 3, rng=rng(3), compile=True)
    torch.testing.assert_close(fast, eager, atol=1e-5, rtol=0)


@pytest.mark.slow
def test_compiled_two_level_sampler_draws_the_same_tokens():
    g, _ = models(600, 5)  # V >= 512: the blockwise search
    eager = g.sample(2000, rng=rng(4))
    fast = g.sample(2000, rng=rng(4), compile=True)
    assert (fast == eager).float().mean() >= 0.999


def tiny_compile_config(compile: str) -> SeqGANConfig:
    return SeqGANConfig(
        GeneratorConfig(12, 6, emb_dim=8, hidden_dim=8),
        DiscriminatorConfig(12, 6, emb_dim=8, filters=((2, 4), (3, 4))),
    ).with_train(batch_size=8, g_pretrain_epochs=1, d_pretrain_rounds=1, d_pretrain_epochs=1,
                 adv_rounds=3, d_steps=1, k_epochs=1, rollout_num=2, num_negatives=16, seed=3,
                 compile=compile)  # fmt: skip


def weights(trainer: SeqGANTrainer) -> list[torch.Tensor]:
    return [p.detach().clone() for m in (trainer.generator, trainer.discriminator)
            for p in m.state_dict().values()]  # fmt: skip


@pytest.mark.slow
def test_compiled_training_matches_eager_repeats_and_never_recompiles():
    data = torch.randint(0, 12, (32, 6), generator=rng(0))
    runs = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, setting in (("eager", "off"), ("compiled", "on"), ("again", "on")):
            trainer = SeqGANTrainer(tiny_compile_config(setting), data)
            trainer.run(max_units=3)  # MLE, D pre-training, the first adversarial round
            graphs = counters["stats"]["unique_graphs"]
            trainer.run()  # two more rounds: the same shapes, so no new graph
            assert counters["stats"]["unique_graphs"] == graphs
            runs[name] = trainer
    assert not [w for w in caught if "running it eagerly" in str(w.message)]  # all compiled
    eager, fast = runs["eager"], runs["compiled"]
    for a, b in zip(eager.history, fast.history, strict=True):
        for key, value in a["metrics"].items():
            assert b["metrics"][key] == pytest.approx(value, abs=1e-5), key
    for a, b in zip(weights(eager), weights(fast), strict=True):
        torch.testing.assert_close(b, a, atol=1e-5, rtol=0)
    # a seed repeats a compiled run exactly
    for a, b in zip(weights(fast), weights(runs["again"]), strict=True):
        assert torch.equal(a, b)
