"""The paper's synthetic experiment (Table 1, Figure 2): SeqGAN vs MLE, scored by NLL-oracle.

10,000 oracle samples of length 20 are the training data (the original code used
int(10000/64)*64 = 9,984; we keep all 10,000). G is pre-trained by MLE and D pre-trained
(Algorithm 1); from that one pre-trained checkpoint two branches run: SeqGAN's adversarial rounds,
and the MLE baseline trained further by MLE for as many epochs. NLL-oracle (Eq. 14: the oracle's
mean per-token NLL of G's samples) is logged along the way into a CSV, drawn as a learning curve,
and the final values are compared with Welch's t-test on per-sample NLLs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seqgan_music.core.config import SeqGANConfig
from seqgan_music.core.curves import Line, plot_lines, write_rows_csv
from seqgan_music.core.generator import Generator
from seqgan_music.core.metadata import RunMetadata
from seqgan_music.core.metrics import welch_p_value
from seqgan_music.core.runtime import Runtime, runtime_or_default
from seqgan_music.core.sampling import sample_in_chunks
from seqgan_music.core.trainer import SeqGANTrainer, TrainEvent, branch_mle, pretrained_path
from seqgan_music.errors import ConfigError, SeqGANMusicError
from seqgan_music.oracle.domain import oracle_samples, read_oracle
from seqgan_music.oracle.lstm import OracleLSTM
from seqgan_music.oracle.presets import PRESETS, SEQ_LEN, SIZES, OracleRun


def sample_generator(generator: Generator, n: int, rng: torch.Generator) -> torch.Tensor:
    """(n, T) samples from G, drawn in chunks."""
    return sample_in_chunks(lambda k: generator.sample(k, rng=rng), n)


def nll_oracle_per_sample(
    oracle: OracleLSTM, generator: Generator, n: int, seed: int
) -> torch.Tensor:
    """Per-sample NLL-oracle (n,) of `n` fresh samples from G (Eq. 14 before the mean)."""
    rng = torch.Generator(device=oracle.Wo.device).manual_seed(seed)
    return oracle.nll(sample_generator(generator, n, rng))


def _nll_evaluator(oracle: OracleLSTM, n: int, seed: int) -> Callable[[Generator], dict]:
    # The same seed at every point (common random numbers) keeps the curve's noise small.
    def evaluate(generator: Generator) -> dict[str, float]:
        return {"nll_oracle": nll_oracle_per_sample(oracle, generator, n, seed).mean().item()}

    return evaluate


CSV_COLUMNS = ("phase", "epoch_or_round", "model", "nll_oracle")
STYLES = {"pretrain": ("k", "MLE pre-training"), "mle": ("tab:blue", "MLE"),
          "seqgan": ("tab:red", "SeqGAN")}  # fmt: skip


def curve_rows(seqgan_history: list[dict], mle_history: list[dict]) -> list[dict[str, Any]]:
    """CSV rows (phase, epoch_or_round, model, nll_oracle) from the two branches' histories.

    Both branches start from the pre-trained G (D pre-training leaves it unchanged), so their
    round-0 point is the last pre-training value."""
    rows, last_pretrain = [], None
    for row in seqgan_history:
        if row["phase"] == "g_pretrain" and "nll_oracle" in row["metrics"]:
            last_pretrain = row["metrics"]["nll_oracle"]
            rows.append(("g_pretrain", row["step"], "pretrain", last_pretrain))
    for model, history in (("seqgan", seqgan_history), ("mle", mle_history)):
        if last_pretrain is not None:
            rows.append(("adversarial", 0, model, last_pretrain))
        for row in history:
            if row["phase"] == "adversarial" and "nll_oracle" in row["metrics"]:
                rows.append(("adversarial", row["step"], model, row["metrics"]["nll_oracle"]))
    return [dict(zip(CSV_COLUMNS, r, strict=True)) for r in rows]


def plot_curves(path: Path, rows: list[dict[str, Any]], pretrain_epochs: int) -> str | None:
    """Figure 2's learning curve: NLL-oracle against epochs; None, or a note if it cannot draw."""
    lines = []
    for model, (color, label) in STYLES.items():
        pts = [(r["epoch_or_round"] + (pretrain_epochs if r["phase"] == "adversarial" else 0),
                r["nll_oracle"]) for r in rows if r["model"] == model]  # fmt: skip
        lines.append(Line(label, [x for x, _ in pts], [y for _, y in pts], color))
    return plot_lines(
        path, lines, "epochs (MLE pre-training, then adversarial rounds / MLE epochs)",
        "NLL-oracle", title="NLL-oracle learning curves (cf. the paper's Figure 2)",
        vline=pretrain_epochs,
    )  # fmt: skip


