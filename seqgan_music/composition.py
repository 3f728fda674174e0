"""Sampling from a trained model; the model's domain writes the samples (MIDI, text lines, ...)."""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seqgan_music.core.domain import ComposeOptions, Composition, get_domain
from seqgan_music.core.model import Model
from seqgan_music.core.runtime import Runtime, runtime_or_default
from seqgan_music.errors import SeqGANMusicError, SeqGANMusicWarning
from seqgan_music.models import load_checkpoint

__all__ = ["Composition", "compose"]


def compose(
    out: str | Path | None = "tune.mid",
    *,
    checkpoint: str | Path | None = None,
    model: Model | None = None,
    num: int = 1,
    seed: int | None = None,
    temperature: float | None = None,
    length: int | None = None,
    runtime: Runtime | None = None,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
    **domain_options: Any,
) -> list[Composition]:
    """Sample `num` tunes from a checkpoint (default: the latest trained, else the shipped model).

    Music: writes MIDI files (tune.mid, tune-2.mid, ...) and, if asked, .wav previews and piano-roll
    .png. Text: returns decoded lines and writes them to `out` when it is given. `domain_options`
    are the model's domain's own (music: bars, primer, primer_steps, program, tempo, restrike,
    wav, png: seqgan_music.music.options); None or False is the same as not given; one the
    domain does not have is an error. Existing files are refused unless `force`;
    `progress(steps, length)` hears how sampling goes. Sampling runs on the runtime's device, in
    fp32 unless its precision says otherwise. `temperature` None: the model's own default
    (`Model.compose_default`: the one the matched-diversity test chose, else 1).
    Without `seed` one is drawn; each Composition carries it (music files record it too).
    """
    if out is not None and not str(out).strip():
        raise SeqGANMusicError("--out is empty: give a file name such as tune.mid, or a folder")
    if num < 1:
        raise SeqGANMusicError(f"--num must be at least 1, not {num}")
    if temperature is not None and temperature <= 0:
        raise SeqGANMusicError(f"--temperature must be positive, not {temperature}")
    runtime = runtime_or_default(runtime)
    model = model or load_checkpoint(checkpoint, runtime=runtime)
    if temperature is None:
        temperature = model.compose_default[0]
    seed = secrets.randbits(31) if seed is None else seed  # drawn here to be printed and stored
    given = {k: v for k, v in domain_options.items() if v is not None and v is not False}
    options = ComposeOptions(num, seed, temperature, length, force, progress, given)
    with runtime.sampling():
        pieces = get_domain(model.domain).compose(
            model, Path(out) if out is not None else None, options
        )
    for piece in pieces:
        piece.seed = seed
    if model.metadata.get("preset") == "tiny":  # said once the samples are out
        message = (
            f"{model.path} was trained with the tiny preset, a seconds-long smoke test: "
            "its samples are barely trained (the default preset trains real ones)"
        )
        warnings.warn(SeqGANMusicWarning(message), stacklevel=2)  # fmt: skip
    return pieces
