"""The Python API of seqgan-music: what the CLI calls, and what a notebook user calls.

    import seqgan_music as sm
    result = sm.train("embedded")  # music21's folk tunes, sized for a laptop
    sm.compose("tune.mid", checkpoint=result.checkpoint)
    report = sm.evaluate([result.checkpoint], data="embedded")

This module joins the generic core (models, trainer, checkpoints, metrics) with a domain (music or
text); it holds the glue, and the domains hold the knowledge.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seqgan_music import presets
from seqgan_music.core import distributed
from seqgan_music.core.checkpoint import load_checkpoint as _load_payload
from seqgan_music.core.config import SeqGANConfig
from seqgan_music.core.files import RunLock, atomic_write, atomic_write_text
from seqgan_music.core.generator import Generator
from seqgan_music.core.tokenizer import Tokenizer, tokenizer_from_dict, tokenizer_to_dict
from seqgan_music.core.trainer import SeqGANTrainer, TrainEvent, checkpoint_generator
from seqgan_music.errors import SeqGANMusicError

CHECKPOINT_NAME = "checkpoint.pt"
LATEST_FILE = "latest"
SHIPPED_CHECKPOINT = Path(__file__).resolve().parent / "assets" / "folk-small.pt"
TEXT_TOKENIZERS = ("char", "word")


# --------------------------------------------------------------------------------------- devices
def resolve_device(device: str = "auto") -> torch.device:
    """`auto` picks CUDA when present; asking for CUDA on a machine without it is a clear error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SeqGANMusicError("--device cuda was asked for, but this machine has no CUDA device")
    try:
        return torch.device(device)
    except RuntimeError as err:
        raise SeqGANMusicError(f"unknown device {device!r}; use auto, cpu or cuda") from err


# ------------------------------------------------------------------------------------------ data
@dataclass
class Dataset:
    """Token windows of one corpus, split, with the tokenizer that made them."""

    domain: str  # "music" or "text"
    train: np.ndarray  # (n, seq_len) int64
    valid: np.ndarray
    test: np.ndarray
    tokenizer: Tokenizer
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def seq_len(self) -> int:
        return int(self.train.shape[1])


def is_text_source(data: str | Path, tokenizer: str | None) -> bool:
    """Text when a text tokenizer is named, or the source is a .txt file or a known text corpus."""
    if tokenizer is not None:
        return tokenizer != "midi-pitch"
    path = Path(str(data))
    return (
        path.suffix == ".txt"
        or path.name.startswith(("qtrain", "qvalid", "qtest"))
        or (path.is_dir() and any(path.glob("qtrain*")))
    )


def load_dataset(
    data: str | Path = "embedded",
    *,
    tokenizer: str | None = None,
    seq_len: int | None = None,
    seed: int = 0,
    progress: bool = True,
    tokenizer_options: dict[str, Any] | None = None,
    fitted_tokenizer: Tokenizer | None = None,
) -> Dataset:
    """Prepare a corpus: music (embedded, nottingham, a MIDI/ABC folder) or text (.txt, poems).

    `fitted_tokenizer` (a checkpoint's) encodes a text corpus with that vocabulary instead of
    fitting a new one, so held-out scores use the ids the model was trained with.
    """
    if is_text_source(data, tokenizer):
        from seqgan_music.text.corpus import encode_fixed_length, load_text_corpus

        corpus = load_text_corpus(
            data,
            tokenizer=tokenizer or "char",
            seq_len=seq_len,
            tokenizer_options=tokenizer_options,
            seed=seed,
        )
        tok = corpus.tokenizer
        splits = [corpus.train, corpus.valid, corpus.test]
        if fitted_tokenizer is not None:
            tok = fitted_tokenizer
            splits = [encode_fixed_length(corpus.texts[s], tok, corpus.seq_len) for s in _SPLITS]
        counts = {s: len(a) for s, a in zip(_SPLITS, splits)}
        summary = (
            f"{data}: {tok.name} tokenizer, vocabulary {tok.vocab_size}, length {corpus.seq_len}; "
            + ", ".join(f"{s} {n}" for s, n in counts.items())
            + f"; {corpus.skipped} lines skipped"
        )
        info = {"source": str(data), "counts": counts, "summary": summary}
        return Dataset("text", *splits, tok, info)

    from seqgan_music.music.codec import MidiPitchCodec
    from seqgan_music.music.corpus import EncodingConfig, prepare_corpus

    seq_len = seq_len or EncodingConfig().seq_len
    encoding = EncodingConfig(seq_len=seq_len, stride=seq_len)  # non-overlapping windows
    corpus = prepare_corpus(data, encoding=encoding, seed=seed, progress=progress)
    info = {
        "source": str(data),
        "counts": {s: len(getattr(corpus, s)) for s in _SPLITS},
        "summary": corpus.summary,
    }
    codec = MidiPitchCodec.from_encoding(encoding)
    return Dataset("music", corpus.train, corpus.valid, corpus.test, codec, info)


