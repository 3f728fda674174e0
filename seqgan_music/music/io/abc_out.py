"""A `Score` -> ABC 2.1 text: X:, T:, the seed as a comment, M:, L: (one grid step), Q:, K: with the
mode, bar lines, repeat signs around repeated sections and ties over bar lines.

Accidentals: a note whose alteration differs from the key signature gets one, and so does any
later note of that letter in the same bar (ABC accidentals last to the bar line), so a reader never
has to guess which octave an accidental reached.
"""

from __future__ import annotations

from pathlib import Path

from seqgan_music.core.files import atomic_write_text
from seqgan_music.music.io.score import (
    ABC_MODE,
    Piece,
    Score,
    bar_pieces,
    section_notes,
    sections,
    spelling,
)

BARS_A_LINE = 4
_ACCIDENTAL = {-2: "__", -1: "_", 0: "=", 1: "^", 2: "^^"}


def abc_text(score: Score, number: int = 1) -> str:
    """The ABC of one tune (reference number `number`)."""
    names, signature = spelling(score.tonic, score.mode)
    head = [f"X:{number}", f"T:{score.title}"]
    if score.seed is not None:
        head.append(f"% seed {score.seed}: compose --seed {score.seed} makes this tune again")
    head += [f"% {c}" for c in score.comments]
    head += [
        f"M:{score.metre[0]}/{score.metre[1]}",
        f"L:1/{4 * score.steps_per_quarter}",
        f"Q:1/4={round(score.qpm)}",
        f"K:{score.tonic}{ABC_MODE[score.mode]}",
    ]
    lines = []
    for labels, times in sections(score.form):
        bars = bar_pieces(*section_notes(score, labels), score.bar_steps)
        written = [_bar(pieces, names, signature) for pieces in bars]
        for k in range(0, len(written), BARS_A_LINE):
            chunk = " | ".join(written[k : k + BARS_A_LINE])
            first, last = k == 0, k + BARS_A_LINE >= len(written)
            opening = "|: " if first and times > 1 else ""
            closing = " :|" if last and times > 1 else " |]" if last else " |"
            lines.append(opening + chunk + closing)
    return "\n".join(head + lines) + "\n"


def _bar(pieces: list[Piece], names: dict, signature: dict[str, int]) -> str:
    state: dict[str, int] = {}  # letter -> alteration in force in this bar
    out = []
    for _, length, pitch, tied in pieces:
        count = "" if length == 1 else str(length)
        if pitch is None:
            out.append(f"z{count}")
            continue
        letter, alter = names[pitch % 12]
        sign = ""
        if alter != signature.get(letter, 0) or letter in state:
            sign = _ACCIDENTAL[alter]
            state[letter] = alter
        out.append(sign + _abc_pitch(letter, alter, pitch) + count + ("-" if tied else ""))
    return " ".join(out)


def _abc_pitch(letter: str, alter: int, midi: int) -> str:
    """Letter and octave marks: C4 (middle C) is C, C5 c, C6 c', C3 C,."""
    from seqgan_music.music.io.score import _LETTER_PC

    octave = (midi - alter - _LETTER_PC[letter]) // 12 - 1
    if octave >= 5:
        return letter.lower() + "'" * (octave - 5)
    return letter + "," * (4 - octave)


def write_abc(score: Score, path: str | Path) -> Path:
    """The score as an .abc file (atomically)."""
    return atomic_write_text(Path(path), abc_text(score))
