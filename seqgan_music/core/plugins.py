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


def import_modules(modules: Iterable[str]) -> None:
    """Import each module (its import registers its built-ins)."""
    for module in list(modules):
        importlib.import_module(module)


def load_plugins(
    entries: Iterable[Any], known: dict[str, Any], register: Callable[[str, Any], None], kind: str
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
        register(ep.name, obj)
