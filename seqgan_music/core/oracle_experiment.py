"""The paper's synthetic experiment (Table 1, Figure 2): SeqGAN vs MLE, scored by NLL-oracle.

10,000 oracle samples of length 20 are the training data (the original code used
int(10000/64)*64 = 9,984; we keep all 10,000). G is pre-trained by MLE and D pre-trained
(Algorithm 1); from that one pre-trained checkpoint two branches run: SeqGAN's adversarial rounds,
and the MLE baseline trained further by MLE for as many epochs. NLL-oracle (Eq. 14: the oracle's
mean per-token NLL of G's samples) is logged along the way into a CSV, drawn as a learning curve,
and the final values are compared with Welch's t-test on per-sample NLLs.
"""

from __future__ import annotations

import csv
import json
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seqgan_music.core.config import (
    DiscriminatorConfig,
    GeneratorConfig,
    SeqGANConfig,
    TrainConfig,
    oracle_cpu,
    paper_synthetic,
)
from seqgan_music.core.generator import Generator
from seqgan_music.core.metrics import welch_p_value
from seqgan_music.core.oracle import OracleLSTM
from seqgan_music.core.trainer import SeqGANTrainer, TrainEvent, pretrained_path
from seqgan_music.errors import SeqGANMusicError

SEQ_LEN = 20
RELEASED = "released"  # `--oracle released`: the paper's oracle file beside the checkout
RELEASED_FILE = Path("shared") / "data" / "oracle" / "lantaoyu_target_params.npz"
CHUNK = 2048  # sequences per sampling call (bounds the (n, V) buffers)


@dataclass(frozen=True)
class OracleRun:
    """Sizes of one experiment: training samples, samples per curve point, samples at the end."""

    n_train: int = 10_000
    n_eval: int = 10_000
    n_final: int = 10_000


def _tiny(vocab_size: int, seq_len: int) -> SeqGANConfig:
    """Seconds-long smoke run (tests, first try of the command)."""
    return SeqGANConfig(
        GeneratorConfig(vocab_size, seq_len, emb_dim=16, hidden_dim=16),
        DiscriminatorConfig(vocab_size, seq_len, emb_dim=16, filters=((2, 16), (4, 16))),
        TrainConfig(batch_size=32, g_pretrain_epochs=2, d_pretrain_rounds=1, d_pretrain_epochs=1,
                    adv_rounds=2, d_steps=1, k_epochs=1, rollout_num=2, eval_every=1,
                    precision="auto"),
    )  # fmt: skip


# name -> (config for (vocab_size, seq_len), sizes). The CPU preset scores curve points on 1,000
# samples to save time; every preset's final comparison uses 10,000 samples as the paper.
PRESETS: dict[str, tuple[Callable[[int, int], SeqGANConfig], OracleRun]] = {
    "paper": (paper_synthetic, OracleRun()),
    "cpu": (oracle_cpu, OracleRun(n_eval=1_000)),
    "tiny": (_tiny, OracleRun(n_train=256, n_eval=128, n_final=256)),
}


def sample_generator(
    generator: Generator, n: int, rng: torch.Generator, chunk: int = CHUNK
) -> torch.Tensor:
    """(n, T) samples from G, drawn `chunk` at a time."""
    sizes = [min(chunk, n - i) for i in range(0, n, chunk)]
    return torch.cat([generator.sample(k, rng=rng) for k in sizes])


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
    keys = ("phase", "epoch_or_round", "model", "nll_oracle")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["phase", "epoch_or_round", "model", "nll_oracle"])
        writer.writeheader()
        writer.writerows(rows)


