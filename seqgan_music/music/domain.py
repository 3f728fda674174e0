"""The music domain: MIDI/ABC corpora in, melodies on the 88 keys, tunes out as MIDI (WAV, PNG)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
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
from seqgan_music.core.files import refuse_existing
from seqgan_music.core.metrics import bleu, evaluate_samples, nearest_mse
from seqgan_music.core.model import Model
from seqgan_music.core.splits import SPLITS
from seqgan_music.errors import SeqGANMusicError, SeqGANMusicWarning
from seqgan_music.music.presets import PRESETS, REST_PENALTY, REST_TOKEN
from seqgan_music.music.tunes import ABC_SUFFIXES, MIDI_SUFFIXES

NAMED_CORPORA = ("embedded", "nottingham")
TUNE_SUFFIXES = MIDI_SUFFIXES + ABC_SUFFIXES
LOWEST_PITCH_OFFSET = 20  # MIDI pitch = token + 20 (token 1 = A0 = MIDI 21)
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
        return tokenizer is None and (source in NAMED_CORPORA or _holds_tunes(Path(source)))

    def load(self, source: str, options: LoadOptions) -> Dataset:
        from seqgan_music.music.codec import MidiPitchCodec
        from seqgan_music.music.corpus import prepare_corpus
        from seqgan_music.music.encoding import EncodingConfig

        seq_len = options.seq_len or EncodingConfig().seq_len
        encoding = EncodingConfig(seq_len=seq_len, stride=seq_len)  # non-overlapping windows
        corpus = prepare_corpus(
            source, encoding=encoding, seed=options.seed, progress=options.progress
        )
        manifest = {
            "source": str(source),
            "counts": {s: len(corpus.split(s)) for s in SPLITS},
            "summary": corpus.summary,
        }
        codec = MidiPitchCodec.from_encoding(encoding)
        return Dataset("music", corpus.train, corpus.valid, corpus.test, codec, manifest)

    def score(
        self, samples: np.ndarray, references: np.ndarray, dataset: Dataset
    ) -> dict[str, np.ndarray]:
        """BLEU-4, MSE (pitch distance to the nearest window), diversity, musical metrics and
        their distribution overlaps with the references."""
        from seqgan_music.music.metrics import metric_overlaps, musical_metrics

        scores = evaluate_samples(
            samples,
            references,
            bleu_orders=(4,),
            mse=True,
            ignore_token=REST_TOKEN,
            rest_penalty=REST_PENALTY,
        )
        scores.update(musical_metrics(samples))
        scores.update({f"overlap_{k}": v for k, v in metric_overlaps(samples, references).items()})
        return scores

    def validation_scores(
        self, samples: np.ndarray, references: np.ndarray, dataset: Dataset
    ) -> dict[str, np.ndarray]:
        """BLEU-4 and MSE: the per-unit diagnostics of a training run."""
        return {
            "BLEU-4": bleu(samples, references, 4),
            "MSE": nearest_mse(
                samples, references, ignore_token=REST_TOKEN, rest_penalty=REST_PENALTY
            ),
        }

    def compose(self, model: Model, out: Path | None, options: ComposeOptions) -> list[Composition]:
        """MIDI files (tune.mid, tune-2.mid, ...), with .wav previews and piano rolls if asked."""
        from seqgan_music.music.midi_io import write_midi
        from seqgan_music.music.render import write_piano_roll_png, write_wav

        _check_render_options(options)
        paths = numbered_paths(_music_out(out), options.num)
        extras = [".wav"] * options.wav + [".png"] * options.png
        refuse_existing([q for p in paths for q in (p, *(p.with_suffix(x) for x in extras))],
                        options.force)  # fmt: skip
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
            write_midi(row, path, step_seconds=step, program=options.program, qpm=options.tempo,
                       restrike=options.restrike)  # fmt: skip
            extras = []
            if options.wav:
                extras.append(write_wav(row, path.with_suffix(".wav"), step_seconds=step))
            if options.png:
                extras.append(write_piano_roll_png(row, path.with_suffix(".png"), step))
            pitches = row[row > 0] + LOWEST_PITCH_OFFSET
            low, high = (int(pitches.min()), int(pitches.max())) if len(pitches) else (None, None)
            results.append(Composition(row, path, len(row) * step, low, high, None, tuple(extras)))
        return results


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
