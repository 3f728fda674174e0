"""The training driver: a corpus and settings in, a run folder with checkpoints and curves out."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seqgan_music.core import distributed
from seqgan_music.core.checkpoint import check_models, check_training_state, read_checkpoint
from seqgan_music.core.config import SeqGANConfig, TrainConfig, check_train_names, selection_metrics
from seqgan_music.core.domain import Dataset, domain_for, get_domain, preset_config
from seqgan_music.core.files import RunLock, atomic_write_text, remove_stale_temp_files
from seqgan_music.core.generator import Generator
from seqgan_music.core.metadata import RunMetadata
from seqgan_music.core.runtime import Runtime, runtime_or_default
from seqgan_music.core.splits import DEFAULT_SPLIT_SEED
from seqgan_music.core.tokenizer import tokenizer_from_dict, tokenizer_to_dict
from seqgan_music.core.trainer import SeqGANTrainer, TrainEvent, branch_mle
from seqgan_music.datasets import load_dataset
from seqgan_music.errors import ConfigError, SeqGANMusicError
from seqgan_music.runs import (
    CHECKPOINT_NAME,
    RUN_FILES,
    MetricsLog,
    kept_if_used,
    only_lock,
    plot_learning_curve,
    read_latest,
    run_folder,
    write_latest,
)


@dataclass
class TrainResult:
    run_dir: Path
    checkpoint: Path
    metrics_csv: Path
    curve_png: Path | None
    history: list[dict[str, Any]]
    seconds: float
    corpus_summary: str = ""
    selected_round: int | None = None  # the adversarial round G was set to (`select_on`)


def build_config(
    dataset: Dataset, preset: str = "default", overrides: dict[str, Any] | None = None
) -> SeqGANConfig:
    """The preset of this dataset's domain, sized to it, with TrainConfig fields overridden."""
    domain = get_domain(dataset.domain)
    config = preset_config(domain, preset, dataset.tokenizer.vocab_size, dataset.seq_len)
    return with_conditions(config.with_train(**(overrides or {})), dataset)


def with_conditions(config: SeqGANConfig, dataset: Dataset) -> SeqGANConfig:
    """With `conditions = on`, G gets one start token per condition the dataset names; a corpus
    that names fewer than two has nothing to condition on (a one-line error)."""
    if config.train.conditions == "off":
        return replace(config, generator=replace(config.generator, conditions=1),
                       discriminator=replace(config.discriminator, conditions=1))  # fmt: skip
    names = dataset.condition_names
    if len(names) < 2:
        raise ConfigError(
            f"conditions=on: this corpus names {len(names)} condition(s)"
            + (f" ({names[0]})" if names else "")
            + "; conditions need at least two (music: --encoding beat names each tune's metre "
            "and mode, unless its windows are transposed copies)"
        )
    judged = len(names) if config.train.d_conditions else 1  # a conditioned D, if asked
    return replace(config, generator=replace(config.generator, conditions=len(names)),
                   discriminator=replace(config.discriminator, conditions=judged))  # fmt: skip


def condition_metadata(dataset: Dataset) -> dict[str, Any]:
    """What a conditioned checkpoint records of its conditions: id -> name, and the training
    windows of each (compose's choice when a request leaves part of the condition open)."""
    counts = np.bincount(dataset.conditions["train"], minlength=len(dataset.condition_names))
    return {"names": list(dataset.condition_names), "train_windows": counts.tolist()}


def _train_conditions(dataset: Dataset, config: SeqGANConfig, run: RunMetadata) -> Any:
    """The training windows' condition ids for a conditioned config (None otherwise), checked
    against the names a resumed or branched checkpoint was trained with."""
    if config.generator.conditions == 1:
        return None
    if not dataset.conditions or len(dataset.condition_names) != config.generator.conditions:
        raise ConfigError(
            f"the checkpoint's generator has {config.generator.conditions} conditions; this "
            f"corpus names {len(dataset.condition_names)}"
        )
    saved = run.extra.get("conditions", {}).get("names")
    if saved is not None and list(saved) != list(dataset.condition_names):
        raise ConfigError(f"the checkpoint was trained on conditions {', '.join(saved)}; this "
                          f"corpus names {', '.join(dataset.condition_names)}")  # fmt: skip
    return torch.as_tensor(dataset.conditions["train"], dtype=torch.long)


# samples scored per unit for the validation scores (common seed): enough that the round kept by
# `select_on` is chosen by more than noise (300 gave +-0.02 in BLEU-4 between equal epochs)
VALID_SAMPLES = 1000
VALID_SEED = 20170204  # the same samples' randomness at every point (common random numbers)


