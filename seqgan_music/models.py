"""Trained models out of checkpoints: a generator with its tokenizer, ready to sample."""

from __future__ import annotations

from pathlib import Path

from seqgan_music.core.checkpoint import check_models, read_checkpoint
from seqgan_music.core.model import Model
from seqgan_music.core.runtime import Runtime, runtime_or_default
from seqgan_music.core.tokenizer import Tokenizer, tokenizer_from_dict
from seqgan_music.core.trainer import checkpoint_generator
from seqgan_music.errors import CheckpointError, SeqGANMusicError
from seqgan_music.runs import find_checkpoint


def load_checkpoint(
    path: str | Path | None = None, *, runtime: Runtime | None = None, domain: str | None = None
) -> Model:
    """Load a generator and its tokenizer from a checkpoint (weights_only; see find_checkpoint)
    onto the runtime's device."""
    ckpt = find_checkpoint(path)
    torch_device = runtime_or_default(runtime).device
    payload = read_checkpoint(ckpt, expect_domain=domain)
    metadata = payload.get("metadata", {})
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("tokenizer"), dict)
        or (not isinstance(metadata.get("domain"), str))
    ):
        raise CheckpointError(
            f"{ckpt}: not a seqgan-music training checkpoint (no tokenizer or domain)"
        )
    config = check_models(ckpt, payload, ("generator",))  # before any weights are allocated
    tokenizer = _tokenizer(ckpt, metadata["tokenizer"])
    generator = checkpoint_generator(payload, device=torch_device)
    generator.eval()
    return Model(
        generator=generator,
        tokenizer=tokenizer,
        config=config,
        metadata=metadata,
        path=ckpt,
    )


def _tokenizer(path: Path, state: object) -> Tokenizer:
    """The checkpoint's tokenizer; an unknown name says which are known, a broken state says so."""
    try:
        return tokenizer_from_dict(state)  # type: ignore[arg-type]
    except SeqGANMusicError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise CheckpointError(f"{path}: its tokenizer cannot be rebuilt ({err!r})") from err
