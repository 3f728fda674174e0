"""Composing with a paper-encoding model (`midi-pitch` tokenizer): a pitch every step, written as
MIDI quarter notes (a step stays one quarter note: --tempo changes only how long it lasts)."""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from seqgan_music.core.files import atomic_write
from seqgan_music.core.model import Model
from seqgan_music.errors import SeqGANMusicError, SeqGANMusicWarning
from seqgan_music.music.paper.encoding import REST, STEPS_PER_BAR, token_to_pitch

DEFAULT_STEPS = 128  # a composed tune's default length: 51 s at 0.4 s a step (Magenta: 128 too)
LONG_FACTOR = 4  # --length beyond this many times the trained length draws a warning


def compose_paper(
    model: Model, paths: list[Path], options: Any, music: Any
) -> list[dict[str, Any]]:
    """Sample and write one MIDI per path (`options`: core.domain.ComposeOptions, `music`:
    music.options.MusicOptions), with .wav previews and piano rolls if asked; returns per tune
    its tokens, path, seconds, pitch range and extra files."""
    from seqgan_music.music.io.tools import midi_to_wav
    from seqgan_music.music.render import write_piano_roll_png

    _refuse_beat_only(music, paths)
    if music.bars is not None:  # the paper's grid: a step is written as a quarter note
        if music.bars < 1:
            raise SeqGANMusicError(f"--bars must be at least 1, not {music.bars}")
        options = replace(options, length=music.bars * STEPS_PER_BAR)
    model_step = float(model.tokenizer.step_seconds)
    # A step stays one quarter note: --tempo changes only how long it lasts when rendered.
    step = 60.0 / music.tempo if music.tempo is not None else model_step
    length = compose_length(model, options.length)
    prefix = _primer_prefix(model, music, model_step, length)
    progress = options.progress
    samples = model.sample(
        len(paths),
        length=length,
        temperature=options.temperature,
        seed=options.seed,
        prefix=prefix,
        on_step=None if progress is None else (lambda t: progress(t, length)),
        allowed=key_mask(music, model.config.generator.vocab_size, length),
    )
    results = []
    for row, path in zip(samples, paths):
        path.parent.mkdir(parents=True, exist_ok=True)
        tune = model.tokenizer.decode(row, step_seconds=step, program=music.program,
                                      qpm=music.tempo, restrike=music.restrike)  # fmt: skip
        atomic_write(path, tune.write)
        extras = []
        if music.wav:  # FluidSynth plays the MIDI just written, as the beat path does
            extras.append(midi_to_wav(path, path.with_suffix(".wav")))
        if music.png:  # a bar is STEPS_PER_BAR steps (4/4); the red line ends the primer
            extras.append(write_piano_roll_png(
                row, path.with_suffix(".png"), step, bar_seconds=STEPS_PER_BAR * step,
                mark_seconds=len(prefix) * step if prefix else None))  # fmt: skip
        pitches = token_to_pitch(row[row != REST])
        low, high = (int(pitches.min()), int(pitches.max())) if len(pitches) else (None, None)
        results.append({"tokens": row, "path": path, "seconds": len(row) * step, "lowest": low,
                        "highest": high, "extras": tuple(extras)})  # fmt: skip
    return results


def _refuse_beat_only(music: Any, paths: list[Path]) -> None:
    """What the paper's grid (a pitch a quarter note, 4/4) cannot write: a one-line error."""
    asked = [flag for flag, on in (
        ("--form", music.form is not None), ("--guard", music.guard is not None),
        ("--score", music.score),
        (f"--out {paths[0].suffix}", paths[0].suffix.lower() not in (".mid", ".midi")),
        (f"--metre {music.metre}", music.metre not in (None, "4/4")),
    ) if on]  # fmt: skip
    if asked:
        raise SeqGANMusicError(
            f"{asked[0]}: the paper encoding writes quarter notes in 4/4 only (no eighth notes, "
            "no 6/8); use a model trained with --encoding beat"
        )


def key_mask(music: Any, vocab: int, length: int) -> np.ndarray | None:
    """--key/--mode: (length, V) allowing rest and the keys in the mode's scale."""
    from seqgan_music.music.io.score import MODE_STEPS
    from seqgan_music.music.options import key_request

    tonic, mode = key_request(music)
    if tonic is None:
        return None
    scale = {(tonic + s) % 12 for s in MODE_STEPS[mode]}
    row = np.array([t == REST or int(token_to_pitch(np.array([t]))[0]) % 12 in scale
                    for t in range(vocab)])  # fmt: skip
    return np.tile(row, (length, 1))


def compose_length(model: Model, length: int | None) -> int:
    """--length, by default `DEFAULT_STEPS` (Magenta's melody generator's 128); a warning when it
    goes far past the length the model was trained on (`LONG_FACTOR` times)."""
    trained = model.config.generator.seq_len
    if length is None:
        return max(DEFAULT_STEPS, trained)
    if length > LONG_FACTOR * trained:
        warnings.warn(
            f"--length {length} is {length / trained:.0f} times the {trained} steps the model was "
            "trained on: past that, melodies tend to wander or repeat",
            SeqGANMusicWarning,
            stacklevel=2,
        )
    return length


def _primer_prefix(model: Model, music: Any, step_seconds: float, length: int) -> list[int] | None:
    """The primer's first --primer-steps (default: a quarter of the tune length, at most the
    trained length) steps, read on the grid the model was trained on."""
    if music.primer is None:
        if music.primer_steps is not None:
            raise SeqGANMusicError("--primer-steps needs --primer (the tune to continue)")
        return None
    from seqgan_music.music.paper.tunes import primer_notes_kept, read_primer

    default = max(1, min(length // 4, model.config.generator.seq_len))
    steps = default if music.primer_steps is None else music.primer_steps
    if not 1 <= steps < length:
        raise SeqGANMusicError(
            f"--primer-steps must be 1..{length - 1} (below --length), not {steps}"
        )
    tokens = read_primer(music.primer, steps, step_seconds=step_seconds)
    kept, total = primer_notes_kept(music.primer, tokens, step_seconds)
    if kept < total:  # the paper's grid re-times a primer: say how much of it is left
        warnings.warn(
            f"--primer {Path(music.primer).name}: {kept} of its {total} notes in the first "
            f"{steps} steps survive the paper encoding's grid (a pitch every {step_seconds:g} s); "
            "a model trained with --encoding beat keeps its rhythm",
            SeqGANMusicWarning,
            stacklevel=2,
        )
    return [int(t) for t in tokens]
