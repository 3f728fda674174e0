"""The quality-diversity test (Caccia et al., *Language GANs Falling Short*, ICLR 2020).

Comparing models at temperature 1 rewards whichever has the lowest entropy: BLEU and MSE favour
typical samples, and a colder MLE generator is more typical too. So every model is sampled over a
temperature grid and scored on the *valid* split (its quality-diversity curve); each other model's
temperature is chosen there, by linear interpolation between grid points, where its diversity
statistic (the domain's `match_statistic`, Self-BLEU-4 by default) equals the subject's at its
own temperature; fresh samples at those temperatures are then scored on the *test* split, with
Welch's p-values (the verdict). Test data never chooses anything.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqgan_music.core.domain import Dataset, Domain
from seqgan_music.core.files import atomic_write_text
from seqgan_music.core.model import Model
from seqgan_music.core.report import REAL_DATA, comparison_table, table_to_markdown
from seqgan_music.errors import SeqGANMusicError

DEFAULT_TEMPERATURES = (0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.3)
VERDICT_SEED_OFFSET = 7919  # the verdict's draws are fresh: not the curves' samples
NLL, ENTROPY, TEMPERATURE = "held-out NLL", "entropy/token", "temperature"


@dataclass
class MatchedTest:
    verdict: list[dict[str, Any]]  # comparison-table rows on the test split, "temperature" first
    curves: list[dict[str, Any]]  # one row per (model, temperature) on the valid split
    matched: dict[str, dict[str, Any]]  # model -> temperature, whether the grid bracketed it
    statistic: str
    markdown: str
    png: Path | None = None


def parse_temperatures(text: str | None) -> tuple[float, ...] | None:
    """ "0.5,0.8,1" -> (0.5, 0.8, 1.0); "off" -> None; None -> the default grid."""
    if text is None:
        return DEFAULT_TEMPERATURES
    if text.strip().lower() == "off":
        return None
    try:
        grid = tuple(sorted({float(t) for t in text.split(",") if t.strip()}))
    except ValueError as err:
        raise SeqGANMusicError(f"--temperatures {text!r}: give numbers like 0.5,0.8,1") from err
    if not grid or min(grid) <= 0:
        raise SeqGANMusicError(f"--temperatures {text!r}: give positive temperatures")
    return grid


class SampleCache:
    """Samples per (model, temperature, seed, n), in memory and, with a folder, on disk (keyed by
    the checkpoint's path, size and modification time, so a retrained model is drawn afresh)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder, self._memory = folder, {}

    def get(self, model: Model, n: int, temperature: float, seed: int, length: int) -> np.ndarray:
        stat = model.path.stat() if model.path.exists() else None
        ident = f"{model.path.resolve()}|{stat and (stat.st_size, stat.st_mtime_ns)}"
        digest = hashlib.sha1(ident.encode()).hexdigest()[:12]
        name = f"{re.sub(r'[^A-Za-z0-9]+', '-', model.path.stem)}-{digest}"
        key = f"{name}-n{n}-L{length}-T{temperature:g}-s{seed}"
        if key in self._memory:
            return self._memory[key]
        path = None if self.folder is None else self.folder / f"{key}.npy"
        if path is not None and path.is_file():
            samples = np.load(path)
        else:
            samples = model.sample(n, seed=seed, temperature=temperature, length=length)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(path.name + ".tmp.npy")
                np.save(tmp, samples)
                tmp.replace(path)  # atomic: a killed run leaves no half-written sample file
        self._memory[key] = samples
        return samples


def score_draw(
    domain: Domain, dataset: Dataset, samples: np.ndarray, references: np.ndarray,
    model: Model | None = None, temperature: float = 1.0, seed: int = 0,
) -> dict[str, np.ndarray]:  # fmt: skip
    """The domain's scores, the distribution metrics, and (for a model) the held-out NLL at the
    temperature and the entropy per token along its own samples (`samples` drawn as
    `model.sample(len(samples), seed=seed)`)."""
    scores = dict(domain.score(samples, references, dataset))
    fidelity = getattr(domain, "fidelity", None)
    if fidelity is not None:
        scores.update(fidelity(samples, references, dataset, seed=seed))
    if model is not None:
        scores[NLL] = model.token_nll(references, temperature)
        # the samples are `model.sample(len(samples), seed=seed)`'s (SampleCache): a conditioned
        # model's entropy reads each under the condition that draw started it from
        drawn = model.sample_conditions(len(samples), seed=seed)
        scores[ENTROPY] = model.token_entropy(samples, temperature, drawn)
    return scores


def match_temperature(
    temperatures: Sequence[float], values: Sequence[float], target: float
) -> tuple[float, bool]:
    """The temperature where the curve (temperatures, values) reaches `target`, interpolated
    linearly between the grid points that bracket it (the crossing nearest T = 1 if several);
    without one, the grid point closest to the target, and False."""
    t = np.asarray(temperatures, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    order = np.argsort(t)
    t, v = t[order], v[order]
    crossings = []
    for i in range(len(t) - 1):
        lo, hi = sorted((v[i], v[i + 1]))
        if lo <= target <= hi:
            share = 0.0 if v[i + 1] == v[i] else (target - v[i]) / (v[i + 1] - v[i])
            crossings.append(float(t[i] + share * (t[i + 1] - t[i])))
    if crossings:
        return min(crossings, key=lambda x: abs(x - 1.0)), True
    return float(t[np.argmin(np.abs(v - target))]), False


def _means(scores: dict[str, np.ndarray]) -> dict[str, float | None]:
    out = {}
    for k, v in scores.items():
        arr = np.asarray(v, dtype=np.float64).ravel()
        arr = arr[np.isfinite(arr)]
        out[k] = float(arr.mean()) if len(arr) else None
    return out


def matched_test(
    models: dict[str, Model], dataset: Dataset, domain: Domain, *, subject: str,
    temperatures: Sequence[float] = DEFAULT_TEMPERATURES, subject_temperature: float = 1.0,
    num_samples: int = 1000, seed: int = 0, out_dir: Path | None = None,
) -> MatchedTest:  # fmt: skip
    """Curves on valid, temperatures matched to `subject`'s diversity there, verdict on test."""
    if subject not in models:
        raise SeqGANMusicError(f"--subject {subject!r} is none of the models: {', '.join(models)}")
    if len(dataset.valid) == 0 or len(dataset.test) == 0:
        raise SeqGANMusicError("the matched test needs both a valid and a test split")
    statistic = getattr(domain, "match_statistic", "Self-BLEU-4")
    cache = SampleCache(None if out_dir is None else Path(out_dir) / "samples")
    length, n = dataset.seq_len, num_samples
    grid = sorted(set(temperatures) | {subject_temperature})
    curves: list[dict[str, Any]] = []
    for name, model in models.items():
        for t in grid:
            samples = cache.get(model, n, t, seed, length)
            means = _means(score_draw(domain, dataset, samples, dataset.valid, model, t, seed))
            curves.append({"model": name, TEMPERATURE: t, **means})
    real = score_draw(domain, dataset, dataset.test[:n], dataset.valid, seed=seed)
    curves.append({"model": REAL_DATA, TEMPERATURE: None, **_means(real)})
    if statistic not in curves[0]:
        raise SeqGANMusicError(f"the {domain.name} domain's scores have no {statistic!r} to match")

    def curve(name: str) -> list[dict[str, Any]]:
        return [r for r in curves if r["model"] == name]

    target = next(r[statistic] for r in curve(subject) if r[TEMPERATURE] == subject_temperature)
    matched = {subject: {TEMPERATURE: subject_temperature, "bracketed": True, "valid": target}}
    for name in models:
        if name != subject:
            rows = [r for r in curve(name) if r[statistic] is not None]
            t, ok = match_temperature([r[TEMPERATURE] for r in rows],
                                      [r[statistic] for r in rows], target)  # fmt: skip
            matched[name] = {TEMPERATURE: round(t, 4), "bracketed": ok}
    matched = {name: matched[name] for name in models}  # in the models' order
    verdict_seed = seed + VERDICT_SEED_OFFSET
    scores = {}
    for name, model in models.items():
        t = matched[name][TEMPERATURE]
        samples = cache.get(model, n, t, verdict_seed, length)
        scores[name] = score_draw(domain, dataset, samples, dataset.test, model, t, verdict_seed)
    real_rows = domain.real_data(dataset, n)
    reference = None
    if real_rows is not None:
        reference = score_draw(domain, dataset, real_rows, dataset.test, seed=verdict_seed)
    verdict = comparison_table(scores, reference=reference, subject=subject)
    verdict.insert(0, {"metric": TEMPERATURE, "better": "chosen on valid",
                       **{m: matched[m][TEMPERATURE] for m in models}})  # fmt: skip
    result = MatchedTest(verdict, curves, matched, statistic, "")
    result.markdown = matched_markdown(result, subject, subject_temperature, n, grid)
    if out_dir is not None:
        _write(result, Path(out_dir))
    return result


# The curve table's columns: the matching statistic, then these when present (all are in JSON).
CURVE_COLUMNS = ("BLEU-", "MSE", "distinct-", "C2ST accuracy", "Frechet distance", "coverage",
                 "copied", NLL, ENTROPY)  # fmt: skip


def curve_table(curves: list[dict[str, Any]], statistic: str) -> list[dict[str, Any]]:
    """The curves with the columns a reader compares (the full rows are in curves.json)."""
    keys = [k for k in curves[0] if k not in ("model", TEMPERATURE)]
    keep = [statistic] + [k for p in CURVE_COLUMNS for k in keys
                          if k.startswith(p) and k != statistic and "CI" not in k]  # fmt: skip
    keep = list(dict.fromkeys(keep))
    return [{"model": r["model"], "T": r[TEMPERATURE], **{k: r.get(k) for k in keep}}
            for r in curves]  # fmt: skip


def matched_markdown(
    result: MatchedTest, subject: str, subject_temperature: float, n: int, grid: Sequence[float]
) -> str:
    stat = result.statistic
    unmatched = [m for m, v in result.matched.items() if not v["bracketed"]]
    lines = [
        f"### Matched diversity: every model at {subject}'s {stat} (the verdict, test split)",
        "",
        f"Each other model is sampled at the temperature where its {stat} on the valid split "
        f"equals {subject}'s at T = {subject_temperature:g} ({result.matched[subject]['valid']:.4f}"
        f"; grid {', '.join(f'{t:g}' for t in grid)}, linear interpolation; {n} samples a point); "
        "fresh samples at those temperatures are scored on the test split. p: Welch's t-test "
        f"between {subject} and each other model on per-unit scores. C2ST accuracy: a fresh "
        "logistic regression telling held-out windows from samples, 0.5 = indistinguishable; "
        "Frechet distance on feature vectors in units of the held-out data's sd; coverage: each "
        "held-out window against its nearest sample (a recall); copied: share of samples (and of "
        "their runs) found verbatim in the training split.",
    ]
    if unmatched:
        lines.append(f"Not bracketed by the grid (nearest point used): {', '.join(unmatched)}.")
    md = "\n".join(lines) + "\n\n" + table_to_markdown(result.verdict)
    md += "\n### Quality-diversity curves (valid split)\n\n"
    return md + table_to_markdown(curve_table(result.curves, stat))


def _write(result: MatchedTest, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    payload = {"statistic": result.statistic, "matched": result.matched,
               "verdict": result.verdict, "curves": result.curves}  # fmt: skip
    atomic_write_text(out / "matched.json", json.dumps(payload, indent=2) + "\n")
    atomic_write_text(out / "matched.md", result.markdown + "\n")
    result.png = plot_curves(result.curves, result.statistic, result.matched,
                             out / "quality_diversity.png")  # fmt: skip


def _panels(keys: list[str], statistic: str) -> list[tuple[str, str]]:
    """(x, y) metric pairs to draw, those the scores have: quality against diversity, then each
    distribution metric against the temperature."""
    order = statistic.split("-")[-1]
    pairs = [(statistic, f"BLEU-{order}"), ("distinct-4", "MSE")]
    pairs += [(f"Self-BLEU-{n}", f"BLEU-{n}") for n in ("2", "3") if n != order]  # text's orders
    pairs += [(TEMPERATURE, k) for k in keys if k.startswith(("C2ST accuracy", "Frechet",
              "coverage", "copied ")) or k == NLL]  # fmt: skip
    return [(x, y) for x, y in pairs if (x == TEMPERATURE or x in keys) and y in keys]


def plot_curves(
    curves: list[dict[str, Any]], statistic: str, matched: dict[str, dict[str, Any]], png: Path
) -> Path | None:
    """One PNG, every model on the same axes per panel, the real data's point marked (a star; a
    dashed line against temperature) and each model's matched temperature ringed."""
    from seqgan_music.core.curves import pyplot

    plt = pyplot()
    if plt is None:
        return None
    keys = [k for k in curves[0] if k not in ("model", TEMPERATURE)]
    panels = _panels(keys, statistic)
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.8 * rows), squeeze=False)
    real = next((r for r in curves if r["model"] == REAL_DATA), None)
    names = [m for m in dict.fromkeys(r["model"] for r in curves) if m != REAL_DATA]
    for ax, (x, y) in zip(axes.ravel(), panels):
        for name in names:
            pts = [(r[TEMPERATURE] if x == TEMPERATURE else r[x], r[y], r[TEMPERATURE])
                   for r in curves if r["model"] == name and r[y] is not None
                   and (x == TEMPERATURE or r[x] is not None)]  # fmt: skip
            if not pts:
                continue
            xs, ys, ts = zip(*pts)
            (line,) = ax.plot(xs, ys, marker=".", label=name)
            for xv, yv, t in pts:
                ax.annotate(f"{t:g}", (xv, yv), fontsize=6, alpha=0.7)
            t_star = matched.get(name, {}).get(TEMPERATURE)
            near = min(pts, key=lambda p: abs(p[2] - t_star)) if t_star is not None else None
            if near is not None and x != TEMPERATURE:
                ax.plot(near[0], near[1], "o", mfc="none", ms=10, color=line.get_color())
        if real is not None and real.get(y) is not None:
            if x == TEMPERATURE:
                ax.axhline(real[y], color="black", linestyle="--", linewidth=0.9, label=REAL_DATA)
            elif real.get(x) is not None:
                ax.plot(real[x], real[y], "k*", ms=12, label=REAL_DATA)
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(panels) :]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=7)
    fig.suptitle(
        f"Quality-diversity curves on the valid split (numbers: temperature; ring: "
        f"the grid point nearest the temperature matched on {statistic})",
        fontsize=9,
    )
    fig.tight_layout()
    tmp = png.with_name(png.name + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(png)
    return png
