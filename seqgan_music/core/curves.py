"""Rows of training metrics as a CSV file and learning curves as a PNG: the one writer of both.

The CSV is written atomically (`files.atomic_write`), so a reader never sees half a file;
matplotlib is optional, and without it `plot_lines` draws nothing and says why.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqgan_music.core.files import atomic_write

NO_MATPLOTLIB = "matplotlib is not installed: no PNG (pip install 'seqgan-music[plot]')"


def write_rows_csv(path: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """`rows` under a header of `columns` plus any other keys the rows have, atomically."""
    header = list(columns)
    for row in rows:
        header += [k for k in row if k not in header]

    def write(fh: Any) -> None:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)

    atomic_write(path, write, binary=False)


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