_SPLITS = ("train", "valid", "test")


# -------------------------------------------------------------------------------------- training
@dataclass
class TrainResult:
    run_dir: Path
    checkpoint: Path
    metrics_csv: Path
    curve_png: Path | None
    history: list[dict[str, Any]]
    seconds: float
    corpus_summary: str = ""


def build_config(
    dataset: Dataset, preset: str = "default", overrides: dict[str, Any] | None = None
) -> SeqGANConfig:
    """The preset for this dataset's domain and sizes, with TrainConfig fields overridden."""
    config = presets.get_preset(
        dataset.domain, preset, dataset.tokenizer.vocab_size, dataset.seq_len
    )
    return config.with_train(**(overrides or {}))


VALID_SAMPLES = 300  # samples scored per unit for the validation BLEU/MSE (cheap, common seed)


def _validation_metrics(dataset: Dataset, valid: torch.Tensor) -> Callable[[Generator], dict]:
    """Held-out NLL of G, and BLEU (the domain's orders; music adds MSE) of a few hundred samples
    against the valid split: how settings are chosen, and what the learning curve shows."""
    from seqgan_music.evaluation import score_samples

    references = valid.cpu().numpy()

    def evaluate(generator: Generator) -> dict[str, float]:
        was_training = generator.training
        generator.eval()
        with torch.no_grad():
            nll = torch.cat(
                [generator.log_probs(chunk).neg().mean(1) for chunk in valid.split(512)]
            ).mean()
            rng = torch.Generator(device=valid.device).manual_seed(VALID_SEED)
            samples = generator.sample(VALID_SAMPLES, rng=rng).cpu().numpy()
        generator.train(was_training)
        scores = score_samples(samples, references, dataset.domain, dataset.tokenizer, quick=True)
        out = {"valid_nll": float(nll)}
        out.update({f"valid_{k.lower().replace('-', '')}": float(np.mean(v))
                    for k, v in scores.items()})  # fmt: skip
        return out

    return evaluate


VALID_SEED = 20170204  # the same samples' randomness at every point (common random numbers)


class _MetricsLog:
    """Keeps one CSV row per finished unit and forwards each TrainEvent to the callback.

    The rows start from the trainer's own history, so after a resume the CSV holds exactly the
    units in the checkpoint: a unit logged but lost to a kill before its save is not doubled.
    """

    def __init__(self, path: Path, forward: Callable[[TrainEvent], None] | None) -> None:
        self.path = path
        self.forward = forward
        self.rows: list[dict[str, Any]] = []

    def start_from(self, trainer: SeqGANTrainer) -> None:
        self.rows = [
            {"phase": h["phase"], "step": h["step"], "total": trainer.phase_total(h["phase"]),
             **h["metrics"]}
            for h in trainer.history
        ]  # fmt: skip
        if trainer.phase == "done":  # a finished run resumed: its "done" row is not in history
            total = trainer.phase_total("adversarial")
            self.rows.append({"phase": "done", "step": trainer.step, "total": total})
        self._write()

    def __call__(self, event: TrainEvent) -> None:
        self.rows.append(
            {"phase": event.phase, "step": event.step, "total": event.total, **event.metrics}
        )
        self._write()
        if self.forward is not None:
            self.forward(event)

    def _write(self) -> None:
        columns: list[str] = []
        for row in self.rows:
            columns += [k for k in row if k not in columns]

        def write(fh: Any) -> None:
            writer = csv.DictWriter(fh, fieldnames=columns or ["phase", "step", "total"])
            writer.writeheader()
            writer.writerows(self.rows)

        atomic_write(self.path, write, binary=False)


