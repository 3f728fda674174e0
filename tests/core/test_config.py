"""Config dataclasses: JSON round trip and one-line ValueErrors for bad TrainConfig values."""

import pytest

from seqgan_music.core.config import SeqGANConfig, TrainConfig, paper_synthetic


def test_round_trip_through_plain_dicts():
    config = paper_synthetic(100, 8).with_train(adv_rounds=3, baseline=True)
    assert SeqGANConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("override, message", [
    ({"batch_size": "abc"}, "batch_size must be of type int, not 'abc'"),
    ({"batch_size": 2.5}, "batch_size must be of type int"),
    ({"adv_rounds": True}, "adv_rounds must be of type int"),
    ({"update_rate": "0.5"}, "update_rate must be of type float"),
    ({"baseline": 1}, "baseline must be of type bool"),
    ({"mode": "gan"}, "mode must be 'seqgan' or 'mle'"),
    ({"update_rate": 1.5}, r"update_rate must be in \[0, 1\]"),
    ({"eval_every": 0}, "eval_every must be at least 1"),
    ({"num_negatives": -3}, "num_negatives must be at least 0"),
    ({"rollout_num": 0}, "rollout_num must be at least 1"),
    ({"temperature": 0}, "temperature must be positive"),
    ({"g_lr": -0.1}, "g_lr must be positive"),
])  # fmt: skip
def test_bad_train_values_are_one_line_value_errors(override, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**override)
    with pytest.raises(ValueError, match="unknown train setting"):
        paper_synthetic().with_train(adv_round=3)


def test_ints_are_accepted_for_float_fields():
    assert TrainConfig(update_rate=0, g_lr=1).update_rate == 0
