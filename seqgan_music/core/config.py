"""Configuration as small frozen dataclasses with JSON-native fields (saved in every checkpoint).

Names follow the paper and its code (g_steps, d_steps, k_epochs, rollout_num, update_rate) so a
reader can check them against Algorithm 1. `SeqGANConfig.to_dict()` / `from_dict()` round-trip
through plain dicts, which load under `torch.load(weights_only=True)`.
"""

from __future__ import annotations

import math
import operator
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from seqgan_music.errors import ConfigError

# The paper's synthetic-data discriminator (Appendix / original code): (window, filters) pairs.
PAPER_FILTERS: tuple[tuple[int, int], ...] = (
    (1, 100), (2, 200), (3, 200), (4, 200), (5, 200), (6, 100),
    (7, 100), (8, 100), (9, 100), (10, 100), (15, 160), (20, 160),
)  # fmt: skip

# A compact discriminator: 256 filters (about a quarter of the paper's) over windows from two
# tokens to 32, for the domains' default presets, where D dominates roll-out and D training cost.
COMPACT_FILTERS: tuple[tuple[int, int], ...] = (
    (2, 32), (3, 32), (4, 32), (5, 32), (8, 32), (12, 32), (16, 32), (24, 16), (32, 16),
)  # fmt: skip


# The largest model size a config may ask for: far beyond any run here, and small enough that a
# checkpoint with absurd sizes fails with a message instead of trying to allocate terabytes.
MAX_SIZE = 1 << 24  # vocabulary, sequence length, embedding, hidden or filter count

# The most memory one of training's largest tensors may ask for: the roll-out batch (Eq. 4's
# (T-1) x N x B continuations of T tokens) and a batch's (B, T, V) logits. Far beyond the presets
# (the paper's roll-outs: 3 MB), and small enough that `--set rollout_num=1000000000` is a
# one-line error instead of a request for terabytes.
MAX_WORKING_BYTES = 8 * 10**9


def _size(name: str, value: Any) -> int:
    """`value` as a plain int in 1..MAX_SIZE (numpy integers too), else a ConfigError."""
    try:
        number = operator.index(value)
    except TypeError:
        number = None
    if number is None or isinstance(value, bool):
        raise ConfigError(f"{name} must be an integer, not {value!r}")
    if not 1 <= number <= MAX_SIZE:
        raise ConfigError(f"{name} must be in 1..{MAX_SIZE}, not {number}")
    return number


def _check_sizes(config: object, names: tuple[str, ...]) -> None:
    """Validate and canonicalise (plain ints, as checkpoints need) the size fields."""
    for name in names:
        object.__setattr__(config, name, _size(name, getattr(config, name)))


@dataclass(frozen=True)
class GeneratorConfig:
    """G_theta: embedding -> LSTM -> linear (Eqs. 9-10). A separate start embedding feeds step 1."""

    vocab_size: int
    seq_len: int
    emb_dim: int = 32
    hidden_dim: int = 32
    conditions: int = 1  # start tokens, one per condition id a domain names (1: unconditioned)

    def __post_init__(self) -> None:
        _check_sizes(self, ("vocab_size", "seq_len", "emb_dim", "hidden_dim", "conditions"))


@dataclass(frozen=True)
class DiscriminatorConfig:
    """D_phi (Eqs. 11-12): CNN over (window, filters) pairs; windows longer than seq_len drop."""

    vocab_size: int
    seq_len: int
    emb_dim: int = 64
    filters: tuple[tuple[int, int], ...] = PAPER_FILTERS
    dropout: float = 0.25  # keep probability 0.75, as in the original code
    l2_reg: float = 0.2  # the original's L2 on its two-way output layer (one logit: half, see loss)
    conditions: int = 1  # > 1: a projection per condition id beside the output (core/discriminator)

    def __post_init__(self) -> None:
        _check_sizes(self, ("vocab_size", "seq_len", "emb_dim", "conditions"))
        try:  # JSON round trips give lists; keep the field hashable and canonical.
            filters = tuple((_size("filter window", w), _size("filter count", n))
                            for w, n in self.filters)  # fmt: skip
        except (TypeError, ValueError) as err:
            raise ConfigError(f"filters must be (window, count) pairs: {err}") from err
        object.__setattr__(self, "filters", filters)
        if not 0.0 <= self.dropout < 1.0 or not self.l2_reg >= 0.0:
            raise ConfigError(f"dropout must be in [0, 1) and l2_reg >= 0, not "
                              f"{self.dropout}, {self.l2_reg}")  # fmt: skip

    @property
    def active_filters(self) -> tuple[tuple[int, int], ...]:
        return tuple((w, n) for w, n in self.filters if w <= self.seq_len)


