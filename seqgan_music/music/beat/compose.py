"""Composing with a beat-grid model (`midi-beat` tokenizer): whole tunes of N bars, a primer's key
and metre kept, real durations and the time signature written into the MIDI.

Sampling past the training window continues the generator's recurrent state step by step (the
LSTM never restarts), so `--bars 16` is one continuous tune, not joined windows.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import numpy as np

from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.beat.encoding import bar_steps, shift_note_ons

DEFAULT_BARS = 8  # a tune's default length: 128 sixteenths in 4/4, Magenta's default too
PRIMER_SHARE = 4  # with --primer, its first quarter of the tune's bars (at least one) is given


def beat_length(codec: Any, bars: int | None, length: int | None, metre: tuple[int, int]) -> int:
    """Steps to sample: `bars` bars of `metre`, else `length`, else `DEFAULT_BARS` bars."""
    bar = bar_steps(*metre, codec.steps_per_quarter)
    if bars is not None:
        if bars < 1:
            raise SeqGANMusicError(f"--bars must be at least 1, not {bars}")
        return bars * bar
    return length if length is not None else max(codec.seq_len, DEFAULT_BARS * bar)


def compose_beat(
    model: Any, out_paths: list[Path], options: Any, music: Any
) -> list[dict[str, Any]]:
    """Sample and write one tune per path (`options`: core.domain.ComposeOptions, `music`:
    music.options.MusicOptions); returns per tune its tokens, path, seconds, pitch range, seed
    and extra files. Each tune has its own seed (the base seed + its index; drawn when none is
    given), so any one of them can be made again alone."""
    from seqgan_music.music.beat.form import FormRequest, compose_form, scale_mask
    from seqgan_music.music.beat.tunes import read_beat_primer
    from seqgan_music.music.options import key_request, parse_metre

    if music.restrike:
        raise SeqGANMusicError("--restrike is for the paper's encoding: beat tokens re-strike")
    codec = model.tokenizer
    tonic, mode = key_request(music)
    metre = parse_metre(music.metre) if music.metre else codec.time_signature
    condition, name, metre = _condition(model, music, mode, metre)
    named = {} if name is None else {"condition": name}  # said in each tune's summary
    # a model trained on tunes moved to one tonic samples in it, masked there, then moves back
    home, shift = _home_key(codec, music, tonic)
    base_seed = options.seed if options.seed is not None else secrets.randbelow(2**31)
    qpm = music.tempo if music.tempo is not None else codec.qpm
    if music.form is not None:
        if music.primer is not None:
            raise SeqGANMusicError("--form starts each tune afresh: leave out --primer")
        if options.length is not None:
            raise SeqGANMusicError("--form takes --bars (bars a part), not --length")
        bars = music.bars if music.bars is not None else DEFAULT_BARS
        if bars < 1:
            raise SeqGANMusicError(f"--bars must be at least 1, not {bars}")
        request = FormRequest(music.form.upper(), bars, metre, home, mode, condition)
        guard = None if music.guard is None else training_guard(music.guard, codec)
        results = []
        for i, path in enumerate(out_paths):
            seed = base_seed + i
            tune = compose_form(model, request, seed=seed, temperature=options.temperature,
                                guard=guard)  # fmt: skip
            tune.parts = {k: shift_note_ons(v, shift)[0] for k, v in tune.parts.items()}
            found = tune.tonic_pc if tonic is None else tonic
            score = _score(codec, tune.parts, request.form, bars, metre, found, tune.mode, seed,
                           qpm)  # fmt: skip
            played = np.concatenate([tune.parts[label] for label in request.form])
            results.append(_write(codec, played, score, path, qpm, music, 0) | named)
            results[-1]["rejected"] = tune.rejected
        return results
    if music.guard is not None:
        raise SeqGANMusicError("--guard checks whole tunes in a form: give --form too")
    bars, length, primer = music.bars, options.length, music.primer
    prefix = None
    if primer is not None:  # the primer's own metre decides the bar length
        probe, metre = read_beat_primer(primer, 1, codec.encoding)
        total = beat_length(codec, bars, length, metre)
        primer_bars = max(1, (total // max(len(probe), 1)) // PRIMER_SHARE)
        prefix, metre = read_beat_primer(primer, primer_bars, codec.encoding)
    total = beat_length(codec, bars, length, metre)
    allowed = None
    if home is not None:
        allowed = np.tile(scale_mask(home, mode), (total, 1))
    results = []
    for i, path in enumerate(out_paths):
        row = model.sample(
            1, length=total, temperature=options.temperature, seed=base_seed + i,
            prefix=None if prefix is None else [int(t) for t in prefix], allowed=allowed,
            condition=condition,
            on_step=None if options.progress is None else (lambda t: options.progress(t, total)),
        )[0]  # fmt: skip
        row = shift_note_ons(row, shift)[0]
        bar = bar_steps(*metre, codec.steps_per_quarter)
        pc, found = (tonic, mode) if tonic is not None else _found_key(row)
        score = _score(codec, {"A": row}, "A", -(-total // bar), metre, pc, found,
                       base_seed + i, qpm)  # fmt: skip
        primed = 0 if prefix is None else len(prefix)
        results.append(_write(codec, row, score, path, qpm, music, primed) | named)
    return results


def _condition(
    model: Any, music: Any, mode: str | None, metre: tuple[int, int]
) -> tuple[int | None, str | None, tuple[int, int]]:
    """A conditioned model's condition id and name for the request, and the metre to write: the
    asked one, else (no --metre, no primer) the chosen condition's when it names one.
    Unconditioned models: (None, None, metre), as before conditions existed."""
    from seqgan_music.music.conditions import OTHER_METRE, model_condition

    if model.generator.config.conditions == 1:
        return None, None, metre
    asked = music.metre if music.metre else None
    if asked is None and music.primer is not None:  # the primer's metre is the request
        from seqgan_music.music.beat.tunes import read_beat_primer

        asked = "{}/{}".format(*read_beat_primer(music.primer, 1, model.tokenizer.encoding)[1])
    condition, name = model_condition(model, asked, mode)
    if condition is None:
        return None, None, metre
    chosen = name.split(" ")[0]
    if asked is None and chosen != OTHER_METRE:
        metre = tuple(int(x) for x in chosen.split("/"))
    return condition, name, metre


def _home_key(codec: Any, music: Any, tonic: int | None) -> tuple[int | None, int]:
    """(the tonic to sample and mask in, the semitones to move the tune by afterwards): the
    asked tonic and 0, or for a model trained on tunes moved to one tonic (`--transpose-to`)
    that tonic and the shortest way from it to the asked one."""
    from seqgan_music.music.beat.encoding import nearest_shift

    home = getattr(codec, "tonic", None)
    if home is None:
        return tonic, 0
    if music.primer is not None:
        raise SeqGANMusicError(
            "--primer: this model was trained on tunes moved to one tonic (--transpose-to); "
            "continuing a primer there is not supported"
        )
    if tonic is None:
        return None, 0
    return home, nearest_shift(home, tonic)


def training_guard(folder: str | Path, codec: Any) -> Any:
    """The plagiarism guard: a CopyFinder of every MIDI tune under `folder`, in the codec's grid."""
    from seqgan_music.music.whole_tunes import CopyFinder, real_tunes

    paths = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in (".mid", ".midi"))
    if not paths:
        raise SeqGANMusicError(f"--guard {folder}: no MIDI tunes (.mid) there")
    return CopyFinder([t["tokens"] for t in real_tunes(paths, codec, None)])