def read_metrics(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def train(
    data: str | Path = "embedded",
    *,
    preset: str = "default",
    config: SeqGANConfig | None = None,
    overrides: dict[str, Any] | None = None,
    out_dir: str | Path = "checkpoints",
    run_name: str | None = None,
    device: str = "auto",
    seed: int | None = None,
    resume: bool = False,
    init_from: str | Path | None = None,
    tokenizer: str | None = None,
    seq_len: int | None = None,
    callback: Callable[[TrainEvent], None] | None = None,
    progress: bool = True,
    max_units: int | None = None,
) -> TrainResult:
    """Train SeqGAN (Algorithm 1) on a corpus; write checkpoints, metrics CSV and curve PNG.

    The run folder `out_dir/run_name` holds checkpoint.pt (resumable), checkpoint-pretrained.pt
    (after pre-training), config.json, metrics.csv and curve.png; `out_dir/latest` names the run.
    `resume` continues the run's checkpoint exactly where it stopped; `init_from` starts a new run
    from another run's state (with `overrides`, e.g. {"mode": "mle"} for the MLE baseline).
    """
    out_dir = Path(out_dir)
    # Under torchrun: join the process group; rank 0 alone writes files, the others wait for it.
    torch_device = distributed.init_from_env(resolve_device(device))
    main = distributed.is_main()
    resume = resume or _torchrun_restart(out_dir, run_name, init_from)
    if resume:
        run_name = run_name or _read_latest(out_dir)
        if run_name is None:
            raise SeqGANMusicError(f"nothing to resume: no run under {out_dir}")
    run_name = run_name or time.strftime("run-%Y%m%d-%H%M%S")
    run_dir = out_dir / str(distributed.broadcast_object(run_name))  # rank 0's clock names it
    ckpt_path = run_dir / CHECKPOINT_NAME
    start_from = ckpt_path if resume else (Path(init_from) if init_from is not None else None)
    if start_from is not None and not start_from.exists():
        raise SeqGANMusicError(f"nothing to start from: {start_from} does not exist")

    meta: dict[str, Any] = {}
    if start_from is not None:  # the corpus and its encoding come from the checkpoint
        meta = _load_payload(start_from).get("metadata", {})
        data = meta.get("data", data)
        tokenizer, seq_len = meta.get("tokenizer_name"), meta.get("seq_len")
        seed = meta.get("seed", 0)  # the split seed: the same tunes must stay held out
    seed_used = 0 if seed is None else seed
    # Resuming or branching keeps the checkpoint's vocabulary: ids must mean what they meant.
    fitted = tokenizer_from_dict(meta["tokenizer"]) if "tokenizer" in meta else None
    if not main:
        distributed.barrier()  # rank 0 fills the corpus cache first, the others then read it
    dataset = load_dataset(
        data,
        tokenizer=tokenizer,
        seq_len=seq_len,
        seed=seed_used,
        progress=progress and main,
        fitted_tokenizer=fitted,
    )
    if main:
        distributed.barrier()
    if len(dataset.train) == 0:
        raise SeqGANMusicError(f"{data}: no training windows")
    train_data = torch.as_tensor(dataset.train, dtype=torch.long)
    valid = torch.as_tensor(
        dataset.valid if len(dataset.valid) else dataset.train, dtype=torch.long
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    # rank 0 writes the folder and holds its lock: a second writer gets a one-line error
    with RunLock(run_dir) if main else contextlib.nullcontext():
        log = _MetricsLog(run_dir / "metrics.csv", callback) if main else None
        evaluate_fn = _validation_metrics(dataset, valid.to(torch_device)) if main else None
        diagnostic_valid = valid if main else None  # D's held-out accuracy: rank 0 reports it

        if start_from is not None:
            trainer = SeqGANTrainer.load(
                start_from,
                train_data,
                device=torch_device,
                callback=log,
                evaluate=evaluate_fn,
                train_overrides=overrides,
                valid_data=diagnostic_valid,
            )
        else:
            if config is None:
                config = build_config(dataset, preset, overrides)
            elif overrides:
                config = config.with_train(**overrides)
            config = config.with_train(seed=seed_used)
            metadata = {
                "domain": dataset.domain,
                "tokenizer": tokenizer_to_dict(dataset.tokenizer),
                "tokenizer_name": dataset.tokenizer.name,
                "data": str(data),
                "seq_len": dataset.seq_len,
                "seed": seed_used,
                "preset": preset,
                "corpus": dataset.info,
                "package_version": _version(),
            }
            trainer = SeqGANTrainer(
                config,
                train_data,
                device=torch_device,
                callback=log,
                evaluate=evaluate_fn,
                metadata=metadata,
                valid_data=diagnostic_valid,
            )
        if log is not None:
            log.start_from(trainer)
            config_json = json.dumps(trainer.config.to_dict(), indent=2) + "\n"
            atomic_write_text(run_dir / "config.json", config_json)
            _write_latest(out_dir, run_dir.name)
        start = time.perf_counter()
        trainer.run(ckpt_path, max_units=max_units)
        seconds = time.perf_counter() - start
        metrics_csv = run_dir / "metrics.csv"
        png = plot_learning_curve(metrics_csv, run_dir / "curve.png") if main else None
        summary = dataset.info.get("summary", "")
        return TrainResult(run_dir, ckpt_path, metrics_csv, png, trainer.history, seconds, summary)


def _torchrun_restart(out_dir: Path, run_name: str | None, init_from: Any) -> bool:
    """torchrun --max-restarts reruns the same command after a rank failed: continue that run
    (--run-name, else the latest) from its checkpoint instead of starting a new one."""
    if int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")) == 0 or init_from is not None:
        return False
    name = run_name or _read_latest(out_dir)
    return name is not None and (out_dir / name / CHECKPOINT_NAME).exists()


def _version() -> str:
    from seqgan_music import __version__

    return __version__


def _read_latest(out_dir: Path) -> str | None:
    latest = out_dir / LATEST_FILE
    if not latest.exists():
        return None
    name = latest.read_text().strip()
    return name or None


def _write_latest(out_dir: Path, run_name: str) -> None:
    atomic_write_text(out_dir / LATEST_FILE, run_name + "\n")


def plot_learning_curve(metrics_csv: Path, png: Path) -> Path | None:
    """The run's diagnostics per unit, phases in order, as a PNG (None without matplotlib or
    rows): validation NLL; mean reward and D's accuracy on fresh negatives and held-out
    positives (a saturating D shows as accuracies near 1 and rewards near 0); validation BLEU
    and, for music, MSE."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    rows = read_metrics(metrics_csv)
    if not any(r.get("valid_nll") for r in rows):
        return None
    xs = list(range(1, len(rows) + 1))  # one x per unit, phases laid end to end
    boundaries = [i for i in range(1, len(rows)) if rows[i]["phase"] != rows[i - 1]["phase"]]
    quality = sorted({k for r in rows for k in r if k.startswith("valid_") and k != "valid_nll"})
    panels = [["valid_nll"], ["reward", "d_acc_fake", "d_acc_valid"], quality]
    panels = [cols for cols in panels if any(r.get(c) for r in rows for c in cols)]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.6 * len(panels)), sharex=True,
                             squeeze=False)  # fmt: skip
    for ax, cols in zip(axes[:, 0], panels):
        for col in cols:
            pts = [(xs[i], float(r[col])) for i, r in enumerate(rows) if r.get(col)]
            target = ax.twinx() if col == "valid_mse" else ax
            target.plot(*zip(*pts), marker=".", label=col, color="grey" if target is not ax
                        else None)  # fmt: skip
            if target is not ax:
                target.set_ylabel("valid_mse")
        for boundary in boundaries:
            ax.axvline(boundary + 0.5, color="grey", linestyle=":", linewidth=0.8)
        ax.legend(fontsize=7, loc="best")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("validation NLL per token")
    axes[-1, 0].set_xlabel("unit: G pre-training epochs, D pre-training rounds, adversarial "
                           "rounds (dotted lines between phases)")  # fmt: skip
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png


# ----------------------------------------------------------------------------------- checkpoints
@dataclass
class Model:
    """A trained generator with what is needed to decode its samples."""

    generator: Generator
    tokenizer: Tokenizer
    config: SeqGANConfig
    metadata: dict[str, Any]
    path: Path

    @property
    def domain(self) -> str:
        return self.metadata["domain"]

    def sample(
        self,
        n: int,
        *,
        length: int | None = None,
        temperature: float = 1.0,
        seed: int | None = None,
        prefix: Sequence[int] | None = None,
    ) -> np.ndarray:
        """(n, length) token samples, seeded; `prefix` conditions every sample on a primer."""
        device = next(self.generator.parameters()).device
        rng = torch.Generator(device=device)
        rng.manual_seed(seed if seed is not None else secrets.randbits(63))  # no global reseed
        prefix_t = None
        if prefix is not None and len(prefix):
            prefix_t = torch.as_tensor(list(prefix), dtype=torch.long, device=device).repeat(n, 1)
        length = self.config.generator.seq_len if length is None else length
        if length < 1:
            raise SeqGANMusicError(f"--length must be at least 1 step, not {length}")
        if prefix_t is not None and prefix_t.shape[1] >= length:
            raise SeqGANMusicError(
                f"the primer is {prefix_t.shape[1]} steps long, not shorter than --length {length}"
            )
        with torch.no_grad():
            out = self.generator.sample(
                n, length, temperature=temperature, rng=rng, prefix=prefix_t
            )
        return out.cpu().numpy()


def find_checkpoint(path: str | Path | None = None, out_dir: str | Path = "checkpoints") -> Path:
    """A checkpoint from a file, a run folder, or (None) the latest run, else the shipped one."""
    if path is not None:
        p = Path(path)
        if p.is_dir():
            p = p / CHECKPOINT_NAME
        if not p.exists():
            raise SeqGANMusicError(f"checkpoint not found: {path}")
        return p
    latest = _read_latest(Path(out_dir))
    if latest is not None and (Path(out_dir) / latest / CHECKPOINT_NAME).exists():
        return Path(out_dir) / latest / CHECKPOINT_NAME
    if not SHIPPED_CHECKPOINT.exists():
        raise SeqGANMusicError("no checkpoint given, none trained, and no shipped model found")
    return SHIPPED_CHECKPOINT


def load_checkpoint(
    path: str | Path | None = None, *, device: str = "auto", domain: str | None = None
) -> Model:
    """Load a generator and its tokenizer from a checkpoint (weights_only; see find_checkpoint)."""
    ckpt = find_checkpoint(path)
    torch_device = resolve_device(device)
    payload = _load_payload(ckpt, expect_domain=domain)
    metadata = payload.get("metadata", {})
    if "tokenizer" not in metadata or "domain" not in metadata:
        raise SeqGANMusicError(f"{ckpt}: not a seqgan-music training checkpoint (no tokenizer)")
    generator = checkpoint_generator(payload, device=torch_device)
    generator.eval()
    return Model(
        generator=generator,
        tokenizer=tokenizer_from_dict(metadata["tokenizer"]),
        config=SeqGANConfig.from_dict(payload["config"]),
        metadata=metadata,
        path=ckpt,
    )


def export_model(
    checkpoint: str | Path, out: str | Path, *, notes: dict[str, Any] | None = None
) -> Path:
    """Write a sampling-only checkpoint: config, generator weights and metadata, no optimiser or
    discriminator state (the shipped model is made this way: a few hundred KB instead of MBs).

    `notes` (JSON-native: the command, seed, wall time) are recorded under metadata["training"].
    """
    from seqgan_music.core.checkpoint import save_checkpoint

    payload = _load_payload(find_checkpoint(checkpoint))
    metadata = dict(payload.get("metadata", {}))
    if notes:
        metadata["training"] = notes
    slim = {
        "config": payload["config"],
        "generator": payload["generator"],
        "metadata": metadata,
        "domain": payload.get("domain"),
        "phase": payload.get("phase"),
        "step": payload.get("step"),
        "history": payload.get("history", []),
    }
    save_checkpoint(out, slim)
    return Path(out)