# The smallest value of each integer TrainConfig field (0 for pg_batch_size and num_negatives
# means "as many as batch_size / the positives").
_TRAIN_MINIMUM = {
    "batch_size": 1, "g_pretrain_epochs": 0, "d_pretrain_rounds": 0, "d_pretrain_epochs": 0,
    "adv_rounds": 0, "g_steps": 1, "d_steps": 1, "k_epochs": 1, "rollout_num": 1,
    "pg_batch_size": 0, "num_negatives": 0, "eval_every": 1, "d_every": 1,
}  # fmt: skip


def selection_metrics(select_on: str) -> list[str]:
    """The metric names of a `select_on` setting, each with its leading '-' if it has one."""
    return [item.strip() for item in select_on.split(",") if item.strip()]


@dataclass(frozen=True)
class TrainConfig:
    """Algorithm 1's schedule and optimisation settings. Defaults are the paper's synthetic run."""

    batch_size: int = 64
    # MLE pre-training of G
    g_pretrain_epochs: int = 120
    g_lr: float = 0.01
    # end G pre-training with the epoch of lowest validation NLL (early stopping on the valid
    # split; needs an evaluator that reports valid_nll, else the last epoch is kept)
    g_early_stop: bool = True
    # D pre-training: rounds of fresh negatives, d_pretrain_epochs epochs each
    d_pretrain_rounds: int = 50
    d_pretrain_epochs: int = 3
    d_lr: float = 1e-4
    # adversarial training (Algorithm 1)
    adv_rounds: int = 200
    g_steps: int = 1
    d_steps: int = 5
    k_epochs: int = 3
    rollout_num: int = 16
    update_rate: float = 0.8  # beta <- r*beta + (1-r)*theta; 0 = roll out with the current G
    pg_lr: float = 0.01
    grad_clip: float = 5.0
    pg_batch_size: int = 0  # sequences per PG step; 0 = batch_size
    num_negatives: int = 0  # negatives per D round; 0 = as many as positives
    baseline: bool = False  # subtract the mean reward per step (off: faithful to the paper)
    # Remedies for the adversarial phase (issue #22, core/regularisers.py); each default is off.
    entropy_bonus: float = 0.0  # PG loss minus this * G's entropy per step (summed over steps)
    kl_coef: float = 0.0  # PG loss plus this * KL(G || the frozen G the phase started from)
    reward_norm: str = "none"  # "none"; "std": z-score per step; "maligan": r/(1-r) normalised
    d_label_smoothing: float = 0.0  # D trains on real labels 1 - this (one-sided)
    d_noise: float = 0.0  # each token D trains on is replaced by a random one with this chance
    d_every: int = 1  # the adversarial phase trains D in one round of every d_every
    d_weight_decay: float = 0.0  # L2 on all of D's weights (Adam's); l2_reg: its output layer only
    # ColdGANs (Scialom et al. 2020): draw the PG batch at this lower temperature, each step's
    # gradient weighted by min(G_T(y_t) / G_cold(y_t), pg_is_clip); 0 = draw at `temperature`
    pg_temperature: float = 0.0
    pg_is_clip: float = 5.0
    temperature: float = 1.0
    mode: str = "seqgan"  # "seqgan", or "mle": the adversarial phase becomes MLE epochs (baseline)
    eval_every: int = 5  # evaluate callback every this many epochs/rounds
    # Keep the round of the adversarial phase (or of the MLE branch's epochs) with the best
    # validation scores, as G pre-training keeps its best epoch: comma-separated metrics the
    # evaluator reports, "-name" where lower is better (e.g. "valid_bleu4,-valid_mse"). A round's
    # score is the smallest relative gain over the phase's starting G among them; empty (the
    # paper's protocol) keeps the last round.
    select_on: str = ""
    seed: int = 0
    # "fp32", "bf16" (autocast-style mixed precision) or "auto" (bf16 where the device has fast
    # bf16 matmul); fp32 here so checkpoints written before the field existed load as fp32.
    precision: str = "fp32"
    # torch.compile of the hot paths: "auto", "on" or "off" (core/runtime.py, `--compile`; what it
    # compiles and when auto does: core/compiling.py); off here so checkpoints written before the
    # field existed load as they ran.
    compile: str = "off"
    # "on": G starts each window from its condition's start token (the domain names the
    # conditions and gives every window one, e.g. music's metre and mode; core/trainer.py);
    # off here so checkpoints written before the field existed load as they ran.
    conditions: str = "off"
    # with conditions on: D judges each sequence with its condition id too (a projection
    # discriminator, Miyato & Koyama 2018); off: D sees the tokens alone
    d_conditions: bool = False
    # With several ranks: send D's gradient buckets as bfloat16 (half the bytes; the sum then
    # rounds to bf16's 8 bits of mantissa), core/distributed.py's GradientExchange.
    grad_bf16: bool = False

    def __post_init__(self) -> None:
        # Values arrive from `--set NAME=VALUE`, TOML and checkpoints: check the type first, so a
        # bad value is a one-line ConfigError here, not a TypeError or a ZeroDivisionError mid-run.
        for f in fields(self):
            value, kind = getattr(self, f.name), type(f.default)
            ok = isinstance(value, (int, float)) if kind is float else isinstance(value, kind)
            if not ok or (kind is not bool and isinstance(value, bool)):
                raise ConfigError(f"{f.name} must be of type {kind.__name__}, not {value!r}")
            if kind is float and not math.isfinite(value):
                raise ConfigError(f"{f.name} must be a finite number, not {value!r}")
        if self.mode not in ("seqgan", "mle"):
            raise ConfigError(f"mode must be 'seqgan' or 'mle', not {self.mode!r}")
        if not 0.0 <= self.update_rate <= 1.0:
            raise ConfigError(f"update_rate must be in [0, 1], not {self.update_rate}")
        if self.reward_norm not in ("none", "std", "maligan"):
            raise ConfigError(f"reward_norm must be none, std or maligan, not {self.reward_norm!r}")
        if not (self.entropy_bonus >= 0 and self.kl_coef >= 0 and 0 <= self.d_noise < 1
                and 0 <= self.d_label_smoothing < 0.5):  # fmt: skip
            raise ConfigError(f"entropy_bonus, kl_coef must be >= 0, d_noise in [0, 1), "
                              f"d_label_smoothing in [0, 0.5), not {self.entropy_bonus}, "
                              f"{self.kl_coef}, {self.d_noise}, "
                              f"{self.d_label_smoothing}")  # fmt: skip
        if not (self.d_weight_decay >= 0 and self.pg_temperature >= 0 and self.pg_is_clip >= 1):
            raise ConfigError(f"d_weight_decay and pg_temperature must be >= 0 and pg_is_clip "
                              f">= 1, not {self.d_weight_decay}, {self.pg_temperature}, "
                              f"{self.pg_is_clip}")  # fmt: skip
        if self.precision not in ("fp32", "bf16", "auto"):
            raise ConfigError(f"precision must be fp32, bf16 or auto, not {self.precision!r}")
        if self.compile not in ("auto", "on", "off"):
            raise ConfigError(f"compile must be auto, on or off, not {self.compile!r}")
        if self.conditions not in ("on", "off"):
            raise ConfigError(f"conditions must be on or off, not {self.conditions!r}")
        if self.d_conditions and self.conditions != "on":
            raise ConfigError("d_conditions needs conditions=on")
        if any(not n.lstrip("-").isidentifier() for n in selection_metrics(self.select_on)):
            raise ConfigError(f"select_on must be comma-separated metric names, each optionally "
                              f"with a leading '-', not {self.select_on!r}")  # fmt: skip
        for name, low in _TRAIN_MINIMUM.items():
            if getattr(self, name) < low:
                raise ConfigError(f"{name} must be at least {low}, not {getattr(self, name)}")
        for name in ("g_lr", "d_lr", "pg_lr", "grad_clip", "temperature"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be positive, not {getattr(self, name)}")


def _gigabytes(n: float) -> str:
    return f"{n / 1e9:,.1f} GB" if n >= 1e8 else f"{n / 1e6:,.1f} MB"


@dataclass(frozen=True)
class SeqGANConfig:
    generator: GeneratorConfig
    discriminator: DiscriminatorConfig
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        for what, need, fix in self.working_memory():
            if need > MAX_WORKING_BYTES:
                raise ConfigError(
                    f"{what} would take {_gigabytes(need)} (at most "
                    f"{_gigabytes(MAX_WORKING_BYTES)}): lower {fix}"
                )

    def working_memory(self) -> list[tuple[str, int, str]]:
        """(what, bytes, settings to lower) of training's largest tensors under this config."""
        g, tc = self.generator, self.train
        T, pg_batch = g.seq_len, tc.pg_batch_size or tc.batch_size
        rows = max(T - 1, 1) * tc.rollout_num * pg_batch  # roll-outs: (T-1) x N x B of them
        return [
            (f"the roll-outs of rollout_num={tc.rollout_num} x {pg_batch} samples x {T} steps",
             rows * T * 8 + rows * g.hidden_dim * 4 * 2, "rollout_num or pg_batch_size"),
            (f"a batch of batch_size={tc.batch_size} x {T} steps x {g.vocab_size} logits",
             tc.batch_size * T * g.vocab_size * 4 * 3, "batch_size"),
            (f"the negatives of num_negatives={tc.num_negatives} x {T} steps",
             tc.num_negatives * T * 8 * 2, "num_negatives"),
        ]  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["discriminator"]["filters"] = [list(p) for p in self.discriminator.filters]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SeqGANConfig:
        """Inverse of `to_dict`; a missing, unknown or ill-typed field is a ConfigError."""
        try:
            return cls(
                generator=GeneratorConfig(**d["generator"]),
                discriminator=DiscriminatorConfig(**d["discriminator"]),
                train=TrainConfig(**d.get("train", {})),
            )
        except (KeyError, TypeError, AttributeError) as err:
            raise ConfigError(f"not a SeqGAN config ({type(err).__name__}: {err})") from err

    def with_train(self, **overrides: Any) -> SeqGANConfig:
        """A copy with TrainConfig fields replaced (unknown names are an error)."""
        check_train_names(overrides)
        return replace(self, train=replace(self.train, **overrides))


def check_train_names(overrides: dict[str, Any]) -> None:
    """Every name in `overrides` is a TrainConfig field (else a ConfigError naming the others)."""
    unknown = set(overrides) - {f.name for f in fields(TrainConfig)}
    if unknown:
        raise ConfigError(f"unknown train setting(s): {', '.join(sorted(unknown))}")


def paper_synthetic(vocab_size: int = 5000, seq_len: int = 20) -> SeqGANConfig:
    """The paper's synthetic experiment: G emb/hidden 32, the 12-window D, Algorithm 1's numbers."""
    return SeqGANConfig(
        GeneratorConfig(vocab_size, seq_len, emb_dim=32, hidden_dim=32),
        DiscriminatorConfig(vocab_size, seq_len, emb_dim=64, filters=PAPER_FILTERS),
        TrainConfig(precision="auto", compile="auto"),
    )


def tiny(vocab_size: int, seq_len: int) -> SeqGANConfig:
    """A seconds-long smoke run for any domain (tests, a first try of a command)."""
    return SeqGANConfig(
        GeneratorConfig(vocab_size, seq_len, emb_dim=8, hidden_dim=16),
        DiscriminatorConfig(vocab_size, seq_len, emb_dim=8, filters=((2, 8), (3, 8))),
        TrainConfig(batch_size=32, g_pretrain_epochs=2, d_pretrain_rounds=1, d_pretrain_epochs=1,
                    adv_rounds=2, d_steps=1, k_epochs=1, rollout_num=2, eval_every=1,
                    precision="auto", compile="auto"),
    )  # fmt: skip
