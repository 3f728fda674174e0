"""One tune file -> tokens: the MIDI-or-ABC dispatch, below both the codec and the corpus.

pretty_midi/mido stay in `midi_io.py` and music21 in `abc_io.py`, each imported only when a file of
its kind is read. A file that breaks a parser is reported with its reason, never raised mid-corpus.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.encoding import REST

MIDI_SUFFIXES = (".mid", ".midi")
ABC_SUFFIXES = (".abc",)
# Raised by pretty_midi/music21 on inputs their own error handling misses; recorded, not raised.
UNEXPECTED_PARSE_ERRORS = (
    ValueError, IndexError, KeyError, TypeError, AttributeError, ZeroDivisionError,
    OverflowError, MemoryError, RecursionError, EOFError, AssertionError,
)  # fmt: skip


def parse_file(path: Path, step_seconds: float, track: int | None) -> list[tuple[str, Any, dict]]:
    """Every tune of one file as (label, tokens or None, info with "reason" when None)."""
    path = Path(path)

    def read() -> list[tuple[str, Any, dict]]:
        if path.suffix.lower() in ABC_SUFFIXES:
            from seqgan_music.music.abc_io import read_abc_tunes

            return read_abc_tunes(path, step_seconds)
        from seqgan_music.music.midi_io import read_midi_tune

        tokens, info = read_midi_tune(path, step_seconds, track)
        return [(path.name, tokens, info)]

    return guarded_parse(path, read)


def guarded_parse(
    path: Path, read: Callable[[], list[tuple[str, Any, dict]]]
) -> list[tuple[str, Any, dict]]:
    """`read()` (every tune of one file, as `parse_file` returns them), with any failure of the
    file turned into one skipped entry and its reason: a file never stops a corpus."""
    try:
        return read()
    except SeqGANMusicError as err:
        return [(path.name, None, {"reason": str(err).removeprefix(f"{path.name}: ")})]
    except OSError as err:
        return [(path.name, None, {"reason": f"unreadable ({err.strerror or type(err).__name__})"})]
    except UNEXPECTED_PARSE_ERRORS as err:  # a file that breaks a library must not stop the corpus
        return [
            (path.name, None, {"reason": f"failed to parse ({type(err).__name__}: {err})"[:200]})
        ]


def read_tune_tokens(
    path: str | Path, step_seconds: float = 0.4, track: int | None = None
) -> np.ndarray:
    """The tokens of one MIDI file, or of the first tune of an ABC file."""
    path = Path(path)
    if not path.is_file():
        raise SeqGANMusicError(f"no such file: {path}")
    label, tokens, info = parse_file(path, step_seconds, track)[0]
    if tokens is None:
        raise SeqGANMusicError(f"{path.name}: {info['reason']}")
    return tokens


def read_primer(path: str | Path, steps: int, step_seconds: float = 0.4) -> np.ndarray:
    """The first `steps` tokens of a MIDI or ABC file: a prefix for conditioned composition."""
    if steps < 1:
        raise SeqGANMusicError(f"primer steps must be at least 1, not {steps}")
    tokens = read_tune_tokens(path, step_seconds)[:steps]
    if not np.any(tokens != REST):
        raise SeqGANMusicError(f"{Path(path).name}: no notes in the first {steps} steps")
    return tokens
