"""The music domain: MIDI/ABC corpora in, melodies on the 88 keys, tunes out as MIDI (WAV, PNG)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seqgan_music.core.domain import (
    ComposeOptions,
    Composition,
    Dataset,
    DomainBase,
    LoadOptions,
    Preset,
    read_domain_options,
    register_domain,
)
from seqgan_music.core.files import refuse_existing
from seqgan_music.core.metrics import bleu, evaluate_samples, nearest_mse
from seqgan_music.core.model import Model
from seqgan_music.core.splits import SPLITS
from seqgan_music.core.tokenizer import Tokenizer
from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.conditions import mode_sources, window_conditions
from seqgan_music.music.encodings import encoding_for_tokenizer, encoding_of_tokenizer
from seqgan_music.music.io.files import MIDI_SUFFIXES, TUNE_SUFFIXES
from seqgan_music.music.io.midi import add_midi_text
from seqgan_music.music.io.tunes_out import TUNE_SUFFIXES as OUT_SUFFIXES
from seqgan_music.music.io.tunes_out import extra_paths
from seqgan_music.music.options import MusicLoadOptions, MusicOptions
from seqgan_music.music.presets import PRESETS, REST_PENALTY, REST_TOKEN

NAMED_CORPORA = ("embedded", "nottingham")


def _holds_tunes(path: Path) -> bool:
    if path.is_file():
        return path.suffix.lower() in TUNE_SUFFIXES
    return path.is_dir() and any(p.suffix.lower() in TUNE_SUFFIXES for p in path.rglob("*"))


@register_domain("music")
class MusicDomain(DomainBase):
    """Tunes: the named corpora, a folder of MIDI/ABC files, or one such file."""

    sources = "a .mid, .midi or .abc file, a folder of them, 'embedded' or 'nottingham'"

    tokenizer = "midi-pitch"
    PRESETS: Mapping[str, Preset] = PRESETS

    def evaluate_tunes(
        self,
        models: list,
        data: str,
        *,
        num: int,
        seed: int,
        temperatures: Sequence[float] | None = None,
    ) -> str:
        """Whole-tune metrics (`evaluate --tunes`): music/whole_tunes.py."""
        from seqgan_music.music.whole_tunes import evaluate_tunes

        return evaluate_tunes(models, data, num=num, seed=seed, temperatures=temperatures)

    def check_metadata(self, metadata: dict[str, Any], conditions: int) -> None:
        """A conditioned checkpoint must name its conditions as compose reads them."""
        from seqgan_music.music.conditions import check_condition_names

        check_condition_names(metadata, conditions)

    def claims(self, source: str, tokenizer: str | None) -> bool:
        """Tune sources, with no tokenizer named or one of the music encodings' tokenizers."""
        ours = tokenizer is None or encoding_for_tokenizer(tokenizer) is not None
        return ours and (source in NAMED_CORPORA or _holds_tunes(Path(source)))

    def load(self, source: str, options: LoadOptions) -> Dataset:
        """Windows in the encoding asked for by name (`paper`, the default, or `beat`), else the
        one whose tokenizer is named (a checkpoint's), with its fitted tokenizer when given."""
        from seqgan_music.music.corpus import prepare_corpus
        from seqgan_music.music.encodings import music_encoding

        music = read_domain_options(MusicLoadOptions, options, "music")
        scheme = music_encoding(music.encoding, options.tokenizer)
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
        used = corpus.manifest.get("used", [])
        conditions, names = window_conditions(used, corpus.manifest.get("counts", {}))
        if names:  # the tunes' metre and mode (music/conditions.py): `--set conditions=on`
            train = np.bincount(conditions["train"], minlength=len(names)).tolist()
            manifest["conditions"] = dict(zip(names, train, strict=True))  # training windows
            manifest["mode_sources"] = mode_sources(used)  # tunes whose mode each source gave
        codec = options.fitted_tokenizer or scheme.make_codec(config, corpus.manifest)
        splits = {s: corpus.split(s) for s in SPLITS}
        tonic = _transposed_tonic(music.transpose_to, codec, options.fitted_tokenizer)
        if tonic is not None:  # every tune moved to the tonic, its mode kept
            splits = _transpose(splits, used, corpus.manifest.get("counts", {}), tonic)
            manifest["transposed_to"] = tonic
        return Dataset("music", splits["train"], splits["valid"], splits["test"], codec,
                       manifest, conditions, names)  # fmt: skip

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
        scores.update(encoding_of_tokenizer(tok).own_scores(samples, references, tok))
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

    def features(self, windows: np.ndarray, dataset: Dataset) -> np.ndarray:
        """MGEval/MusPy-like melody descriptors (music/features.py) of the pitch frames."""
        from seqgan_music.music.features import melody_features

        return melody_features(_pitch_frames(dataset.tokenizer, windows))

    def coverage(
        self, samples: np.ndarray, references: np.ndarray, dataset: Dataset
    ) -> dict[str, np.ndarray]:
        """Per held-out window, the MSE to its nearest sample: the reverse of MSE, a recall."""
        tok = dataset.tokenizer
        return {"coverage MSE": _mse(_pitch_frames(tok, references), _pitch_frames(tok, samples))}

    def training_sequences(self, dataset: Dataset) -> list[np.ndarray]:
        """The training windows end to end: they tile the tunes, so a copy across two is found."""
        return [dataset.train.reshape(-1)]

    def compose(self, model: Model, out: Path | None, options: ComposeOptions) -> list[Composition]:
        """MIDI files (tune.mid, tune-2.mid, ...), with .wav previews and piano rolls if asked,
        written by the model's encoding."""
        music = read_domain_options(MusicOptions, options, "music")
        _check_render_options(music)
        paths = numbered_paths(_music_out(out), options.num)
        refuse_existing([q for p in paths
                         for q in (p, *extra_paths(p, music.wav, music.score, music.png))],
                        options.force)  # fmt: skip
        if options.force:  # a replaced tune's old previews would no longer match it
            for path in paths:
                asked = {x for x, on in ((".wav", music.wav), (".png", music.png)) if on}
                for old in {".wav", ".png"} - asked:
                    path.with_suffix(old).unlink(missing_ok=True)
        tunes = encoding_of_tokenizer(model.tokenizer).compose(model, paths, options, music)
        for i, tune in enumerate(tunes):  # how to make it again, inside the file
            if tune.get("seed") is not None or tune["path"].suffix.lower() not in MIDI_SUFFIXES:
                continue  # a beat tune stores its own seed, in every format
            add_midi_text(tune["path"], f"seqgan-music compose seed {options.seed}: tune {i + 1} "
                          f"of {len(tunes)}, temperature {options.temperature:g}")  # fmt: skip
        return [_composition(**t) for t in tunes]


