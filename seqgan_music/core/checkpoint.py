"""Checkpoints: one dict of tensors and JSON-native values, written atomically, read weights-only.

Only tensors, dicts, lists, strings, numbers, bools and None go in, so
`torch.load(weights_only=True)` reads every checkpoint, and a file carrying arbitrary pickled
objects is refused instead of executed.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch

from seqgan_music.core.files import atomic_write
from seqgan_music.errors import SeqGANMusicError

FORMAT_VERSION: int = 1


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Write `payload` (plus "format_version") to `path` atomically.

    A unique temp file in the same directory is written, fsynced and renamed over `path`
    (`files.atomic_write`: the user's umask, removed on failure), so a crash, a full disk or
    Ctrl-C mid-save leaves the previous checkpoint intact.
    """
    data = {**payload, "format_version": FORMAT_VERSION}
    atomic_write(path, lambda fh: torch.save(data, fh))


# What torch.load raises on a file that is not a (weights-only) torch checkpoint.
_LOAD_ERRORS = (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, AttributeError,
                ImportError, IndexError, TypeError, KeyError)  # fmt: skip


def load_checkpoint(
    path: str | Path, *, map_location: Any = "cpu", expect_domain: str | None = None
) -> dict[str, Any]:
    """Read a checkpoint with `weights_only=True`; any problem is a one-line SeqGANMusicError."""
    path = Path(path)
    if not path.is_file():
        raise SeqGANMusicError(f"checkpoint not found: {path}")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except _LOAD_ERRORS as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise SeqGANMusicError(
            f"{path} is not a seqgan-music checkpoint (or holds unsafe pickled objects): {first}"
        ) from err
    if not isinstance(data, dict) or "format_version" not in data:
        raise SeqGANMusicError(f"{path} is not a seqgan-music checkpoint (no format_version)")
    if data["format_version"] != FORMAT_VERSION:
        raise SeqGANMusicError(
            f"{path} has checkpoint format {data['format_version']}, this version reads "
            f"{FORMAT_VERSION}"
        )
    domain = data.get("domain")
    if expect_domain is not None and domain != expect_domain:
        raise SeqGANMusicError(f"{path} is a {domain!r} checkpoint, expected {expect_domain!r}")
    return data
