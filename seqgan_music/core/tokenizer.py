"""The tokenizer protocol and registry shared by every domain.

A tokenizer turns a domain item (a text line, a tune) into a list of ints and back. The trainer and
checkpoints only ever see `tokenizer_to_dict` / `tokenizer_from_dict`, so no domain is
special-cased.
Built-ins register themselves with `@register_tokenizer("name")`; third parties add entries to the
entry-point group `seqgan_music.tokenizers` (value: "package.module:ClassName").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

from seqgan_music.core.plugins import Registry
from seqgan_music.errors import SeqGANMusicError

ENTRY_POINT_GROUP = "seqgan_music.tokenizers"


@runtime_checkable
class Tokenizer(Protocol):
    """What every tokenizer offers. `to_dict`/`from_dict` use JSON-native data only."""

    name: ClassVar[str]

    @property
    def vocab_size(self) -> int: ...

    @property
    def pad_id(self) -> int | None: ...

    @property
    def eos_id(self) -> int | None: ...

    def fit(self, corpus: Iterable[Any]) -> Tokenizer: ...

    def encode(self, item: Any) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> Any: ...

    def to_dict(self) -> dict[str, Any]: ...

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Tokenizer: ...


class UnknownTokenizerError(SeqGANMusicError, KeyError):
    """An unknown tokenizer name: a one-line user-facing error (and a KeyError for old callers)."""

    def __str__(self) -> str:
        return str(self.args[0])  # KeyError would print the message in quotes


TOKENIZERS = Registry("tokenizer", ENTRY_POINT_GROUP)


def register_tokenizer(name: str) -> Callable[[type], type]:
    """Class decorator: register a tokenizer class under `name` (duplicates are refused)."""
    return lambda cls: TOKENIZERS.register(name, cls)


def available_tokenizers() -> list[str]:
    """Names of every registered tokenizer: built-ins and entry-point plugins."""
    return TOKENIZERS.names()


def get_tokenizer_class(name: str) -> type:
    """The class registered as `name`; the error lists the choices."""
    entries = TOKENIZERS.load()
    if name not in entries:
        raise UnknownTokenizerError(
            f"unknown tokenizer {name!r}; choose one of: {', '.join(sorted(entries))}"
        )
    return entries[name]


def tokenizer_to_dict(tokenizer: Tokenizer) -> dict[str, Any]:
    """Serialise with the registered name, so `tokenizer_from_dict` can rebuild the right class."""
    return {"name": tokenizer.name, "state": tokenizer.to_dict()}


class TokenizerStateError(SeqGANMusicError):
    """A saved tokenizer (a checkpoint's) that cannot be rebuilt: a one-line user-facing error."""


def tokenizer_from_dict(data: dict[str, Any]) -> Tokenizer:
    """Inverse of `tokenizer_to_dict`; a state its class refuses is a TokenizerStateError."""
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise TokenizerStateError(
            f"a saved tokenizer must be a dict naming its class, not {data!r:.80}"
        )
    cls = get_tokenizer_class(data["name"])
    state = data.get("state")
    if not isinstance(state, dict):
        raise TokenizerStateError(
            f"the saved {data['name']} tokenizer has no state dict ({state!r:.40})"
        )
    try:
        return cls.from_dict(state)
    except SeqGANMusicError as err:
        raise TokenizerStateError(
            f"the saved {data['name']} tokenizer is not valid: {err}"
        ) from err
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        raise TokenizerStateError(
            f"the saved {data['name']} tokenizer cannot be rebuilt ({type(err).__name__}: {err})"
        ) from err


def add_builtin_module(module: str) -> None:
    """Name a module whose import registers built-in tokenizers (the package's __init__ does this).

    The core never imports a domain by name: the package root tells it where built-ins live.
    """
    TOKENIZERS.add_builtin_module(module)
