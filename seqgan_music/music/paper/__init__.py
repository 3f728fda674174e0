"""The paper's encoding (`--encoding paper`, the default): a pitch every 0.4 s, tokens 0..88.

encoding.py: notes <-> tokens <-> windows (numpy); tunes.py: files <-> tokens through music/io;
tokenizer.py: the `midi-pitch` tokenizer; compose.py: composing; metrics.py: what it gives the
music metrics. Importing this package registers the encoding (music/encodings.py); the heavy
modules are imported only when a step needs them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seqgan_music.music.encodings import MelodyEncoding, register_encoding
from seqgan_music.music.paper import metrics
from seqgan_music.music.paper.encoding import EncodingConfig, tokens_to_windows, transpose_windows


def _parse(path: Path, config: EncodingConfig) -> list[tuple[str, Any, dict]]:
    from seqgan_music.music.paper.tunes import parse_file

    return parse_file(path, config.step_seconds, config.track)


def _windows(tokens: np.ndarray, info: dict, config: EncodingConfig) -> tuple[np.ndarray, dict]:
    return tokens_to_windows(tokens, config.seq_len, config.stride), {}


def _config(seq_len: int | None) -> EncodingConfig:
    seq_len = seq_len or EncodingConfig().seq_len
    return EncodingConfig(seq_len=seq_len, stride=seq_len)  # non-overlapping windows


def _codec(config: EncodingConfig, manifest: dict[str, Any]) -> Any:
    from seqgan_music.music.paper.tokenizer import MidiPitchCodec

    return MidiPitchCodec.from_encoding(config)


def _compose(model: Any, paths: list[Path], options: Any, music: Any) -> list[dict[str, Any]]:
    from seqgan_music.music.paper.compose import compose_paper

    return compose_paper(model, paths, options, music)


PAPER = register_encoding(
    MelodyEncoding(
        "paper", EncodingConfig, "midi-pitch", _parse, _windows, transpose_windows,
        ("moved_notes",), _config, _codec, metrics.pitch_frames, metrics.own_scores, _compose,
        metrics.bar_steps, metrics.opening,
    )
)  # fmt: skip
