"""What the two registries (tokenizers, domains) share: built-in modules and entry-point plugins.

A registry is a plain dict filled by a `register_...(name)` decorator; built-ins register on import
of the modules the package root names (`add_builtin_module`), third parties through an entry-point
group, discovered with `importlib.metadata.entry_points` (no directory scanning).
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from seqgan_music.errors import ConfigError


def import_modules(modules: Iterable[str]) -> None:
    """Import each module (its import registers its built-ins)."""
    for module in list(modules):
        importlib.import_module(module)


def register_into(registry: dict[str, type], name: str, cls: type, kind: str) -> type:
    """Put `cls` into `registry` as `name` (a second class under one name is refused)."""
    if name in registry and registry[name] is not cls:
        raise ConfigError(f"{kind} {name!r} is already registered by {registry[name]!r}")
    cls.name = name  # type: ignore[attr-defined]
    registry[name] = cls
    return cls


def load_plugins(
    entries: Iterable[Any],
    known: dict[str, Any],
    register: Callable[[str], Callable[[type], type]],
    kind: str,
) -> None:
    """Load and register each entry point not already in `known`; a broken plugin is a warning,
    so it cannot break every other entry."""
    for ep in entries:
        if ep.name in known:
            continue
        try:
            obj = ep.load()
        except Exception as err:  # any error of third-party code: skip that plugin alone
            warnings.warn(f"{kind} plugin {ep.name!r} failed to load: {err}", stacklevel=3)
            continue
        register(ep.name)(obj)
