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

from seqgan_music.core.config import SeqGANConfig
from seqgan_music.core.discriminator import Discriminator
from seqgan_music.core.files import atomic_write
from seqgan_music.core.generator import Generator
from seqgan_music.errors import CheckpointError, ConfigError, SeqGANMusicError

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


def _unreadable_message(path: Path, err: BaseException) -> str:
    """One sentence for a file torch.load refused: torch's own texts run to several lines ("Weights
    only load failed. In PyTorch 2.6, ...") or are a bare number ("101")."""
    text = str(err).strip()
    if "Unsupported global" in text:  # a pickled class: weights_only refused to build it
        return (
            f"{path} is not a seqgan-music checkpoint: it holds pickled objects other than "
            "tensors and plain values, refused unread since loading them could run code"
        )
    first = text.splitlines()[0] if text else ""
    detail = first if any(c.isalpha() for c in first) and len(first) <= 80 else ""
    reason = f"{type(err).__name__}: {detail}" if detail else type(err).__name__
    return f"{path} is not a seqgan-music checkpoint: torch cannot read it ({reason})"


def read_checkpoint(
    path: str | Path, *, map_location: Any = "cpu", expect_domain: str | None = None
) -> dict[str, Any]:
    """Read a checkpoint with `weights_only=True`; any problem is a one-line SeqGANMusicError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except _LOAD_ERRORS as err:
        raise CheckpointError(_unreadable_message(path, err)) from err
    if not isinstance(data, dict) or "format_version" not in data:
        raise CheckpointError(f"{path} is not a seqgan-music checkpoint (no format_version)")
    if data["format_version"] != FORMAT_VERSION:
        raise SeqGANMusicError(
            f"{path} has checkpoint format {data['format_version']}, this version reads "
            f"{FORMAT_VERSION}"
        )
    domain = data.get("domain")
    if expect_domain is not None and domain != expect_domain:
        raise CheckpointError(f"{path} is a {domain!r} checkpoint, expected {expect_domain!r}")
    return data


# ---- what a checkpoint's models must look like, checked before any model is allocated ----------

MAX_PARAMETERS = 1 << 31  # per model; the shipped model has 36 thousand, the paper's D 1.2 million


def checked_config(path: str | Path, payload: dict[str, Any]) -> SeqGANConfig:
    """The checkpoint's config, validated (sizes, types, known fields)."""
    try:
        return SeqGANConfig.from_dict(payload["config"])
    except (KeyError, TypeError, ConfigError) as err:
        raise CheckpointError(f"{path}: its config is not valid: {_first_line(err)}") from err


def check_models(
    path: str | Path, payload: dict[str, Any], parts: tuple[str, ...] = ("generator",)
) -> SeqGANConfig:
    """Check that each model part of the payload ("generator", "discriminator", "rollout") holds
    exactly the tensors the config implies, with finite values; return the config.

    The expected shapes come from models built on the meta device, which allocates nothing, so a
    config with absurd sizes is refused before any memory is asked for."""
    config = checked_config(path, payload)
    makers = {"generator": (Generator, config.generator), "rollout": (Generator, config.generator),
              "discriminator": (Discriminator, config.discriminator)}  # fmt: skip
    for part in parts:
        cls, part_config = makers[part]
        try:
            with torch.device("meta"):
                expected = cls(part_config).state_dict()
        except (ValueError, RuntimeError) as err:  # e.g. no discriminator window fits
            raise CheckpointError(f"{path}: its {part} config is not valid: {err}") from err
        count = sum(t.numel() for t in expected.values())
        if count > MAX_PARAMETERS:
            raise CheckpointError(
                f"{path}: its config asks for a {part} of {count:,} parameters (at most "
                f"{MAX_PARAMETERS:,}): not a checkpoint this package wrote"
            )
        _check_state(path, part, payload.get(part), expected)
    return config


def _check_state(path: str | Path, part: str, state: Any, expected: dict[str, Any]) -> None:
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} has no {part} weights")
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or extra:
        raise CheckpointError(
            f"{path}: the {part} weights do not match its config (missing {missing[:3]}, "
            f"unexpected {extra[:3]})"
        )
    for name, want in expected.items():
        have = state[name]
        if not isinstance(have, torch.Tensor) or have.shape != want.shape:
            shape = tuple(have.shape) if isinstance(have, torch.Tensor) else type(have).__name__
            raise CheckpointError(
                f"{path}: {part} weight {name} has shape {shape}, its config implies "
                f"{tuple(want.shape)}"
            )
        if have.is_floating_point() and not bool(torch.isfinite(have).all()):
            raise CheckpointError(f"{path}: {part} weight {name} holds NaN or infinite values")


def _first_line(err: BaseException) -> str:
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    return text.strip().splitlines()[0] if text.strip() else type(err).__name__
