"""Trained models out of checkpoints: a generator with its tokenizer, ready to sample."""

from __future__ import annotations

from pathlib import Path

from seqgan_music.core.checkpoint import read_checkpoint
from seqgan_music.core.config import SeqGANConfig
from seqgan_music.core.devices import resolve_device
from seqgan_music.core.model import Model
from seqgan_music.core.tokenizer import tokenizer_from_dict
from seqgan_music.core.trainer import checkpoint_generator
from seqgan_music.errors import CheckpointError
from seqgan_music.runs import find_checkpoint


def load_checkpoint(
    path: str | Path | None = None, *, device: str = "auto", domain: str | None = None
) -> Model:
    """Load a generator and its tokenizer from a checkpoint (weights_only; see find_checkpoint)."""
    ckpt = find_checkpoint(path)
    torch_device = resolve_device(device)
    payload = read_checkpoint(ckpt, expect_domain=domain)
    metadata = payload.get("metadata", {})
    if "tokenizer" not in metadata or "domain" not in metadata:
        raise CheckpointError(f"{ckpt}: not a seqgan-music training checkpoint (no tokenizer)")
    generator = checkpoint_generator(payload, device=torch_device)
    generator.eval()
    return Model(
        generator=generator,
        tokenizer=tokenizer_from_dict(metadata["tokenizer"]),
        config=SeqGANConfig.from_dict(payload["config"]),
        metadata=metadata,
        path=ckpt,
    )
