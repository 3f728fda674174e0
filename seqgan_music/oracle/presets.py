"""The oracle experiment's presets: `paper` (the paper's synthetic run), `cpu` (a shared 2-core
CPU, about 20 minutes) and `tiny` (seconds), each with how many oracle samples it uses."""

from __future__ import annotations

from dataclasses import dataclass

from seqgan_music.core.config import (
    DiscriminatorConfig,
    GeneratorConfig,
    SeqGANConfig,
    TrainConfig,
    paper_synthetic,
)
from seqgan_music.core.domain import Preset

SEQ_LEN = 20  # the paper's synthetic sequence length

# A lighter discriminator for the CPU oracle run: the same windows up to 20, 50 filters each
# (about 4x fewer multiply-adds than PAPER_FILTERS; D dominates the adversarial round's cost).
ORACLE_CPU_FILTERS: tuple[tuple[int, int], ...] = (
    (1, 50), (2, 50), (3, 50), (4, 50), (5, 50), (10, 50), (15, 50), (20, 50),
)  # fmt: skip


@dataclass(frozen=True)
class OracleRun:
    """Sizes of one experiment: training samples, samples per curve point, samples at the end."""

    n_train: int = 10_000
    n_eval: int = 10_000
    n_final: int = 10_000


def oracle_cpu(vocab_size: int = 5000, seq_len: int = SEQ_LEN) -> SeqGANConfig:
    """The synthetic experiment cut to fit a shared 2-core CPU (about 20 minutes): the paper's G, a
    lighter D, 20 MLE epochs, 5 D pre-training rounds, then 25 adversarial rounds of (1 PG step
    with 16 roll-outs, G_beta update at rate 0.8, 1 x (3,000 fresh negatives, 2 epochs) of D).
    The paper trains D far more per round (5 x (10,000 negatives, 3 epochs))."""
    return SeqGANConfig(
        GeneratorConfig(vocab_size, seq_len, emb_dim=32, hidden_dim=32),
        DiscriminatorConfig(vocab_size, seq_len, emb_dim=64, filters=ORACLE_CPU_FILTERS),
        TrainConfig(
            g_pretrain_epochs=20,
            d_pretrain_rounds=5,
            d_pretrain_epochs=1,
            adv_rounds=25,
            g_steps=1,
            d_steps=1,
            k_epochs=2,
            rollout_num=16,
            num_negatives=3000,
            eval_every=2,
            precision="auto",
            compile="auto",
        ),
    )


def oracle_tiny(vocab_size: int, seq_len: int) -> SeqGANConfig:
    """Seconds-long smoke run (tests, first try of the command)."""
    return SeqGANConfig(
        GeneratorConfig(vocab_size, seq_len, emb_dim=16, hidden_dim=16),
        DiscriminatorConfig(vocab_size, seq_len, emb_dim=16, filters=((2, 16), (4, 16))),
        TrainConfig(batch_size=32, g_pretrain_epochs=2, d_pretrain_rounds=1, d_pretrain_epochs=1,
                    adv_rounds=2, d_steps=1, k_epochs=1, rollout_num=2, eval_every=1,
                    precision="auto"),
    )  # fmt: skip


# name -> config for (vocab_size, seq_len). The CPU preset scores curve points on 1,000 samples
# to save time; every preset's final comparison uses 10,000 samples as the paper.
PRESETS: dict[str, Preset] = {"paper": paper_synthetic, "cpu": oracle_cpu, "tiny": oracle_tiny}
SIZES: dict[str, OracleRun] = {
    "paper": OracleRun(),
    "cpu": OracleRun(n_eval=1_000),
    "tiny": OracleRun(n_train=256, n_eval=128, n_final=256),
}
