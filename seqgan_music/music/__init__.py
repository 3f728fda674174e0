"""The music domain: MIDI/ABC tunes <-> 88-key melody tokens, corpora, download and rendering.

Heavy libraries stay behind one module each (pretty_midi/mido: midi_io, music21: abc_io) and are
imported lazily here, so `import seqgan_music.music` is cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "EncodingConfig": "seqgan_music.music.encoding",
    "VOCAB_SIZE": "seqgan_music.music.encoding",
    "tokens_to_windows": "seqgan_music.music.encoding",
    "windows_to_tokens": "seqgan_music.music.encoding",
    "midi_to_tokens": "seqgan_music.music.midi_io",
    "tokens_to_midi": "seqgan_music.music.midi_io",
    "write_midi": "seqgan_music.music.midi_io",
    "Corpus": "seqgan_music.music.corpus",
    "prepare_corpus": "seqgan_music.music.corpus",
    "read_primer": "seqgan_music.music.tunes",
    "read_tune_tokens": "seqgan_music.music.tunes",
    "default_cache_dir": "seqgan_music.music.corpus",
    "download_nottingham": "seqgan_music.music.download",
    "NOTTINGHAM_URL": "seqgan_music.music.download",
    "NOTTINGHAM_SHA256": "seqgan_music.music.download",
    "write_wav": "seqgan_music.music.render",
    "write_piano_roll_png": "seqgan_music.music.render",
    "MidiPitchCodec": "seqgan_music.music.codec",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'seqgan_music.music' has no attribute {name!r}")
