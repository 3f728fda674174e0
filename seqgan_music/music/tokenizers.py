"""Importing this registers the tokenizer of every built-in music encoding: each package named in
`encodings.BUILTIN_MODULES` keeps its tokenizer in `tokenizer.py`, so a new built-in encoding is
one line there (the package root names this module to the tokenizer registry)."""

from importlib import import_module

from seqgan_music.music.encodings import BUILTIN_MODULES

for _package in BUILTIN_MODULES:
    import_module(f"{_package}.tokenizer")
