"""The text domain: one example a line (or the poems' partitions), any registered tokenizer."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from seqgan_music.core.domain import (
    ComposeOptions,
    Composition,
    Dataset,
    DomainBase,
    LoadOptions,
    NoOptions,
    Preset,
    draw_samples,
    read_domain_options,
    register_domain,
    write_lines,
)
from seqgan_music.core.files import refuse_existing
from seqgan_music.core.metrics import bleu, evaluate_samples
from seqgan_music.core.model import Model
from seqgan_music.core.splits import SPLITS
from seqgan_music.errors import SeqGANMusicError
from seqgan_music.text.corpus import POEM_FILES, decode_until_eos, trim_at_end
from seqgan_music.text.presets import PRESETS

DEFAULT_TOKENIZER = "char"
BLEU_ORDERS = (2, 3, 4)  # the paper's Table 2 (poems) and Table 3 (speeches)
# "qtrain", "qvalid", "qtest": the poem partitions' names without their line length
_POEM_PREFIXES = tuple(dict.fromkeys(name[:-1] for files in POEM_FILES for name in files.values()))


def _looks_like_text(path: Path) -> bool:
    """A .txt file, a poem partition file, or a folder holding the poem partitions."""
    return (
        path.suffix == ".txt"
        or path.name.startswith(_POEM_PREFIXES)
        or (path.is_dir() and any(path.glob(f"{_POEM_PREFIXES[0]}*")))
    )


@register_domain("text")
class TextDomain(DomainBase):
    """Text corpora; any tokenizer that no other domain owns makes a source text."""

    sources = "a .txt file of one example a line, or any file given with --tokenizer char or word"

    tokenizer = None  # every generic tokenizer (char, word, plugins) is text's
    PRESETS: Mapping[str, Preset] = PRESETS

    def claims(self, source: str, tokenizer: str | None) -> bool:
        return tokenizer is not None or _looks_like_text(Path(source))

    def load(self, source: str, options: LoadOptions) -> Dataset:
        """Fit a tokenizer on train; `fitted_tokenizer` (a checkpoint's) encodes with that
        vocabulary instead, so held-out scores use the ids the model was trained with."""
        read_domain_options(NoOptions, options, "text")  # e.g. no music encoding
        from seqgan_music.text.corpus import encode_fixed_length, load_text_corpus

        corpus = load_text_corpus(
            source,
            tokenizer=options.tokenizer or DEFAULT_TOKENIZER,
            seq_len=options.seq_len,
            tokenizer_options=options.tokenizer_options,
            seed=options.seed,
        )
        tok = corpus.tokenizer
        splits = [corpus.train, corpus.valid, corpus.test]
        if options.fitted_tokenizer is not None:
            tok = options.fitted_tokenizer
            splits = [encode_fixed_length(corpus.texts[s], tok, corpus.seq_len) for s in SPLITS]
        counts = {s: len(a) for s, a in zip(SPLITS, splits)}
        default = " (the default; --tokenizer word for words)" if options.tokenizer is None else ""
        summary = (
            f"{source}: {tok.name} tokenizer{default}, vocabulary {tok.vocab_size}, "
            f"length {corpus.seq_len}; "
            + ", ".join(f"{s} {n}" for s, n in counts.items())
            + f"; {corpus.skipped} lines skipped"
        )
        manifest = {"source": str(source), "counts": counts, "summary": summary}
        return Dataset("text", *splits, tok, manifest)

    def score(
        self, samples: np.ndarray, references: np.ndarray, dataset: Dataset
    ) -> dict[str, np.ndarray]:
        """BLEU-2/3/4 and diversity, rows cut at the end token so padding never counts."""
        tok = dataset.tokenizer
        return evaluate_samples(
            trim_at_end(samples, tok.eos_id, tok.pad_id),
            trim_at_end(references, tok.eos_id, tok.pad_id),
            bleu_orders=BLEU_ORDERS,
            mse=False,
        )

    def sequences(self, windows: np.ndarray, dataset: Dataset) -> list[np.ndarray]:
        """Rows cut at the end token: padding is no text."""
        tok = dataset.tokenizer
        return trim_at_end(windows, tok.eos_id, tok.pad_id)

    def validation_scores(
        self, samples: np.ndarray, references: np.ndarray, dataset: Dataset
    ) -> dict[str, np.ndarray]:
        """BLEU-2/3/4 of the trimmed rows: the per-unit diagnostics of a training run."""
        tok = dataset.tokenizer
        hyps = trim_at_end(samples, tok.eos_id, tok.pad_id)
        refs = trim_at_end(references, tok.eos_id, tok.pad_id)
        return {f"BLEU-{n}": bleu(hyps, refs, n) for n in BLEU_ORDERS}

    def compose(self, model: Model, out: Path | None, options: ComposeOptions) -> list[Composition]:
        """Decoded lines, written to `out` (one a line) when it is given."""
        read_domain_options(NoOptions, options, "text")  # no MIDI program, primer, ...
        _refuse_music_out(out)
        if out is not None:
            refuse_existing([out], options.force)
        samples = draw_samples(model, options)
        texts = [decode_until_eos(row.tolist(), model.tokenizer) for row in samples]
        path = write_lines(out, [t.replace("\n", " / ") for t in texts])  # a poem on one line
        return [Composition(tokens=row, path=path, text=t) for row, t in zip(samples, texts)]


# What a text model cannot write: music and audio files.
_NOT_TEXT_SUFFIXES = (".mid", ".midi", ".abc", ".wav", ".png")


def _refuse_music_out(out: Path | None) -> None:
    if out is not None and (out.suffix.lower() in _NOT_TEXT_SUFFIXES or out.suffix == ""):
        raise SeqGANMusicError(
            f"--out {out}: a text model writes its samples as text, one a line; give a .txt name"
        )
