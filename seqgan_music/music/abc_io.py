"""ABC -> notes through music21. The only module that imports music21 (tests/test_architecture.py).

Notes and rests of part 0 are read directly, offsets and durations in quarter lengths turned into
seconds at a fixed tempo (120 qpm, as the Nottingham MIDI files), which avoids music21's MIDI writer
and its failures (shared/data/music21_folk/NOTES.md). Repeats are expanded (as a MIDI rendering
would play them); a tune whose repeat marks music21 cannot expand is read as written. Grace notes
(zero length) are dropped, chords keep their top note, and tunes of absurd length are refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import music21
import numpy as np

from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.encoding import MAX_TUNE_SECONDS, fold_into_range, notes_to_tokens

ABC_QPM = 120.0
ABC_LOAD_ERRORS = (
    music21.exceptions21.Music21Exception, ValueError, IndexError, KeyError, TypeError,
    AttributeError, ZeroDivisionError, UnicodeDecodeError, OSError, RecursionError,
)  # fmt: skip


def _scores(path: Path) -> list[Any]:
    """Every tune in an ABC file (a file of several tunes parses to an Opus)."""
    try:
        parsed = music21.converter.parse(str(path), format="abc", forceSource=True)
    except ABC_LOAD_ERRORS as err:
        raise SeqGANMusicError(
            f"{path.name}: not readable ABC ({type(err).__name__}: "
            f"{str(err).splitlines()[0][:120] if str(err) else ''})"
        ) from err
    return list(parsed.scores) if isinstance(parsed, music21.stream.Opus) else [parsed]


def _expand_repeats(score: Any) -> tuple[Any, bool]:
    """The score with repeats played out, or as written when its repeat marks are malformed."""
    try:
        return score.expandRepeats(), True
    except music21.repeat.ExpanderException:
        return score, False


def score_to_notes(
    score: Any, qpm: float = ABC_QPM
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Part 0 of a music21 score as (starts, ends, pitches, end_time), times in seconds at `qpm`."""
    part = score.parts[0] if score.parts else score
    flat = part.flatten()
    sec = 60.0 / qpm  # seconds per quarter length
    starts, ends, pitches = [], [], []
    for el in flat.notes:
        ql = float(el.quarterLength)
        if ql <= 0 or el.duration.isGrace:  # grace notes: written to MIDI they would be full notes
            continue
        midi = [p.midi for p in el.pitches]
        if not midi:
            continue
        start = float(el.offset) * sec
        starts.append(start)
        ends.append(start + ql * sec)
        pitches.append(max(midi))  # chords: the top note is the melody
    end_time = float(flat.highestTime) * sec
    return np.array(starts), np.array(ends), np.array(pitches, dtype=np.int64), end_time


def read_abc_tunes(
    path: str | Path, step_seconds: float = 0.4
) -> list[tuple[str, np.ndarray | None, dict[str, Any]]]:
    """Every tune of an ABC file as (label, tokens or None, info); info has "reason" when None.

    A broken file raises SeqGANMusicError; a broken tune inside a good file is reported, not raised.
    """
    path = Path(path)
    out = []
    for i, score in enumerate(_scores(path)):
        label = f"{path.name}#{i}"
        try:
            score, expanded = _expand_repeats(score)
            starts, ends, pitches, end = score_to_notes(score)
        except ABC_LOAD_ERRORS as err:
            out.append((label, None, {"reason": f"unreadable tune ({type(err).__name__})"}))
            continue
        if not np.isfinite(end) or end > MAX_TUNE_SECONDS:
            out.append((label, None, {"reason": f"absurd length ({end:.0f} s)"}))
            continue
        folded, moved = fold_into_range(pitches)
        tokens = notes_to_tokens(starts, ends, folded, end, step_seconds)
        info = {"moved_notes": moved, "seconds": round(end, 3), "repeats_expanded": expanded}
        out.append((label, tokens, info))
    return out
