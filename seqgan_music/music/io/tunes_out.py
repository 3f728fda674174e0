"""One composed tune's files: the tune itself as MIDI, ABC or MusicXML (by the name's suffix), and
beside it what was asked for: a .wav through FluidSynth, the engraved score (.pdf and -score.png
through LilyPond), a piano roll .png with bar lines and the primer's end marked.

The seed goes into every file: a MIDI text event, an ABC comment, the MusicXML title.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from seqgan_music.core.files import atomic_write
from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.io.score import Score, write_musicxml

MIDI_OUT = (".mid", ".midi")
ABC_OUT = (".abc",)
MUSICXML_OUT = (".musicxml", ".xml")
TUNE_SUFFIXES = MIDI_OUT + ABC_OUT + MUSICXML_OUT


def extra_paths(path: Path, wav: bool, score: bool, png: bool) -> list[Path]:
    """The files written beside `path` for these flags (for the overwrite check)."""
    out = [path.with_suffix(".wav")] * wav + [path.with_suffix(".png")] * png
    return out + [path.with_suffix(".pdf"), score_png(path)] * score


def score_png(path: Path) -> Path:
    return path.with_name(f"{path.stem}-score.png")


def write_tune_files(
    score: Score, pm: Any, path: Path, *, wav: bool = False, engrave_score: bool = False,
    roll: np.ndarray | None = None, roll_seconds: float = 0.1, roll_columns: int = 1,
    primer_steps: int = 0,
) -> list[Path]:  # fmt: skip
    """Write the tune to `path` (format by suffix) and the extras; returns the extras' paths."""
    from seqgan_music.music.io.abc_out import write_abc
    from seqgan_music.music.io.midi import add_text

    suffix = path.suffix.lower()
    if suffix not in TUNE_SUFFIXES:
        raise SeqGANMusicError(f"{path}: write .mid, .abc or .musicxml")
    if score.seed is not None:
        add_text(pm, f"seqgan-music seed {score.seed}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix in MIDI_OUT:
        atomic_write(path, pm.write)
    elif suffix in ABC_OUT:
        write_abc(score, path)
    else:
        write_musicxml(score, path)
    extras = []
    with tempfile.TemporaryDirectory(prefix="seqgan-tune-") as tmp:
        if wav:
            from seqgan_music.music.io.tools import midi_to_wav

            midi = path if suffix in MIDI_OUT else Path(tmp) / "tune.mid"
            if midi != path:
                pm.write(str(midi))
            extras.append(midi_to_wav(midi, path.with_suffix(".wav")))
        if engrave_score:
            from seqgan_music.music.io.tools import engrave

            xml = write_musicxml(score, Path(tmp) / "tune.musicxml")
            pdf, png = engrave(xml, Path(tmp) / "engraved")
            extras += [_move(pdf, path.with_suffix(".pdf")), _move(png, score_png(path))]
    if roll is not None:
        from seqgan_music.music.render import write_piano_roll_png

        step = roll_seconds * roll_columns  # seconds a grid step
        mark = primer_steps * step if primer_steps else None
        png = path.with_suffix(".png")
        extras.append(
            write_piano_roll_png(
                roll, png, roll_seconds, bar_seconds=score.bar_steps * step, mark_seconds=mark
            )
        )
    return extras


def _move(src: Path, dest: Path) -> Path:
    data = src.read_bytes()
    return atomic_write(dest, lambda fh: fh.write(data))
