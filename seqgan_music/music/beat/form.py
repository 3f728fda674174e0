"""Whole tunes in a form (AABB, AB, ABAB) from a beat-grid model, with cadences by constrained
sampling: nothing is rewritten after it is drawn.

Each new part continues the tune as played so far (the generator is teacher forced through it):
in AABB the B part follows A played twice. The last half bar of every part is a cadence: its
first step may only strike the cadence note (the tonic, or the dominant for a half cadence: the A
part of AB and ABAB), the rest may only hold it or strike it again, so the part ends on it. A part
never opens with a hold (it would tie over the repeat sign). With `--key` every note-on of the tune
is limited to the mode's scale; without it the key is found by music21 in the A part's notes before
its cadence, and only the cadence is constrained.
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


def _seed(seed: int, call: int) -> int:
    return int(np.random.SeedSequence([seed, call]).generate_state(1, np.uint64)[0] >> 1)


def compose_form(
    model: Any, request: FormRequest, *, seed: int, temperature: float = 1.0
) -> tuple[dict[str, np.ndarray], int, str]:
    """The parts' tokens {label: (bars * bar,)}, the tonic's pitch class and the mode."""
    from seqgan_music.music.beat.encoding import beat_tokens_to_notes
    from seqgan_music.music.io.score import analyse_key

    if request.form not in FORMS:
        raise SeqGANMusicError(f"--form must be one of {', '.join(FORMS)}, not {request.form}")
    bar = bar_steps(*request.metre, model.tokenizer.steps_per_quarter)
    length = request.bars * bar
    tonic, mode = request.tonic_pc, request.mode
    base = np.ones(BEAT_VOCAB_SIZE, dtype=bool) if tonic is None else scale_mask(tonic, mode)
    parts: dict[str, np.ndarray] = {}
    played: list[int] = []
    calls = 0
    for label in request.form:
        if label in parts:
            played += parts[label].tolist()
            continue
        if tonic is None:  # the A part's body first, then its key decides the cadence
            body = length - max(1, bar // 2)
            mask = np.ones((body, BEAT_VOCAB_SIZE), dtype=bool)
            mask[0, HOLD] = False
            head = model.sample(1, length=body, temperature=temperature,
                                seed=_seed(seed, calls), allowed=mask)[0]  # fmt: skip
            calls += 1
            tonic, mode = analyse_key(beat_tokens_to_notes(head))
            prefix = head.tolist()
        else:
            prefix = []
        half = request.form in HALF_CADENCE_FORMS and label == request.form[0]
        cadence = (tonic + 7) % 12 if half else tonic
        mask = part_mask(length, bar, base, cadence)
        full = np.ones((len(played), BEAT_VOCAB_SIZE), dtype=bool)  # teacher forced: unused
        tokens = model.sample(
            1, length=len(played) + length, temperature=temperature, seed=_seed(seed, calls),
            prefix=(played + prefix) or None, allowed=np.concatenate([full, mask]),
        )[0]  # fmt: skip
        calls += 1
        parts[label] = tokens[len(played) :]
        played += parts[label].tolist()
    return parts, int(tonic), str(mode)
