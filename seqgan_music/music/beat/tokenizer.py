"""The `midi-beat` tokenizer: a tune <-> beat-grid tokens (beat/encoding.py, vocabulary 90).

Its state keeps what rendering needs and the training data decided: the tempo (the median first
tempo of the training tunes) and the time signature (their most common one), so a model plays back
as its corpus sounded; `compose --tempo` overrides the tempo.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from seqgan_music.core.tokenizer import register_tokenizer
from seqgan_music.music.beat.encoding import (
    BEAT_VOCAB_SIZE,
    DEFAULT_TIME_SIGNATURE,
    BeatEncodingConfig,
    bar_steps,
    beat_tokens_to_frames,
)
from seqgan_music.music.beat.tunes import (
    DEFAULT_QPM,
    beat_tokens_to_midi,
    melody_bytes_to_beat_tokens,
    read_beat_tune,
)
from seqgan_music.music.options import checked_rendering


@register_tokenizer("midi-beat")
class MidiBeatCodec:
    """Monophonic melody on a sixteenth-note grid; rendering settings are saved with it."""

    name: ClassVar[str]

    def __init__(
        self, steps_per_quarter: int = 4, seq_len: int = 48, *, stride_bars: int | None = None,
        track: int | None = None, qpm: float = DEFAULT_QPM,
        time_signature: Sequence[int] = DEFAULT_TIME_SIGNATURE, program: int = 0,
        velocity: int = 90, tonic: int | None = None,
    ) -> None:  # fmt: skip
        self.steps_per_quarter = int(steps_per_quarter)
        self.seq_len = int(seq_len)
        self.stride_bars = stride_bars
        self.track = track
        self.program, self.velocity, self.qpm = checked_rendering(program, velocity, qpm)
        self.time_signature = (int(time_signature[0]), int(time_signature[1]))
        # the pitch class every training tune was moved to (`--transpose-to`); None: as heard
        self.tonic = None if tonic is None else int(tonic) % 12

    @classmethod
    def from_encoding(cls, enc: BeatEncodingConfig, **render: Any) -> MidiBeatCodec:
        """The codec matching a corpus's BeatEncodingConfig (render: qpm, time_signature, ...)."""
        return cls(
            enc.steps_per_quarter, enc.seq_len, stride_bars=enc.stride_bars, track=enc.track,
            **render,
        )  # fmt: skip

    @property
    def encoding(self) -> BeatEncodingConfig:
        return BeatEncodingConfig(
            steps_per_quarter=self.steps_per_quarter, seq_len=self.seq_len,
            stride_bars=self.stride_bars, track=self.track,
        )  # fmt: skip

    @property
    def vocab_size(self) -> int:
        return BEAT_VOCAB_SIZE

    @property
    def pad_id(self) -> int | None:
        return None

    @property
    def eos_id(self) -> int | None:
        return None

    @property
    def bar_steps(self) -> int:
        """Steps in one bar of the codec's time signature."""
        return bar_steps(*self.time_signature, self.steps_per_quarter)

    @property
    def step_seconds(self) -> float:
        return 60.0 / (self.qpm * self.steps_per_quarter)

    def fit(self, corpus: Iterable[Any]) -> MidiBeatCodec:
        """Nothing to learn from tokens: tempo and metre come from the corpus manifest."""
        return self

    def encode(self, item: Any) -> list[int]:
        """A MIDI/ABC path, or a PrettyMIDI (what `decode` returns) -> tokens."""
        if hasattr(item, "write") and not isinstance(item, (str, Path)):
            buf = io.BytesIO()
            item.write(buf)
            return melody_bytes_to_beat_tokens(buf.getvalue(), self.encoding)[0].tolist()
        return read_beat_tune(Path(item), self.encoding)[0].tolist()

    def decode(self, ids: Sequence[int]) -> Any:
        """Tokens -> a PrettyMIDI at the codec's tempo and time signature."""
        return self.render(ids)

    def render(
        self, ids: Sequence[int], *, qpm: float | None = None,
        time_signature: Sequence[int] | None = None, program: int | None = None,
    ) -> Any:  # fmt: skip
        return beat_tokens_to_midi(
            np.asarray(ids, dtype=np.int64), self.steps_per_quarter, qpm=qpm or self.qpm,
            time_signature=tuple(time_signature or self.time_signature),
            program=self.program if program is None else program, velocity=self.velocity,
        )  # fmt: skip

    def pitch_frames(self, windows: np.ndarray) -> np.ndarray:
        """The sounding pitch per step in the paper's token space (0 rest, 1..88): for MSE and
        the pitch metrics."""
        return beat_tokens_to_frames(windows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps_per_quarter": self.steps_per_quarter, "seq_len": self.seq_len,
            "stride_bars": self.stride_bars, "track": self.track, "qpm": self.qpm,
            "time_signature": list(self.time_signature), "program": self.program,
            "velocity": self.velocity,
            **({} if self.tonic is None else {"tonic": self.tonic}),  # older states: as before
        }  # fmt: skip

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> MidiBeatCodec:
        state = dict(state)
        return cls(state.pop("steps_per_quarter", 4), state.pop("seq_len", 48), **state)
