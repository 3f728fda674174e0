"""What the paper encoding gives the music metrics: its tokens are already pitch frames (key
numbers per step, music/pitch.py), so the shared pitch metrics read them as they are and it adds
no metric of its own; a bar is `STEPS_PER_BAR` steps (a step is written as a quarter note)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seqgan_music.music.paper.encoding import STEPS_PER_BAR


def pitch_frames(tokenizer: Any, windows: np.ndarray) -> np.ndarray:
    """The sounding key number per step: the tokens themselves."""
    return np.asarray(windows)


def own_scores(samples: np.ndarray, references: np.ndarray, tokenizer: Any) -> dict[str, Any]:
    """No metric beyond the shared pitch metrics: the tokens carry no rhythm."""
    return {}


def bar_steps(tokenizer: Any) -> int:
    return STEPS_PER_BAR


def opening(path: Path, tokenizer: Any, bars: int) -> np.ndarray | None:
    """The first `bars` bars of a tune file as pitch frames (None: shorter than that)."""
    tokens = np.asarray(tokenizer.encode(path))
    return tokens[: bars * STEPS_PER_BAR] if len(tokens) >= bars * STEPS_PER_BAR else None
