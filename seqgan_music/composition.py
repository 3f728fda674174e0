"""Sampling from a trained model: tunes written as MIDI (and WAV/PNG), or text lines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqgan_music.api import Model, load_checkpoint
from seqgan_music.errors import SeqGANMusicError


@dataclass
class Composition:
    """One composed tune (or text sample) and the files written for it."""

    tokens: np.ndarray
    path: Path | None
    seconds: float = 0.0
    lowest: int | None = None  # MIDI pitch
    highest: int | None = None
    text: str | None = None
    extras: tuple[Path, ...] = ()


PAPER_STEPS_PER_BAR = 4


def numbered_paths(out: Path, num: int) -> list[Path]:
    """tune.mid -> [tune.mid, tune-2.mid, ...]; a folder (no suffix) -> folder/tune-1.mid ..."""
    if out.suffix == "":
        return [out / f"tune-{i + 1}.mid" for i in range(num)]
    return [out if i == 0 else out.with_name(f"{out.stem}-{i + 1}{out.suffix}") for i in range(num)]


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
    device: str = "auto",
) -> list[Composition]:
    """Sample `num` tunes from a checkpoint (default: the latest trained, else the shipped model).

    Music: writes MIDI files (tune.mid, tune-2.mid, ...) and, if asked, .wav previews and piano-roll
    .png. Text: returns decoded lines and writes them to `out` when it is given.
    """
    if num < 1:
        raise SeqGANMusicError(f"--num must be at least 1, not {num}")
    if temperature <= 0:
        raise SeqGANMusicError(f"--temperature must be positive, not {temperature}")
    model = model or load_checkpoint(checkpoint, device=device)
    if model.domain == "text":
        if primer is not None:
            raise SeqGANMusicError("--primer is for music models; this checkpoint is text")
        return _compose_text(model, out, num, seed, temperature, length)
    return _compose_music(
        model,
        Path(out or "tune.mid"),
        num,
        seed,
        temperature,
        length,
        bars,
        primer,
        program,
        tempo,
        restrike,
        wav,
        png,
    )


def _compose_text(
    model: Model,
    out: str | Path | None,
    num: int,
    seed: int | None,
    temperature: float,
    length: int | None,
) -> list[Composition]:
    from seqgan_music.text.corpus import decode_until_eos

    samples = model.sample(num, length=length, temperature=temperature, seed=seed)
    texts = [decode_until_eos(row.tolist(), model.tokenizer) for row in samples]
    path = None
    if out is not None:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(t.replace("\n", " / ") for t in texts) + "\n", encoding="utf-8")
    return [Composition(tokens=row, path=path, text=t) for row, t in zip(samples, texts)]


def _compose_music(
    model: Model,
    out: Path,
    num: int,
    seed: int | None,
    temperature: float,
    length: int | None,
    bars: int | None,
    primer: str | Path | None,
    program: int,
    tempo: float | None,
    restrike: bool,
    wav: bool,
    png: bool,
) -> list[Composition]:
    from seqgan_music.music.corpus import read_primer
    from seqgan_music.music.midi_io import write_midi
    from seqgan_music.music.render import write_piano_roll_png, write_wav

    if not 0 <= program <= 127:
        raise SeqGANMusicError(f"--program must be a General MIDI program 0..127, not {program}")
    if tempo is not None and tempo <= 0:
        raise SeqGANMusicError(f"--tempo must be positive, not {tempo}")
    if hasattr(model.tokenizer, "bar_steps"):  # a beat-grid model: bars of its own metre
        from seqgan_music.beat_composition import compose_beat

        tunes = compose_beat(
            model, numbered_paths(out, num), seed=seed, temperature=temperature, length=length,
            bars=bars, primer=primer, program=program, tempo=tempo, wav=wav, png=png,
        )  # fmt: skip
        return [Composition(**t) for t in tunes]
    if bars is not None:  # the paper's grid: a step is written as a quarter note, bars of 4/4
        if bars < 1:
            raise SeqGANMusicError(f"--bars must be at least 1, not {bars}")
        length = bars * PAPER_STEPS_PER_BAR
    model_step = float(model.tokenizer.to_dict().get("step_seconds", 0.4))
    # A step stays one quarter note: --tempo changes only how long it lasts when rendered.
    step_seconds = 60.0 / tempo if tempo is not None else model_step
    prefix = None
    if primer is not None:  # read on the grid the model was trained on
        steps = max(1, (length or model.config.generator.seq_len) // 4)
        prefix = [int(t) for t in read_primer(primer, steps, step_seconds=model_step)]
    samples = model.sample(num, length=length, temperature=temperature, seed=seed, prefix=prefix)
    results = []
    for row, path in zip(samples, numbered_paths(out, num)):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_midi(
            row, path, step_seconds=step_seconds, program=program, qpm=tempo, restrike=restrike
        )
        extras = []
        if wav:
            extras.append(write_wav(row, path.with_suffix(".wav"), step_seconds=step_seconds))
        if png:
            extras.append(write_piano_roll_png(row, path.with_suffix(".png"), step_seconds))
        pitches = row[row > 0] + 20
        results.append(
            Composition(
                tokens=row,
                path=path,
                seconds=len(row) * step_seconds,
                lowest=int(pitches.min()) if len(pitches) else None,
                highest=int(pitches.max()) if len(pitches) else None,
                extras=tuple(extras),
            )
        )
    return results
