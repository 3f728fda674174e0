"""Which files are tunes, and a file that breaks a parser as one skipped entry, never a crash."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from seqgan_music.errors import SeqGANMusicError

MIDI_SUFFIXES = (".mid", ".midi")
ABC_SUFFIXES = (".abc",)
TUNE_SUFFIXES = MIDI_SUFFIXES + ABC_SUFFIXES
# A corpus file larger than this is skipped unread, one whose parse runs longer is stopped and
# skipped (a 200 MB MIDI file took minutes and GBs; Nottingham's largest is 40 kB, ~10 ms).
MAX_FILE_MB = 16.0
PARSE_TIMEOUT_S = 60.0
MAX_FILE_MB_ENV = "SEQGAN_MUSIC_MAX_FILE_MB"
PARSE_TIMEOUT_ENV = "SEQGAN_MUSIC_PARSE_TIMEOUT"
# Raised by pretty_midi/music21 on inputs their own error handling misses; recorded, not raised.
UNEXPECTED_PARSE_ERRORS = (
    ValueError, IndexError, KeyError, TypeError, AttributeError, ZeroDivisionError,
    OverflowError, MemoryError, RecursionError, EOFError, AssertionError,
)  # fmt: skip


def is_abc(path: str | Path) -> bool:
    return Path(path).suffix.lower() in ABC_SUFFIXES


def guarded_parse(
    path: Path, read: Callable[[], list[tuple[str, Any, dict]]]
) -> list[tuple[str, Any, dict]]:
    """`read()` (every tune of one file as (label, tokens or None, info with "reason" when
    None)), with any failure of the file turned into one skipped entry and its reason: a file
    never stops a corpus."""
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


def melodies_in_quarters(
    path: str | Path, track: int | None = None
) -> list[tuple[str, dict[str, Any] | None, dict[str, Any]]]:
    """Every tune of a MIDI or ABC file on its own beat grid, as (label, melody or None, info):
    `midi.read_midi_melody_in_quarters` or `abc.read_abc_melodies_in_quarters`, each library
    imported only when a file of its kind is read."""
    path = Path(path)
    if is_abc(path):
        from seqgan_music.music.io.abc import read_abc_melodies_in_quarters

        return read_abc_melodies_in_quarters(path)
    from seqgan_music.music.io.midi import read_midi_melody_in_quarters

    return [(path.name, read_midi_melody_in_quarters(path, track), {})]


def first_tune(path: str | Path, parse: Callable[[Path], list[tuple[str, Any, dict]]]) -> Any:
    """(tokens, info) of one MIDI file or of the first tune of an ABC file, `parse` being an
    encoding's `guarded_parse`d reader; a missing or unusable file is a SeqGANMusicError."""
    path = Path(path)
    if not path.is_file():
        raise SeqGANMusicError(f"no such file: {path}")
    label, tokens, info = parse(path)[0]
    if tokens is None:
        raise SeqGANMusicError(f"{path.name}: {info['reason']}")
    return tokens, info
