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
    "comparison_table",
    "evaluate_samples",
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


def comparison_table(
    scores: Mapping[str, Scores], reference: Scores | None = None
) -> list[dict[str, float | str | None]]:
    """Rows `{"metric", <model>..., "p (<other> vs <first>)"..., "real data"}`, one per metric.

    Cells are means over hypotheses (None where a model lacks the metric); p-values compare each
    model with the first (Welch's t-test on the per-hypothesis scores; None for set-level scalars).
    Metrics appear in the order they are first met."""
    if not scores:
        raise SeqGANMusicError("comparison_table needs at least one model's scores")
    models = list(scores)
    metrics = list(dict.fromkeys(m for model in models for m in scores[model]))
    rows = []
    for metric in metrics:
        row: dict[str, float | str | None] = {"metric": metric}
        for model in models:
            row[model] = _mean(scores[model].get(metric))
        first = scores[models[0]].get(metric)
        for other in models[1:]:
            second = scores[other].get(metric)
            p = None
            if first is not None and second is not None and np.ndim(first) and np.ndim(second):
                p = welch_p_value(first, second)
                p = None if math.isnan(p) else p
            row[f"p ({other} vs {models[0]})"] = p
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
    align = ["---"] + ["---:"] * (len(keys) - 1)  # numbers right-aligned
    lines = ["| " + " | ".join(keys) + " |", "|" + "|".join(align) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_cell(k, row.get(k)) for k in keys) + " |")
    return "\n".join(lines) + "\n"