def plot_curves(path: Path, rows: list[dict[str, Any]], pretrain_epochs: int) -> str | None:
    """Figure 2's learning curve: NLL-oracle against epochs; None, or a note if it cannot draw."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: no PNG (pip install 'seqgan-music[plot]')"
    fig, ax = plt.subplots(figsize=(6, 4))
    styles = {"pretrain": ("k", "MLE pre-training"), "mle": ("tab:blue", "MLE"),
              "seqgan": ("tab:red", "SeqGAN")}  # fmt: skip
    for model, (color, label) in styles.items():
        pts = [(r["epoch_or_round"] + (pretrain_epochs if r["phase"] == "adversarial" else 0),
                r["nll_oracle"]) for r in rows if r["model"] == model]  # fmt: skip
        if pts:
            ax.plot(*zip(*pts, strict=True), color=color, label=label, marker=".")
    ax.axvline(pretrain_epochs, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xlabel("epochs (MLE pre-training, then adversarial rounds / MLE epochs)")
    ax.set_ylabel("NLL-oracle")
    ax.set_title("NLL-oracle learning curves (cf. the paper's Figure 2)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None


def _timed(callback: Callable[[TrainEvent], None] | None, marks: dict[str, float]):
    """Wrap the callback to note when each phase ends (for the wall-time report)."""

    def on_event(event: TrainEvent) -> None:
        marks[event.phase] = time.perf_counter()
        if callback is not None:
            callback(event)

    return on_event


def resolve_oracle(value: str | Path | None) -> Path | None:
    """`released` -> the paper's oracle file (../shared/data/oracle/... from the working folder or
    beside this checkout); a path must exist; None stays None (a random oracle)."""
    if value is None:
        return None
    if str(value) != RELEASED:
        path = Path(value)
        if not path.is_file():
            raise SeqGANMusicError(f"oracle file not found: {path}")
        return path
    checkout = Path(__file__).resolve().parents[2]
    for root in (Path.cwd().parent, Path.cwd(), checkout.parent, checkout):
        if (root / RELEASED_FILE).is_file():
            return root / RELEASED_FILE
    raise SeqGANMusicError(
        f"the released oracle is not beside this checkout (looked for ../{RELEASED_FILE}); "
        "get lantaoyu_target_params.npz (its PROVENANCE.md says how) and pass --oracle PATH"
    )


def run_oracle_experiment(
    preset: str,
    out_dir: str | Path,
    *,
    oracle_path: str | Path | None = None,
    device: str | torch.device = "cpu",
    seed: int = 0,
    callback: Callable[[TrainEvent], None] | None = None,
    precision: str | None = None,
) -> dict[str, Any]:
    """Run the synthetic experiment; write seqgan.pt, mle.pt, nll_oracle.csv, nll_oracle.png and
    results.json into `out_dir` and return the results dict.

    `oracle_path` is an oracle .npz (the released one reproduces the paper's setting); without it
    a fresh N(0, 1) oracle is drawn from `seed`. Checkpoints in `out_dir` from an interrupted run
    of the same preset, seed and oracle are resumed exactly.
    """
    if preset not in PRESETS:
        raise SeqGANMusicError(f"unknown oracle preset {preset!r}; choose one of: "
                               f"{', '.join(PRESETS)}")  # fmt: skip
    make_config, sizes = PRESETS[preset]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    device = torch.device(device)
    start = time.perf_counter()
    if oracle_path is not None:
        try:
            oracle = OracleLSTM.from_npz(oracle_path)
        except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as err:
            raise SeqGANMusicError(f"cannot read oracle {oracle_path}: {err}") from err
        source = str(oracle_path)
    else:
        oracle, source = OracleLSTM.random(seed), f"random N(0,1) oracle, seed {seed}"
    oracle = oracle.to(device)
    rng = torch.Generator(device=device).manual_seed(seed)
    data = torch.cat([oracle.sample(min(CHUNK, sizes.n_train - i), SEQ_LEN, rng=rng)
                      for i in range(0, sizes.n_train, CHUNK)])  # fmt: skip
    # the data's own NLL: the oracle's NLL of its own samples (all training samples; an
    # estimate of its entropy rate, not a floor any single sample respects: greedy decoding
    # scores far lower)
    data_nll = oracle.nll(data)
    oracle_self = data_nll.mean().item()
    config = make_config(oracle.vocab_size, SEQ_LEN).with_train(seed=seed)
    if precision is not None:  # None: the preset's ("auto")
        config = config.with_train(precision=precision)
    evaluate = _nll_evaluator(oracle, sizes.n_eval, seed + 1)
    metadata = {"domain": "oracle", "preset": preset, "seed": seed, "oracle": source}
    marks: dict[str, float] = {}

    seqgan_path, mle_path = out / "seqgan.pt", out / "mle.pt"
    seqgan = _start_or_resume(seqgan_path, config, data, device, callback, evaluate, metadata,
                              marks)  # fmt: skip
    mle = None
    if mle_path.exists():  # checked before the SeqGAN branch runs, so a mismatch fails at once
        mle = SeqGANTrainer.load(mle_path, data, device=device, evaluate=evaluate,
                                 callback=_timed(callback, {}))  # fmt: skip
        _check_same_experiment(mle_path, mle, config.with_train(mode="mle"), metadata)
    branch_start = time.perf_counter()
    seqgan.run(seqgan_path)
    seqgan_end = time.perf_counter()
    if mle is None:
        mle = SeqGANTrainer.load(pretrained_path(seqgan_path), data, device=device,
                                 evaluate=evaluate, callback=_timed(callback, {}),
                                 train_overrides={"mode": "mle"})  # fmt: skip
    mle.run(mle_path)
    mle_end = time.perf_counter()

    final = {name: nll_oracle_per_sample(oracle, t.generator, sizes.n_final, seed + 2)
             for name, t in (("seqgan", seqgan), ("mle", mle))}  # fmt: skip
    rows = curve_rows(seqgan.history, mle.history)
    write_csv(out / "nll_oracle.csv", rows)
    note = plot_curves(out / "nll_oracle.png", rows, config.train.g_pretrain_epochs)
    pretrain_end = marks.get("d_pretrain", marks.get("g_pretrain", branch_start))
    results = {
        "preset": preset,
        "seed": seed,
        "oracle": source,
        "device": str(device),
        "n_train": sizes.n_train,
        "n_eval_curve": sizes.n_eval,
        "n_final": sizes.n_final,
        "nll_oracle_data": oracle_self,
        "nll_oracle_data_samples": len(data),
        "nll_oracle_data_sem": (data_nll.std() / len(data) ** 0.5).item(),
        "nll_oracle_pretrained": next((r["nll_oracle"] for r in rows
                                       if r["phase"] == "adversarial"), None),  # fmt: skip
        "nll_oracle_mle": final["mle"].mean().item(),
        "nll_oracle_seqgan": final["seqgan"].mean().item(),
        "p_value": welch_p_value(final["seqgan"].cpu().numpy(), final["mle"].cpu().numpy()),
        "wall_seconds": {
            "pretrain_this_call": max(0.0, pretrain_end - branch_start) if marks else 0.0,
            "seqgan_this_call": seqgan_end - branch_start,
            "mle_branch_this_call": mle_end - seqgan_end,
            "total_this_call": time.perf_counter() - start,
        },
        "files": {"csv": str(out / "nll_oracle.csv"),
                  "png": None if note else str(out / "nll_oracle.png"),
                  "seqgan_checkpoint": str(seqgan_path), "mle_checkpoint": str(mle_path)},
        "png_note": note,
        "config": config.to_dict(),
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
