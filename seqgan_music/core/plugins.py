"""The one shape every registry has (domains, tokenizers, the music domain's encodings).

A `Registry` is a plain dict filled three ways: `register(name, obj)` (a second object under one
name is refused), the built-in modules the package root names (`add_builtin_module`: importing
one registers its entries) and, once, the installed packages' entry points of its group,
discovered with `importlib.metadata.entry_points` (no directory scanning): a reader sees what is
registered. A plugin that fails to load is a warning naming it, so it cannot break the others.
"""

from __future__ import annotations

import importlib
import warnings
from importlib.metadata import entry_points
from typing import Any

from seqgan_music.errors import ConfigError


class Registry:
    """Named entries of one kind (`kind` names it in messages; `group` is its entry-point group).

    `names_classes`: a registered class gets its name as the class attribute `name` (tokenizers
    and domains: checkpoints store that name and rebuild the class from it)."""

    def __init__(self, kind: str, group: str, *, names_classes: bool = True) -> None:
        self.kind, self.group, self.names_classes = kind, group, names_classes
        self.entries: dict[str, Any] = {}
        self.builtin_modules: list[str] = []
        self.plugins_loaded = False

    def register(self, name: str, obj: Any) -> Any:
        """Put `obj` in as `name` (a different object under a taken name is refused)."""
        if name in self.entries and self.entries[name] != obj:
            raise ConfigError(
                f"{self.kind} {name!r} is already registered by {self.entries[name]!r}"
            )
        if self.names_classes:
            obj.name = name
        self.entries[name] = obj
        return obj

    def add_builtin_module(self, module: str) -> None:
        """Name a module whose import registers built-ins (the core never imports a domain by
        name: the package root, or a domain for its own registries, says where they live)."""
        if module not in self.builtin_modules:
            self.builtin_modules.append(module)

    def load(self) -> dict[str, Any]:
        """Every entry: the built-ins imported, the entry-point plugins loaded (once)."""
        for module in list(self.builtin_modules):
            importlib.import_module(module)
        if not self.plugins_loaded:
            self.plugins_loaded = True
            for ep in entry_points(group=self.group):
                if ep.name in self.entries:
                    continue
                try:
                    obj = ep.load()
                except Exception as err:  # any error of third-party code: skip that plugin alone
                    warnings.warn(f"{self.kind} plugin {ep.name!r} failed to load: {err}",
                                  stacklevel=3)  # fmt: skip
                    continue
                self.register(ep.name, obj)
        return self.entries

    def names(self) -> list[str]:
        return sorted(self.load())