def validation_name(score: str) -> str:
    """The metric name a domain's validation score is logged under: "BLEU-4" -> "valid_bleu4"."""
    return f"valid_{score.lower().replace('-', '')}"


def validation_metrics(
    dataset: Dataset, valid: torch.Tensor, conditions: torch.Tensor | None = None
) -> Callable[[Generator], dict]:
    """Held-out NLL of G, and the domain's cheap scores (music: BLEU-4, MSE; text: BLEU-2/3/4) of
    a few hundred samples against the valid split: how settings are chosen, and what the
    learning curve shows. A conditioned G (`conditions`: the valid windows' ids) reads each
    window under its own condition and samples under ids drawn as the valid windows' are."""
    domain = get_domain(dataset.domain)
    references = valid.cpu().numpy()

    def evaluate(generator: Generator) -> dict[str, float]:
        was_training = generator.training
        generator.eval()
        ids = conditions if generator.config.conditions > 1 else None
        with torch.no_grad():
            nll = torch.cat([
                generator.log_probs(chunk, 1.0, None if ids is None else ids[k : k + 512])
                .neg().mean(1)
                for k, chunk in zip(range(0, len(valid), 512), valid.split(512), strict=True)
            ]).mean()  # fmt: skip
            rng = torch.Generator(device=valid.device).manual_seed(VALID_SEED)
            drawn = None
            if ids is not None:
                pick = torch.randint(len(ids), (VALID_SAMPLES,), generator=rng, device=ids.device)
                drawn = ids[pick]
            samples = generator.sample(VALID_SAMPLES, rng=rng, conditions=drawn).cpu().numpy()
        generator.train(was_training)
        scores = domain.validation_scores(samples, references, dataset)
        out = {"valid_nll": float(nll)}
        out.update({validation_name(k): float(np.mean(v)) for k, v in scores.items()})
        return out

    return evaluate


def _dataset(
    data: str | Path, tokenizer: str | None, seq_len: int | None, seed: int | None,
    progress: bool, start_from: Path | None, split_seed: int | None = None,
    domain_options: dict[str, Any] | None = None,
) -> tuple[Dataset, RunMetadata]:  # fmt: skip
    """The corpus, encoded as the run it continues was (its source, tokenizer, length, split)."""
    run = RunMetadata(
        data=str(data),
        tokenizer_name=tokenizer,
        seq_len=seq_len,
        seed=seed,
        split_seed=DEFAULT_SPLIT_SEED if split_seed is None else split_seed,
    )
    if start_from is not None:  # its models are checked before the corpus is read
        payload = read_checkpoint(start_from)
        config = check_models(start_from, payload, ("generator", "discriminator", "rollout"))
        check_training_state(start_from, payload, config)
        run = RunMetadata.from_dict(payload.get("metadata", {}))
        run.data = run.data or str(data)
        run.split_seed = run.held_out_seed()  # the same items must stay held out
    run.seed = run.seed or 0
    # Resuming or branching keeps the checkpoint's vocabulary: ids must mean what they meant.
    fitted = tokenizer_from_dict(run.tokenizer) if run.tokenizer else None
    main = distributed.is_main()
    if not main:
        distributed.barrier()  # rank 0 fills the corpus cache first, the others then read it
    dataset = load_dataset(
        run.data, tokenizer=run.tokenizer_name, seq_len=run.seq_len, seed=run.split_seed,
        progress=progress and main, fitted_tokenizer=fitted, domain=run.domain,
        domain_options=domain_options,
    )  # fmt: skip
    if main:
        distributed.barrier()
    if len(dataset.train) == 0:
        raise SeqGANMusicError(f"{run.data}: no training windows")
    return dataset, run


def _metadata(
    dataset: Dataset, data: str | Path, seed: int, preset: str, split_seed: int
) -> dict[str, Any]:
    from seqgan_music import __version__

    return RunMetadata(
        domain=dataset.domain,
        tokenizer=tokenizer_to_dict(dataset.tokenizer),
        tokenizer_name=dataset.tokenizer.name,
        data=str(data),
        seq_len=dataset.seq_len,
        seed=seed,
        split_seed=split_seed,
        preset=preset,
        corpus=dataset.manifest,
        package_version=__version__,
    ).to_dict()


