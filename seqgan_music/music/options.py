"""The music domain's own options, by name in the core's `LoadOptions.domain_options` (the
encoding) and `ComposeOptions.domain_options` (what the CLI's music flags and
`seqgan_music.compose(..., bars=8, png=True)` give)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from seqgan_music.errors import ConfigError


@dataclass(frozen=True)
class MusicLoadOptions:
    """The music domain's own load options (`core.domain.LoadOptions.domain_options`)."""

    encoding: str | None = None  # a registered encoding's name (music/encodings.py); None: paper


@dataclass(frozen=True)
class MusicOptions:
    """The music domain's own compose options."""

    primer: str | Path | None = None  # a MIDI/ABC tune to continue
    primer_steps: int | None = None  # how much of the primer to keep (default: a quarter)
    bars: int | None = None  # a length in bars instead of steps
    program: int = 0  # General MIDI program
    tempo: float | None = None  # quarter notes a minute (default: the model's)
    restrike: bool = False  # paper encoding: re-strike repeated pitches
    wav: bool = False  # also write a .wav preview
    png: bool = False  # also write a piano-roll .png


def checked_rendering(program: object, velocity: object, qpm: object = 120.0) -> tuple:
    """A tokenizer's saved rendering (a checkpoint may hold anything): a General MIDI program
    0..127, a velocity 1..127 and a finite positive tempo, as (int, int, float)."""
    program, velocity, qpm = int(program), int(velocity), float(qpm)  # type: ignore[arg-type]
    if not 0 <= program <= 127 or not 1 <= velocity <= 127 or not (math.isfinite(qpm) and qpm > 0):
        raise ConfigError(
            f"program must be in 0..127, velocity in 1..127 and the tempo positive, not "
            f"{program}, {velocity}, {qpm}"
        )
    return program, velocity, qpm
