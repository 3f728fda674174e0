"""The music domain: MIDI/ABC corpora in, melodies on the 88 keys, tunes out as MIDI (WAV, PNG)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from seqgan_music.core.domain import (
    ComposeOptions,
    Composition,
    Dataset,
    DomainBase,
    LoadOptions,
    Preset,
    register_domain,
)
from seqgan_music.core.files import atomic_write, refuse_existing
from seqgan_music.core.metrics import bleu, evaluate_samples, nearest_mse
from seqgan_music.core.model import Model
from seqgan_music.core.splits import SPLITS
from seqgan_music.core.tokenizer import Tokenizer
from seqgan_music.errors import SeqGANMusicError, SeqGANMusicWarning
from seqgan_music.music.encoding import REST, token_to_pitch
from seqgan_music.music.presets import PRESETS, REST_PENALTY, REST_TOKEN
from seqgan_music.music.tunes import ABC_SUFFIXES, MIDI_SUFFIXES

NAMED_CORPORA = ("embedded", "nottingham")
TUNE_SUFFIXES = MIDI_SUFFIXES + ABC_SUFFIXES
PAPER_STEPS_PER_BAR = 4  # compose --bars with the paper's grid: a step is written as a quarter
DEFAULT_STEPS = 128  # a composed tune's default length: 51 s at 0.4 s a step (Magenta: 128 too)
LONG_FACTOR = 4  # --length beyond this many times the trained length draws a warning


def _holds_tunes(path: Path) -> bool:
    if path.is_file():
        return path.suffix.lower() in TUNE_SUFFIXES
    return path.is_dir() and any(p.suffix.lower() in TUNE_SUFFIXES for p in path.rglob("*"))


@register_domain("music")
class MusicDomain(DomainBase):
    """Tunes: the named corpora, a folder of MIDI/ABC files, or one such file."""

    tokenizer = "midi-pitch"
    PRESETS: Mapping[str, Preset] = PRESETS

    def claims(self, source: str, tokenizer: str | None) -> bool:
        """Tune sources, with no tokenizer named or one of the music encodings' tokenizers."""
        from seqgan_music.music.encodings import encoding_for_tokenizer

        ours = tokenizer is None or encoding_for_tokenizer(tokenizer) is not None
        return ours and (source in NAMED_CORPORA or _holds_tunes(Path(source)))

    def load(self, source: str, options: LoadOptions) -> Dataset:
        """Windows in the encoding the tokenizer names (`midi-pitch`: the paper's, the default;
        `midi-beat`: the beat grid), with the fitted tokenizer of a checkpoint when given."""
        from seqgan_music.music.corpus import prepare_corpus
        from seqgan_music.music.encodings import music_encoding

        scheme = music_encoding(None, options.tokenizer)
        config = scheme.make_config(options.seq_len)
        corpus = prepare_corpus(
            source, encoding=config, seed=options.seed, progress=options.progress
        )
        manifest = {
            "source": str(source),
            "encoding": scheme.name,
            "counts": {s: len(corpus.split(s)) for s in SPLITS},
            "summary": corpus.summary,
        }
        codec = options.fitted_tokenizer or scheme.make_codec(config, corpus.manifest)
        return Dataset("music", corpus.train, corpus.valid, corpus.test, codec, manifest)

    def score(
        self, samples: np.ndarray, references: np.ndarray, dataset: Dataset
    ) -> dict[str, np.ndarray]:
        """BLEU-4, MSE (pitch distance to the nearest window), diversity, musical metrics and
        their distribution overlaps with the references."""
        from seqgan_music.music.metrics import metric_overlaps, musical_metrics

        tok = dataset.tokenizer
        frames, ref_frames = _pitch_frames(tok, samples), _pitch_frames(tok, references)
        scores = evaluate_samples(samples, references, bleu_orders=(4,), mse=False)
        scores = {"BLEU-4": scores.pop("BLEU-4"), "MSE": _mse(frames, ref_frames), **scores}
        scores.update(musical_metrics(frames))
        scores.update({f"overlap_{k}": v for k, v in metric_overlaps(frames, ref_frames).items()})
        if hasattr(tok, "bar_steps"):  # beat tokens carry rhythm: its metrics beside the pitch's
            from seqgan_music.music.rhythm_metrics import rhythm_metrics, rhythm_overlaps

            grid = (tok.steps_per_quarter, tok.bar_steps)
            scores.update(rhythm_metrics(samples, *grid))
            overlaps = rhythm_overlaps(samples, references, *grid)
            scores.update({f"overlap_{k}": v for k, v in overlaps.items()})
        return scores

    def validation_scores(
        self, samples: np.ndarray, references: np.ndarray, dataset: Dataset
    ) -> dict[str, np.ndarray]:
        """BLEU-4 and MSE: the per-unit diagnostics of a training run."""
        tok = dataset.tokenizer
        return {
            "BLEU-4": bleu(samples, references, 4),
            "MSE": _mse(_pitch_frames(tok, samples), _pitch_frames(tok, references)),
        }

    def compose(self, model: Model, out: Path | None, options: ComposeOptions) -> list[Composition]:
        """MIDI files (tune.mid, tune-2.mid, ...), with .wav previews and piano rolls if asked."""
        from seqgan_music.music.render import write_piano_roll_png, write_wav

        _check_render_options(options)
        paths = numbered_paths(_music_out(out), options.num)
        extras = [".wav"] * options.wav + [".png"] * options.png
        refuse_existing([q for p in paths for q in (p, *(p.with_suffix(x) for x in extras))],
                        options.force)  # fmt: skip
        if hasattr(model.tokenizer, "bar_steps"):  # a beat-grid model: bars of its own metre
            from seqgan_music.music.beat_compose import compose_beat

            return [Composition(**t) for t in compose_beat(model, paths, options)]
        if options.bars is not None:  # the paper's grid: a step is written as a quarter note
            if options.bars < 1:
                raise SeqGANMusicError(f"--bars must be at least 1, not {options.bars}")
            options = replace(options, length=options.bars * PAPER_STEPS_PER_BAR)
        model_step = float(model.tokenizer.step_seconds)
        # A step stays one quarter note: --tempo changes only how long it lasts when rendered.
        step = 60.0 / options.tempo if options.tempo is not None else model_step
        length = compose_length(model, options.length)
        prefix = _primer_prefix(model, options, model_step, length)
        progress = options.progress
        samples = model.sample(
            options.num,
            length=length,
            temperature=options.temperature,
            seed=options.seed,
            prefix=prefix,
            on_step=None if progress is None else (lambda t: progress(t, length)),
        )
        results = []
        for row, path in zip(samples, paths):
            path.parent.mkdir(parents=True, exist_ok=True)
            tune = model.tokenizer.decode(row, step_seconds=step, program=options.program,
                                          qpm=options.tempo, restrike=options.restrike)  # fmt: skip
            atomic_write(path, tune.write)
            extras = []
            if options.wav:
                extras.append(write_wav(row, path.with_suffix(".wav"), step_seconds=step))
            if options.png:
                extras.append(write_piano_roll_png(row, path.with_suffix(".png"), step))
            pitches = token_to_pitch(row[row != REST])
            low, high = (int(pitches.min()), int(pitches.max())) if len(pitches) else (None, None)
            results.append(Composition(row, path, len(row) * step, low, high, None, tuple(extras)))
        return results


