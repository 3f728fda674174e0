"""What a run records about itself in every checkpoint: domain, corpus, tokenizer, seed, preset.

Written by the training driver, read by resume, `--init-from`, `compose` and `evaluate`. Stored in
the checkpoint as a plain dict (`to_dict`), with the same keys checkpoints have always had, so old
checkpoints load; keys this version does not know are kept in `extra` and written back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from seqgan_music.errors import CheckpointError


@dataclass
class RunMetadata:
    """One run's provenance. `tokenizer` is `tokenizer_to_dict`'s JSON-native form."""

    domain: str | None = None
    tokenizer: dict[str, Any] | None = None
    tokenizer_name: str | None = None
    data: str | None = None
    seq_len: int | None = None
    seed: int | None = None
    split_seed: int | None = None  # absent in checkpoints from before it was its own setting
    preset: str | None = None
    corpus: dict[str, Any] | None = None
    package_version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. "training" notes, "oracle" source

    def held_out_seed(self) -> int:
        """The seed the run's corpus was split with: `split_seed`, or, in a checkpoint written
        before it existed, the run's `seed` (which then split the corpus too)."""
        return int(self.split_seed if self.split_seed is not None else (self.seed or 0))

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint's plain-dict form; unset fields are left out."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        return {**{k: v for k, v in out.items() if v is not None}, **self.extra}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunMetadata:
        if not isinstance(d, dict):
            raise CheckpointError(f"run metadata must be a dict, not {type(d).__name__}")
        known = {f.name for f in fields(cls)} - {"extra"}
        kw = {k: v for k, v in d.items() if k in known}
        for name, value in kw.items():
            kind = _TYPES.get(name, object)
            if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
                raise CheckpointError(
                    f"run metadata {name} must be {kind.__name__}, not {type(value).__name__}"
                )
        return cls(**kw, extra={k: v for k, v in d.items() if k not in known})


# The JSON-native type of each field (None is allowed for all): what a checkpoint must hold.
_TYPES: dict[str, type] = {
    "domain": str, "tokenizer": dict, "tokenizer_name": str, "data": str, "seq_len": int,
    "seed": int, "split_seed": int, "preset": str, "corpus": dict, "package_version": str,
}  # fmt: skip
