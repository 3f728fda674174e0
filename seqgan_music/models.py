"""Trained models out of checkpoints: a generator with its tokenizer, ready to sample, and the
slim sampling-only copy `export` writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seqgan_music.core.checkpoint import check_models, read_checkpoint, save_checkpoint
from seqgan_music.core.config import SeqGANConfig
from seqgan_music.core.domain import UnknownDomainError, get_domain
from seqgan_music.core.model import Model
from seqgan_music.core.runtime import Runtime, runtime_or_default
from seqgan_music.core.tokenizer import Tokenizer, TokenizerStateError, tokenizer_from_dict
from seqgan_music.core.trainer import checkpoint_generator
from seqgan_music.errors import CheckpointError, SeqGANMusicError
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
    config, tokenizer = check_sampling_parts(ckpt, payload)  # before any weights are allocated
    generator = checkpoint_generator(payload, device=torch_device)
    generator.eval()
    return Model(
        generator=generator,
        tokenizer=tokenizer,
        config=config,
        metadata=payload["metadata"],
        path=ckpt,
        # the runtime's --compile, else the run's setting ("auto" compiles only long samplings)
        compile=runtime.compile or config.train.compile,
    )


def check_sampling_parts(path: Path, payload: dict[str, Any]) -> tuple[SeqGANConfig, Tokenizer]:
    """What sampling reads from a checkpoint, checked before any weights are allocated: a
    registered domain, a tokenizer that rebuilds with as many ids as G has outputs, and G's
    weights (check_models). Returns the config and the tokenizer."""
    metadata = payload.get("metadata", {})
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("tokenizer"), dict)
        or (not isinstance(metadata.get("domain"), str))
    ):
        raise CheckpointError(
            f"{path}: not a seqgan-music training checkpoint (no tokenizer or domain)"
        )
    try:
        domain = get_domain(metadata["domain"])
    except UnknownDomainError as err:
        raise CheckpointError(f"{path}: {err}") from err
    config = check_models(path, payload, ("generator",))
    try:
        domain.check_metadata(metadata, config.generator.conditions)
    except SeqGANMusicError as err:
        raise CheckpointError(f"{path}: {err}") from err
    return config, _tokenizer(path, metadata["tokenizer"], config.generator.vocab_size)


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


def export_model(
    checkpoint: str | Path, out: str | Path, *, notes: dict[str, Any] | None = None,
    compose: dict[str, Any] | None = None,
) -> Path:  # fmt: skip
    """Write a sampling-only checkpoint: config, generator weights and metadata, no optimiser or
    discriminator state (the shipped model is made this way: a few hundred KB instead of MBs).

    `notes` (JSON-native: the command, seed, wall time) are recorded under metadata["training"];
    `compose` ({"temperature", "why"}) under metadata["compose"]: compose's default.
    """
    path = find_checkpoint(checkpoint)
    payload = read_checkpoint(path)
    # what compose will read from the copy (domain, tokenizer, G), then the other models: a
    # model that cannot be sampled, or a broken one, is never exported
    check_sampling_parts(path, payload)
    check_models(path, payload, tuple(p for p in ("discriminator", "rollout") if p in payload))
    metadata = dict(payload["metadata"])
    if notes:
        metadata["training"] = notes
    if compose:  # compose's default temperature and why (Model.compose_default)
        metadata["compose"] = compose
    slim = {
        "config": payload["config"],
        "generator": payload["generator"],
        "metadata": metadata,
        "domain": payload.get("domain"),
        "phase": payload.get("phase"),
        "step": payload.get("step"),
        "history": payload.get("history", []),
    }
    save_checkpoint(out, slim)
    return Path(out)
