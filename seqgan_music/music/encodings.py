"""The music domain's encodings, by name: `paper` (SeqGAN's 0.4 s pitch samples, the default) and
`beat` (a sixteenth-note grid with note-on, hold and rest: music/beat.py).

Each `MelodyEncoding` says how a file becomes tokens, how a tune's tokens become training windows,
how windows are augmented, and which registered tokenizer decodes them; the corpus code and the API
look an encoding up here instead of comparing names. Parsing functions take (path, config) and are
module-level, so corpus workers (spawned processes) can call them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.beat import BeatEncodingConfig, transpose_beat_windows
from seqgan_music.music.encoding import EncodingConfig, tokens_to_windows, transpose_windows

DEFAULT_ENCODING = "paper"


@dataclass(frozen=True)
class MelodyEncoding:
    name: str
    config_class: type
    tokenizer: str  # the registered tokenizer (core/tokenizer.py) that decodes these tokens
    parse: Callable[[Path, Any], list[tuple[str, Any, dict]]]
    windows: Callable[[np.ndarray, dict, Any], tuple[np.ndarray, dict[str, int]]]
    augment: Callable[[np.ndarray, int, int], np.ndarray]
    counted: tuple[str, ...]  # per-tune info counts summed into the manifest
    make_config: Callable[[int | None], Any]  # seq_len (None: the default) -> config
    make_codec: Callable[[Any, dict[str, Any]], Any]  # (config, corpus manifest) -> tokenizer


_ENCODINGS: dict[str, MelodyEncoding] = {}


def register_encoding(encoding: MelodyEncoding) -> MelodyEncoding:
    """Add an encoding (a duplicate name is refused)."""
    if encoding.name in _ENCODINGS and _ENCODINGS[encoding.name] != encoding:
        raise ValueError(f"encoding {encoding.name!r} is already registered")
    _ENCODINGS[encoding.name] = encoding
    return encoding


def available_encodings() -> list[str]:
    return sorted(_ENCODINGS)


def get_encoding(name: str) -> MelodyEncoding:
    """The encoding called `name`; the error lists the choices."""
    if name not in _ENCODINGS:
        raise SeqGANMusicError(
            f"unknown encoding {name!r}; choose one of: {', '.join(available_encodings())}"
        )
    return _ENCODINGS[name]


def encoding_of(config: Any) -> MelodyEncoding:
    """The encoding whose config class `config` is an instance of."""
    for enc in _ENCODINGS.values():
        if isinstance(config, enc.config_class):
            return enc
    raise SeqGANMusicError(f"no registered encoding takes a {type(config).__name__}")


def encoding_for_tokenizer(tokenizer: str) -> MelodyEncoding | None:
    """The encoding a tokenizer name belongs to (None: not a music tokenizer)."""
    return next((e for e in _ENCODINGS.values() if e.tokenizer == tokenizer), None)


def music_encoding(name: str | None, tokenizer: str | None = None) -> MelodyEncoding:
    """The encoding asked for by name, else the one of a music tokenizer, else the default; a
    name and a tokenizer that disagree are an error."""
    by_tokenizer = encoding_for_tokenizer(tokenizer) if tokenizer else None
    if name and tokenizer and by_tokenizer is None:
        raise SeqGANMusicError(
            f"--encoding {name} is for music; {tokenizer!r} is not a music tokenizer"
        )
    chosen = get_encoding(name) if name else by_tokenizer or get_encoding(DEFAULT_ENCODING)
    if by_tokenizer is not None and by_tokenizer is not chosen:
        raise SeqGANMusicError(
            f"--encoding {name} does not use tokenizer {tokenizer!r} ({by_tokenizer.name} does)"
        )
    return chosen


def encoding_config(name: str | None, seq_len: int | None = None, **options: Any) -> Any:
    """The config of encoding `name` (None: the default) with the options its config has;
    options that are None keep their defaults, options of another encoding are refused."""
    scheme = get_encoding(name or DEFAULT_ENCODING)
    config = scheme.make_config(seq_len)
    given = {k: v for k, v in options.items() if v is not None}
    known = {f.name for f in fields(config)}
    if unknown := sorted(set(given) - known):
        flags = ", ".join("--" + k.replace("_", "-") for k in unknown)
        raise SeqGANMusicError(f"{flags} is not an option of the {scheme.name} encoding")
    return replace(config, **given)


def config_from_dict(d: dict[str, Any], name: str = DEFAULT_ENCODING) -> Any:
    """A config of encoding `name` from its `to_dict()`."""
    return get_encoding(name).config_class.from_dict(d)


# ---- the two built-in encodings -----------------------------------------------------------------


def _parse_paper(path: Path, config: EncodingConfig) -> list[tuple[str, Any, dict]]:
    from seqgan_music.music.tunes import parse_file

    return parse_file(path, config.step_seconds, config.track)


def _windows_paper(
    tokens: np.ndarray, info: dict, config: EncodingConfig
) -> tuple[np.ndarray, dict]:
    return tokens_to_windows(tokens, config.seq_len, config.stride), {}


def _parse_beat(path: Path, config: BeatEncodingConfig) -> list[tuple[str, Any, dict]]:
    from seqgan_music.music.beat_io import read_beat_tunes
    from seqgan_music.music.tunes import guarded_parse

    return guarded_parse(path, lambda: read_beat_tunes(path, config))


def _windows_beat(
    tokens: np.ndarray, info: dict, config: BeatEncodingConfig
) -> tuple[np.ndarray, dict]:
    from seqgan_music.music.beat_io import tune_windows

    return tune_windows(tokens, info, config)


def _config_paper(seq_len: int | None) -> EncodingConfig:
    seq_len = seq_len or EncodingConfig().seq_len
    return EncodingConfig(seq_len=seq_len, stride=seq_len)  # non-overlapping windows


def _codec_paper(config: EncodingConfig, manifest: dict[str, Any]) -> Any:
    from seqgan_music.music.codec import MidiPitchCodec

    return MidiPitchCodec.from_encoding(config)


def _config_beat(seq_len: int | None) -> BeatEncodingConfig:
    return BeatEncodingConfig(seq_len=seq_len) if seq_len else BeatEncodingConfig()


def _codec_beat(config: BeatEncodingConfig, manifest: dict[str, Any]) -> Any:
    from seqgan_music.music.beat_codec import MidiBeatCodec
    from seqgan_music.music.beat_io import corpus_rendering

    return MidiBeatCodec.from_encoding(config, **corpus_rendering(manifest.get("used", [])))


register_encoding(
    MelodyEncoding(
        "paper", EncodingConfig, "midi-pitch", _parse_paper, _windows_paper, transpose_windows,
        ("moved_notes",), _config_paper, _codec_paper,
    )
)  # fmt: skip
register_encoding(
    MelodyEncoding(
        "beat", BeatEncodingConfig, "midi-beat", _parse_beat, _windows_beat,
        transpose_beat_windows,
        ("moved_notes", "zero_length_notes", "off_grid_notes", "lengthened_notes", "dropped_notes",
         "shortened_notes",
         "notes"), _config_beat, _codec_beat,
    )
)  # fmt: skip
