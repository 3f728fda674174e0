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
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, runtime_checkable

from seqgan_music.core.config import SeqGANConfig
from seqgan_music.core.files import atomic_write_text
from seqgan_music.core.plugins import Registry
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
    # When the domain names conditions (music: metre and mode): each split's (n,) int64 condition
    # ids, row for row with its windows, and the name of each id; empty when it names none.
    conditions: dict[str, np.ndarray] = field(default_factory=dict)
    condition_names: tuple[str, ...] = ()

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
    # the domain's own load options, by name (music: its encoding); see `read_domain_options`
    domain_options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ComposeOptions:
    """What `compose` was asked for, in any domain. `domain_options` are the options a domain
    adds (given by name, e.g. a MIDI program): the domain reads them into its own options object
    with `read_domain_options`, which refuses a name it does not know."""

    num: int = 1
    seed: int | None = None
    temperature: float = 1.0
    length: int | None = None  # steps to sample (None: the domain's default)
    force: bool = False  # overwrite existing files (refused otherwise)
    progress: Callable[[int, int], None] | None = None  # (steps sampled, length), long composes
    domain_options: Mapping[str, Any] = field(default_factory=dict)


T = TypeVar("T")


def read_domain_options(cls: type[T], options: LoadOptions | ComposeOptions, domain: str) -> T:
    """The domain's own options object (a dataclass `cls`) from `options.domain_options`; a name
    `cls` does not have is a one-line error naming its command-line flag."""
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    if unknown := sorted(set(options.domain_options) - known):
        flag = "--" + unknown[0].replace("_", "-")
        raise SeqGANMusicError(f"{flag} is not an option of {domain} models")
    return cls(**options.domain_options)


@dataclass
class Composition:
    """One composed sample and the files written for it; `summary` says what it is in the
    domain's terms (one line), `info` the same as data."""

    tokens: np.ndarray
    path: Path | None
    text: str | None = None  # text domains: the decoded sample
    extras: tuple[Path, ...] = ()  # further files written beside `path`
    summary: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None  # the sampling seed (`compose` draws one when none is given)


@dataclass(frozen=True)
class NoOptions:
    """The options of a domain that adds none to `compose`."""


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

    def check_metadata(self, metadata: dict[str, Any], conditions: int) -> None: ...


