"""Whole tunes in a form (AABB, AB, ABAB) from a beat-grid model, with cadences by constrained
sampling: nothing is rewritten after it is drawn.

Each new part continues the tune as played so far (the generator is teacher forced through it):
in AABB the B part follows A played twice. The last half bar of every part is a cadence: its
first step may only strike the cadence note (the tonic, or the dominant for a half cadence: the A
part of AB and ABAB), the rest may only hold it or strike it again, so the part ends on it. A part
never opens with a hold (it would tie over the repeat sign). With `--key` every note-on of the tune
is limited to the mode's scale; without it each part's body is sampled first and music21's key of
the tune as played so far decides the part's cadence, and the parts after A keep to the scale of
the A part's key (no drift to another key; the in-mode rate). An optional
plagiarism guard draws a tune again while it copies 2 bars or more of a training tune.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.beat.encoding import (
    BEAT_VOCAB_SIZE,
    HOLD,
    NOTE_OFFSET,
    REST,
    bar_steps,
)
from seqgan_music.music.io.score import MODE_STEPS

FORMS = ("AABB", "AB", "ABAB")
CADENCE_RANGE = (55, 88)  # MIDI G3..E6: where a folk melody's last note sits
HALF_CADENCE_FORMS = ("AB", "ABAB")  # the A part ends on the dominant, B on the tonic


@dataclass(frozen=True)
class FormRequest:
    form: str
    bars: int  # per part
    metre: tuple[int, int]
    tonic_pc: int | None  # None: found in the A part
    mode: str | None  # None with tonic_pc None: major or minor as found
    condition: int | None = None  # a conditioned model's condition id (music/conditions.py)


def note_on_mask(pitch_classes: set[int], lo: int = 21, hi: int = 108) -> np.ndarray:
    """(V,) True for the note-ons of MIDI lo..hi whose pitch class is in `pitch_classes`."""
    mask = np.zeros(BEAT_VOCAB_SIZE, dtype=bool)
    for pitch in range(max(lo, 21), min(hi, 108) + 1):
        if pitch % 12 in pitch_classes:
            mask[pitch - NOTE_OFFSET] = True
    return mask


def scale_mask(tonic_pc: int, mode: str) -> np.ndarray:
    """(V,) rest, hold and the note-ons of the mode's scale."""
    mask = note_on_mask({(tonic_pc + s) % 12 for s in MODE_STEPS[mode]})
    mask[[REST, HOLD]] = True
    return mask


