"""The domain protocol and registry: what turns a data source into integer sequences and back.

A domain (music, text, the synthetic oracle, or a third party's) says which data sources it
claims, loads one into a `Dataset` (train/valid/test windows, the tokenizer, a manifest), owns its
presets, scores samples against held-out data (which metrics, which references, what "real data"
means) and writes samples (MIDI files, text lines). Everything above the core picks a domain by
looking it up here, never by comparing names.

Built-ins register with `@register_domain("name")` when the package root imports their modules;
third parties add entries to the entry-point group `seqgan_music.domains` (value:
"package.module:ClassName"). This module, like the rest of the core, names no domain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from seqgan_music.core.config import SeqGANConfig
from seqgan_music.core.files import atomic_write_text
from seqgan_music.core.plugins import import_modules, load_plugins, register_into
from seqgan_music.core.tokenizer import Tokenizer
from seqgan_music.errors import ConfigError, SeqGANMusicError

if TYPE_CHECKING:
    import numpy as np

    from seqgan_music.core.model import Model

ENTRY_POINT_GROUP = "seqgan_music.domains"
Preset = Callable[[int, int], SeqGANConfig]  # (vocab_size, seq_len) -> config


@dataclass
class Dataset:
    """Token windows of one corpus, split, with the tokenizer that made them and a manifest.

    The manifest is JSON-native: "source", "counts" per split and a one-line "summary" at least.
    """

    domain: str
    train: np.ndarray  # (n, seq_len) int64
    valid: np.ndarray
    test: np.ndarray
    tokenizer: Tokenizer
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def seq_len(self) -> int:
        return int(self.train.shape[1])

    @property
    def summary(self) -> str:
        return str(self.manifest.get("summary", ""))


@dataclass(frozen=True)
class LoadOptions:
    """How to load a source; a domain uses what applies to it."""

    tokenizer: str | None = None  # a registered tokenizer's name (text: char, word, ...)
    seq_len: int | None = None  # None: the domain's default
    seed: int = 0  # of the split by item (and of any sampling the loader does)
    progress: bool = True
    fitted_tokenizer: Tokenizer | None = None  # a checkpoint's: encode with its vocabulary
    tokenizer_options: dict[str, Any] | None = None


@dataclass(frozen=True)
class ComposeOptions:
    """What `compose` was asked for; a domain uses what applies to it and refuses what does not."""

    num: int = 1
    seed: int | None = None
    temperature: float = 1.0
    length: int | None = None
    primer: str | Path | None = None
    program: int = 0
    tempo: float | None = None
    restrike: bool = False
    wav: bool = False
    png: bool = False
    force: bool = False  # overwrite existing files (refused otherwise)
    primer_steps: int | None = None  # how much of the primer to keep (default: a quarter)
    progress: Callable[[int, int], None] | None = None  # (steps sampled, length), long composes
    bars: int | None = None  # a length in bars (music), instead of `length` steps


@dataclass
class Composition:
    """One composed sample and the files written for it."""

    tokens: np.ndarray
    path: Path | None
    seconds: float = 0.0
    lowest: int | None = None  # music: MIDI pitch range
    highest: int | None = None
    text: str | None = None  # text domains: the decoded sample
    extras: tuple[Path, ...] = ()


def draw_samples(
    model: Model, options: ComposeOptions, prefix: list[int] | None = None
) -> np.ndarray:
    """The (num, length) samples `compose` asks for, seeded, continuing `prefix` if given."""
    return model.sample(
        options.num, length=options.length, temperature=options.temperature, seed=options.seed,
        prefix=prefix,
    )  # fmt: skip


def write_lines(out: Path | None, lines: list[str]) -> Path | None:
    """Write one sample a line to `out` (UTF-8, atomically); None when there is no `out`."""
    if out is None:
        return None
    return atomic_write_text(out, "\n".join(lines) + "\n")


@runtime_checkable
class Domain(Protocol):
    """What every domain offers. `DomainBase` supplies the defaults most domains keep."""

    name: ClassVar[str]
    tokenizer: ClassVar[str | None]  # the tokenizer name that selects this domain, if any

    def claims(self, source: str, tokenizer: str | None) -> bool: ...

    def load(self, source: str, options: LoadOptions) -> Dataset: ...

    def presets(self) -> Mapping[str, Preset]: ...

    def score(
        self, samples: np.ndarray, references: np.ndarray, dataset: Dataset
    ) -> dict[str, np.ndarray]: ...

    def validation_scores(
        self, samples: np.ndarray, references: np.ndarray, dataset: Dataset
    ) -> dict[str, np.ndarray]: ...

    def references(self, dataset: Dataset) -> np.ndarray: ...

    def real_data(self, dataset: Dataset, n: int) -> np.ndarray | None: ...

    def compose(
        self, model: Model, out: Path | None, options: ComposeOptions
    ) -> list[Composition]: ...


class DomainBase:
    """Defaults: references are the test split (else valid), the "real data" row scores the valid
    split as if it were a model, presets come from `PRESETS`, no per-unit scores but the NLL."""

    name: ClassVar[str]
    tokenizer: ClassVar[str | None] = None
    PRESETS: ClassVar[Mapping[str, Preset]] = {}

    def presets(self) -> Mapping[str, Preset]:
        return self.PRESETS

    def validation_scores(
        self, samples: np.ndarray, references: np.ndarray, dataset: Dataset
    ) -> dict[str, np.ndarray]:
        """The cheap per-unit scores logged while training (default: none beyond the NLL)."""
        return {}

    def references(self, dataset: Dataset) -> np.ndarray:
        return dataset.test if len(dataset.test) else dataset.valid

    def real_data(self, dataset: Dataset, n: int) -> np.ndarray | None:
        return dataset.valid[:n] if len(dataset.valid) and len(dataset.test) else None


def preset_config(domain: Domain, name: str, vocab_size: int, seq_len: int) -> SeqGANConfig:
    """The domain's preset `name`, sized to its vocabulary and sequence length."""
    table = domain.presets()
    if name not in table:
        raise ConfigError(
            f"unknown preset {name!r} for {domain.name}; choose one of: {', '.join(sorted(table))}"
        )
    return table[name](vocab_size, seq_len)


