"""Algorithm 1 of the paper: MLE pre-training of G, pre-training of D, then adversarial rounds.

This file knows nothing of music or text: it trains on an (n, T) LongTensor of positive examples.
Training is cut into *units* (one MLE epoch, one D pre-training round, one adversarial round); after
each unit the trainer reports a `TrainEvent` through the callback and may save a checkpoint.

Exact resume: every unit draws all its randomness (shuffles, samples, roll-outs, dropout) from
generators seeded by (seed, phase, step), so a run cut anywhere and resumed from its checkpoint
repeats the uninterrupted run bit for bit on CPU. The caller's global RNG state is left untouched.

Conditions: with `config.generator.conditions` = C > 1 every positive has a condition id (a
domain names them: a metre and mode, say). MLE reads each window from its condition's start
token; the adversarial phase draws the PG batch's and D's negatives' ids as the positives' are
distributed (a random positive's id, from the unit's stream), and G_beta rolls each sample out
under its own id. By default D judges the tokens alone (a conditioned G that ignored its
condition would still fool it; MLE is what teaches the condition, and the PG reward keeps the
samples real); with `d_conditions` it judges each positive under its window's id, each negative
and roll-out under the id G drew it with. At C = 1 no id is drawn: every stream is the
unconditioned one.

Data parallel (torchrun, `core.distributed`): every rank holds the same G, D and G_beta and draws
the same shuffles from the unit's shared stream; each global minibatch is split between the ranks,
and so are each D round's fresh negatives and the policy-gradient batch with its roll-outs, drawn
from a per-rank stream seeded by (seed, phase, step, rank). Gradients are averaged over the ranks
before every optimiser step (D's in buckets while its backward runs: `GradientExchange`). At
world size 1 all of this is skipped: the streams are today's.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from seqgan_music.core import distributed
from seqgan_music.core.checkpoint import (
    check_models,
    check_training_state,
    read_checkpoint,
    save_checkpoint,
)
from seqgan_music.core.compiling import compiled, resolve_compile
from seqgan_music.core.config import GeneratorConfig, SeqGANConfig
from seqgan_music.core.discriminator import Discriminator
from seqgan_music.core.generator import Generator
from seqgan_music.core.precision import adam, autocast, resolve_precision
from seqgan_music.core.regularisers import (
    cold_weights,
    entropy_and_kl,
    shape_rewards,
    smoothed_labels,
    step_log_softmax,
    token_noise,
)
from seqgan_music.core.rollout import RolloutPolicy, rollout_rewards
from seqgan_music.core.sampling import sample_in_chunks
from seqgan_music.core.selection import EarlyStopping, RoundSelection
from seqgan_music.errors import CheckpointError, ConfigError

PHASES = ("g_pretrain", "d_pretrain", "adversarial", "done")
DIAG_SAMPLES = 256  # held-out positives and fresh negatives scored for D's accuracy per round


@dataclass
class TrainEvent:
    """What the trainer reports after each unit; `step` counts units done in this phase."""

    phase: str
    step: int
    total: int
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0  # the unit's wall time (for progress bars; not in history or metrics)


def pretrained_path(checkpoint_path: str | Path) -> Path:
    """Where the checkpoint taken right after G and D pre-training is written."""
    path = Path(checkpoint_path)
    return path.with_name(f"{path.stem}-pretrained.pt")


def checkpoint_generator(payload: dict[str, Any], device: str | torch.device = "cpu") -> Generator:
    """Rebuild just G (eval mode) from a loaded checkpoint payload, for composing or evaluating."""
    generator = Generator(GeneratorConfig(**payload["config"]["generator"]))
    generator.load_state_dict(payload["generator"])
    return generator.to(device).eval()


def _checked_conditions(
    conditions: Tensor | None, train_data: Tensor, config: SeqGANConfig
) -> Tensor | None:
    """The positives' condition ids as an (n,) int64 tensor in 0..C-1, or None at C = 1 (ids
    given to an unconditioned config are not used); a conditioned config needs them."""
    count = config.generator.conditions
    if count == 1:
        return None
    if conditions is None:
        raise ConfigError(f"the generator has {count} conditions: give each training window's "
                          "condition id")  # fmt: skip
    conditions = torch.as_tensor(conditions, dtype=torch.long).reshape(-1)
    if len(conditions) != len(train_data):
        raise ConfigError(f"{len(conditions)} condition ids for {len(train_data)} windows")
    if len(conditions) and not 0 <= int(conditions.min()) <= int(conditions.max()) < count:
        raise ConfigError(f"condition ids must be in 0..{count - 1}, not "
                          f"{int(conditions.min())}..{int(conditions.max())}")  # fmt: skip
    return conditions


def _unit_seed(seed: int, phase: str, step: int) -> int:
    """A seed for one unit; hashing keeps units' streams unrelated (no seed+1 overlaps)."""
    digest = hashlib.sha256(f"{seed}:{phase}:{step}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1  # fits a signed 64-bit manual_seed


class SeqGANTrainer:
    """Runs Algorithm 1 unit by unit, with checkpoints that resume exactly."""

    def __init__(
        self,
        config: SeqGANConfig,
        train_data: Tensor,
        *,
        device: str | torch.device = "cpu",
        callback: Callable[[TrainEvent], None] | None = None,
        evaluate: Callable[[Generator], dict[str, float]] | None = None,
        metadata: dict[str, Any] | None = None,
        valid_data: Tensor | None = None,
        train_conditions: Tensor | None = None,
        valid_conditions: Tensor | None = None,
    ) -> None:
        if train_data.dim() != 2 or train_data.dtype != torch.long:
            raise ConfigError(f"train_data must be an (n, T) int64 tensor, got {train_data.dtype} "
                             f"{tuple(train_data.shape)}")  # fmt: skip
        vocab, seq_len = config.generator.vocab_size, config.generator.seq_len
        if train_data.shape[1] != seq_len:
            raise ConfigError(f"train_data has sequences of {train_data.shape[1]} tokens, the "
                             f"config {seq_len}")  # fmt: skip
        low, high = (int(train_data.min()), int(train_data.max())) if train_data.numel() else (0, 0)
        if not 0 <= low <= high < vocab:  # e.g. resumed on a corpus whose vocabulary has grown
            raise ConfigError(f"train_data holds ids {low}..{high}, outside the config's "
                             f"vocabulary 0..{vocab - 1}")  # fmt: skip
        self.config = config
        self.device = torch.device(device)
        # (n,) condition id of each positive; None when unconditioned (C = 1)
        self.train_conditions = _checked_conditions(train_conditions, train_data, config)
        if self.train_conditions is not None:
            self.train_conditions = self.train_conditions.to(self.device)
        # "auto" resolved once here; a resumed run keeps the checkpoint's (load_state_dict)
        self.precision = resolve_precision(config.train.precision, self.device)
        self.compile = resolve_compile(config.train.compile, self._row_steps(len(train_data)))
        self.train_data = train_data.to(self.device)
        self.callback, self.evaluate = callback, evaluate
        # held-out positives for D's accuracy per round (a diagnostic; never trained on)
        self.valid_data = None if valid_data is None else valid_data[:DIAG_SAMPLES].to(self.device)
        self.valid_conditions = None  # their ids, which a conditioned D judges them under
        if valid_conditions is not None:
            self.valid_conditions = valid_conditions[:DIAG_SAMPLES].to(self.device)
        self.metadata = dict(metadata or {})
        with self._seeded("init", 0):
            self.generator = Generator(config.generator).to(self.device)
            self.discriminator = Discriminator(config.discriminator).to(self.device)
        tc = config.train
        # Separate Adam instances for MLE and policy gradient, as the original code.
        self.g_mle_opt = adam(self.generator.parameters(), tc.g_lr)
        self.g_pg_opt = adam(self.generator.parameters(), tc.pg_lr)
        self.d_opt = adam(self.discriminator.parameters(), tc.d_lr, tc.d_weight_decay)
        # D's gradients (the paper D's 27 MB) are averaged in buckets while backward runs
        self.d_exchange = distributed.GradientExchange(
            self.discriminator.parameters(), bf16=tc.grad_bf16
        )
        self.rollout = RolloutPolicy(self.generator)
        # with `kl_coef`: a frozen copy of G as the adversarial phase began (the pre-trained G)
        self.reference: Generator | None = None
        self.pg_terms: dict[str, Tensor] = {}  # entropy / KL summed over a round's PG steps
        self.phase, self.step = "g_pretrain", 0
        self.history: list[dict[str, Any]] = []
        # which G each phase ends with (core/selection.py): the G pre-training epoch with the
        # lowest valid_nll, and with `select_on` the best adversarial round
        self.early_stop = EarlyStopping()
        self.selection = RoundSelection(tc.select_on)
        self.rank_rng = torch.Generator(device=self.device)  # set per unit by _run_unit

    def _row_steps(self, positives: int) -> int:
        """How many (row, step) pairs the whole run samples (roll-outs and negatives): what
        `compile = "auto"` weighs against the cost of compiling."""
        tc, length = self.config.train, self.config.generator.seq_len
        batch, negatives = tc.pg_batch_size or tc.batch_size, tc.num_negatives or positives
        rollouts = batch * tc.rollout_num * (length - 1) * (length - 2) // 2
        per_round = tc.g_steps * rollouts + tc.d_steps * negatives * length
        rounds = tc.adv_rounds if tc.mode == "seqgan" else 0
        return rounds * per_round + tc.d_pretrain_rounds * negatives * length

    def _loss(self, model: torch.nn.Module, method: str, *args: Any) -> Tensor:
        """model.method(*args) (a loss), through torch.compile only under compile = "on": compiled,
        the paper D trained at 770 samples/s against 1,022 eager (bf16, docs/speed.md), so
        "auto" compiles the sampling step alone."""
        if not (self.compile and self.config.train.compile == "on"):
            return getattr(model, method)(*args)
        return compiled(getattr(type(model), method))(model, *args)

    # ---- randomness -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _seeded(self, phase: str, step: int) -> Iterator[None]:
        """Seed the global RNG (dropout, init) for this unit inside a fork, restored on exit."""
        devices = []
        if self.device.type == "cuda":
            devices = [torch.cuda.current_device() if self.device.index is None
                       else self.device.index]  # fmt: skip
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(_unit_seed(self.config.train.seed, phase, step))
            yield

    def _autocast(self) -> contextlib.AbstractContextManager[None]:
        """bf16 autocast around forward passes when the run's precision is bf16."""
        return autocast(self.precision, self.device)

    def _rng(self, phase: str, step: int) -> torch.Generator:
        """The explicit generator for this unit's shuffles, samples and roll-outs."""
        seed = _unit_seed(self.config.train.seed, phase + "/rng", step)
        return torch.Generator(device=self.device).manual_seed(seed)

    def _rank_rng(self, phase: str, step: int, shared: torch.Generator) -> torch.Generator:
        """This rank's stream for samples, negatives and roll-outs: the unit's shared generator
        at world size 1 (today's stream), else one seeded by (seed, phase, step, rank)."""
        if distributed.world_size() == 1:
            return shared
        tag = f"{phase}/rng/rank{distributed.rank()}"
        return torch.Generator(device=self.device).manual_seed(
            _unit_seed(self.config.train.seed, tag, step)
        )

    # ---- the schedule -----------------------------------------------------------------------

    def phase_total(self, phase: str) -> int:
        """How many units `phase` has under the current config."""
        tc = self.config.train
        totals = {"g_pretrain": tc.g_pretrain_epochs, "d_pretrain": tc.d_pretrain_rounds,
                  "adversarial": tc.adv_rounds, "done": 0}  # fmt: skip
        return totals[phase]

    def run(
        self,
        checkpoint_path: str | Path | None = None,
        *,
        max_units: int | None = None,
        checkpoint_every: int = 1,
    ) -> None:
        """Continue from (phase, step) to the end, or for `max_units` units.

        Saves after every `checkpoint_every` units, at each phase end and when stopping; writes
        `<stem>-pretrained.pt` once pre-training is done. On KeyboardInterrupt the state after the
        last completed unit is saved, then the interrupt is re-raised.
        """
        if checkpoint_every < 1:
            raise ConfigError(f"checkpoint_every must be at least 1, not {checkpoint_every}")
        path = Path(checkpoint_path) if checkpoint_path is not None else None
        units, saved = 0, False
        self._join_ranks()
        snapshot: dict[str, Any] | None = None  # the last unit boundary not yet on disk
        if self.phase == "adversarial" and not self.selection.started and self.step == 0:
            self._note_selection_base()  # e.g. branched with select_on from a checkpoint without
        elif self.phase == "adversarial" and not self.selection.started and self._selects():
            message = ("select_on was set after this run's adversarial phase began: its starting "
                       "scores are unknown, so the last round is kept")  # fmt: skip
            warnings.warn(message, stacklevel=2)
        try:
            self._advance(path)
            while self.phase != "done" and (max_units is None or units < max_units):
                if path is not None and not saved:
                    snapshot = copy.deepcopy(self.state_dict())
                self._run_unit()
                units += 1
                saved = False
                if self._advance(path):
                    saved = path is not None  # _advance saved at the phase end
                elif path is not None and units % checkpoint_every == 0:
                    self.save(path)
                    saved = True
        except KeyboardInterrupt:
            if path is not None and not saved and snapshot is not None and distributed.is_main():
                save_checkpoint(path, snapshot)  # the unit in flight left partial updates
            raise
        if path is not None and not saved:
            self.save(path)
        if units and self.phase == "done" and self.callback is not None:
            kept = {} if self.selected_round is None else {"selected_round": self.selected_round}
            self.callback(TrainEvent("done", self.step, self.phase_total("adversarial"), kept))

    def _advance(self, path: Path | None) -> bool:
        """Move past finished phases, saving at each phase end; entering the adversarial phase
        starts G_beta from the pre-trained G and writes the -pretrained checkpoint."""
        moved = False
        while self.phase != "done" and self.step >= self.phase_total(self.phase):
            moved = True
            if self.phase == "adversarial":
                self.phase = "done"  # step keeps the number of adversarial rounds done
                self._restore_best_round()
                break
            self.phase, self.step = PHASES[PHASES.index(self.phase) + 1], 0
            if self.phase == "d_pretrain":
                self._restore_best_g()
            if self.phase == "adversarial":
                self.rollout = RolloutPolicy(self.generator)
                self._freeze_reference()
                self._note_selection_base()
                if path is not None:
                    self.save(pretrained_path(path))
        if moved and path is not None:
            self.save(path)
        return moved

    def _run_unit(self) -> None:
        phase, step = self.phase, self.step
        started = time.perf_counter()
        rng = self._rng(phase, step)
        self.rank_rng = self._rank_rng(phase, step, rng)
        dropout_tag = f"/rank{distributed.rank()}" if distributed.world_size() > 1 else ""
        with self._seeded(phase + dropout_tag, step):
            if phase == "g_pretrain":
                metrics = {"g_mle_loss": self._mle_epoch(rng)}
            elif phase == "d_pretrain":
                metrics = {"d_loss": self._d_round(rng, self.config.train.d_pretrain_epochs)}
            elif self.config.train.mode == "mle":
                metrics = {"g_mle_loss": self._mle_epoch(rng)}
            else:
                metrics = self._adversarial_round(rng)
            if phase != "g_pretrain":
                metrics.update(self._d_accuracy(phase, step))
            self.step += 1
            total = self.phase_total(phase)
            every = self.config.train.eval_every
            if self.evaluate is not None and phase != "d_pretrain":
                if self.step % every == 0 or self.step == total:
                    with torch.no_grad():
                        metrics.update(self.evaluate(self.generator))
        if phase == "g_pretrain":
            self.early_stop.note(self.step, metrics, self.generator)
        elif phase == "adversarial":
            self.selection.note(self.step, metrics, self.generator)
        self.history.append({"phase": phase, "step": self.step, "metrics": metrics})
        if self.callback is not None:
            seconds = time.perf_counter() - started
            self.callback(TrainEvent(phase, self.step, total, dict(metrics), seconds))

    # ---- the three kinds of update ----------------------------------------------------------

    def _minibatches(self, n: int, rng: torch.Generator) -> list[Tensor]:
        perm = torch.randperm(n, generator=rng, device=self.device)
        return list(perm.split(self.config.train.batch_size))

    def _clip_step(self, optimizer: torch.optim.Optimizer, parameters: Any) -> None:
        torch.nn.utils.clip_grad_norm_(parameters, self.config.train.grad_clip)
        optimizer.step()

    @staticmethod
    def _mine(idx: Tensor) -> Tensor:
        """This rank's contiguous part of a global minibatch (all of it at world size 1)."""
        return idx if distributed.world_size() == 1 else idx[distributed.shard(len(idx))]

    def _join_ranks(self) -> None:
        """At the start of a distributed run: one set of weights everywhere, a PG batch to split."""
        if distributed.world_size() == 1:
            return
        tc = self.config.train
        if (tc.pg_batch_size or tc.batch_size) < distributed.world_size():
            raise ConfigError(f"the policy-gradient batch ({tc.pg_batch_size or tc.batch_size}) "
                              f"is smaller than the {distributed.world_size()} ranks")  # fmt: skip
        distributed.broadcast_modules(self.generator, self.discriminator, self.rollout.generator)

    def _mle_epoch(self, rng: torch.Generator) -> float:
        """One epoch of maximum likelihood on the positives (shuffled minibatches, clipped)."""
        self.generator.train()
        total = torch.zeros((), device=self.device)
        batches = self._minibatches(len(self.train_data), rng)
        for idx in batches:
            mine = self._mine(idx)
            self.g_mle_opt.zero_grad(set_to_none=True)
            if len(mine):  # a rank may get no rows of a short last batch
                loss = self._loss(self.generator, "nll", *self._positives(mine))
                loss.backward()
                total += loss.detach() * (len(mine) / len(idx))
            distributed.average_gradients(self.generator.parameters(), len(mine) / len(idx))
            self._clip_step(self.g_mle_opt, self.generator.parameters())
        total = distributed.all_sum(total)
        return (total / len(batches)).item()  # one host sync per unit, not per batch

    def _positives(self, idx: Tensor) -> tuple[Tensor, ...]:
        """The positives `idx`, and their condition ids when conditioned (G's loss arguments)."""
        if self.train_conditions is None:
            return (self.train_data[idx],)
        return self.train_data[idx], self.train_conditions[idx]

    def _draw_conditions(self, n: int, rng: torch.Generator) -> Tensor | None:
        """Condition ids for n samples, distributed as the positives' (those of n positives drawn
        with replacement); None when unconditioned, drawing nothing, so the stream is as it was."""
        if self.train_conditions is None:
            return None
        pick = torch.randint(len(self.train_conditions), (n,), generator=rng, device=self.device)
        return self.train_conditions[pick]

    def _sample(self, n: int, rng: torch.Generator) -> tuple[Tensor, Tensor | None]:
        """n negatives from G and their condition ids (None when unconditioned)."""
        temperature = self.config.train.temperature
        ids: list[Tensor] = []

        def draw(k: int) -> Tensor:
            drawn = self._draw_conditions(k, rng)  # before the chunk's tokens, as always
            if drawn is not None:
                ids.append(drawn)
            return self.generator.sample(k, temperature=temperature, rng=rng,
                                         compile=self.compile, conditions=drawn)  # fmt: skip

        if n == 0:  # a rank's share of fewer negatives than ranks
            tokens = self.train_data.new_zeros((0, self.train_data.shape[1]))
        else:
            with self._autocast():
                tokens = sample_in_chunks(draw, n)
        if self.train_conditions is None:
            return tokens, None
        return tokens, torch.cat(ids) if ids else self.train_conditions.new_zeros(0)

    def _d_round(self, rng: torch.Generator, epochs: int) -> float:
        """Fresh negatives from G, then `epochs` epochs of D on positives + negatives (Eq. 5).

        The two classes are balanced both ways: see `_balanced_indices`.
        """
        n_neg = self.config.train.num_negatives or len(self.train_data)
        shares = distributed.shard_sizes(n_neg)  # each rank samples its share; all see them all
        drawn, drawn_ids = self._sample(shares[distributed.rank()], self.rank_rng)
        negatives = distributed.gather_rows(drawn, shares)
        chosen = self._balanced_indices(n_neg, rng)
        positives = self.train_data[chosen]
        tokens = torch.cat([positives, negatives])  # (P + N, T)
        judged = None  # a conditioned D's input: each row's condition id
        if self.discriminator.projection is not None:
            assert self.train_conditions is not None and drawn_ids is not None
            judged = torch.cat([self.train_conditions[chosen],
                                distributed.gather_rows(drawn_ids, shares)])  # fmt: skip
        labels = torch.cat([positives.new_ones(len(positives)), negatives.new_zeros(n_neg)]).float()
        labels = smoothed_labels(labels, self.config.train.d_label_smoothing)
        noise, vocab = self.config.train.d_noise, self.config.generator.vocab_size
        self.discriminator.train()
        total, count = torch.zeros((), device=self.device), 0
        for _ in range(epochs):
            for idx in self._minibatches(len(tokens), rng):
                mine = self._mine(idx)
                self.d_opt.zero_grad(set_to_none=True)
                self.d_exchange.begin(len(mine) / len(idx))
                if len(mine):
                    with self._autocast():
                        inputs = token_noise(tokens[mine], noise, vocab, self.rank_rng)
                        given = () if judged is None else (judged[mine],)
                        loss = self._loss(self.discriminator, "loss", inputs, labels[mine], *given)
                    loss.backward()
                    total += loss.detach() * (len(mine) / len(idx))
                self.d_exchange.finish()
                self.d_opt.step()
                count += 1
        return (distributed.all_sum(total) / max(count, 1)).item()

    def _balanced_indices(self, n: int, rng: torch.Generator) -> Tensor:
        """Indices of n positives for n negatives: a random subset when there are more positives,
        else every positive as often as fits plus a random subset for the rest (each used at most
        once more than any other), so D never sees more of one class than of the other."""
        n_pos = len(self.train_data)
        repeats, rest = divmod(n, n_pos)
        parts = [torch.arange(n_pos, device=self.device).repeat(repeats)]
        if rest:
            parts.append(torch.randperm(n_pos, generator=rng, device=self.device)[:rest])
        return torch.cat(parts)

    def pg_loss(self, samples: Tensor, rewards: Tensor, conditions: Tensor | None = None) -> Tensor:
        """Eqs. 7-8: -sum_t log G(y_t | y_<t) * Q(t), averaged over the batch; rewards detached.

        With `baseline`, the mean reward of each step over the batch is subtracted first, a
        variance reduction the paper does not use (so it is off in the presets). The log-probs
        are those of the policy at `temperature`; with `pg_temperature` (ColdGANs) the samples
        came from a colder G and each step's reward is importance-weighted (`cold_weights`).
        `conditions` (B,): the samples' condition ids (None: unconditioned).
        """
        tc = self.config.train
        rewards = shape_rewards(rewards.detach(), tc.reward_norm, tc.baseline, self._batch_mean)
        cold = self._pg_temperature() != tc.temperature
        if not (tc.entropy_bonus or tc.kl_coef or cold):
            given = () if conditions is None else (conditions,)
            log_probs = self._loss(self.generator, "log_probs", samples, tc.temperature, *given)
            return -(log_probs * rewards).sum(dim=1).mean()
        logits = self.generator(samples, conditions)
        step_logp = step_log_softmax(logits, tc.temperature)  # (B, T, V)
        log_probs = step_logp.gather(-1, samples.unsqueeze(-1)).squeeze(-1)  # (B, T)
        terms = self.pg_terms
        if cold:
            weights = cold_weights(logits, samples, tc.temperature, tc.pg_temperature,
                                   tc.pg_is_clip)  # fmt: skip
            terms["pg_is_weight"] = terms.get("pg_is_weight", 0.0) + weights.mean()
            rewards = rewards * weights
        loss = -(log_probs * rewards).sum(dim=1).mean()
        reference = None
        if tc.kl_coef:
            assert self.reference is not None  # frozen on entering the adversarial phase
            with torch.no_grad():
                reference = step_log_softmax(self.reference(samples, conditions), tc.temperature)
        entropy, kl = entropy_and_kl(step_logp, reference)  # (B, T) each
        terms["pg_entropy"] = terms.get("pg_entropy", 0.0) + entropy.detach().mean()
        loss = loss - tc.entropy_bonus * entropy.sum(dim=1).mean()
        if kl is not None:
            terms["pg_kl"] = terms.get("pg_kl", 0.0) + kl.detach().mean()
            loss = loss + tc.kl_coef * kl.sum(dim=1).mean()
        return loss

    def _pg_temperature(self) -> float:
        """The temperature the PG batch is drawn at: `pg_temperature` (ColdGANs), else G's."""
        return self.config.train.pg_temperature or self.config.train.temperature

    def _batch_mean(self, x: Tensor) -> Tensor:
        """(B, T) -> (1, T): the mean over the batch, all ranks' samples together."""
        if distributed.world_size() == 1:
            return x.mean(dim=0, keepdim=True)
        count = distributed.all_sum(x.new_tensor(float(len(x))))
        return distributed.all_sum(x.sum(dim=0, keepdim=True)) / count

    def _freeze_reference(self) -> None:
        """With `kl_coef`: keep a frozen copy of G as it is now, the policy the KL pulls toward."""
        if self.config.train.kl_coef:
            self.reference = copy.deepcopy(self.generator).requires_grad_(False).eval()

    def _adversarial_round(self, rng: torch.Generator) -> dict[str, float]:
        """g_steps policy-gradient updates, the G_beta update, then d_steps rounds of D."""
        tc = self.config.train
        pg_total = torch.zeros((), device=self.device)
        reward_total = torch.zeros((), device=self.device)
        batch = tc.pg_batch_size or tc.batch_size
        share = distributed.shard_sizes(batch)[distributed.rank()]  # this rank's samples
        self.pg_terms = {}
        for _ in range(tc.g_steps):
            conditions = self._draw_conditions(share, self.rank_rng)
            samples = self.generator.sample(
                share, temperature=self._pg_temperature(), rng=self.rank_rng, compile=self.compile,
                conditions=conditions,
            )  # fmt: skip
            # G_beta, the delayed copy (Eq. 4), rolls out at G's temperature even for a cold
            # batch: Q(t) is the value under the policy the gradient is taken for
            policy = self.rollout.generator
            with self._autocast():
                rewards = rollout_rewards(
                    samples,
                    policy,
                    self.discriminator,
                    tc.rollout_num,
                    temperature=tc.temperature,
                    rng=self.rank_rng,
                    compile=self.compile,
                    conditions=conditions,
                )  # (B, T): each rank rolls out its own samples
            self.generator.train()
            loss = self.pg_loss(samples, rewards, conditions)
            self.g_pg_opt.zero_grad(set_to_none=True)
            loss.backward()
            distributed.average_gradients(self.generator.parameters(), share / batch)
            self._clip_step(self.g_pg_opt, self.generator.parameters())
            pg_total += loss.detach() * (share / batch)
            reward_total += rewards.mean() * (share / batch)
        pg_total, reward_total = distributed.all_sum(pg_total), distributed.all_sum(reward_total)
        self.rollout.update(self.generator, tc.update_rate)
        metrics = {"pg_loss": (pg_total / tc.g_steps).item(),
                   "reward": (reward_total / tc.g_steps).item()}  # fmt: skip
        if (self.step + 1) % tc.d_every == 0:  # `d_every`: fewer D rounds
            metrics["d_loss"] = sum(self._d_round(rng, tc.k_epochs)
                                    for _ in range(tc.d_steps)) / tc.d_steps  # fmt: skip
        for name, total in self.pg_terms.items():  # this rank's mean over its PG steps
            metrics[name] = float(total / tc.g_steps)
        return metrics

    # ---- which G a phase ends with (core/selection.py) ----------------------------------------

    def _restore_best_g(self) -> None:
        """At the end of G pre-training, early stopping: G becomes its best-validation epoch
        (the strongest MLE model; D pre-training and both branches start from it)."""
        if not self.config.train.g_early_stop:
            return
        self.early_stop.restore(self.generator)
        distributed.broadcast_modules(self.generator)  # only rank 0 evaluates

    def _selects(self) -> bool:
        """Whether this rank keeps the best round: `select_on` set and an evaluator to score."""
        return bool(self.config.train.select_on) and self.evaluate is not None

    def _note_selection_base(self) -> None:
        """Entering the adversarial phase with `select_on`: score the G it starts from, the
        yardstick of every round's relative gain."""
        if not self._selects():
            return
        with torch.no_grad(), self._seeded("selection_base", 0):
            self.selection.start(self.evaluate(self.generator))

    def _restore_best_round(self) -> None:
        """At the end of the adversarial phase with `select_on`: G becomes its best round."""
        if not self.config.train.select_on:
            return
        self.selection.finish(self.generator)
        distributed.broadcast_modules(self.generator)  # only rank 0 evaluates

    @property
    def selected_round(self) -> int | None:
        """The adversarial round (or MLE-branch epoch) G was set to at the end, if any."""
        return self.selection.round

    @torch.no_grad()
    def _d_accuracy(self, phase: str, step: int) -> dict[str, float]:
        """D's accuracy on fresh negatives and on held-out positives after this unit, so a
        saturating D shows while training. Its own random stream: training is unchanged."""
        if self.valid_data is None or not len(self.valid_data):
            return {}
        rng = self._rng(phase + "/diagnostics", step)
        drawn = self._draw_conditions(len(self.valid_data), rng)
        fakes = self.generator.sample(
            len(self.valid_data), temperature=self.config.train.temperature, rng=rng,
            compile=self.compile, conditions=drawn,
        )  # fmt: skip
        fake_ids = real_ids = None
        if self.discriminator.projection is not None:  # judged under their own ids
            if self.valid_conditions is None:
                return {}
            fake_ids, real_ids = drawn, self.valid_conditions
        p_fake = self.discriminator.prob_real(fakes, fake_ids)
        p_real = self.discriminator.prob_real(self.valid_data, real_ids)
        return {"d_acc_fake": (p_fake < 0.5).float().mean().item(),
                "d_acc_valid": (p_real > 0.5).float().mean().item(),
                "d_p_fake": p_fake.mean().item()}  # fmt: skip

    # ---- state ------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything a resume needs, as tensors and JSON-native values only."""
        return {
            "config": self.config.to_dict(),
            "metadata": self.metadata,
            "domain": self.metadata.get("domain"),
            "phase": self.phase,
            "step": self.step,
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "rollout": self.rollout.state_dict(),
            "g_mle_opt": self.g_mle_opt.state_dict(),
            "g_pg_opt": self.g_pg_opt.state_dict(),
            "d_opt": self.d_opt.state_dict(),
            "history": self.history,
            "precision": self.precision,
            "compile": self.compile,
            # how this run computed (not read back: a resume may use other ranks and threads)
            "world_size": distributed.world_size(),
            "threads": torch.get_num_threads(),
            "best_g": self.early_stop.to_state(),
            "best_round": self.selection.to_state(),
            # only with `kl_coef`: checkpoints of other runs keep their keys
            **({} if self.reference is None else {"reference": self.reference.state_dict()}),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore weights, optimisers, G_beta, position and history (the config is this one's)."""
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.rollout = RolloutPolicy(self.generator)
        self.rollout.load_state_dict(state["rollout"])
        tc = self.config.train
        for opt, key, lr, decay in ((self.g_mle_opt, "g_mle_opt", tc.g_lr, 0.0),
                                    (self.g_pg_opt, "g_pg_opt", tc.pg_lr, 0.0),
                                    (self.d_opt, "d_opt", tc.d_lr, tc.d_weight_decay)):  # fmt: skip
            opt.load_state_dict(state[key])
            for group in opt.param_groups:  # overrides may change learning rates and D's L2
                group["lr"], group["weight_decay"] = lr, decay
        self.phase, self.step = state["phase"], int(state["step"])
        self.history = copy.deepcopy(list(state["history"]))
        self.early_stop = EarlyStopping(copy.deepcopy(state.get("best_g")))
        self.selection = RoundSelection.from_state(
            tc.select_on, copy.deepcopy(state.get("best_round")), self.generator
        )
        if self.phase == "done" and self.step < self.phase_total("adversarial"):
            self.phase = "adversarial"  # more adversarial rounds were asked for
            # G was set to its best round at the end: go on from the last one
            self.selection.reopen(self.generator)
        self._load_reference(state.get("reference"))
        if self.config.train.precision == "auto":  # keep what the run resolved it to
            self.precision = str(state.get("precision", self.precision))
        if self.config.train.compile == "auto":
            self.compile = bool(state.get("compile", self.compile))

    def _load_reference(self, state: dict[str, Tensor] | None) -> None:
        """The KL penalty's frozen G: the checkpoint's, else (`kl_coef` set on a run that had
        none, e.g. branched from a -pretrained checkpoint) G as it is when the phase goes on."""
        self.reference = None
        if state is not None:
            self._freeze_reference()
            if self.reference is None:  # kl_coef 0 now: the saved reference is not needed
                return
            self.reference.load_state_dict(state)
        elif self.phase == "adversarial":
            if self.step and self.config.train.kl_coef:
                warnings.warn("kl_coef was set after this run's adversarial phase began: the KL "
                              "is taken to G as it is now", stacklevel=3)  # fmt: skip
            self._freeze_reference()

    def save(self, path: str | Path) -> None:
        """Write a resumable checkpoint atomically (rank 0 writes; the other ranks wait for it)."""
        if distributed.is_main():
            save_checkpoint(path, self.state_dict())
        distributed.barrier()

    @classmethod
    def load(
        cls,
        path: str | Path,
        train_data: Tensor,
        *,
        device: str | torch.device = "cpu",
        callback: Callable[[TrainEvent], None] | None = None,
        evaluate: Callable[[Generator], dict[str, float]] | None = None,
        train_overrides: dict[str, Any] | None = None,
        valid_data: Tensor | None = None,
        train_conditions: Tensor | None = None,
        valid_conditions: Tensor | None = None,
    ) -> SeqGANTrainer:
        """Rebuild a trainer from a checkpoint; `train_overrides` replace TrainConfig fields
        (e.g. {"mode": "mle"} branches the MLE baseline from a -pretrained checkpoint)."""
        state = read_checkpoint(path, map_location=device)
        config = check_models(path, state, ("generator", "discriminator", "rollout"))
        if state.get("phase") not in PHASES or not isinstance(state.get("step"), int):
            raise CheckpointError(f"{path}: not a resumable training checkpoint (no phase/step)")
        check_training_state(path, state, config)
        if train_overrides:
            config = config.with_train(**train_overrides)
        trainer = cls(config, train_data, device=device, callback=callback, evaluate=evaluate,
                      metadata=state.get("metadata"), valid_data=valid_data,
                      train_conditions=train_conditions,
                      valid_conditions=valid_conditions)  # fmt: skip
        try:
            trainer.load_state_dict(state)
        except (KeyError, ValueError, TypeError, RuntimeError) as err:  # optimiser states
            raise CheckpointError(
                f"{path}: its training state does not fit its models: "
                f"{str(err).splitlines()[0] if str(err) else err!r}"
            ) from err
        return trainer


def branch_mle(
    pretrained: str | Path,
    train_data: Tensor,
    *,
    overrides: dict[str, Any] | None = None,
    device: str | torch.device = "cpu",
    callback: Callable[[TrainEvent], None] | None = None,
    evaluate: Callable[[Generator], dict[str, float]] | None = None,
    valid_data: Tensor | None = None,
    train_conditions: Tensor | None = None,
    valid_conditions: Tensor | None = None,
) -> SeqGANTrainer:
    """The paper's MLE baseline: from a `-pretrained` checkpoint, the adversarial rounds become
    MLE epochs (as many as SeqGAN has rounds), so both branches share one pre-trained G.

    `compare` (run folders) and the oracle experiment (NLL-oracle curves) both branch here."""
    return SeqGANTrainer.load(
        pretrained,
        train_data,
        device=device,
        callback=callback,
        evaluate=evaluate,
        train_overrides={**(overrides or {}), "mode": "mle"},
        valid_data=valid_data,
        train_conditions=train_conditions,
        valid_conditions=valid_conditions,
    )
