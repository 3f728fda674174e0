"""The music domain: MIDI/ABC tunes <-> melody tokens, corpora, download and rendering.

The layout, one folder per encoding:

    io/          tune files <-> note lists (midi.py: pretty_midi/mido, abc.py: music21; no tokens)
    pitch.py     the 88 keys and key numbers, shared by every encoding
    encodings.py the encoding registry: one row per encoding, all the domain dispatches on
    paper/       the paper's encoding (a pitch every 0.4 s): tokens, tokenizer, compose, metrics
    beat/        the beat-grid encoding (sixteenths, note-on/hold/rest): the same four parts
    corpus.py    folders of tunes -> cached train/valid/test windows, in any registered encoding
    metrics.py, tune_metrics.py   pitch metrics on pitch frames, whole-tune metrics
    render.py    WAV previews and piano-roll PNGs
    domain.py    the `music` domain (core/domain.py's protocol) over all of the above

Heavy libraries are imported lazily here, so `import seqgan_music.music` is cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "EncodingConfig": "seqgan_music.music.paper.encoding",
    "VOCAB_SIZE": "seqgan_music.music.paper.encoding",
    "tokens_to_windows": "seqgan_music.music.paper.encoding",
    "windows_to_tokens": "seqgan_music.music.paper.encoding",
    "midi_to_tokens": "seqgan_music.music.paper.tunes",
    "tokens_to_midi": "seqgan_music.music.paper.tunes",
    "write_midi": "seqgan_music.music.paper.tunes",
    "read_primer": "seqgan_music.music.paper.tunes",
    "read_tune_tokens": "seqgan_music.music.paper.tunes",
    "write_wav": "seqgan_music.music.paper.tunes",
    "MidiPitchCodec": "seqgan_music.music.paper.tokenizer",
    "BeatEncodingConfig": "seqgan_music.music.beat.encoding",
    "MidiBeatCodec": "seqgan_music.music.beat.tokenizer",
    "Corpus": "seqgan_music.music.corpus",
    "prepare_corpus": "seqgan_music.music.corpus",
    "default_cache_dir": "seqgan_music.music.corpus",
    "download_nottingham": "seqgan_music.music.download",
    "NOTTINGHAM_URL": "seqgan_music.music.download",
    "NOTTINGHAM_SHA256": "seqgan_music.music.download",
    "write_piano_roll_png": "seqgan_music.music.render",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'seqgan_music.music' has no attribute {name!r}")
