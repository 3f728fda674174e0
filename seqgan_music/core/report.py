"""The comparison table in the shape of the paper's Table 4: metric | models | p-values | real data.

Input is per-model, per-metric arrays of per-hypothesis scores (`{model: {metric: array}}`), as
`evaluate_samples` returns them; a cell is the mean, the p-value is Welch's t-test between the
first model and each other one, and the optional reference row (the held-out data scored the same
way, e.g. the valid split against the test split) gives the ceiling in the last column.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import numpy as np

from seqgan_music.core.metrics import evaluate_samples, welch_p_value
from seqgan_music.errors import SeqGANMusicError

Scores = Mapping[str, np.ndarray]  # metric name -> per-hypothesis scores (H,) or a scalar ()
REAL_DATA = "real data"

__all__ = [
    "better_direction",
    "comparison_table",
    "evaluate_samples",
    "seeds_table_markdown",
    "table_from_json",
    "table_to_json",
    "table_to_markdown",
]  # evaluate_samples lives in metrics.py; re-exported for callers


def _mean(values: np.ndarray | float | None) -> float | None:
    if values is None:
        return None
    arr = np.asarray(values, dtype=np.float64).ravel()
    arr = arr[np.isfinite(arr)]
    return float(arr.mean()) if len(arr) else None


def better_direction(metric: str) -> str:
    """Which way a metric is better, for the table's `better` column."""
    if metric.startswith(("BLEU", "overlap_", "coverage BLEU")):
        return "higher"
    if metric in ("MSE", "coverage MSE", "Frechet distance", "held-out NLL"):
        return "lower"
    if metric == "C2ST accuracy":  # 0.5 = indistinguishable; below is noise, so lower is better
        return "lower"
    if metric in ("entropy/token", "C2ST 95% CI half-width"):
        return "diagnostic"
    if metric.startswith("Self-BLEU"):
        return "lower (more diverse)"
    return "closer to real data"


def _p(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    if a is None or b is None or not np.ndim(a) or not np.ndim(b):
        return None  # set-level scalars have no t-test
    p = welch_p_value(a, b)
    return None if math.isnan(p) else p


def comparison_table(
    scores: Mapping[str, Scores], reference: Scores | None = None, *, subject: str | None = None
) -> list[dict[str, float | str | None]]:
    """Rows `{"metric", "better", <model>..., "p (...)"..., "real data"}`, one per metric.

    Cells are means over hypotheses (None where a model lacks the metric); p-values (Welch's
    t-test on the per-hypothesis scores; None for set-level scalars) compare each model with the
    first, or, with `subject`, that model with each other one. `better` says which direction is
    better. Metrics appear in the order they are first met."""
    if not scores:
        raise SeqGANMusicError("comparison_table needs at least one model's scores")
    models = list(scores)
    metrics = list(dict.fromkeys(m for model in models for m in scores[model]))
    if subject is None:
        pairs = [(other, models[0]) for other in models[1:]]
    else:
        pairs = [(subject, other) for other in models if other != subject]
    rows = []
    for metric in metrics:
        row: dict[str, float | str | None] = {"metric": metric, "better": better_direction(metric)}
        for model in models:
            row[model] = _mean(scores[model].get(metric))
        for a, b in pairs:
            row[f"p ({a} vs {b})"] = _p(scores[a].get(metric), scores[b].get(metric))
        if reference is not None:
            row[REAL_DATA] = _mean(reference.get(metric))
        rows.append(row)
    return rows


def table_to_json(rows: list[dict]) -> str:
    """The table as JSON (a list of row objects; missing values are null)."""
    return json.dumps(rows, indent=2)


def table_from_json(text: str) -> list[dict]:
    """Inverse of `table_to_json`."""
    return json.loads(text)


def _cell(key: str, value: float | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if key.startswith("p (") and value < 1e-3:
        return f"{value:.1e}"
    return f"{value:.4f}"


def table_to_markdown(rows: list[dict]) -> str:
    """The table as a GitHub Markdown table (4 decimals; small p-values in scientific notation)."""
    if not rows:
        return ""
    keys = list(dict.fromkeys(k for row in rows for k in row))
    text = ("seed", "metric", "better", "model")
    align = ["---" if k in text else "---:" for k in keys]  # numbers right
    lines = ["| " + " | ".join(keys) + " |", "|" + "|".join(align) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_cell(k, row.get(k)) for k in keys) + " |")
    return "\n".join(lines) + "\n"


def _wins(row: dict, subject: str, other: str, alpha: float = 0.01) -> bool | None:
    """Whether `subject` beats `other` on this row's metric with p < alpha (None: no direction
    or no test)."""
    direction, p = row["better"], row.get(f"p ({subject} vs {other})")
    a, b = row.get(subject), row.get(other)
    if p is None or a is None or b is None or direction not in ("higher", "lower"):
        return None
    return p < alpha and (a > b if direction == "higher" else a < b)


def _mean_sd(values: list[float]) -> str:
    arr = np.asarray([v for v in values if v is not None], dtype=np.float64)
    if not len(arr):
        return "-"
    sd = arr.std(ddof=1) if len(arr) > 1 else 0.0
    return f"{arr.mean():.4f} ± {sd:.4f}"


def seeds_table_markdown(
    per_seed: Mapping[int, list[dict]], models: list[str], subject: str
) -> str:
    """Every seed's row per metric, then mean ± sd over seeds and, per baseline, the number of
    seeds where `subject` is better with p < 0.01 (Markdown)."""
    others = [m for m in models if m != subject]
    seeds = list(per_seed)
    per_seed_rows = [dict(row, seed=seed) for seed in seeds for row in per_seed[seed]
                     if any(k.startswith("p (") and row[k] is not None for k in row)]  # fmt: skip
    md = "### Every seed\n\n" + table_to_markdown(
        [{"seed": str(r.pop("seed")), **r} for r in per_seed_rows]
    )
    summary = []
    for i, row in enumerate(per_seed[seeds[0]]):
        rows = [per_seed[s][i] for s in seeds]
        out: dict[str, float | str | None] = {"metric": row["metric"], "better": row["better"]}
        for model in models:
            out[model] = _mean_sd([r.get(model) for r in rows])
        for other in others:
            wins = [_wins(r, subject, other) for r in rows]
            out[f"seeds {subject} better, p < 0.01 (vs {other})"] = (
                "-" if None in wins else f"{sum(wins)} of {len(wins)}"
            )
        summary.append(out)
    md += f"\n### Mean ± sd over seeds {', '.join(map(str, seeds))}\n\n"
    return md + table_to_markdown(summary)
