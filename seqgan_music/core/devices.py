"""Which torch device a run uses: `auto` picks CUDA when present."""

from __future__ import annotations

import torch

from seqgan_music.errors import ConfigError


def resolve_device(device: str = "auto") -> torch.device:
    """`auto` picks CUDA when present; asking for CUDA on a machine without it is a clear error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for, but this machine has no CUDA device")
    try:
        return torch.device(device)
    except RuntimeError as err:
        raise ConfigError(f"unknown device {device!r}; use auto, cpu or cuda") from err
