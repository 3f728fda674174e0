"""Trained models out of checkpoints: a generator with its tokenizer, ready to sample."""

from __future__ import annotations

from pathlib import Path

from seqgan_music.core.checkpoint import check_models, read_checkpoint
from seqgan_music.core.domain import UnknownDomainError, get_domain
from seqgan_music.core.model import Model
from seqgan_music.core.runtime import Runtime, runtime_or_default
from seqgan_music.core.tokenizer import Tokenizer, TokenizerStateError, tokenizer_from_dict
from seqgan_music.core.trainer import checkpoint_generator
from seqgan_music.errors import CheckpointError
from seqgan_music.runs import find_checkpoint


def load_checkpoint(
    path: str | Path | None = None, *, runtime: Runtime | None = None, domain: str | None = None
) -> Model:
    """Load a generator and its tokenizer from a checkpoint (weights_only; see find_checkpoint)
    onto the runtime's device."""
    ckpt = find_checkpoint(path)
    runtime = runtime_or_default(runtime)
    torch_device = runtime.device
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
    try:
        get_domain(metadata["domain"])
    except UnknownDomainError as err:
        raise CheckpointError(f"{ckpt}: {err}") from err
    config = check_models(ckpt, payload, ("generator",))  # before any weights are allocated
    tokenizer = _tokenizer(ckpt, metadata["tokenizer"], config.generator.vocab_size)
    generator = checkpoint_generator(payload, device=torch_device)
    generator.eval()
    return Model(
        generator=generator,
        tokenizer=tokenizer,
        config=config,
        metadata=metadata,
        path=ckpt,
        # the runtime's --compile, else the run's setting ("auto" compiles only long samplings)
        compile=runtime.compile or config.train.compile,
    )


def _tokenizer(path: Path, state: object, vocab_size: int) -> Tokenizer:
    """The checkpoint's tokenizer, with as many ids as its generator has outputs."""
    try:
        tokenizer = tokenizer_from_dict(state)  # type: ignore[arg-type]
    except TokenizerStateError as err:
        raise CheckpointError(f"{path}: {err}") from err
    if tokenizer.vocab_size != vocab_size:
        raise CheckpointError(f"{path}: its tokenizer has {tokenizer.vocab_size} ids, its "
                              f"generator {vocab_size}")  # fmt: skip
    return tokenizer
