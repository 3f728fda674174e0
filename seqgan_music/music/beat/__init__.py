"""The beat-grid encoding (`--encoding beat`): a sixteenth-note grid with note-on, hold and rest.

encoding.py: notes <-> tokens <-> windows (numpy); tunes.py: files <-> tokens through music/io;
tokenizer.py: the `midi-beat` tokenizer; compose.py: whole tunes of N bars; metrics.py: rhythm
metrics and what it gives the music metrics. Importing this package registers the encoding
(music/encodings.py); the heavy modules are imported only when a step needs them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seqgan_music.music.beat import metrics
from seqgan_music.music.beat.encoding import BeatEncodingConfig, transpose_beat_windows
from seqgan_music.music.encodings import MelodyEncoding, register_encoding
from seqgan_music.music.io.files import guarded_parse

COUNTED = ("moved_notes", "zero_length_notes", "off_grid_notes", "lengthened_notes",
           "dropped_notes", "shortened_notes", "notes")  # fmt: skip


def _parse(path: Path, config: BeatEncodingConfig) -> list[tuple[str, Any, dict]]:
    from seqgan_music.music.beat.tunes import read_beat_tunes

    return guarded_parse(path, lambda: read_beat_tunes(path, config))


def _windows(tokens: np.ndarray, info: dict, config: BeatEncodingConfig) -> tuple[np.ndarray, dict]:
    from seqgan_music.music.beat.tunes import tune_windows

    return tune_windows(tokens, info, config)


def _config(seq_len: int | None) -> BeatEncodingConfig:
    return BeatEncodingConfig(seq_len=seq_len) if seq_len else BeatEncodingConfig()


def _codec(config: BeatEncodingConfig, manifest: dict[str, Any]) -> Any:
    from seqgan_music.music.beat.tokenizer import MidiBeatCodec
    from seqgan_music.music.beat.tunes import corpus_rendering

    return MidiBeatCodec.from_encoding(config, **corpus_rendering(manifest.get("used", [])))


def _compose(model: Any, paths: list[Path], options: Any, music: Any) -> list[dict[str, Any]]:
    from seqgan_music.music.beat.compose import compose_beat

    return compose_beat(model, paths, options, music)


BEAT = register_encoding(
    MelodyEncoding(
        "beat", BeatEncodingConfig, "midi-beat", _parse, _windows, transpose_beat_windows,
        COUNTED, _config, _codec, metrics.pitch_frames, metrics.own_scores, _compose,
        metrics.bar_steps, metrics.opening,
    )
)  # fmt: skip