def part_mask(length: int, bar: int, base: np.ndarray, cadence_pc: int) -> np.ndarray:
    """(length, V): `base` everywhere, no hold at the first step, the cadence in the last half
    bar (strike the cadence note, then hold it or strike it again)."""
    mask = np.tile(base, (length, 1))
    mask[0, HOLD] = False
    start = length - max(1, bar // 2)
    strike = note_on_mask({cadence_pc}, *CADENCE_RANGE)
    mask[start] = strike
    mask[start + 1 :] = strike
    mask[start + 1 :, HOLD] = True
    return mask


KEY_CANDIDATES = 4  # music21's best keys tried for a cadence that confirms itself


def cadence_key(
    form: str, parts: dict[str, np.ndarray], label: str, body: list[int], cadence: int
) -> tuple[int, str]:
    """The key for part `label`'s cadence: of music21's best keys of the tune as it will be played
    (the parts so far, this one's body, repeats included; parts still to come left out), the
    first whose tonic, struck and held through the `cadence` last steps of every playing of this
    part, music21 still reads as the tonic of the whole. A cadence note that tipped the analysis
    to another key (a relative major, say) would not end the tune on its tonic."""
    from seqgan_music.music.beat.encoding import beat_tokens_to_notes
    from seqgan_music.music.io.score import analyse_key, music21_key

    def played(ending: list[int]) -> list:
        tokens = [t for x in form for t in (parts[x].tolist() if x in parts else
                  body + ending if x == label else [])]  # fmt: skip
        return beat_tokens_to_notes(np.asarray(tokens, dtype=np.int64))

    notes = played([REST] * cadence)
    if not notes:
        return analyse_key(notes)
    found = music21_key(notes)
    for key in [found, *found.alternateInterpretations][:KEY_CANDIDATES]:
        pc = key.tonic.pitchClass
        strike = 60 + pc - NOTE_OFFSET  # the octave does not matter to the analysis
        if analyse_key(played([strike] + [HOLD] * (cadence - 1)))[0] == pc:
            return pc, "minor" if key.mode == "minor" else "major"
    return found.tonic.pitchClass, "minor" if found.mode == "minor" else "major"


def _seed(seed: int, call: int) -> int:
    return int(np.random.SeedSequence([seed, call]).generate_state(1, np.uint64)[0] >> 1)


GUARD_TRIES = 20  # tunes drawn at most while the plagiarism guard rejects them


@dataclass
class FormedTune:
    parts: dict[str, np.ndarray]  # label -> (bars * bar,) tokens
    tonic_pc: int
    mode: str
    rejected: int = 0  # tunes the plagiarism guard threw away before this one
    copied_steps: int = 0  # the longest run shared with a training tune (0 without a guard)


def compose_form(
    model: Any, request: FormRequest, *, seed: int, temperature: float = 1.0,
    guard: Any = None, tries: int = GUARD_TRIES,
) -> FormedTune:  # fmt: skip
    """A tune in `request`'s form. `guard`: an object whose `longest(tokens)` is the longest run
    of tokens the tune shares with any training tune (music.whole_tunes.CopyFinder); a tune (as
    played) sharing 2 bars or more is thrown away and drawn again with the next seed of its
    sequence, `tries` times at most (the last draw is kept, with its `copied_steps`)."""
    if request.form not in FORMS:
        raise SeqGANMusicError(f"--form must be one of {', '.join(FORMS)}, not {request.form}")
    bar = bar_steps(*request.metre, model.tokenizer.steps_per_quarter)
    for attempt in range(tries if guard is not None else 1):
        tune = _compose_once(model, request, bar, _seed(seed, 10_000 + attempt) if attempt
                             else seed, temperature)  # fmt: skip
        tune.rejected = attempt
        if guard is None:
            return tune
        tune.copied_steps = guard.longest(np.concatenate([tune.parts[x] for x in request.form]))
        if tune.copied_steps < 2 * bar:
            break
    return tune


def _compose_once(
    model: Any, request: FormRequest, bar: int, seed: int, temperature: float
) -> FormedTune:
    length = request.bars * bar
    tonic, mode = request.tonic_pc, request.mode
    base = np.ones(BEAT_VOCAB_SIZE, dtype=bool) if tonic is None else scale_mask(tonic, mode)
    parts: dict[str, np.ndarray] = {}
    played: list[int] = []
    first_key: tuple[int, str] | None = None  # the A part's key, found by music21
    calls = 0
    for label in request.form:
        if label in parts:
            played += parts[label].tolist()
            continue
        prefix: list[int] = []
        if request.tonic_pc is None:
            # Each part's body first; then the key of the tune as played so far (music21's, the
            # analysis the evaluation applies to the whole tune) decides this part's cadence.
            # The A part's key alone missed the whole tune's tonic in ~4 tunes of 10.
            body = length - max(1, bar // 2)
            mask = np.ones((len(played) + body, BEAT_VOCAB_SIZE), dtype=bool)
            if first_key is not None:  # after the A part, its key's scale: no drift away
                mask[len(played) :] &= scale_mask(*first_key)
            mask[len(played), HOLD] = False
            head = model.sample(1, length=len(played) + body, temperature=temperature,
                                seed=_seed(seed, calls), prefix=played or None,
                                allowed=mask,
                                condition=request.condition)[0][len(played) :]  # fmt: skip
            calls += 1
            prefix = head.tolist()
            tonic, mode = cadence_key(request.form, parts, label, prefix, max(1, bar // 2))
        half = request.form in HALF_CADENCE_FORMS and label == request.form[0]
        cadence = (tonic + 7) % 12 if half else tonic
        mask = part_mask(length, bar, base, cadence)
        full = np.ones((len(played), BEAT_VOCAB_SIZE), dtype=bool)  # teacher forced: unused
        tokens = model.sample(
            1, length=len(played) + length, temperature=temperature, seed=_seed(seed, calls),
            prefix=(played + prefix) or None, allowed=np.concatenate([full, mask]),
            condition=request.condition,
        )[0]  # fmt: skip
        calls += 1
        parts[label] = tokens[len(played) :]
        played += parts[label].tolist()
        if request.tonic_pc is None and first_key is None and mode is not None:
            first_key = (int(tonic), str(mode))
    return FormedTune(parts, int(tonic), str(mode))
