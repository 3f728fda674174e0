"""The paper's Table 4 from our own runs: sample from checkpoints, score against held-out data.

`evaluate` scores models, each with its domain's metrics; `compare` trains SeqGAN and the MLE
baseline from one pre-trained generator and evaluates both, the one-command reproduction of the
paper's comparison.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqgan_music.core.domain import Dataset, get_domain
from seqgan_music.core.model import Model
from seqgan_music.core.report import comparison_table, table_to_json, table_to_markdown
from seqgan_music.core.runtime import Runtime, runtime_or_default
from seqgan_music.datasets import load_dataset
from seqgan_music.errors import SeqGANMusicError
from seqgan_music.models import load_checkpoint
from seqgan_music.quality_diversity import DEFAULT_TEMPERATURES, MatchedTest, matched_test
from seqgan_music.runs import CHECKPOINT_NAME
from seqgan_music.training import train


@dataclass
class EvaluationReport:
    rows: list[dict[str, Any]]
    markdown: str
    json_path: Path | None
    markdown_path: Path | None
    matched: MatchedTest | None = None  # the quality-diversity test, when temperatures were given


def evaluate(
    checkpoints: list[str | Path],
    *,
    data: str | Path | None = None,
    names: list[str] | None = None,
    num_samples: int | None = None,
    seed: int = 0,
    temperature: float = 1.0,
    out_dir: str | Path | None = None,
    runtime: Runtime | None = None,
    subject: str | None = None,
    temperatures: Sequence[float] | None = None,
) -> EvaluationReport:
    """Sample from each checkpoint, score against the corpus's test split, print-ready table.

    Welch's t-test p-values compare every model with the first (with `subject`, that model with
    every other); the domain's "real data" (held-out data scored as if it were a model: the valid
    split against the test split) is the ceiling. Sampling runs on the runtime's device in fp32,
    so scores compare across runs whatever precision they trained in. With `temperatures`, the
    quality-diversity test (quality_diversity.py) runs too: every model over that grid, the others
    matched to `subject`'s diversity at `temperature` (default subject: the last model), and its
    verdict comes first.
    """
    if not checkpoints:
        raise SeqGANMusicError("give at least one --checkpoint")
    runtime = runtime_or_default(runtime)
    models = [load_checkpoint(c, runtime=runtime) for c in checkpoints]
    domains = {m.domain for m in models}
    if len(domains) != 1:
        raise SeqGANMusicError(f"checkpoints mix domains {sorted(domains)}; compare like with like")
    dataset = _held_out(models[0], data)
    domain = get_domain(dataset.domain)
    references = domain.references(dataset)
    if len(references) == 0:
        raise SeqGANMusicError(f"{data}: no held-out windows to score against")
    n = num_samples or 1000
    names = names or [_model_name(m) for m in models]
    if subject is not None and subject not in names:
        raise SeqGANMusicError(f"--subject {subject!r} names no model; the models: {names}")
    scores = {}
    for name, model in zip(names, models):
        samples = model.sample(n, seed=seed, temperature=temperature, length=dataset.seq_len)
        scores[name] = domain.score(samples, references, dataset)
    real = domain.real_data(dataset, n)
    reference = None if real is None else domain.score(real, dataset.test, dataset)
    rows = comparison_table(scores, reference=reference, subject=subject)
    split = "test" if references is dataset.test else "valid"
    source = data if data is not None else models[0].run.data
    n_real = None if real is None else len(real)
    context = describe_evaluation(
        rows, str(source), split, len(references), n, n_real, seed, temperature, subject
    )
    if not temperatures:
        return _report(rows, out_dir, context)
    matched = matched_test(
        dict(zip(names, models)), dataset, domain, subject=subject or names[-1],
        temperatures=temperatures, subject_temperature=temperature, num_samples=n, seed=seed,
        out_dir=None if out_dir is None else Path(out_dir),
    )  # fmt: skip
    heading = f"### Every model at temperature {temperature:g} (not matched)\n\n"
    report = _report(rows, out_dir, heading + context)
    report.markdown = matched.markdown + "\n" + report.markdown
    report.matched = matched
    return report


# How to read each kind of row: (start of the metric's name, the sentence), first match wins.
_DIRECTIONS = (
    ("Self-BLEU", "Self-BLEU: lower is more diverse (each sample against the other samples)"),
    ("BLEU", "BLEU: higher is closer to the held-out data"),
    ("MSE", "MSE: lower is closer (squared semitones to the nearest held-out window)"),
    ("distinct", "distinct-n: higher is more varied"),
    ("overlap", "overlap: higher means the statistic's distribution is closer to the data's"),
    ("NLL", "NLL: lower is better"),
    ("C2ST", "C2ST accuracy: 0.5 = a fresh classifier cannot tell samples from held-out data"),
    ("Frechet", "Frechet distance: lower is closer (feature distributions)"),
    ("coverage MSE", "coverage MSE: lower means every held-out window has a near sample"),
    ("copied", "copied: share found verbatim in the training split (real data: its own share)"),
)


def describe_evaluation(
    rows: list[dict[str, Any]], source: str, split: str, n_references: int, n_samples: int,
    n_real: int | None, seed: int, temperature: float, subject: str | None = None,
) -> str:  # fmt: skip
    """The lines above the table: what was scored against what, and how to read it."""
    names = [str(r.get("metric", "")) for r in rows]
    how = []
    for prefix, sentence in _DIRECTIONS:
        if any(n.startswith(prefix) for n in names) and sentence not in how:
            how.append(sentence)
    lines = [
        f"Corpus {source}, scored against its {split} split ({n_references} windows); "
        f"{n_samples} samples per model (seed {seed}, temperature {temperature:g}).",
        "Reading it: " + "; ".join(how) + "; other statistics are best near the real data's."
        if how
        else "",
        f"p: Welch's t-test between {subject or 'the first model'} and each other one, on "
        "per-sample scores.",
    ]
    if n_real is not None:
        lines.append(
            f"Real data: {n_real} windows of the valid split, scored against the {split} split "
            "exactly as a model's samples are: the level of music (or text) the model imitates."
        )
    return "\n".join(line for line in lines if line) + "\n"


def _report(
    rows: list[dict[str, Any]], out_dir: str | Path | None, context: str = ""
) -> EvaluationReport:
    markdown = (context + "\n" if context else "") + table_to_markdown(rows)
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
    run = model.run
    source = data if data is not None else run.data
    if source is None:
        raise SeqGANMusicError("give --data: the checkpoint does not record its corpus")
    return load_dataset(
        source,
        tokenizer=run.tokenizer_name,
        seq_len=model.config.generator.seq_len,
        seed=run.held_out_seed(),
        progress=False,
        fitted_tokenizer=model.tokenizer,
        domain=model.domain,
    )


BEST_MLE, MLE_BRANCH, SEQGAN = "MLE (best valid)", "MLE (+epochs)", "SeqGAN"


def compare(
    data: str | Path = "embedded",
    *,
    out_dir: str | Path = "checkpoints/compare",
    preset: str = "default",
    overrides: dict[str, Any] | None = None,
    seed: int = 0,
    num_samples: int | None = None,
    runtime: Runtime | None = None,
    tokenizer: str | None = None,
    seq_len: int | None = None,
    callback: Any = None,
    progress: bool = True,
    domain_options: dict[str, Any] | None = None,
    temperatures: Sequence[float] | None = DEFAULT_TEMPERATURES,
    force: bool = False,
) -> EvaluationReport:
    """The fair comparison: three generators from one MLE pre-training, evaluated on test.

    SeqGAN trains in `out_dir/seqgan`; its G pre-training ends at the epoch of lowest validation
    NLL (early stopping), saved as `checkpoint-pretrained.pt`: row 1, the strongest MLE model.
    Row 2, the paper's MLE baseline, trains on from it by MLE for as many epochs as SeqGAN has
    adversarial rounds; row 3 is SeqGAN. p-values compare SeqGAN with each MLE row: first at
    matched diversity (each MLE row at the temperature, chosen on valid, where its diversity
    equals SeqGAN's at T = 1; `temperatures` is the grid, None skips it), then all at T = 1.
    Runs that exist in `out_dir` are replaced only with `force`.
    """
    out = Path(out_dir)
    runtime = runtime_or_default(runtime)
    common = dict(preset=preset, out_dir=out, seed=seed, runtime=runtime, tokenizer=tokenizer,
                  seq_len=seq_len, callback=callback, progress=progress,
                  domain_options=domain_options, force=force)  # fmt: skip
    seqgan = train(data, overrides=overrides, run_name="seqgan", **common)
    pretrained = seqgan.run_dir / "checkpoint-pretrained.pt"
    mle_overrides = {**(overrides or {}), "mode": "mle"}
    mle = train(data, overrides=mle_overrides, run_name="mle", init_from=pretrained, **common)
    report = evaluate_compare(out, data=data, num_samples=num_samples, seed=seed, runtime=runtime,
                              temperatures=temperatures)  # fmt: skip
    summary = {
        "data": str(data),
        "preset": preset,
        "seed": seed,
        "best_valid_epoch": _best_epoch(seqgan.checkpoint),
        "adversarial_rounds": _adversarial_rounds(seqgan.history),
        # with the preset's select_on: the round (epoch of the MLE branch) each row was set to
        "selected_round": {"seqgan": seqgan.selected_round, "mle": mle.selected_round},
        "train_seconds": {"seqgan": seqgan.seconds, "mle": mle.seconds},
    }
    (out / "compare.json").write_text(json.dumps(summary, indent=2) + "\n")
    return report


def evaluate_compare(
    out_dir: str | Path, *, data: str | Path | None = None, num_samples: int | None = None,
    seed: int = 0, runtime: Runtime | None = None,
    temperatures: Sequence[float] | None = DEFAULT_TEMPERATURES,
) -> EvaluationReport:  # fmt: skip
    """Evaluate the three rows a `compare` trained in `out_dir` (again, e.g. with another grid)."""
    out = Path(out_dir)
    return evaluate(
        [out / "seqgan" / "checkpoint-pretrained.pt", out / "mle" / CHECKPOINT_NAME,
         out / "seqgan" / CHECKPOINT_NAME],
        data=data, names=[BEST_MLE, MLE_BRANCH, SEQGAN], num_samples=num_samples, seed=seed,
        out_dir=out, runtime=runtime, subject=SEQGAN, temperatures=temperatures,
    )  # fmt: skip


def _best_epoch(checkpoint: Path) -> int | None:
    from seqgan_music.core.checkpoint import read_checkpoint

    best = read_checkpoint(checkpoint).get("best_g")
    return None if best is None else int(best["epoch"])


def _adversarial_rounds(history: list[dict[str, Any]]) -> int:
    return sum(1 for h in history if h["phase"] == "adversarial")


def compare_seeds(
    data: str | Path = "embedded",
    *,
    seeds: list[int],
    out_dir: str | Path = "checkpoints/compare",
    **kwargs: Any,
) -> EvaluationReport:
    """`compare` once per seed (in `out_dir/seed-<s>`), then `seeds_report` over them."""
    out = Path(out_dir)
    for s in seeds:
        compare(data, out_dir=out / f"seed-{s}", seed=s, **kwargs)
    return seeds_report(out, seeds)


def seeds_report(out_dir: str | Path, seeds: list[int]) -> EvaluationReport:
    """Every seed's rows (from `out_dir/seed-<s>/evaluation.json`, as `compare` wrote them, also
    when the seeds ran as separate `compare --seed <s> --out out_dir/seed-<s>` processes) plus
    mean ± sd over seeds, written to `out_dir/seeds.md` and `seeds.json`."""
    from seqgan_music.core.report import seeds_table_markdown, table_from_json

    out = Path(out_dir)
    per_seed = {}
    for s in seeds:
        path = out / f"seed-{s}" / "evaluation.json"
        if not path.is_file():
            raise SeqGANMusicError(f"no evaluation for seed {s}: {path} is missing")
        per_seed[s] = table_from_json(path.read_text())
    models = [BEST_MLE, MLE_BRANCH, SEQGAN]
    markdown = "## Every model at temperature 1 (not matched)\n\n"
    markdown += seeds_table_markdown(per_seed, models, SEQGAN)
    matched = {s: json.loads(p.read_text()) for s in seeds
               if (p := out / f"seed-{s}" / "matched.json").is_file()}  # fmt: skip
    if len(matched) == len(seeds):  # every seed ran the matched test: its verdict comes first
        markdown = matched_seeds_markdown(matched, models, SEQGAN) + "\n" + markdown
        (out / "matched_seeds.json").write_text(json.dumps(
            {str(s): m["verdict"] for s, m in matched.items()}, indent=2) + "\n")  # fmt: skip
    json_path, md_path = out / "seeds.json", out / "seeds.md"
    json_path.write_text(json.dumps({str(s): r for s, r in per_seed.items()}, indent=2) + "\n")
    md_path.write_text(markdown)
    rows = [dict(row, seed=s) for s, seed_rows in per_seed.items() for row in seed_rows]
    return EvaluationReport(rows, markdown, json_path, md_path)


def matched_seeds_markdown(
    matched: dict[int, dict[str, Any]], models: list[str], subject: str
) -> str:
    """The matched-diversity verdict of every seed, then mean ± sd and seeds won with p < 0.01."""
    from seqgan_music.core.report import seeds_table_markdown

    first = next(iter(matched.values()))
    lines = [f"## Matched diversity: the MLE rows at {subject}'s {first['statistic']} (test split)",
             "", "Temperatures chosen on the valid split, per seed:", ""]  # fmt: skip
    for s, m in matched.items():
        temps = ", ".join(f"{k} {v['temperature']:g}" + ("" if v["bracketed"] else " (grid edge)")
                          for k, v in m["matched"].items())  # fmt: skip
        lines.append(f"- seed {s}: {temps}")
    per_seed = {s: m["verdict"] for s, m in matched.items()}
    return "\n".join(lines) + "\n\n" + seeds_table_markdown(per_seed, models, subject)
