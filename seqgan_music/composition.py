"""Sampling from a trained model; the model's domain writes the samples (MIDI, text lines, ...)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from seqgan_music.core.domain import ComposeOptions, Composition, get_domain
from seqgan_music.core.model import Model
from seqgan_music.core.runtime import Runtime, runtime_or_default
from seqgan_music.errors import SeqGANMusicError
from seqgan_music.models import load_checkpoint

__all__ = ["Composition", "compose"]


def compose(
    out: str | Path | None = "tune.mid",
    *,
    checkpoint: str | Path | None = None,
    model: Model | None = None,
    num: int = 1,
    seed: int | None = None,
    temperature: float = 1.0,
    length: int | None = None,
    bars: int | None = None,
    primer: str | Path | None = None,
    program: int = 0,
    tempo: float | None = None,
    restrike: bool = False,
    wav: bool = False,
    png: bool = False,
    runtime: Runtime | None = None,
    force: bool = False,
    primer_steps: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Composition]:
    """Sample `num` tunes from a checkpoint (default: the latest trained, else the shipped model).

    Music: writes MIDI files (tune.mid, tune-2.mid, ...) and, if asked, .wav previews and piano-roll
    .png. Text: returns decoded lines and writes them to `out` when it is given. Existing files
    are refused unless `force`; `progress(steps, length)` hears how sampling goes. Sampling runs
    on the runtime's device, in fp32 unless its precision says otherwise.
    """
    if out is not None and not str(out).strip():
        raise SeqGANMusicError("--out is empty: give a file name such as tune.mid, or a folder")
    if num < 1:
        raise SeqGANMusicError(f"--num must be at least 1, not {num}")
    if temperature <= 0:
        raise SeqGANMusicError(f"--temperature must be positive, not {temperature}")
    runtime = runtime_or_default(runtime)
    model = model or load_checkpoint(checkpoint, runtime=runtime)
    options = ComposeOptions(num, seed, temperature, length, primer, program, tempo, restrike,
                             wav, png, force, primer_steps, progress, bars)  # fmt: skip
    with runtime.sampling():
        return get_domain(model.domain).compose(
            model, Path(out) if out is not None else None, options
        )