class DomainBase:
    """Defaults: references are the test split (else valid), the "real data" row scores the valid
    split as if it were a model, presets come from `PRESETS`, no per-unit scores but the NLL."""

    name: ClassVar[str]
    tokenizer: ClassVar[str | None] = None
    PRESETS: ClassVar[Mapping[str, Preset]] = {}
    sources: ClassVar[str] = ""  # what it reads, in a few words, for "no domain reads this file"

    def presets(self) -> Mapping[str, Preset]:
        return self.PRESETS

    def check_metadata(self, metadata: dict[str, Any], conditions: int) -> None:
        """Refuse (SeqGANMusicError, one line) a checkpoint's metadata this domain could not
        sample from, given its generator's number of condition ids; read by every loader and by
        `export`, so a copy is never written that `compose` would refuse. Default: nothing."""

    def validation_scores(
        self, samples: np.ndarray, references: np.ndarray, dataset: Dataset
    ) -> dict[str, np.ndarray]:
        """The cheap per-unit scores logged while training (default: none beyond the NLL)."""
        return {}

    def references(self, dataset: Dataset) -> np.ndarray:
        return dataset.test if len(dataset.test) else dataset.valid

    def real_data(self, dataset: Dataset, n: int) -> np.ndarray | None:
        return dataset.valid[:n] if len(dataset.valid) and len(dataset.test) else None

    # The distribution metrics (core/fidelity.py) and the quality-diversity test's hooks.
    match_statistic: ClassVar[str] = "Self-BLEU-4"  # the diversity that models are matched on
    copy_run: ClassVar[int] = 16  # steps of the runs looked up verbatim in the training split
    _train_features: tuple[Dataset, np.ndarray] | None = None  # the last dataset's, the FD's units

    def sequences(self, windows: np.ndarray, dataset: Dataset) -> Any:
        """Windows as the metrics read them (text: cut at the end token)."""
        return windows

    def features(self, windows: np.ndarray, dataset: Dataset) -> np.ndarray:
        """(N, F) feature rows for the two-sample test and the Frechet distance: token and hashed
        bigram shares by default."""
        from seqgan_music.core.fidelity import ngram_features

        return ngram_features(self.sequences(windows, dataset), dataset.tokenizer.vocab_size)

    def coverage(
        self, samples: np.ndarray, references: np.ndarray, dataset: Dataset
    ) -> dict[str, np.ndarray]:
        """Per held-out window, how well the samples cover it: by default its BLEU-4 against all
        samples ("backward BLEU", Shi et al. 2018), higher is better."""
        from seqgan_music.core.metrics import bleu

        hyps, refs = self.sequences(references, dataset), self.sequences(samples, dataset)
        return {"coverage BLEU-4": bleu(hyps, refs, 4)}

    def training_sequences(self, dataset: Dataset) -> list[np.ndarray]:
        """What copies are looked up in: the training windows, as the metrics read them."""
        return list(self.sequences(dataset.train, dataset))

    def fidelity(
        self, samples: np.ndarray, references: np.ndarray, dataset: Dataset, seed: int = 0
    ) -> dict[str, np.ndarray]:
        """The metrics temperature cannot game: two-sample accuracy (per test item), Frechet
        distance (a scalar), coverage (per held-out window), copy rates (per sample)."""
        from seqgan_music.core.fidelity import fidelity_scores

        if self._train_features is None or self._train_features[0] is not dataset:
            self._train_features = (dataset, self.features(dataset.train, dataset))  # once a set
        return fidelity_scores(
            self.features(samples, dataset), self.features(references, dataset),
            self._train_features[1], self.coverage(samples, references, dataset),
            self.sequences(samples, dataset), self.training_sequences(dataset), self.copy_run,
            seed=seed,
        )  # fmt: skip


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


DOMAINS = Registry("domain", ENTRY_POINT_GROUP)
_INSTANCES: dict[str, Domain] = {}


def register_domain(name: str) -> Callable[[type], type]:
    """Class decorator: register a domain class under `name` (duplicates are refused)."""

    def decorate(cls: type) -> type:
        _INSTANCES.pop(name, None)
        return DOMAINS.register(name, cls)

    return decorate


def add_builtin_module(module: str) -> None:
    """Name a module whose import registers built-in domains (the package root does this)."""
    DOMAINS.add_builtin_module(module)


def available_domains() -> list[str]:
    """Names of every registered domain: built-ins and entry-point plugins, in the order they
    are asked to claim a source (built-ins first, in the order the package root lists them)."""
    entries = DOMAINS.load()
    # Whatever the import order was: built-ins in the package root's order, then the others.
    rank = {module: i for i, module in enumerate(DOMAINS.builtin_modules)}
    return sorted(entries, key=lambda n: rank.get(entries[n].__module__, len(rank)))


def get_domain(name: str) -> Domain:
    """The domain registered as `name` (one shared instance); the error lists the choices."""
    choices = available_domains()
    if not isinstance(name, str) or name not in DOMAINS.entries:  # a checkpoint may hold anything
        raise UnknownDomainError(f"unknown domain {name!r}; choose one of: {', '.join(choices)}")
    if name not in _INSTANCES:
        _INSTANCES[name] = DOMAINS.entries[name]()
    return _INSTANCES[name]


def domain_for(source: str | Path, tokenizer: str | None = None) -> Domain:
    """The domain that claims `source`: the one whose own tokenizer was named, else the first
    that claims it; an existing file nobody claims is a one-line error naming what each domain
    reads; any other source nobody claims goes to the first built-in (whose loader then says
    what is wrong with it: a missing path, a folder with nothing to read)."""
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
    if tokenizer is None and Path(source).is_file():
        reads = "; ".join(f"{d.name}: {d.sources}" for d in domains if getattr(d, "sources", ""))
        raise SeqGANMusicError(f"no domain reads {Path(source).name} ({reads})")
    return domains[0]
