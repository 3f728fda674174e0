"""Settings files: a TOML file (`preset`, `seed`, `data`, `tokenizer`, `seq_len`, `[train]`)
merged with explicit arguments, for `train` and `compare` alike (the CLI's `--config`).

    preset = "default"
    seed = 1
    [train]
    adv_rounds = 50

Explicit arguments win over the file, the file over the defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seqgan_music.errors import ConfigError

DEFAULTS: dict[str, Any] = {"data": "embedded", "preset": "default", "seed": 0}
TOP_LEVEL = ("data", "preset", "seed", "split_seed", "tokenizer", "seq_len")


def read_config_file(path: str | Path | None) -> dict[str, Any]:
    """The TOML file as a dict ({} for None); unreadable TOML is a one-line ConfigError."""
    if path is None:
        return {}
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        return tomllib.loads(Path(path).read_text())
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from err


def merge_settings(
    config_file: str | Path | None = None, *, overrides: dict[str, Any] | None = None, **given: Any
) -> dict[str, Any]:
    """Keyword arguments for `train`/`compare`: `given` (data, preset, seed, tokenizer, seq_len;
    None = not given) over the file's top-level values over DEFAULTS, and `overrides` over the
    file's [train] table as "overrides"."""
    unknown = set(given) - set(TOP_LEVEL)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    file_conf = read_config_file(config_file)
    out = {name: file_conf.get(name, DEFAULTS.get(name)) for name in TOP_LEVEL}
    out.update({k: v for k, v in given.items() if v is not None})
    out["overrides"] = {**file_conf.get("train", {}), **(overrides or {})}
    return out