def _transposed_tonic(asked: str | None, codec: Any, fitted: Any) -> int | None:
    """The pitch class the tunes are moved to: a checkpoint's (its codec's `tonic`), else
    `--transpose-to`'s; None: as heard. A codec without a `tonic` cannot be transposed; a run
    that goes on from a checkpoint keeps its tunes where they were (another tonic: an error)."""
    from seqgan_music.music.io.score import SHARP_NAMES, tonic_pitch_class

    wanted = None
    if asked is not None and asked.strip().lower() != "none":
        try:
            wanted = tonic_pitch_class(asked)
        except ValueError as err:
            raise SeqGANMusicError(str(err).replace("--key", "--transpose-to")) from err
    if fitted is not None:
        kept = getattr(fitted, "tonic", None)
        if asked is not None and wanted != kept:  # silently training elsewhere would mislead
            was = "as heard" if kept is None else f"moved to {SHARP_NAMES[kept]}"
            raise SeqGANMusicError(
                f"--transpose-to {asked}: the checkpoint this run goes on from was trained on "
                f"tunes {was}; it cannot change"
            )
        return kept
    if wanted is None:
        return None
    if not hasattr(codec, "tonic"):
        raise SeqGANMusicError("--transpose-to needs the tunes' keys: use --encoding beat")
    codec.tonic = wanted
    return codec.tonic


