"""The precision setting: resolution of "auto", the config field, checkpoints, exact repeats."""

import pytest
import torch

from seqgan_music.core.config import DiscriminatorConfig, GeneratorConfig, SeqGANConfig, TrainConfig
from seqgan_music.core.precision import autocast, fast_bf16, resolve_precision
from seqgan_music.core.trainer import SeqGANTrainer

V, T = 12, 6


def tiny(**train) -> SeqGANConfig:
    schedule = dict(batch_size=8, g_pretrain_epochs=1, d_pretrain_rounds=1, d_pretrain_epochs=1,
                    adv_rounds=2, d_steps=1, k_epochs=1, rollout_num=2, num_negatives=16,
                    eval_every=1, seed=3)  # fmt: skip
    schedule.update(train)
    return SeqGANConfig(
        GeneratorConfig(V, T, emb_dim=8, hidden_dim=8),
        DiscriminatorConfig(V, T, emb_dim=8, filters=((2, 4), (3, 4))),
    ).with_train(**schedule)


def data() -> torch.Tensor:
    return torch.randint(0, V, (32, T), generator=torch.Generator().manual_seed(0))


def weights(trainer: SeqGANTrainer) -> list[torch.Tensor]:
    return [p.detach().clone() for m in (trainer.generator, trainer.discriminator)
            for p in m.state_dict().values()]  # fmt: skip


def test_resolution():
    assert resolve_precision("fp32", "cpu") == "fp32"
    assert resolve_precision("bf16", "cpu") == "bf16"
    assert resolve_precision("auto", "cpu") == ("bf16" if fast_bf16("cpu") else "fp32")
    with pytest.raises(ValueError, match="precision"):
        resolve_precision("fp16", "cpu")
    with pytest.raises(ValueError, match="precision"):
        TrainConfig(precision="half")
    assert TrainConfig().precision == "fp32"  # what checkpoints without the field load as


def test_autocast_switch():
    with autocast("bf16", "cpu"):
        assert torch.is_autocast_enabled("cpu")
    with autocast("fp32", "cpu"):
        assert not torch.is_autocast_enabled("cpu")


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_seeded_runs_repeat_exactly_in_each_precision(precision):
    first = SeqGANTrainer(tiny(precision=precision), data())
    first.run()
    second = SeqGANTrainer(tiny(precision=precision), data())
    second.run()
    assert all(torch.equal(a, b) for a, b in zip(weights(first), weights(second), strict=True))
    assert first.history == second.history
    assert all(p.dtype == torch.float32 for p in first.discriminator.parameters())  # master fp32


def test_bf16_changes_the_numbers_but_not_the_weights_dtype():
    fp32 = SeqGANTrainer(tiny(precision="fp32"), data())
    fp32.run()
    bf16 = SeqGANTrainer(tiny(precision="bf16"), data())
    bf16.run()
    assert any(not torch.equal(a, b) for a, b in zip(weights(fp32), weights(bf16), strict=True))
    state = bf16.d_opt.state_dict()["state"]
    assert all(s["exp_avg"].dtype == torch.float32 for s in state.values())


def test_checkpoint_keeps_the_precision_and_old_ones_load_as_fp32(tmp_path):
    path = tmp_path / "run.pt"
    trainer = SeqGANTrainer(tiny(precision="auto"), data())
    trainer.run(path, max_units=1)
    state = torch.load(path, weights_only=True)
    assert state["precision"] == trainer.precision == resolve_precision("auto", "cpu")
    assert state["config"]["train"]["precision"] == "auto"
    state["precision"] = "fp32"  # a run that resolved auto elsewhere keeps its choice on resume
    torch.save(state, path)
    assert SeqGANTrainer.load(path, data()).precision == "fp32"
    del state["precision"], state["config"]["train"]["precision"]  # written before the field
    torch.save(state, path)
    old = SeqGANTrainer.load(path, data())
    assert old.config.train.precision == "fp32" and old.precision == "fp32"
