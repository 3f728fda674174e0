"""seqgan-music: SeqGAN (Yu et al., AAAI 2017) for folk-tune MIDI and text.

The public Python API (what the CLI calls) is importable from here; it is loaded lazily so that
`import seqgan_music` stays cheap and the core never pulls in a domain.
"""

from __future__ import annotations

import importlib
from typing import Any

from seqgan_music.core.tokenizer import add_builtin_module

__version__ = "0.1.0"

# Built-in tokenizers register on import of these modules (the core does not name domains itself).
add_builtin_module("seqgan_music.text.tokenizers")
add_builtin_module("seqgan_music.music.codec")
add_builtin_module("seqgan_music.music.beat_codec")

_LAZY = {
    # api
    "train": "seqgan_music.api",
    "load_dataset": "seqgan_music.api",
    "load_checkpoint": "seqgan_music.api",
    "compose": "seqgan_music.composition",
    "evaluate": "seqgan_music.evaluation",
    "compare": "seqgan_music.evaluation",
    # configs
    "SeqGANConfig": "seqgan_music.core.config",
    "GeneratorConfig": "seqgan_music.core.config",
    "DiscriminatorConfig": "seqgan_music.core.config",
    "TrainConfig": "seqgan_music.core.config",
    # tokenizer registry
    "register_tokenizer": "seqgan_music.core.tokenizer",
    "available_tokenizers": "seqgan_music.core.tokenizer",
    "get_tokenizer_class": "seqgan_music.core.tokenizer",
    "SeqGANMusicError": "seqgan_music.errors",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'seqgan_music' has no attribute {name!r}")
