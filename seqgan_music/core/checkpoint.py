"""Checkpoints: one dict of tensors and JSON-native values, written atomically, read weights-only.

Only tensors, dicts, lists, strings, numbers, bools and None go in, so
`torch.load(weights_only=True)` reads every checkpoint, and a file carrying arbitrary pickled
objects is refused instead of executed.
"""

from __future__ import annotations

import math
import pickle
import warnings
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
        with warnings.catch_warnings():
            # a bare pickle (not torch's zip format) makes torch warn about its protocol in two
            # lines before it fails: the one-line error below says all there is to say
            warnings.filterwarnings("ignore", "Detected pickle protocol", UserWarning)
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
    metadata = data.get("metadata")
    named = metadata.get("domain") if isinstance(metadata, dict) else None
    if domain is not None and isinstance(named, str) and domain != named:
        raise CheckpointError(f"{path} names two domains: {domain!r} and, in its metadata, "
                              f"{named!r}")  # fmt: skip
    if expect_domain is not None and domain != expect_domain:
        raise CheckpointError(f"{path} is a {domain!r} checkpoint, expected {expect_domain!r}")
    return data


# ---- what a checkpoint's models must look like, checked before any model is allocated ----------

# What one model of a checkpoint may take in float32, checked on the config before anything is
# built: the shipped model has 36 thousand parameters (144 KB), the paper's D 1.2 million (5 MB).
MAX_MODEL_BYTES = 10**9


def checked_config(path: str | Path, payload: dict[str, Any]) -> SeqGANConfig:
    """The checkpoint's config, validated (sizes, types, known fields)."""
    try:
        return SeqGANConfig.from_dict(payload["config"])
    except (KeyError, TypeError, ConfigError) as err:
        raise CheckpointError(f"{path}: its config is not valid: {_first_line(err)}") from err


def expected_state(path: str | Path, config: SeqGANConfig, part: str) -> dict[str, torch.Tensor]:
    """The state dict (on the meta device: nothing allocated) a model part of `config` has;
    a config whose part would take more than MAX_MODEL_BYTES is refused."""
    cls, part_config = {"generator": (Generator, config.generator),
                        "rollout": (Generator, config.generator),
                        "discriminator": (Discriminator, config.discriminator)}[part]  # fmt: skip
    try:
        with torch.device("meta"):
            expected = cls(part_config).state_dict()
    except (ValueError, RuntimeError) as err:  # e.g. no discriminator window fits
        raise CheckpointError(f"{path}: its {part} config is not valid: {err}") from err
    count = sum(t.numel() for t in expected.values())
    if count * 4 > MAX_MODEL_BYTES:
        raise CheckpointError(
            f"{path}: its config asks for a {part} of {count:,} parameters ({count * 4 / 1e9:,.1f}"
            f" GB; at most {MAX_MODEL_BYTES / 1e9:.1f} GB): not a checkpoint this package wrote"
        )
    return expected


def check_models(
    path: str | Path, payload: dict[str, Any], parts: tuple[str, ...] = ("generator",)
) -> SeqGANConfig:
    """Check that each model part of the payload ("generator", "discriminator", "rollout") holds
    exactly the tensors the config implies, with finite values; return the config.

    The expected shapes come from models built on the meta device, which allocates nothing, so a
    config with absurd sizes is refused before any memory is asked for."""
    config = checked_config(path, payload)
    for part in parts:
        check_state(path, part, payload.get(part), expected_state(path, config, part))
    return config


def check_state(path: str | Path, part: str, state: Any, expected: dict[str, Any]) -> None:
    """`state` holds exactly the tensors of `expected`: same names and shapes, real floating
    point, finite, and each stored in full (a zero-stride view of one value would pass the size
    check as a small file and then take the whole size once copied into a model)."""
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} has no {part} weights")
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or extra:
        raise CheckpointError(
            f"{path}: the {part} weights do not match its config (missing {missing[:3]}, "
            f"unexpected {extra[:3]})"
        )
    for name, want in expected.items():
        check_tensor(path, f"{part} weight {name}", state[name], tuple(want.shape))