def _found_key(row: np.ndarray) -> tuple[int, str]:
    from seqgan_music.music.beat.encoding import beat_tokens_to_notes
    from seqgan_music.music.io.score import analyse_key

    return analyse_key(beat_tokens_to_notes(row))


def _score(
    codec: Any, parts: dict[str, np.ndarray], form: str, bars: int, metre: tuple[int, int],
    tonic_pc: int, mode: str, seed: int, qpm: float,
) -> Any:  # fmt: skip
    from seqgan_music.music.beat.encoding import beat_tokens_to_notes
    from seqgan_music.music.io.score import Score, tonic_name

    notes = {label: beat_tokens_to_notes(tokens) for label, tokens in parts.items()}
    return Score(notes, form, bars, tuple(metre), codec.steps_per_quarter,
                 tonic_name(tonic_pc, mode), mode, title=f"seqgan-music {seed}", seed=seed,
                 qpm=qpm)  # fmt: skip


def _write(
    codec: Any, row: np.ndarray, score: Any, path: Path, qpm: float, music: Any, primer: int
) -> dict[str, Any]:
    from seqgan_music.music.io.tunes_out import write_tune_files

    pm = codec.render(row, qpm=qpm, time_signature=score.metre, program=music.program)
    step_seconds = 60.0 / (qpm * codec.steps_per_quarter)
    frames = codec.pitch_frames(row[None, :])[0]
    roll = note_gaps(row, frames) if music.png else None
    extras = write_tune_files(
        score, pm, path, wav=music.wav, engrave_score=music.score, roll=roll,
        roll_seconds=step_seconds / 4, roll_columns=4, primer_steps=primer,
    )  # fmt: skip
    pitches = frames[frames > 0] + 20
    return {
        "tokens": row, "path": path, "seconds": len(row) * step_seconds,
        "lowest": int(pitches.min()) if len(pitches) else None,
        "highest": int(pitches.max()) if len(pitches) else None, "extras": tuple(extras),
        "seed": score.seed, "key": f"{score.tonic} {score.mode}",
        "metre": f"{score.metre[0]}/{score.metre[1]}",
    }  # fmt: skip


def note_gaps(tokens: np.ndarray, frames: np.ndarray, split: int = 4) -> np.ndarray:
    """Frames at `split` columns a step with the last column before each note-on and rest blank,
    so a piano roll shows where notes end and repeated notes are struck again."""
    from seqgan_music.music.beat.encoding import HOLD

    cols = np.repeat(np.asarray(frames, dtype=np.int64), split)
    ends = np.flatnonzero(np.asarray(tokens)[1:] != HOLD)  # a note ends before step k + 1
    cols[(ends + 1) * split - 1] = 0
    return cols
