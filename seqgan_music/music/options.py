"""The music domain's own options, by name in the core's `LoadOptions.domain_options` (the
encoding) and `ComposeOptions.domain_options` (what the CLI's music flags and
`seqgan_music.compose(..., bars=8, png=True)` give)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqgan_music.errors import ConfigError, SeqGANMusicError


@dataclass(frozen=True)
class MusicLoadOptions:
    """The music domain's own load options (`core.domain.LoadOptions.domain_options`)."""

    encoding: str | None = None  # a registered encoding's name (music/encodings.py); None: paper
    # beat encoding: every tune moved to this tonic (a note name, C), its mode kept; None: as heard
    transpose_to: str | None = None


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
    form: str | None = None  # AABB, AB, ABAB: parts of `bars` bars (default 8) with cadences
    key: str | None = None  # the tonic, a note name (D, F#, Bb): note-ons kept in its scale
    mode: str | None = None  # major, minor, dorian, mixolydian (with key; default major)
    metre: str | None = None  # a time signature, 6/8 (beat encoding)
    score: bool = False  # also engrave the score: .pdf and -score.png through LilyPond
    guard: str | Path | None = None  # a folder of training tunes: --form tunes copy no 2 bars


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


def key_request(music: Any) -> tuple[int | None, str | None]:
    """--key and --mode as (tonic pitch class, mode); (None, None) when no key is asked for."""
    from seqgan_music.music.io.score import MODES, tonic_pitch_class

    if music.mode is not None and music.mode not in MODES:
        raise SeqGANMusicError(f"--mode must be one of {', '.join(MODES)}, not {music.mode}")
    if music.key is None:
        if music.mode is not None:
            raise SeqGANMusicError("--mode needs --key (the tonic), e.g. --key D --mode dorian")
        return None, None
    try:
        return tonic_pitch_class(music.key), music.mode or "major"
    except ValueError as err:
        raise SeqGANMusicError(str(err)) from err


def parse_metre(text: str) -> tuple[int, int]:
    """'6/8' -> (6, 8); a one-line error for anything else."""
    try:
        num, den = (int(x) for x in text.split("/"))
    except ValueError:
        num = den = 0
    if not (1 <= num <= 32 and den in (1, 2, 4, 8, 16)):
        raise SeqGANMusicError(f"--metre must be a time signature such as 6/8 or 4/4, not {text}")
    return num, den