def train(
    data: str | Path = "embedded",
    *,
    preset: str = "default",
    config: SeqGANConfig | None = None,
    overrides: dict[str, Any] | None = None,
    out_dir: str | Path = "checkpoints",
    run_name: str | None = None,
    runtime: Runtime | None = None,
    seed: int | None = None,
    resume: bool = False,
    init_from: str | Path | None = None,
    tokenizer: str | None = None,
    seq_len: int | None = None,
    callback: Callable[[TrainEvent], None] | None = None,
    progress: bool = True,
    max_units: int | None = None,
    split_seed: int | None = None,
    domain_options: dict[str, Any] | None = None,
    force: bool = False,
) -> TrainResult:
    """Train SeqGAN (Algorithm 1) on a corpus; write checkpoints, metrics CSV and curve PNG.

    The run folder `out_dir/run_name` holds checkpoint.pt (resumable), checkpoint-pretrained.pt
    (after pre-training), config.json, metrics.csv and curve.png; `out_dir/latest` names the run.
    `resume` continues the run's checkpoint exactly where it stopped; `init_from` starts a new run
    from another run's state (with `overrides`, e.g. {"mode": "mle"} for the MLE baseline).
    `seed` seeds training only; a corpus without its own split is split with `split_seed`
    (default `DEFAULT_SPLIT_SEED`; a resumed or branched run keeps its checkpoint's).
    `domain_options` are the domain's own load options (music: {"encoding": "beat"}).
    The runtime's precision and compile, when given, override the run's (and are stored with it).
    A run folder that holds a checkpoint is continued only with `resume` and replaced only with
    `force`; settings are checked before the corpus is read.
    """
    out_dir = Path(out_dir)
    runtime = runtime_or_default(runtime)
    overrides = {**(overrides or {}), **runtime.train_settings()}  # --precision beats --set
    # Under torchrun: join the process group; rank 0 alone writes files, the others wait for it.
    torch_device = distributed.init_from_env(runtime.device)
    resume = resume or _torchrun_restart(out_dir, run_name, init_from)
    fresh = not resume and init_from is None and config is None
    _check_settings(data, tokenizer, seq_len, preset, overrides, fresh)
    with kept_if_used(out_dir, not out_dir.exists()):
        run_dir, start_from = run_folder(out_dir, run_name, resume, init_from, force)
        return _train_in(run_dir, start_from, _Request(
            data, preset, config, overrides, seed, resume, tokenizer, seq_len, callback,
            progress, max_units, split_seed, domain_options, force), torch_device)  # fmt: skip


@dataclass(frozen=True)
class _Request:
    """What `train` was asked for, passed on once its run folder is chosen."""

    data: str | Path
    preset: str
    config: SeqGANConfig | None
    overrides: dict[str, Any]
    seed: int | None
    resume: bool
    tokenizer: str | None
    seq_len: int | None
    callback: Callable[[TrainEvent], None] | None
    progress: bool
    max_units: int | None
    split_seed: int | None
    domain_options: dict[str, Any] | None
    force: bool


def _train_in(
    run_dir: Path, start_from: Path | None, req: _Request, torch_device: torch.device
) -> TrainResult:
    """`train` once its run folder is chosen: the corpus, then the trainer, then the run."""
    main, out_dir = distributed.is_main(), run_dir.parent
    data, preset, config, overrides, callback = (req.data, req.preset, req.config,
                                                 req.overrides, req.callback)  # fmt: skip
    # rank 0 writes the folder and holds its lock: a second writer gets a one-line error
    with kept_if_used(run_dir, not run_dir.exists() or only_lock(run_dir)), \
            RunLock(run_dir) if main else contextlib.nullcontext():  # fmt: skip
        if main:
            remove_stale_temp_files(run_dir)  # of this run's killed writers: the lock is ours
            if req.force and not req.resume:
                for name in RUN_FILES:
                    (run_dir / name).unlink(missing_ok=True)
        dataset, run = _dataset(data, req.tokenizer, req.seq_len, req.seed, req.progress,
                                start_from, req.split_seed, req.domain_options)  # fmt: skip
        split = "valid" if len(dataset.valid) else "train"
        valid = getattr(dataset, split)
        log = MetricsLog(run_dir / "metrics.csv", callback) if main else None
        valid_t = torch.as_tensor(valid, dtype=torch.long)
        valid_ids = None
        if split in dataset.conditions:
            valid_ids = torch.as_tensor(dataset.conditions[split], dtype=torch.long)
            valid_ids = valid_ids.to(torch_device)
        evaluate = (validation_metrics(dataset, valid_t.to(torch_device), valid_ids)
                    if main else None)  # fmt: skip
        # D's held-out accuracy: rank 0 reports it
        kw = dict(device=torch_device, callback=log, evaluate=evaluate,
                  valid_data=valid_t if main else None,
                  valid_conditions=valid_ids if main else None)  # fmt: skip
        fresh = (config, preset, data) if start_from is None else None
        trainer = _trainer(dataset, run, fresh, start_from, req.resume, overrides, kw)
        _check_select_on(dataset, trainer.config)
        if log is not None:
            log.start_from(trainer)
            config_json = json.dumps(trainer.config.to_dict(), indent=2) + "\n"
            atomic_write_text(run_dir / "config.json", config_json)
            write_latest(out_dir, run_dir.name)
        start = time.perf_counter()
        trainer.run(run_dir / CHECKPOINT_NAME, max_units=req.max_units)
        seconds = time.perf_counter() - start
        metrics_csv = run_dir / "metrics.csv"
        png = plot_learning_curve(metrics_csv, run_dir / "curve.png") if main else None
        return TrainResult(
            run_dir, run_dir / CHECKPOINT_NAME, metrics_csv, png, trainer.history, seconds,
            dataset.summary, trainer.selected_round,
        )  # fmt: skip


