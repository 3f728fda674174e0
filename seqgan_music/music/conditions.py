"""The music domain's conditions: each tune's metre and mode, named as the pair "6/8 dorian".

Metre comes from the tune's first time signature (MIDI) or `M:` field (ABC), bucketed into the
metres folk tunes use (`METRES`) and "other", so a rare metre does not add conditions of a few
windows each. Mode is one of `MODES` (major, minor, dorian, mixolydian), read from the first source
that has it (`MODE_SOURCES`): the ABC `K:` field (its mode as written, `K:Ador`), the MIDI key
signature (which names a scale, not a mode: the tune's last note picks the mode of that scale, so
a D-major signature over a tune that ends on A is A mixolydian, and a signature whose scale the
last note does not start a listed mode of keeps its own major/minor), else music21's
Krumhansl-Schmuckler key of the notes (major or minor only). The manifest counts which source
gave each tune's mode. The core sees only the condition ids; `compose --metre/--mode` on a
conditioned checkpoint picks the id by its name (`pick_condition`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.io.score import MODES

METRES = ("4/4", "3/4", "6/8", "2/4")  # everything else is "other"
OTHER_METRE = "other"
MODE_SOURCES = ("abc", "midi", "music21")
# A major scale's degree -> the mode whose tonic it is (a scale that ends elsewhere: its own mode)
_MODE_OF_DEGREE = {0: "major", 2: "dorian", 7: "mixolydian", 9: "minor"}
_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def metre_name(numerator: int, denominator: int) -> str:
    """'6/8' for a listed metre, else 'other'."""
    name = f"{numerator}/{denominator}"
    return name if name in METRES else OTHER_METRE


def condition_name(metre: str, mode: str) -> str:
    return f"{metre} {mode}"


def midi_key_scale(key: str) -> tuple[int, str]:
    """A MIDI key signature's name as mido gives it ('D', 'Bbm', 'F#m') -> (tonic pc, mode)."""
    minor = key.endswith("m")
    name = key[:-1] if minor else key
    pc = (_LETTER_PC[name[0].upper()] + name[1:].count("#") - name[1:].count("b")) % 12
    return pc, "minor" if minor else "major"


def mode_from_signature(tonic_pc: int, mode: str, last_pc: int | None) -> tuple[int, str]:
    """The (tonic, mode) of a tune in a key signature's scale that ends on `last_pc`."""
    major_pc = (tonic_pc + 3) % 12 if mode == "minor" else tonic_pc  # the scale's major tonic
    if last_pc is None:
        return tonic_pc, mode
    found = _MODE_OF_DEGREE.get((last_pc - major_pc) % 12)
    return (last_pc, found) if found else (tonic_pc, mode)


def tune_mode(melody: dict[str, Any], starts: np.ndarray, pitches: np.ndarray) -> dict[str, Any]:
    """{"mode", "tonic_pc", "mode_source"} of a tune read by `io.files.melodies_in_quarters`:
    its "key" (ABC K:, (tonic pc, mode)), else its "key_signatures" (MIDI), else music21's
    analysis of the notes (`starts` in steps, `pitches` MIDI)."""
    last = int(pitches[int(np.argmax(starts))]) % 12 if len(pitches) else None
    if melody.get("key") is not None and melody["key"][1] in MODES:
        tonic, mode, source = int(melody["key"][0]), str(melody["key"][1]), "abc"
    elif melody.get("key_signatures"):
        tonic, mode = mode_from_signature(*midi_key_scale(melody["key_signatures"][0]), last)
        source = "midi"
    else:
        from seqgan_music.music.io.score import analyse_key

        notes = [(int(s), int(s) + 1, int(p)) for s, p in zip(starts, pitches, strict=True)]
        tonic, mode = analyse_key(notes)
        source = "music21"
    return {"mode": mode, "tonic_pc": tonic, "mode_source": source}


def tune_condition(info: dict[str, Any]) -> str | None:
    """A used tune's condition name from its manifest entry (None: read before modes were)."""
    if "mode" not in info:
        return None
    metre = metre_name(*info.get("time_signature", (4, 4)))
    return condition_name(metre, info["mode"])


def per_window(
    used: Sequence[dict[str, Any]], counts: dict[str, int], value: Any
) -> dict[str, list[Any]] | None:
    """{split: [value(tune) for each of its windows]}, row for row with the split's windows
    (which `build_corpus` stacks in the manifest's "used" order); None when a tune has no value
    (a corpus cached before modes were read; an encoding that reads none) or the windows do not
    tile the used tunes (the train split's transposition augmentation)."""
    out: dict[str, list[Any]] = {}
    for u in used:
        found = value(u)
        if found is None:
            return None
        out.setdefault(u["split"], []).extend([found] * int(u["windows"]))
    if any(len(v) != counts.get(f"{split}_windows") for split, v in out.items()):
        return None
    return out


