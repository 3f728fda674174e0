"""Whole-tune evaluation (`evaluate --tunes`): what makes a folk tune a tune, for composed tunes
and for the openings of the test split's real tunes, in one encoding's grid.

Per tune, from its notes (start, end, MIDI pitch) in grid steps and its bar length:
- `ends_on_tonic`: the last note's pitch class is the tonic music21 finds (Krumhansl-Schmuckler,
  the same analysis for composed and real tunes);
- `recurring_bars`: share of bars (with a note) whose notes, relative to the bar, occur in
  another bar of the tune too;
- `halves_similarity`: bars 1..n/2 against bars n/2+1..n (A/A' in a played AABB), the mean
  Jaccard similarity of each bar pair's (onset, pitch) sets; `a_b_similarity` the same between the
  written A and B parts (composed tunes in a form only);
- `in_mode`: share of notes (by duration) in the best-fitting of the 48 scales of the major,
  minor, dorian and mixolydian modes;
- `notes_per_bar`, `pitch_range` (semitones);
- `groove_consistency`: MusPy's definition, 1 - mean Hamming distance between consecutive bars'
  onset patterns / bar length;
- plagiarism: `longest_copy` (the longest run of tokens shared with any training tune, in bars)
  and `copied_2_bars` (1 when that run is 2 bars or more). Beat tunes are composed with the
  plagiarism guard (music.beat.form): `guard_rejected` is how many draws it threw away per tune.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from seqgan_music.music.io.score import MODE_STEPS, Note, analyse_key


def _bars(notes: Sequence[Note], total: int, bar: int) -> list[frozenset]:
    out: list[set] = [set() for _ in range(max(1, total // bar))]
    for s, _, p in notes:
        if s // bar < len(out):
            out[s // bar].add((s % bar, p))
    return [frozenset(b) for b in out]


def _jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def section_similarity(x: list[frozenset], y: list[frozenset]) -> float:
    return float(np.mean([_jaccard(a, b) for a, b in zip(x, y)])) if x and y else float("nan")


def in_mode_share(notes: Sequence[Note]) -> float:
    weight = np.zeros(12)
    for s, e, p in notes:
        weight[p % 12] += e - s
    if not weight.sum():
        return float("nan")
    best = max(sum(weight[(t + k) % 12] for k in steps) for steps in MODE_STEPS.values()
               if len(steps) == 7 for t in range(12))  # fmt: skip
    return float(best / weight.sum())


def groove_consistency(notes: Sequence[Note], total: int, bar: int) -> float:
    """MusPy: 1 - (1 / (n - 1)) * sum_i hamming(g_i, g_{i+1}) / bar, g_i bar i's onset flags."""
    n = max(1, total // bar)
    grid = np.zeros((n, bar), dtype=bool)
    for s, _, _ in notes:
        if s // bar < n:
            grid[s // bar, s % bar] = True
    if n < 2:
        return float("nan")
    return float(1.0 - np.mean(np.sum(grid[1:] != grid[:-1], axis=1) / bar))


def tune_scores(notes: Sequence[Note], total: int, bar: int) -> dict[str, float]:
    """The per-tune metrics above (but plagiarism, which needs the training tunes)."""
    bars = _bars(notes, total, bar)
    filled = [b for b in bars if b]
    recurring = [b for b in filled if sum(b == c for c in filled) > 1]
    tonic, _ = analyse_key(list(notes))
    half = len(bars) // 2
    pitches = [p for _, _, p in notes]
    return {
        "ends_on_tonic": float(bool(notes) and max(notes)[2] % 12 == tonic),
        "recurring_bars": len(recurring) / len(filled) if filled else float("nan"),
        "halves_similarity": section_similarity(bars[:half], bars[half : 2 * half]),
        "in_mode": in_mode_share(notes),
        "notes_per_bar": len(notes) / len(bars),
        "groove_consistency": groove_consistency(notes, total, bar),
        "pitch_range": float(max(pitches) - min(pitches)) if pitches else float("nan"),
    }


class CopyFinder:
    """The longest run of tokens a tune shares with any training tune: binary search on the run
    length, with a set of every training run of that length (built once per length)."""

    def __init__(self, training: Sequence[Sequence[int]]) -> None:
        self.training = [np.asarray(t, dtype=np.uint8).tobytes() for t in training]
        self._sets: dict[int, set[bytes]] = {}

    def _runs(self, length: int) -> set[bytes]:
        if length not in self._sets:
            self._sets[length] = {t[i : i + length] for t in self.training
                                  for i in range(len(t) - length + 1)}  # fmt: skip
        return self._sets[length]

    def longest(self, tokens: Sequence[int]) -> int:
        t = np.asarray(tokens, dtype=np.uint8).tobytes()
        lo, hi = 0, len(t)  # lo: a shared length known; hi: bound
        while lo < hi:
            mid = (lo + hi + 1) // 2
            runs = self._runs(mid)
            if any(t[i : i + mid] in runs for i in range(len(t) - mid + 1)):
                lo = mid
            else:
                hi = mid - 1
        return lo


def summarise(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = rows[0].keys() if rows else []
    return {k: float(np.nanmean([r[k] for r in rows])) for k in keys}


def copy_scores(finder: CopyFinder, tokens: Any, bar: int) -> dict[str, float]:
    run = finder.longest(tokens)
    return {"longest_copy_bars": run / bar, "copied_2_bars": float(run >= 2 * bar)}


# ---- composed and real tunes in a model's grid ---------------------------------------------------

TUNE_BARS = 16  # the tunes scored: 16 bars as played (AABB of 4-bar parts for beat models)


def _paper_notes(tokens: Any) -> list[Note]:
    """Paper tokens (a key number per step, 0 rest; repeats merge) -> notes."""
    from seqgan_music.music.pitch import key_to_pitch

    t = np.asarray(tokens, dtype=np.int64)
    notes: list[Note] = []
    for k, v in enumerate(t):
        if v and (k == 0 or t[k - 1] != v):
            notes.append((k, k + 1, int(key_to_pitch(int(v)))))
        elif v:
            notes[-1] = (notes[-1][0], k + 1, notes[-1][2])
    return notes


def _is_beat(tokenizer: Any) -> bool:
    return hasattr(tokenizer, "bar_steps")


def composed_tunes(
    model: Any, num: int, seed: int, guard: CopyFinder | None = None, temperature: float = 1.0
) -> list[dict[str, Any]]:
    """`num` tunes of TUNE_BARS bars: beat models AABB (parts of a quarter of them, cadences,
    `guard` the plagiarism guard of compose_form), paper models plain sampling (4 steps a bar:
    the paper's grid writes no form)."""
    from seqgan_music.music.beat.encoding import beat_tokens_to_notes
    from seqgan_music.music.beat.form import FormRequest, compose_form

    tok = model.tokenizer
    if not _is_beat(tok):
        rows = model.sample(num, length=TUNE_BARS * 4, seed=seed, temperature=temperature)
        return [{"tokens": r, "notes": _paper_notes(r), "bar": 4, "total": len(r)} for r in rows]
    from seqgan_music.music.conditions import model_condition

    bar = tok.bar_steps
    # a conditioned model: its commonest condition in the metre the tunes are written in
    condition = model_condition(model, "{}/{}".format(*tok.time_signature), None)[0]
    request = FormRequest("AABB", TUNE_BARS // 4, tok.time_signature, None, None, condition)
    out = []
    for i in range(num):
        tune = compose_form(model, request, seed=seed + i, guard=guard, temperature=temperature)
        parts = tune.parts
        played = np.concatenate([parts[label] for label in request.form])
        a, b = (_bars(beat_tokens_to_notes(parts[x]), len(parts[x]), bar) for x in "AB")
        out.append({"tokens": played, "notes": beat_tokens_to_notes(played), "bar": bar,
                    "total": len(played), "a_b_similarity": section_similarity(a, b),
                    "bars_per_part_ok": float(all(len(p) == request.bars * bar
                                                  for p in parts.values())),
                    "guard_rejected": float(tune.rejected)})  # fmt: skip
    return out


def real_tunes(paths: Sequence[Any], tokenizer: Any, bars: int | None) -> list[dict[str, Any]]:
    """Tunes read in the tokenizer's grid, their first `bars` bars (None: whole); shorter ones
    are left out."""
    from seqgan_music.music.beat.encoding import bar_starts, bar_steps, beat_tokens_to_notes
    from seqgan_music.music.beat.tunes import read_beat_tune

    out = []
    for path in paths:
        if _is_beat(tokenizer):
            tokens, info = read_beat_tune(path, tokenizer.encoding)
            signatures = info["time_signatures"]
            lines = bar_starts(signatures, len(tokens), tokenizer.steps_per_quarter)
            bar = bar_steps(signatures[0][1], signatures[0][2], tokenizer.steps_per_quarter) if (
                signatures) else tokenizer.bar_steps  # fmt: skip
            if bars is not None:
                if len(lines) <= bars:
                    continue
                tokens = tokens[lines[0] : lines[bars]]
            notes = beat_tokens_to_notes(tokens)
        else:
            tokens = np.asarray(tokenizer.encode(path))
            bar = 4
            if bars is not None:
                if len(tokens) < bars * 4:
                    continue
                tokens = tokens[: bars * 4]
            notes = _paper_notes(tokens)
        out.append({"tokens": tokens, "notes": notes, "bar": bar, "total": len(tokens)})
    return out


def score_tunes(tunes: list[dict[str, Any]], finder: CopyFinder | None) -> dict[str, float]:
    rows = []
    for t in tunes:
        row = tune_scores(t["notes"], t["total"], t["bar"])
        row.update({k: t[k] for k in ("a_b_similarity", "bars_per_part_ok", "guard_rejected")
                    if k in t})  # fmt: skip
        if finder is not None:
            row.update(copy_scores(finder, t["tokens"], t["bar"]))
        rows.append(row)
    return summarise(rows)


SELECT_SEED = 1_000_003  # the tunes that choose a temperature are not the ones scored


def matched_temperature(
    model: Any, temperatures: Sequence[float], target: float, num: int, seed: int,
    guard: CopyFinder | None = None,
) -> float:  # fmt: skip
    """The temperature whose composed tunes' notes per bar come closest to `target` (the valid
    split's real tunes' figure): chosen on valid, never on test."""
    gaps = []
    for t in temperatures:
        tunes = composed_tunes(model, num, seed + SELECT_SEED, guard, temperature=t)
        gaps.append(abs(float(np.mean([len(u["notes"]) / (u["total"] / u["bar"])
                                       for u in tunes])) - target))  # fmt: skip
    return float(temperatures[int(np.argmin(gaps))])


def evaluate_tunes(
    models: list[tuple[str, Any]], data: Any, num: int = 100, seed: int = 0,
    temperatures: Sequence[float] | None = None,
) -> str:  # fmt: skip
    """A markdown table: each model's composed tunes and the test split's real openings (per
    encoding), plagiarism against the train and valid splits' tunes. `data`: a folder with
    train/, valid/ and test/ MIDI folders (Nottingham's). With `temperatures`, each model
    composes at the one of them whose notes per bar match the valid split's real tunes best
    (row `temperature`); else at 1."""
    from pathlib import Path

    from seqgan_music.errors import SeqGANMusicError

    root = Path(data)
    if not all((root / s).is_dir() for s in ("train", "valid", "test")):
        raise SeqGANMusicError(
            f"--tunes needs --data with train/, valid/ and test/ folders: {data}"
        )
    seen = sorted((root / "train").glob("*.mid")) + sorted((root / "valid").glob("*.mid"))
    tests = sorted((root / "test").glob("*.mid"))
    valids = sorted((root / "valid").glob("*.mid"))
    columns: dict[str, dict[str, float]] = {}
    finders: dict[str, tuple[CopyFinder, Any]] = {}
    for name, model in models:
        kind = "beat" if _is_beat(model.tokenizer) else "paper"
        if kind not in finders:
            training = [t["tokens"] for t in real_tunes(seen, model.tokenizer, None)]
            finders[kind] = (CopyFinder(training), model.tokenizer)
        # beat tunes are composed with the plagiarism guard (compose --guard): a tune copying 2+
        # bars of a train/valid tune is drawn again; `guard_rejected` counts the redraws per tune
        guard = finders[kind][0] if kind == "beat" else None
        temperature = 1.0
        if temperatures:
            target = score_tunes(real_tunes(valids, model.tokenizer, TUNE_BARS), None)
            temperature = matched_temperature(model, temperatures, target["notes_per_bar"], num,
                                              seed, guard)  # fmt: skip
        tunes = composed_tunes(model, num, seed, guard, temperature=temperature)
        columns[name] = {"temperature": temperature, **score_tunes(tunes, finders[kind][0])}
    for kind, (finder, tok) in finders.items():
        columns[f"real ({kind})"] = score_tunes(real_tunes(tests, tok, TUNE_BARS), finder)
    metrics = list(dict.fromkeys(k for c in columns.values() for k in c))
    lines = [f"| {TUNE_BARS}-bar tunes | " + " | ".join(columns) + " |",
             "|---|" + "---:|" * len(columns)]  # fmt: skip
    for m in metrics:
        cells = [f"{c[m]:.3f}" if m in c else "" for c in columns.values()]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
