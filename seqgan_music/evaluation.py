"""The paper's Table 4 from our own runs: sample from checkpoints, score against held-out data.

`evaluate` scores models; `compare` trains the MLE baseline and SeqGAN from one pre-trained
generator and evaluates both, the one-command reproduction of the paper's comparison.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqgan_music.api import Dataset, Model, load_checkpoint, load_dataset, train
from seqgan_music.core.report import comparison_table, table_to_json, table_to_markdown
from seqgan_music.errors import SeqGANMusicError

BLEU_ORDERS = {"music": (4,), "text": (2, 3, 4)}


@dataclass
class EvaluationReport:
    rows: list[dict[str, Any]]
    markdown: str
    json_path: Path | None
    markdown_path: Path | None


def trim_at_end(rows: np.ndarray, eos_id: int | None, pad_id: int | None) -> list[np.ndarray]:
    """Text rows cut before their first EOS (and PAD), so padding never counts as n-grams."""
    stops = [t for t in (eos_id, pad_id) if t is not None]
    out = []
    for row in rows:
        ends = np.flatnonzero(np.isin(row, stops))
        out.append(row[: ends[0]] if len(ends) else row)
    return out


def score_samples(
    samples: np.ndarray,
    references: np.ndarray,
    domain: str,
    tokenizer: Any = None,
    *,
    quick: bool = False,
) -> dict[str, Any]:
    """Per-hypothesis scores (arrays) for one model; music adds MSE and musical metrics.
    `quick`: only BLEU (the domain's orders) and, for music, MSE (the per-round diagnostic)."""
    from seqgan_music.core.metrics import bleu, evaluate_samples, nearest_mse

    if domain == "text" and tokenizer is not None:
        samples = trim_at_end(samples, tokenizer.eos_id, tokenizer.pad_id)
        references = trim_at_end(references, tokenizer.eos_id, tokenizer.pad_id)
    if quick:
        scores = {f"BLEU-{n}": bleu(samples, references, n) for n in BLEU_ORDERS[domain]}
        if domain == "music":
            scores["MSE"] = nearest_mse(samples, references, ignore_token=0)
        return scores

    scores = evaluate_samples(
        samples, references, bleu_orders=BLEU_ORDERS[domain], mse=False, ignore_token=None
    )
    if domain == "music":
        scores = _music_scores(scores, samples, references, tokenizer)
    return scores


def _music_scores(
    scores: dict[str, Any], samples: np.ndarray, references: np.ndarray, tokenizer: Any
) -> dict[str, Any]:
    """MSE and the pitch metrics on the sounding pitch per step (a beat-grid tokenizer says how to
    read it from its tokens), then the rhythm metrics where the tokens carry rhythm."""
    from seqgan_music.core.metrics import nearest_mse
    from seqgan_music.music.metrics import metric_overlaps, musical_metrics

    to_frames = getattr(tokenizer, "pitch_frames", None)
    frames, ref_frames = (
        (to_frames(samples), to_frames(references)) if to_frames else (samples, references)
    )
    out = {k: v for k, v in scores.items() if k.startswith("BLEU")}
    out["MSE"] = nearest_mse(frames, ref_frames, ignore_token=0)
    out |= {k: v for k, v in scores.items() if not k.startswith("BLEU")}
    out.update(musical_metrics(frames))
    out.update({f"overlap_{k}": v for k, v in metric_overlaps(frames, ref_frames).items()})
    if to_frames is not None and hasattr(tokenizer, "bar_steps"):
        from seqgan_music.music.rhythm_metrics import rhythm_metrics, rhythm_overlaps

        grid = (tokenizer.steps_per_quarter, tokenizer.bar_steps)
        out.update(rhythm_metrics(samples, *grid))
        overlaps = rhythm_overlaps(samples, references, *grid)
        out.update({f"overlap_{k}": v for k, v in overlaps.items()})
    return out


def evaluate(
    checkpoints: list[str | Path],
    *,
    data: str | Path | None = None,
    names: list[str] | None = None,
    num_samples: int | None = None,
    seed: int = 0,
    temperature: float = 1.0,
    out_dir: str | Path | None = None,
    device: str = "auto",
) -> EvaluationReport:
    """Sample from each checkpoint, score against the corpus's test split, print-ready table.

    The first two models get Welch's t-test p-values; the held-out valid split scored against
    the test split is the `real data` column (the ceiling).
    """
    if not checkpoints:
        raise SeqGANMusicError("give at least one --checkpoint")
    models = [load_checkpoint(c, device=device) for c in checkpoints]
    domains = {m.domain for m in models}
    if len(domains) != 1:
        raise SeqGANMusicError(f"checkpoints mix domains {sorted(domains)}; compare like with like")
    dataset = _held_out(models[0], data)
    references = dataset.test if len(dataset.test) else dataset.valid
    if len(references) == 0:
        raise SeqGANMusicError(f"{data}: no held-out windows to score against")
    n = num_samples or 1000
    names = names or [_model_name(m) for m in models]
    scores = {}
    for name, model in zip(names, models):
        samples = model.sample(n, seed=seed, temperature=temperature, length=dataset.seq_len)
        scores[name] = score_samples(samples, references, dataset.domain, dataset.tokenizer)
    reference = None
    if len(dataset.valid) and len(dataset.test):
        reference = score_samples(
            dataset.valid[:n], dataset.test, dataset.domain, dataset.tokenizer
        )
    rows = comparison_table(scores, reference=reference)
    markdown = table_to_markdown(rows)
    json_path = md_path = None
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        json_path, md_path = out / "evaluation.json", out / "evaluation.md"
        json_path.write_text(table_to_json(rows) + "\n")
        md_path.write_text(markdown + "\n")
    return EvaluationReport(rows, markdown, json_path, md_path)


def _model_name(model: Model) -> str:
    return model.path.parent.name if model.path.name == "checkpoint.pt" else model.path.stem


def _held_out(model: Model, data: str | Path | None) -> Dataset:
    meta = model.metadata
    source = data if data is not None else meta.get("data")
    if source is None:
        raise SeqGANMusicError("give --data: the checkpoint does not record its corpus")
    return load_dataset(
        source,
        tokenizer=meta.get("tokenizer_name"),
        seq_len=model.config.generator.seq_len,
        seed=int(meta.get("seed", 0)),
        progress=False,
        fitted_tokenizer=model.tokenizer,
    )


def compare(
    data: str | Path = "embedded",
    *,
    out_dir: str | Path = "checkpoints/compare",
    preset: str = "default",
    overrides: dict[str, Any] | None = None,
    seed: int = 0,
    num_samples: int | None = None,
    device: str = "auto",
    tokenizer: str | None = None,
    seq_len: int | None = None,
    callback: Any = None,
    progress: bool = True,
    encoding: str | None = None,
) -> EvaluationReport:
    """MLE vs SeqGAN from the same pre-trained generator, then the Table-4-style evaluation.

    SeqGAN trains in `out_dir/seqgan` (pre-training + adversarial phase); the MLE baseline starts
    from its `checkpoint-pretrained.pt` and trains by MLE for as many epochs as SeqGAN had
    adversarial rounds (the paper's learning-curve protocol).
    """
    out = Path(out_dir)
    common = dict(preset=preset, out_dir=out, seed=seed, device=device, tokenizer=tokenizer,
                  seq_len=seq_len, callback=callback, progress=progress,
                  encoding=encoding)  # fmt: skip
    seqgan = train(data, overrides=overrides, run_name="seqgan", **common)
    # The baseline branches from SeqGAN's pre-trained state and trains by MLE instead.
    pretrained = seqgan.run_dir / "checkpoint-pretrained.pt"
    mle_overrides = {**(overrides or {}), "mode": "mle"}
    mle = train(data, overrides=mle_overrides, run_name="mle", init_from=pretrained, **common)
    report = evaluate(
        [mle.checkpoint, seqgan.checkpoint],
        data=data,
        names=["MLE", "SeqGAN"],
        num_samples=num_samples,
        seed=seed,
        out_dir=out,
        device=device,
    )
    summary = {
        "data": str(data),
        "preset": preset,
        "encoding": encoding,
        "seed": seed,
        "train_seconds": {"seqgan": seqgan.seconds, "mle": mle.seconds},
    }
    (out / "compare.json").write_text(json.dumps(summary, indent=2) + "\n")
    return report
