"""The `midi-pitch` tokenizer: a tune (MIDI path or PrettyMIDI) <-> tokens 0..88 (0 = rest).

Registered in the core's tokenizer registry so checkpoints rebuild it by name and `compose` needs
no special case for music.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from seqgan_music.core.tokenizer import register_tokenizer
from seqgan_music.music.options import checked_rendering
from seqgan_music.music.paper.encoding import VOCAB_SIZE, EncodingConfig
from seqgan_music.music.paper.tunes import midi_to_tokens, read_tune_tokens, tokens_to_midi


@register_tokenizer("midi-pitch")
class MidiPitchCodec:
    """Monophonic melody at `step_seconds` per token; rendering options are saved with it."""

    name: ClassVar[str]

    def __init__(
        self, step_seconds: float = 0.4, seq_len: int = 32, *, stride: int | None = None,
        track: int | None = None, program: int = 0, velocity: int = 90, restrike: bool = False,
    ) -> None:  # fmt: skip
        # How tunes are read is the corpus's EncodingConfig; the codec adds how they are rendered.
        self.encoding = EncodingConfig(
            step_seconds=float(step_seconds), seq_len=int(seq_len),
            stride=int(stride if stride is not None else seq_len), track=track,
        )  # fmt: skip
        self.program, self.velocity, _ = checked_rendering(program, velocity)
        self.restrike = bool(restrike)

    @classmethod
    def from_encoding(cls, enc: EncodingConfig, **render: Any) -> MidiPitchCodec:
        """The codec matching a corpus's EncodingConfig."""
        return cls(enc.step_seconds, enc.seq_len, stride=enc.stride, track=enc.track, **render)

    @property
    def step_seconds(self) -> float:
        return self.encoding.step_seconds

    @property
    def vocab_size(self) -> int:
        return VOCAB_SIZE

    @property
    def pad_id(self) -> int | None:
        return None  # fixed-length windows: no padding (as the paper)

    @property
    def eos_id(self) -> int | None:
        return None

    def fit(self, corpus: Iterable[Any]) -> MidiPitchCodec:
        """Nothing to learn: the vocabulary is the 88 keys and a rest."""
        return self

    def encode(self, item: Any) -> list[int]:
        """A MIDI/ABC path or a PrettyMIDI -> tokens."""
        if isinstance(item, (str, Path)):
            return read_tune_tokens(item, self.step_seconds, self.encoding.track).tolist()
        return midi_to_tokens(item, self.step_seconds, self.encoding.track).tolist()

    def decode(self, ids: Sequence[int], **render: Any) -> Any:
        """Tokens -> a PrettyMIDI (write it with `.write(path)`). `render` overrides the saved
        rendering for this call: step_seconds, program, velocity, restrike, qpm (the tempo)."""
        options = {"step_seconds": self.step_seconds, "program": self.program,
                   "velocity": self.velocity, "restrike": self.restrike, **render}  # fmt: skip
        return tokens_to_midi(np.asarray(ids, dtype=np.int64), **options)

    def to_dict(self) -> dict[str, Any]:
        enc = self.encoding  # the keys checkpoints have always had (no train-only transposition)
        return {
            "step_seconds": enc.step_seconds, "seq_len": enc.seq_len, "stride": enc.stride,
            "track": enc.track, "program": self.program, "velocity": self.velocity,
            "restrike": self.restrike,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> MidiPitchCodec:
        state = dict(state)
        return cls(state.pop("step_seconds", 0.4), state.pop("seq_len", 32), **state)
