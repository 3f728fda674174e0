"""Which track of a note list is the melody, and which files are too broken to use.

A note list is one row per instrument: {"is_drum", "starts", "ends", "pitches"} (times in seconds
or quarter notes, as the reader gives them). No library, no tokens: both encodings share the rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seqgan_music.errors import SeqGANMusicError

MAX_TUNE_SECONDS = 3600.0  # longer "tunes" come from absurd tempos or ticks: skipped as corrupt
MONOPHONY_TOLERANCE = 0.1  # a track is "monophonic" if at most this share of its notes overlap
MELODY_MIN_COVERAGE = 0.5  # a melody candidate sounds for at least this share of the longest


def overlap_share(starts: np.ndarray, ends: np.ndarray) -> float:
    """Share of notes starting while an earlier note of the track still sounds (10 ms slack)."""
    if len(starts) < 2:
        return 0.0
    order = np.argsort(starts, kind="stable")
    s, e = np.asarray(starts)[order], np.asarray(ends)[order]
    still_sounding = np.maximum.accumulate(e)[:-1] > s[1:] + 0.01
    return float(np.mean(still_sounding))


def covered_seconds(starts: np.ndarray, ends: np.ndarray) -> float:
    """Seconds during which at least one note of the track sounds (the union of its notes)."""
    if len(starts) == 0:
        return 0.0
    order = np.argsort(starts, kind="stable")
    s, e = np.asarray(starts, dtype=np.float64)[order], np.asarray(ends, dtype=np.float64)[order]
    reach = np.maximum.accumulate(e)  # how far the notes so far sound
    gaps = np.maximum(s[1:] - reach[:-1], 0.0)  # silence before each later note
    return float(reach[-1] - s[0] - gaps.sum())


def choose_melody_track(tracks: list[dict[str, Any]]) -> int:
    """The default melody rule; `tracks` has one row per instrument: is_drum, starts, ends, pitches.

    Among the non-drum tracks with notes that sound for at least half as long as the longest-
    sounding one (`MELODY_MIN_COVERAGE`: a cantata's trumpets, heard for a few bars, are not its
    tune), the highest mean pitch wins; ties go to the (nearly) monophonic track, then the first.
    Nottingham's melody is track 0 in all 1,037 files and this picks it in all of them; unlike
    "track 0 if it is monophonic" it picks a chorale's soprano over a first track "Horn 2" and a
    melody over a bass written first (channels of one track are separate instruments already).
    Returns -1 when no non-drum track has notes.
    """
    candidates = [i for i, t in enumerate(tracks) if not t["is_drum"] and len(t["pitches"])]
    if not candidates:
        return -1
    covered = {i: covered_seconds(tracks[i]["starts"], tracks[i]["ends"]) for i in candidates}
    longest = max(covered.values())
    heard = [i for i in candidates if covered[i] >= MELODY_MIN_COVERAGE * longest]

    def rank(i: int) -> tuple[float, bool, int]:
        t = tracks[i]
        mono = overlap_share(t["starts"], t["ends"]) <= MONOPHONY_TOLERANCE
        return (float(np.mean(t["pitches"])), mono, -i)

    return max(heard, key=rank)


def checked_melody_track(tracks: list[dict[str, Any]], end: float, track: int | None) -> int:
    """The melody track (the rule of `choose_melody_track`, or `track`; -1: no notes at all),
    after refusing drum-only files, a missing track and absurd lengths."""
    if track is None:
        track = choose_melody_track(tracks)
        if track < 0 and any(t["is_drum"] for t in tracks):
            raise SeqGANMusicError("drum-only: no melodic track")
    elif not 0 <= track < len(tracks):
        raise SeqGANMusicError(f"track {track} does not exist (the file has {len(tracks)})")
    if not np.isfinite(end) or end > MAX_TUNE_SECONDS:
        raise SeqGANMusicError(
            f"absurd length ({end:.0f} s > {MAX_TUNE_SECONDS:.0f} s): bad tempo?"
        )
    return track
