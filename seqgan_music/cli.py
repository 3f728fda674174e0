"""The `seqgan-music` command: a thin click layer over `seqgan_music.api`."""

from __future__ import annotations

import click

from seqgan_music import __version__


@click.group()
@click.version_option(__version__, prog_name="seqgan-music")
def cli() -> None:
    """Train SeqGAN on folk-tune MIDI or text, compose tunes, evaluate models."""


def main() -> None:
    cli()