def _timed(callback: Callable[[TrainEvent], None] | None, marks: dict[str, float]):
    """Wrap the callback to note when each phase ends (for the wall-time report)."""

    def on_event(event: TrainEvent) -> None:
        marks[event.phase] = time.perf_counter()
        if callback is not None:
            callback(event)

    return on_event


@dataclass
class _Setup:
    """One experiment's fixed inputs: where, which preset and oracle, the data it drew."""

    preset: str
    seed: int
    out: Path
    device: torch.device
    sizes: OracleRun
    oracle: OracleLSTM
    source: str
    data: torch.Tensor  # (n_train, SEQ_LEN) oracle samples: the training data
    data_nll: torch.Tensor  # (n_train,) the oracle's NLL of its own samples
    config: SeqGANConfig
    metadata: dict[str, Any]


def _setup(
    preset: str, out_dir: str | Path, oracle_path: Any, runtime: Runtime, seed: int
) -> _Setup:
    if preset not in PRESETS:
        raise ConfigError(f"unknown oracle preset {preset!r}; choose one of: "
                          f"{', '.join(PRESETS)}")  # fmt: skip
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    device = runtime.device
    oracle, source = read_oracle(oracle_path, seed)
    oracle = oracle.to(device)
    sizes = SIZES[preset]
    data = oracle_samples(oracle, sizes.n_train, torch.Generator(device=device).manual_seed(seed))
    # the data's own NLL: the oracle's NLL of its own samples (all training samples; an
    # estimate of its entropy rate, not a floor any single sample respects: greedy decoding
    # scores far lower)
    data_nll = oracle.nll(data)
    # the runtime's precision and compile, when given; else the preset's
    config = PRESETS[preset](oracle.vocab_size, SEQ_LEN).with_train(
        seed=seed, **runtime.train_settings()
    )
    metadata = RunMetadata("oracle", seed=seed, preset=preset, extra={"oracle": source}).to_dict()
    return _Setup(preset, seed, out, device, sizes, oracle, source, data, data_nll, config,
                  metadata)  # fmt: skip


def _train_branches(
    setup: _Setup, evaluate: Callable[[Generator], dict], callback: Any
) -> tuple[SeqGANTrainer, SeqGANTrainer, dict[str, float]]:
    """SeqGAN, then the MLE baseline branched from its pre-trained checkpoint (each resumed
    when its checkpoint is there); and the wall time of each part of this call."""
    data, device, marks = setup.data, setup.device, {}
    seqgan_path, mle_path = setup.out / "seqgan.pt", setup.out / "mle.pt"
    seqgan = _start_or_resume(seqgan_path, setup.config, data, device, callback, evaluate,
                              setup.metadata, marks)  # fmt: skip
    mle = None
    if mle_path.exists():  # checked before the SeqGAN branch runs, so a mismatch fails at once
        mle = SeqGANTrainer.load(mle_path, data, device=device, evaluate=evaluate,
                                 callback=_timed(callback, {}))  # fmt: skip
        _check_same_experiment(mle_path, mle, setup.config.with_train(mode="mle"), setup.metadata)
    branch_start = time.perf_counter()
    seqgan.run(seqgan_path)
    seqgan_end = time.perf_counter()
    if mle is None:
        mle = branch_mle(pretrained_path(seqgan_path), data, device=device, evaluate=evaluate,
                         callback=_timed(callback, {}))  # fmt: skip
    mle.run(mle_path)
    pretrain_end = marks.get("d_pretrain", marks.get("g_pretrain", branch_start))
    walls = {
        "pretrain_this_call": max(0.0, pretrain_end - branch_start) if marks else 0.0,
        "seqgan_this_call": seqgan_end - branch_start,
        "mle_branch_this_call": time.perf_counter() - seqgan_end,
    }
    return seqgan, mle, walls


