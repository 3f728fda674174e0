"""Datasets: a data source and a few settings in, the claiming domain's `Dataset` out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seqgan_music.core.domain import Dataset, LoadOptions, domain_for, get_domain
from seqgan_music.core.tokenizer import Tokenizer


def load_dataset(
    data: str | Path = "embedded",
    *,
    tokenizer: str | None = None,
    seq_len: int | None = None,
    seed: int = 0,
    progress: bool = True,
    tokenizer_options: dict[str, Any] | None = None,
    fitted_tokenizer: Tokenizer | None = None,
    domain: str | None = None,
    domain_options: dict[str, Any] | None = None,
) -> Dataset:
    """Prepare a corpus with the domain that claims it: music (embedded, nottingham, a MIDI/ABC
    folder), text (.txt, poems, or any source with a text tokenizer), oracle, or a plugin's.

    `fitted_tokenizer` (a checkpoint's) encodes the corpus with that vocabulary instead of fitting
    a new one, so held-out scores use the ids the model was trained with. `domain` (a checkpoint's)
    names the domain instead of asking which one claims the source. `domain_options` are the
    domain's own, by name (music: {"encoding": "beat"}); one it does not have is an error.
    """
    chosen = get_domain(domain) if domain is not None else domain_for(data, tokenizer)
    options = LoadOptions(tokenizer, seq_len, seed, progress, fitted_tokenizer, tokenizer_options,
                          dict(domain_options or {}))  # fmt: skip
    return chosen.load(str(data), options)
