"""Rows of training metrics as a CSV file and learning curves as a PNG: the one writer of both.

The CSV is written to a unique temporary file and renamed, so a reader never sees half a file;
matplotlib is optional, and without it `plot_lines` draws nothing and says why.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NO_MATPLOTLIB = "matplotlib is not installed: no PNG (pip install 'seqgan-music[plot]')"


def write_rows_csv(path: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """`rows` under a header of `columns` plus any other keys the rows have, atomically."""
    header = list(columns)
    for row in rows:
        header += [k for k in row if k not in header]
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_rows_csv(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def pyplot() -> Any:
    """matplotlib.pyplot on the file-only Agg backend, or None when matplotlib is not installed
    (the one place the optional dependency is looked for)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


@dataclass(frozen=True)
class Line:
    label: str
    xs: Sequence[float]
    ys: Sequence[float]
    color: str | None = None


def plot_lines(
    png: Path,
    lines: Sequence[Line],
    xlabel: str,
    ylabel: str,
    *,
    title: str | None = None,
    vline: float | None = None,
) -> str | None:
    """Draw the lines into `png`; None when written, else why not (no matplotlib, no points)."""
    plt = pyplot()
    if plt is None:
        return NO_MATPLOTLIB
    lines = [line for line in lines if len(line.xs)]
    if not lines:
        return "no points to draw"
    fig, ax = plt.subplots(figsize=(7, 4))
    for line in lines:
        ax.plot(line.xs, line.ys, marker=".", label=line.label, color=line.color)
    if vline is not None:
        ax.axvline(vline, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return None
