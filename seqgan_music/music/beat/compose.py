"""Composing with a beat-grid model (`midi-beat` tokenizer): whole tunes of N bars, a primer's key
and metre kept, real durations and the time signature written into the MIDI.

Sampling past the training window continues the generator's recurrent state step by step (the
LSTM never restarts), so `--bars 16` is one continuous tune, not joined windows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seqgan_music.core.files import atomic_write
from seqgan_music.errors import SeqGANMusicError

DEFAULT_BARS = 8  # a tune's default length: 128 sixteenths in 4/4, Magenta's default too
PRIMER_SHARE = 4  # with --primer, its first quarter of the tune's bars (at least one) is given


def beat_length(codec: Any, bars: int | None, length: int | None, metre: tuple[int, int]) -> int:
    """Steps to sample: `bars` bars of `metre`, else `length`, else `DEFAULT_BARS` bars."""
    from seqgan_music.music.beat.encoding import bar_steps

    bar = bar_steps(*metre, codec.steps_per_quarter)
    if bars is not None:
        if bars < 1:
            raise SeqGANMusicError(f"--bars must be at least 1, not {bars}")
        return bars * bar
    return length if length is not None else max(codec.seq_len, DEFAULT_BARS * bar)


def compose_beat(
    model: Any, out_paths: list[Path], options: Any, music: Any
) -> list[dict[str, Any]]:
    """Sample and write one MIDI per path (`options`: core.domain.ComposeOptions, `music`:
    music.options.MusicOptions); returns per tune its tokens, path, seconds, pitch range and
    extra files."""
    from seqgan_music.music.beat.tunes import read_beat_primer

    if music.restrike:
        raise SeqGANMusicError("--restrike is for the paper's encoding: beat tokens re-strike")
    bars, length, primer = music.bars, options.length, music.primer
    codec = model.tokenizer
    metre = codec.time_signature
    prefix = None
    if primer is not None:  # the primer's own metre decides the bar length
        probe, metre = read_beat_primer(primer, 1, codec.encoding)
        total = beat_length(codec, bars, length, metre)
        primer_bars = max(1, (total // max(len(probe), 1)) // PRIMER_SHARE)
        prefix, metre = read_beat_primer(primer, primer_bars, codec.encoding)
    total = beat_length(codec, bars, length, metre)
    samples = model.sample(
        len(out_paths), length=total, temperature=options.temperature, seed=options.seed,
        prefix=None if prefix is None else [int(t) for t in prefix],
        on_step=None if options.progress is None else (lambda t: options.progress(t, total)),
    )  # fmt: skip
    qpm = music.tempo if music.tempo is not None else codec.qpm
    return [_write(codec, row, path, qpm, metre, music.program, music.wav, music.png)
            for row, path in zip(samples, out_paths)]  # fmt: skip


def _write(
    codec: Any, row: np.ndarray, path: Path, qpm: float, metre: tuple[int, int], program: int,
    wav: bool, png: bool,
) -> dict[str, Any]:  # fmt: skip
    from seqgan_music.music.render import write_midi_wav, write_piano_roll_png

    pm = codec.render(row, qpm=qpm, time_signature=metre, program=program)
    atomic_write(path, pm.write)  # a partial file on a full disk is removed, not left behind
    step_seconds = 60.0 / (qpm * codec.steps_per_quarter)
    extras = []
    if wav:
        extras.append(write_midi_wav(pm, path.with_suffix(".wav")))
    frames = codec.pitch_frames(row[None, :])[0]
    if png:
        roll = note_gaps(row, frames)
        extras.append(write_piano_roll_png(roll, path.with_suffix(".png"), step_seconds / 4))
    pitches = frames[frames > 0] + 20
    return {
        "tokens": row, "path": path, "seconds": len(row) * step_seconds,
        "lowest": int(pitches.min()) if len(pitches) else None,
        "highest": int(pitches.max()) if len(pitches) else None, "extras": tuple(extras),
    }  # fmt: skip


def note_gaps(tokens: np.ndarray, frames: np.ndarray, split: int = 4) -> np.ndarray:
    """Frames at `split` columns a step with the last column before each note-on and rest blank,
    so a piano roll shows where notes end and repeated notes are struck again."""
    from seqgan_music.music.beat.encoding import HOLD

    cols = np.repeat(np.asarray(frames, dtype=np.int64), split)
    ends = np.flatnonzero(np.asarray(tokens)[1:] != HOLD)  # a note ends before step k + 1
    cols[(ends + 1) * split - 1] = 0
    return cols