def _pitch_frames(tokenizer: Tokenizer, windows: np.ndarray) -> np.ndarray:
    """The sounding pitch per step (0 rest, 1..88): what MSE and the pitch metrics read; a beat
    tokenizer says how to get it from its tokens, the paper's tokens are it already."""
    to_frames = getattr(tokenizer, "pitch_frames", None)
    return to_frames(windows) if to_frames is not None else windows


def _mse(frames: np.ndarray, references: np.ndarray) -> np.ndarray:
    return nearest_mse(frames, references, ignore_token=REST_TOKEN, rest_penalty=REST_PENALTY)


def _music_out(out: Path | None) -> Path:
    """--out for MIDI: a .mid/.midi name or a folder (no suffix); anything else is refused, since
    MIDI bytes under tune.wav or tune.txt would mislead every program that opens them."""
    out = out or Path("tune.mid")
    if out.suffix.lower() not in ("", *MIDI_SUFFIXES):
        raise SeqGANMusicError(
            f"--out {out}: a music model writes MIDI files; give a .mid name or a folder "
            "(--wav and --png write previews beside each tune)"
        )
    return out


def compose_length(model: Model, length: int | None) -> int:
    """--length, by default `DEFAULT_STEPS` (Magenta's melody generator's 128); a warning when it
    goes far past the length the model was trained on (`LONG_FACTOR` times)."""
    trained = model.config.generator.seq_len
    if length is None:
        return max(DEFAULT_STEPS, trained)
    if length > LONG_FACTOR * trained:
        warnings.warn(
            f"--length {length} is {length / trained:.0f} times the {trained} steps the model was "
            "trained on: past that, melodies tend to wander or repeat",
            SeqGANMusicWarning,
            stacklevel=2,
        )
    return length


def numbered_paths(out: Path, num: int) -> list[Path]:
    """tune.mid -> [tune.mid, tune-2.mid, ...]; a folder (no suffix) -> folder/tune-1.mid ..."""
    if out.suffix == "":
        return [out / f"tune-{i + 1}.mid" for i in range(num)]
    return [out if i == 0 else out.with_name(f"{out.stem}-{i + 1}{out.suffix}") for i in range(num)]


def _check_render_options(options: ComposeOptions) -> None:
    if not 0 <= options.program <= 127:
        raise SeqGANMusicError(
            f"--program must be a General MIDI program 0..127, not {options.program}"
        )
    if options.tempo is not None and options.tempo <= 0:
        raise SeqGANMusicError(f"--tempo must be positive, not {options.tempo}")


def _primer_prefix(
    model: Model, options: ComposeOptions, step_seconds: float, length: int
) -> list[int] | None:
    """The primer's first --primer-steps (default: a quarter of the tune length, at most the
    trained length) steps, read on the grid the model was trained on."""
    if options.primer is None:
        if options.primer_steps is not None:
            raise SeqGANMusicError("--primer-steps needs --primer (the tune to continue)")
        return None
    from seqgan_music.music.tunes import read_primer

    default = max(1, min(length // 4, model.config.generator.seq_len))
    steps = default if options.primer_steps is None else options.primer_steps
    if not 1 <= steps < length:
        raise SeqGANMusicError(
            f"--primer-steps must be 1..{length - 1} (below --length), not {steps}"
        )
    return [int(t) for t in read_primer(options.primer, steps, step_seconds=step_seconds)]