def window_tonics(used: Sequence[dict[str, Any]], counts: dict[str, int]) -> dict | None:
    """Each split's (n,) tonic pitch class per window (`per_window`), or None."""
    found = per_window(used, counts, lambda u: u.get("tonic_pc"))
    return None if found is None else {s: np.array(v, dtype=np.int64) for s, v in found.items()}


def window_conditions(
    used: Sequence[dict[str, Any]], counts: dict[str, int]
) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
    """Each split's (n,) condition ids, row for row with its windows (`per_window`), and the
    names of the ids: the conditions of the training windows, sorted; ({}, ()) when there are
    none."""
    names_by_split = per_window(used, counts, tune_condition)
    if names_by_split is None:
        return {}, ()
    train = names_by_split.get("train", [])
    names = tuple(sorted(set(train)))
    ids = {n: i for i, n in enumerate(names)}
    # a held-out tune in a condition no training tune has gets the commonest training condition
    # (its NLL is still scored; G has no start token for a condition it never saw)
    common = ids[Counter(train).most_common(1)[0][0]] if train else 0
    out = {}
    for split in ("train", "valid", "test"):
        out[split] = np.array([ids.get(n, common) for n in names_by_split.get(split, [])],
                              dtype=np.int64)  # fmt: skip
    return out, names


def mode_sources(used: Sequence[dict[str, Any]]) -> dict[str, int]:
    """How many tunes took their mode from each source."""
    found = Counter(u.get("mode_source") for u in used if u.get("mode_source"))
    return {s: found[s] for s in MODE_SOURCES if found[s]}


def pick_condition(
    conditions: dict[str, Any], metre: str | None, mode: str | None
) -> tuple[int, str]:
    """The condition id a conditioned checkpoint samples from for a request (`metre`: a time
    signature such as '6/8', `mode`: one of MODES; None leaves it open: the one with the most
    training windows among those that fit), and its name; a request it was not trained on is a
    one-line error listing the trained ones."""
    names = [str(n) for n in conditions["names"]]
    windows = list(conditions.get("train_windows") or [0] * len(names))
    want_metre = None if metre is None else metre_name(*(int(x) for x in metre.split("/")))
    fits = [
        i for i, n in enumerate(names)
        if (want_metre is None or n.split(" ")[0] == want_metre)
        and (mode is None or n.split(" ")[1] == mode)
    ]  # fmt: skip
    if not fits:
        # a metre outside METRES is asked by its own name, then said how it was bucketed
        said = metre if want_metre == OTHER_METRE else want_metre
        asked = " ".join(x for x in (said, mode) if x is not None)
        if want_metre == OTHER_METRE:
            asked += f" (metre {OTHER_METRE})"
        raise SeqGANMusicError(f"this model was not trained on {asked} tunes; it knows: "
                               f"{', '.join(names)}")  # fmt: skip
    best = max(fits, key=lambda i: windows[i])
    return best, names[best]


def model_condition(model: Any, metre: str | None, mode: str | None) -> tuple[int | None, str]:
    """`pick_condition` on a model's checkpoint: (id, name), or (None, "") for a model trained
    without conditions (which samples from its one start token, as before conditions existed)."""
    conditions, count = model.metadata.get("conditions"), model.generator.config.conditions
    if count == 1 or not isinstance(conditions, dict):
        return None, ""
    try:
        check_condition_names(model.metadata, count)
    except SeqGANMusicError as err:
        raise SeqGANMusicError(f"{model.path}: {err}") from err
    return pick_condition(conditions, metre, mode)


def check_condition_names(metadata: dict[str, Any], count: int) -> None:
    """A conditioned checkpoint's metadata names each of its `count` condition ids as
    'metre mode' (what `pick_condition` reads); a one-line error if not. Nothing to check for an
    unconditioned one (one start token, or no condition names recorded)."""
    conditions = metadata.get("conditions")
    if count == 1 or not isinstance(conditions, dict):
        return
    names = conditions.get("names")
    if not (isinstance(names, list) and len(names) == count
            and all(isinstance(n, str) and len(n.split(" ")) == 2 for n in names)):  # fmt: skip
        raise SeqGANMusicError(f"its metadata does not name its {count} conditions as "
                               "'metre mode'")  # fmt: skip


def describe(manifest: dict[str, Any]) -> list[str]:
    """`data info`'s lines on a corpus's conditions: training windows per condition, and how
    many tunes took their mode from each source (none for an encoding that reads no mode)."""
    conditions, names = window_conditions(manifest.get("used", []), manifest.get("counts", {}))
    if not names:
        return []
    windows = np.bincount(conditions["train"], minlength=len(names))
    sources = mode_sources(manifest.get("used", []))
    return [
        "conditions (metre mode: training windows): "
        + ", ".join(f"{n}: {w}" for n, w in zip(names, windows, strict=True)),
        "mode read from (tunes): " + ", ".join(f"{s} {n}" for s, n in sources.items()),
    ]
