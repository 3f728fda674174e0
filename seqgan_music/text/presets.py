"""The text domain's named configurations: `default`, `paper` (core.config) and `tiny`."""

from __future__ import annotations

from seqgan_music.core.config import (
    COMPACT_FILTERS,
    DiscriminatorConfig,
    GeneratorConfig,
    SeqGANConfig,
    TrainConfig,
    paper_synthetic,
    tiny,
)
from seqgan_music.core.domain import Preset

# The text default was tuned with the same compact discriminator as music (README, text results).
TEXT_FILTERS = COMPACT_FILTERS


def text_default(vocab_size: int, seq_len: int) -> SeqGANConfig:
    return SeqGANConfig(
        GeneratorConfig(vocab_size, seq_len, emb_dim=64, hidden_dim=128),
        DiscriminatorConfig(vocab_size, seq_len, emb_dim=64, filters=TEXT_FILTERS),
        TrainConfig(
            g_pretrain_epochs=5,  # validation NLL is lowest at epoch 4-5 on poems and speeches
            d_pretrain_rounds=5,
            d_pretrain_epochs=2,
            adv_rounds=20,
            d_steps=2,
            k_epochs=1,
            rollout_num=8,
            pg_lr=0.01,  # beat 1e-3 on the poems' validation BLEU, tied on the speeches'
            eval_every=1,
            # keep the round better than the pre-trained G on all three BLEUs by most (valid split)
            select_on="valid_bleu2,valid_bleu3,valid_bleu4",
            precision="auto",
            compile="auto",
        ),
    )


PRESETS: dict[str, Preset] = {"default": text_default, "paper": paper_synthetic, "tiny": tiny}
