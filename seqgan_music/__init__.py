"""seqgan-music: SeqGAN (Yu et al., AAAI 2017) for folk-tune MIDI and text.

The public Python API (what the CLI calls) is importable from here; it is loaded lazily so that
`import seqgan_music` stays cheap and the core never pulls in a domain.
"""

from __future__ import annotations

import importlib
from typing import Any

from seqgan_music.core import domain as _domains
from seqgan_music.core import tokenizer as _tokenizers

__version__ = "0.1.0"

# The two extension points. Built-ins register on import of these modules (the core does not
# name domains itself); the first domain listed takes a source that no domain claims.
_domains.add_builtin_module("seqgan_music.music.domain")
_domains.add_builtin_module("seqgan_music.text.domain")
_domains.add_builtin_module("seqgan_music.oracle.domain")
_tokenizers.add_builtin_module("seqgan_music.text.tokenizers")
_tokenizers.add_builtin_module("seqgan_music.music.tokenizers")  # every built-in encoding's
_tokenizers.add_builtin_module("seqgan_music.oracle.domain")

_LAZY = {
    # api
    "train": "seqgan_music.api",
    "load_dataset": "seqgan_music.api",
    "load_checkpoint": "seqgan_music.api",
    "compose": "seqgan_music.api",
    "evaluate": "seqgan_music.api",
    "compare": "seqgan_music.api",
    "export_model": "seqgan_music.api",
    "run_oracle_experiment": "seqgan_music.api",
    # configs
    "SeqGANConfig": "seqgan_music.core.config",
    "GeneratorConfig": "seqgan_music.core.config",
    "DiscriminatorConfig": "seqgan_music.core.config",
    "TrainConfig": "seqgan_music.core.config",
    # tokenizer registry
    "register_tokenizer": "seqgan_music.core.tokenizer",
    "available_tokenizers": "seqgan_music.core.tokenizer",
    "get_tokenizer_class": "seqgan_music.core.tokenizer",
    # domain registry
    "register_domain": "seqgan_music.core.domain",
    "available_domains": "seqgan_music.core.domain",
    "get_domain": "seqgan_music.core.domain",
    "Dataset": "seqgan_music.core.domain",
    "DomainBase": "seqgan_music.core.domain",
    "SeqGANMusicError": "seqgan_music.errors",
    "configure_threads": "seqgan_music.core.runtime",
    "Runtime": "seqgan_music.core.runtime",
    "ConfigError": "seqgan_music.errors",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'seqgan_music' has no attribute {name!r}")
