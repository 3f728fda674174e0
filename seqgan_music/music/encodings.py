"""The music domain's encodings, by name: `paper` (SeqGAN's 0.4 s pitch samples, the default:
music/paper/) and `beat` (a sixteenth-note grid with note-on, hold and rest: music/beat/).

Each `MelodyEncoding` is one row saying everything the music domain does differently per encoding:
how a file becomes tokens, how a tune's tokens become training windows, how windows are augmented,
which registered tokenizer decodes them, how its tokens read as pitch frames, its own metrics, how
it composes. The corpus code, the domain and the API look an encoding up here instead of comparing
names or probing the tokenizer. Each encoding's package registers its row on import (a new one: a
package beside music/paper/ (its tokenizer in `tokenizer.py`) and a line in `BUILTIN_MODULES`,
or a plugin's entry point in the
group `seqgan_music.encodings` whose value is its `MelodyEncoding`). Parsing functions take (path,
config) and are module-level, so corpus workers (spawned processes) can call them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from seqgan_music.core.plugins import Registry
from seqgan_music.errors import SeqGANMusicError

DEFAULT_ENCODING = "paper"
BUILTIN_MODULES = ("seqgan_music.music.paper", "seqgan_music.music.beat")
ENTRY_POINT_GROUP = "seqgan_music.encodings"


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
    # (tokenizer, windows (N, T)) -> the sounding key number per step (music/pitch.py), (N, T)
    pitch_frames: Callable[[Any, np.ndarray], np.ndarray]
    # (samples, references, tokenizer) -> the encoding's own metrics beside the pitch metrics
    own_scores: Callable[[np.ndarray, np.ndarray, Any], dict[str, Any]]
    # (model, out paths, core.domain.ComposeOptions, music.options.MusicOptions) -> per tune:
    # tokens, path, seconds, lowest, highest (MIDI pitches), extras (files written beside it)
    compose: Callable[[Any, list[Path], Any, Any], list[dict[str, Any]]]
    bar_steps: Callable[[Any], int]  # tokenizer -> steps in one bar of its grid
    # (tune file, tokenizer, bars) -> the file's first `bars` bars as pitch frames (None: shorter)
    opening: Callable[[Path, Any, int], np.ndarray | None]


ENCODINGS = Registry("encoding", ENTRY_POINT_GROUP, names_classes=False)
for _module in BUILTIN_MODULES:
    ENCODINGS.add_builtin_module(_module)


def register_encoding(encoding: MelodyEncoding) -> MelodyEncoding:
    """Add an encoding under its name (a different one under a taken name is refused)."""
    return ENCODINGS.register(encoding.name, encoding)


def available_encodings() -> list[str]:
    return ENCODINGS.names()


def get_encoding(name: str) -> MelodyEncoding:
    """The encoding called `name`; the error lists the choices."""
    if name not in ENCODINGS.load():
        raise SeqGANMusicError(
            f"unknown encoding {name!r}; choose one of: {', '.join(available_encodings())}"
        )
    return ENCODINGS.entries[name]


def encoding_of(config: Any) -> MelodyEncoding:
    """The encoding whose config class `config` is an instance of."""
    for enc in ENCODINGS.load().values():
        if isinstance(config, enc.config_class):
            return enc
    raise SeqGANMusicError(f"no registered encoding takes a {type(config).__name__}")


def encoding_for_tokenizer(tokenizer: str) -> MelodyEncoding | None:
    """The encoding a tokenizer name belongs to (None: not a music tokenizer)."""
    return next((e for e in ENCODINGS.load().values() if e.tokenizer == tokenizer), None)


def encoding_of_tokenizer(tokenizer: Any) -> MelodyEncoding:
    """The encoding of a music model's tokenizer (by its registered name)."""
    found = encoding_for_tokenizer(getattr(tokenizer, "name", ""))
    if found is None:
        raise SeqGANMusicError(f"{type(tokenizer).__name__} is not a music encoding's tokenizer")
    return found


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