def _check_settings(
    data: str | Path, tokenizer: str | None, seq_len: int | None, preset: str,
    overrides: dict[str, Any] | None, fresh: bool,
) -> None:  # fmt: skip
    """What can be checked before the corpus is read (which may take minutes): the settings'
    names, types and ranges, the preset's name, and (on a vocabulary of 2, a lower bound) the
    memory the settings imply."""
    check_train_names(overrides or {})
    replace(TrainConfig(), **(overrides or {}))  # each value's type and range
    if fresh:
        domain = domain_for(data, tokenizer)
        preset_config(domain, preset, 2, seq_len or 2).with_train(**(overrides or {}))


def _check_select_on(dataset: Dataset, config: SeqGANConfig) -> None:
    """`select_on` names metrics the validation scores report (valid_nll and the domain's),
    checked on two held-out windows before any training."""
    wanted = [m.lstrip("-") for m in selection_metrics(config.train.select_on)]
    if not wanted:
        return
    rows = (dataset.valid if len(dataset.valid) else dataset.train)[:2]
    scores = get_domain(dataset.domain).validation_scores(rows, rows, dataset)
    known = ["valid_nll"] + [validation_name(k) for k in scores]
    unknown = [m for m in wanted if m not in known]
    if unknown:
        raise ConfigError(
            f"select_on names {', '.join(unknown)}, which the validation scores do not report; "
            f"choose among: {', '.join(known)}"
        )


def _trainer(
    dataset: Dataset, run: RunMetadata, fresh: tuple[SeqGANConfig | None, str, Any] | None,
    start_from: Path | None, resume: bool, overrides: dict[str, Any] | None, kw: dict[str, Any],
) -> SeqGANTrainer:  # fmt: skip
    """A fresh trainer (`fresh`: the given config or None for the preset, the preset's name, the
    data source), the MLE baseline branched from a checkpoint, or a resumed one."""
    train_data = torch.as_tensor(dataset.train, dtype=torch.long)
    if start_from is None:
        assert fresh is not None
        config, preset, data = fresh
        config = build_config(dataset, preset, overrides) if config is None else with_conditions(
            config.with_train(**overrides) if overrides else config, dataset)  # fmt: skip
        metadata = _metadata(dataset, data, run.seed, preset, run.held_out_seed())
        if config.generator.conditions > 1:
            metadata["conditions"] = condition_metadata(dataset)
        ids = _train_conditions(dataset, config, run)
        return SeqGANTrainer(config.with_train(seed=run.seed), train_data, metadata=metadata,
                             train_conditions=ids, **kw)  # fmt: skip
    saved = check_models(start_from, read_checkpoint(start_from), ("generator",))
    for name in ("conditions", "d_conditions"):  # they decide the models' shapes
        if name in (overrides or {}) and overrides[name] != getattr(saved.train, name):
            raise ConfigError(
                f"{name} cannot change when a run goes on from a checkpoint: its models were "
                f"built with {name}={getattr(saved.train, name)}"
            )
    kw["train_conditions"] = _train_conditions(dataset, saved, run)
    if not resume and (overrides or {}).get("mode") == "mle":  # the MLE baseline's branch
        return branch_mle(start_from, train_data, overrides=overrides, **kw)
    return SeqGANTrainer.load(start_from, train_data, train_overrides=overrides, **kw)


def _torchrun_restart(out_dir: Path, run_name: str | None, init_from: Any) -> bool:
    """torchrun --max-restarts reruns the same command after a rank failed: continue that run
    (--run-name, else the latest) from its checkpoint instead of starting a new one."""
    if int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")) == 0 or init_from is not None:
        return False
    name = run_name or read_latest(out_dir)
    return name is not None and (out_dir / name / CHECKPOINT_NAME).exists()