def _transpose(
    splits: dict[str, np.ndarray], used: list, counts: dict[str, int], tonic: int
) -> dict[str, np.ndarray]:
    """Every window moved by the shortest way from its tune's tonic to `tonic`."""
    from seqgan_music.music.beat.encoding import nearest_shift, shift_note_ons
    from seqgan_music.music.conditions import window_tonics

    tonics = window_tonics(used, counts)
    if tonics is None:
        raise SeqGANMusicError(
            "--transpose-to needs each tune's key, which this corpus does not record "
            "(windows augmented by transposition?)"
        )
    out = {}
    for split, windows in splits.items():
        if not len(windows):
            out[split] = windows
            continue
        shifts = np.array([nearest_shift(int(pc), tonic) for pc in tonics[split]])
        out[split] = shift_note_ons(windows, shifts)
    return out


def _pitch_frames(tokenizer: Tokenizer, windows: np.ndarray) -> np.ndarray:
    """The sounding key number per step (0 rest, 1..88): what MSE and the pitch metrics read."""
    return encoding_of_tokenizer(tokenizer).pitch_frames(tokenizer, windows)


def _mse(frames: np.ndarray, references: np.ndarray) -> np.ndarray:
    return nearest_mse(frames, references, ignore_token=REST_TOKEN, rest_penalty=REST_PENALTY)


def _music_out(out: Path | None) -> Path:
    """--out for MIDI: a .mid/.midi name or a folder (no suffix); anything else is refused, since
    MIDI bytes under tune.wav or tune.txt would mislead every program that opens them."""
    out = out or Path("tune.mid")
    if out.suffix.lower() not in ("", *OUT_SUFFIXES):
        raise SeqGANMusicError(
            f"--out {out}: a music model writes .mid, .abc or .musicxml files; give such a name "
            "or a folder (--wav, --png and --score write files beside each tune)"
        )
    return out


def numbered_paths(out: Path, num: int) -> list[Path]:
    """tune.mid -> [tune.mid, tune-2.mid, ...]; a folder (no suffix) -> folder/tune-1.mid ..."""
    if out.suffix == "":
        return [out / f"tune-{i + 1}.mid" for i in range(num)]
    return [out if i == 0 else out.with_name(f"{out.stem}-{i + 1}{out.suffix}") for i in range(num)]


def _composition(
    tokens: np.ndarray, path: Path, seconds: float, lowest: int | None, highest: int | None,
    extras: tuple[Path, ...], **tune: object,
) -> Composition:  # fmt: skip
    span = f"MIDI {lowest}..{highest}" if lowest is not None else "all rests"
    summary = f"{len(tokens)} steps, {seconds:.1f} s, {span}"
    if tune.get("seed") is not None:  # beat tunes: how to make this one again
        summary += f", {tune['key']}, {tune['metre']}, seed {tune['seed']}"
    if tune.get("condition"):  # a conditioned model: the start token it sampled from
        summary += f", condition {tune['condition']}"
    if tune.get("rejected"):  # the plagiarism guard's redraws
        summary += f" (drawn again {tune['rejected']}x: copied 2+ bars of a training tune)"
    info = {"seconds": seconds, "lowest": lowest, "highest": highest, **tune}
    return Composition(tokens, path, extras=extras, summary=summary, info=info)


def _check_render_options(options: MusicOptions) -> None:
    if not 0 <= options.program <= 127:
        raise SeqGANMusicError(
            f"--program must be a General MIDI program 0..127, not {options.program}"
        )
    if options.tempo is not None and options.tempo <= 0:
        raise SeqGANMusicError(f"--tempo must be positive, not {options.tempo}")