def run_oracle_experiment(
    preset: str,
    out_dir: str | Path,
    *,
    oracle_path: str | Path | None = None,
    runtime: Runtime | None = None,
    seed: int = 0,
    callback: Callable[[TrainEvent], None] | None = None,
) -> dict[str, Any]:
    """Run the synthetic experiment; write seqgan.pt, mle.pt, nll_oracle.csv, nll_oracle.png and
    results.json into `out_dir` and return the results dict.

    `oracle_path` is an oracle .npz (the released one reproduces the paper's setting); without it
    a fresh N(0, 1) oracle is drawn from `seed`. Checkpoints in `out_dir` from an interrupted run
    of the same preset, seed and oracle are resumed exactly.
    """
    start = time.perf_counter()
    setup = _setup(preset, out_dir, oracle_path, runtime_or_default(runtime), seed)
    sizes, out = setup.sizes, setup.out
    evaluate = _nll_evaluator(setup.oracle, sizes.n_eval, seed + 1)
    seqgan, mle, walls = _train_branches(setup, evaluate, callback)
    final = {name: nll_oracle_per_sample(setup.oracle, t.generator, sizes.n_final, seed + 2)
             for name, t in (("seqgan", seqgan), ("mle", mle))}  # fmt: skip
    rows = curve_rows(seqgan.history, mle.history)
    write_rows_csv(out / "nll_oracle.csv", rows, CSV_COLUMNS)
    note = plot_curves(out / "nll_oracle.png", rows, setup.config.train.g_pretrain_epochs)
    results = {
        "preset": preset, "seed": seed, "oracle": setup.source, "device": str(setup.device),
        "n_train": sizes.n_train, "n_eval_curve": sizes.n_eval, "n_final": sizes.n_final,
        "nll_oracle_data": setup.data_nll.mean().item(),
        "nll_oracle_data_samples": len(setup.data),
        "nll_oracle_data_sem": (setup.data_nll.std() / len(setup.data) ** 0.5).item(),
        "nll_oracle_pretrained": next((r["nll_oracle"] for r in rows
                                       if r["phase"] == "adversarial"), None),
        "nll_oracle_mle": final["mle"].mean().item(),
        "nll_oracle_seqgan": final["seqgan"].mean().item(),
        "p_value": welch_p_value(final["seqgan"].cpu().numpy(), final["mle"].cpu().numpy()),
        "wall_seconds": {**walls, "total_this_call": time.perf_counter() - start},
        "files": {"csv": str(out / "nll_oracle.csv"),
                  "png": None if note else str(out / "nll_oracle.png"),
                  "seqgan_checkpoint": str(out / "seqgan.pt"),
                  "mle_checkpoint": str(out / "mle.pt")},
        "png_note": note,
        "config": setup.config.to_dict(),
    }  # fmt: skip
    (out / "results.json").write_text(json.dumps(results, indent=2, default=_json_default) + "\n")
    return results


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _start_or_resume(path, config, data, device, callback, evaluate, metadata, marks):
    """A fresh trainer, or the checkpoint in `path` when it is the same experiment."""
    if not path.exists():
        return SeqGANTrainer(config, data, device=device, callback=_timed(callback, marks),
                             evaluate=evaluate, metadata=metadata)  # fmt: skip
    trainer = SeqGANTrainer.load(path, data, device=device, callback=_timed(callback, marks),
                                 evaluate=evaluate)  # fmt: skip
    _check_same_experiment(path, trainer, config, metadata)
    return trainer


def _check_same_experiment(path, trainer, config, metadata) -> None:
    """Refuse to continue from a checkpoint another preset, seed or oracle wrote."""
    if trainer.metadata != metadata or trainer.config != config:
        raise SeqGANMusicError(
            f"{path} is another experiment's checkpoint "
            "(preset, seed or oracle differ): choose another output folder"
        )