def check_tensor(path: str | Path, what: str, have: Any, shape: tuple[int, ...]) -> None:
    """One stored weight: a tensor of `shape`, real floating point, stored in full, finite."""
    if not isinstance(have, torch.Tensor) or tuple(have.shape) != shape:
        got = tuple(have.shape) if isinstance(have, torch.Tensor) else type(have).__name__
        raise CheckpointError(f"{path}: {what} has shape {got}, its config implies {shape}")
    if not have.is_floating_point():  # complex, integer and bool weights are not ours
        raise CheckpointError(f"{path}: {what} is {str(have.dtype)[6:]}, not floating point")
    if have.untyped_storage().nbytes() < have.numel() * have.element_size():
        raise CheckpointError(
            f"{path}: {what} repeats a few stored values over {have.numel():,} elements (a "
            "zero-stride view): not a checkpoint this package wrote"
        )
    if not bool(torch.isfinite(have).all()):
        raise CheckpointError(f"{path}: {what} holds NaN or infinite values")


# ---- the resumable part: position, history, kept copies of G, optimiser states ----------------

OPTIMIZERS = {"g_mle_opt": "generator", "g_pg_opt": "generator", "d_opt": "discriminator"}


def check_training_state(path: str | Path, state: dict[str, Any], config: SeqGANConfig) -> None:
    """What `--resume` and `--init-from` restore besides the models, checked before use: a
    position the history reaches, a best-epoch copy of G that fits it, optimiser states that fit
    the models' parameters (finite, as the weights)."""
    history = state.get("history")
    if not isinstance(history, list) or not all(
        isinstance(h, dict) and isinstance(h.get("phase"), str) and _is_int(h.get("step"))
        and isinstance(h.get("metrics"), dict) for h in history
    ):  # fmt: skip
        raise CheckpointError(f"{path}: its training history is malformed")
    phase, step = state.get("phase"), state.get("step")
    unit = "adversarial" if phase == "done" else phase  # "done" counts the adversarial rounds
    done = sum(1 for h in history if h["phase"] == unit)
    if not _is_int(step) or not 0 <= step <= done:
        raise CheckpointError(
            f"{path}: its position ({phase} step {step!r}) is not one its history reaches "
            f"({done} {unit} units done)"
        )
    generator = expected_state(path, config, "generator")
    best = state.get("best_g")
    if best is not None:
        if (
            not isinstance(best, dict)
            or not _is_int(best.get("epoch"))
            or not _finite(best.get("valid_nll"))
        ):
            raise CheckpointError(f"{path}: its best_g record is malformed")
        check_state(path, "best_g", best.get("state"), generator)
    for key, part in OPTIMIZERS.items():
        with torch.device("meta"):
            model = (Generator(config.generator) if part == "generator"
                     else Discriminator(config.discriminator))  # fmt: skip
        check_optimizer_state(
            path, key, state.get(key), [tuple(p.shape) for p in model.parameters()]
        )


def check_optimizer_state(path: str | Path, key: str, state: Any, shapes: list[tuple]) -> None:
    """A torch optimiser's state_dict over parameters of `shapes`: each parameter in one group,
    each per-parameter tensor of its parameter's shape (or a scalar step count), finite."""
    groups = state.get("param_groups") if isinstance(state, dict) else None
    per_param = state.get("state") if isinstance(state, dict) else None
    if not isinstance(groups, list) or not isinstance(per_param, dict) or not all(
        isinstance(g, dict) and isinstance(g.get("params"), list) for g in groups
    ):  # fmt: skip
        raise CheckpointError(f"{path}: its {key} optimiser state is malformed")
    ids = sorted(i for g in groups for i in g["params"] if _is_int(i))
    if ids != list(range(len(shapes))) or not set(per_param) <= set(ids):
        raise CheckpointError(f"{path}: its {key} optimiser state does not fit its model")
    for index, values in per_param.items():
        if not isinstance(values, dict):
            raise CheckpointError(f"{path}: its {key} optimiser state is malformed")
        for name, value in values.items():
            what = f"{key} {name} of parameter {index}"
            if name == "step":
                number = value.item() if isinstance(value, torch.Tensor) and value.numel() == 1 \
                    else value  # fmt: skip
                if not _finite(number) or number < 0:
                    raise CheckpointError(f"{path}: {what} is {value!r}, not a count")
            elif isinstance(value, torch.Tensor):
                check_tensor(path, what, value, shapes[index])


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _first_line(err: BaseException) -> str:
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    return text.strip().splitlines()[0] if text.strip() else type(err).__name__