class UnknownDomainError(SeqGANMusicError, KeyError):
    """An unknown domain name: a one-line user-facing error that lists the choices."""

    def __str__(self) -> str:
        return str(self.args[0])


_REGISTRY: dict[str, type] = {}
_INSTANCES: dict[str, Domain] = {}
_BUILTIN_MODULES: list[str] = []
_entry_points_loaded = False


def register_domain(name: str) -> Callable[[type], type]:
    """Class decorator: register a domain class under `name` (duplicates are refused)."""

    def decorate(cls: type) -> type:
        _INSTANCES.pop(name, None)
        return register_into(_REGISTRY, name, cls, "domain")

    return decorate


def add_builtin_module(module: str) -> None:
    """Name a module whose import registers built-in domains (the package root does this)."""
    if module not in _BUILTIN_MODULES:
        _BUILTIN_MODULES.append(module)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if not _entry_points_loaded:
        _entry_points_loaded = True
        group = entry_points(group=ENTRY_POINT_GROUP)
        load_plugins(group, _REGISTRY, register_domain, "domain")


def available_domains() -> list[str]:
    """Names of every registered domain: built-ins and entry-point plugins, in the order they
    are asked to claim a source (built-ins first, in the order the package root lists them)."""
    import_modules(_BUILTIN_MODULES)
    _load_entry_points()
    # Whatever the import order was: built-ins in the package root's order, then the others.
    rank = {module: i for i, module in enumerate(_BUILTIN_MODULES)}
    names = list(_REGISTRY)
    return sorted(names, key=lambda n: rank.get(_REGISTRY[n].__module__, len(rank)))


def get_domain(name: str) -> Domain:
    """The domain registered as `name` (one shared instance); the error lists the choices."""
    choices = available_domains()
    if not isinstance(name, str) or name not in _REGISTRY:  # a checkpoint may hold anything
        raise UnknownDomainError(f"unknown domain {name!r}; choose one of: {', '.join(choices)}")
    if name not in _INSTANCES:
        _INSTANCES[name] = _REGISTRY[name]()
    return _INSTANCES[name]


def domain_for(source: str | Path, tokenizer: str | None = None) -> Domain:
    """The domain that claims `source`: the one whose own tokenizer was named, else the first
    that claims it; a source nobody claims goes to the first built-in (whose loader then says
    what is wrong with it)."""
    names = available_domains()
    if not names:
        raise SeqGANMusicError("no domain is registered")
    domains = [get_domain(n) for n in names]
    if tokenizer is not None:
        for domain in domains:
            if domain.tokenizer == tokenizer:
                return domain
    for domain in domains:
        if domain.claims(str(source), tokenizer):
            return domain
    return domains[0]
