"""MidiTok's REMI tokenization of a tune's melody line as a seqgan-music music encoding: the
worked example of a third-party encoding (docs/plugins.md), `--encoding remi`.

Why MidiTok: it is the field's maintained library of symbolic-music tokenizations (REMI, TSD,
Structured, CPWord, ... behind one API, Fradet et al. 2021), so a model here can be trained on the
tokens other work uses, and a tokenization we did not write proves the encoding switch. This
package is registered only through entry points (pyproject.toml: `seqgan_music.encodings` ->
`REMI_ENCODING`, `seqgan_music.tokenizers` -> `RemiTokenizer`); seqgan_music names it nowhere.
MidiTok is imported when first used (`pip install seqgan-music[miditok]`), so without it the
encoding is listed and asking for it is a one-line error.

The melody is read by seqgan-music's own readers (music/io: the melody-track rule, MIDI ticks or
ABC quarters), its pitches folded onto the 88 keys, and given to MidiTok's REMI as one track
(Bar, Position, Pitch, Duration tokens; no velocities, tempos or time signatures: 4/4 bars).
Windows start on Bar tokens. Pitch metrics read, per token, the pitch of the latest Pitch token
(REMI has no fixed time per token, so MSE and the pitch statistics are per token, not per step).
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from seqgan_music.core.files import atomic_write
from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.encodings import MelodyEncoding
from seqgan_music.music.io.files import first_tune, guarded_parse, melodies_in_quarters
from seqgan_music.music.pitch import HIGHEST_PITCH, LOWEST_PITCH, PITCH_OFFSET, fold_into_range

TPQ = 480  # ticks per quarter of the scores handed to MidiTok
DEFAULT_QPM = 120.0
DEFAULT_LENGTH_FACTOR = 4  # compose without --length: four training windows of tokens


@functools.lru_cache(maxsize=1)
def remi() -> Any:
    """MidiTok's REMI with this encoding's fixed settings (the vocabulary never changes)."""
    try:
        import miditok
    except ImportError as err:
        raise SeqGANMusicError(
            "the remi encoding needs MidiTok: pip install seqgan-music[miditok]"
        ) from err
    config = miditok.TokenizerConfig(
        pitch_range=(LOWEST_PITCH, HIGHEST_PITCH), beat_res={(0, 4): 4, (4, 12): 2},  # 88 keys
        use_velocities=False, use_chords=False, use_rests=False, use_tempos=False,
        use_time_signatures=False, use_programs=False, special_tokens=["PAD"],
    )  # fmt: skip
    return miditok.REMI(config)


def _ids(kind: str) -> np.ndarray:
    """Ids of every token of one kind ("Bar", "Pitch", ...); Pitch ids by ascending pitch."""
    found = [(tok, i) for tok, i in remi().vocab.items() if tok.split("_", 1)[0] == kind]
    if kind == "Pitch":
        found.sort(key=lambda t: int(t[0].split("_", 1)[1]))
    return np.array([i for _, i in found], dtype=np.int64)


def _pitches() -> np.ndarray:
    """The MIDI pitch of each id in `_ids("Pitch")`."""
    names = sorted((t for t in remi().vocab if t.startswith("Pitch_")),
                   key=lambda t: int(t.split("_", 1)[1]))  # fmt: skip
    return np.array([int(t.split("_", 1)[1]) for t in names], dtype=np.int64)


# ---- notes <-> tokens ---------------------------------------------------------------------------


def melody_to_ids(melody: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    """A melody in quarter notes (music/io's readers) -> REMI ids, and what happened."""
    import symusic

    pitches, moved = fold_into_range(melody["pitches"])
    track = symusic.Track(program=0)
    for start, end, pitch in zip(melody["starts"], melody["ends"], pitches):
        on, off = int(round(start * TPQ)), int(round(end * TPQ))
        track.notes.append(symusic.Note(time=on, duration=max(1, off - on), pitch=int(pitch),
                                        velocity=90))  # fmt: skip
    score = symusic.Score(TPQ)
    score.tracks.append(track)
    encoded = remi().encode(score)
    ids = encoded[0].ids if encoded else []
    info = {"moved_notes": moved, "notes": len(pitches), "qpm": float(melody["qpm"])}
    return np.asarray(ids, dtype=np.int64), info


def ids_to_score(ids: np.ndarray, qpm: float, program: int = 0) -> Any:
    """REMI ids -> a symusic Score (MidiTok's decoder skips what does not parse) at `qpm`."""
    import symusic

    score = remi().decode([[int(i) for i in ids]])
    score.tempos.append(symusic.Tempo(time=0, qpm=float(qpm)))
    for track in score.tracks:
        track.program = int(program)
    return score


def read_tunes(path: Path, config: RemiConfig) -> list[tuple[str, Any, dict]]:
    """Every tune of a MIDI or ABC file as (label, ids or None, info with "reason" if None)."""

    def read() -> list[tuple[str, Any, dict]]:
        out = []
        for label, melody, extra in melodies_in_quarters(path, config.track):
            if melody is None:
                out.append((label, None, extra))
            else:
                ids, info = melody_to_ids(melody)
                out.append((label, ids, {**info, **extra}))
        return out

    return guarded_parse(Path(path), read)


# ---- the config, windows and augmentation -------------------------------------------------------


@dataclass(frozen=True)
class RemiConfig:
    seq_len: int = 64  # tokens per window: about two bars of a folk melody
    track: int | None = None  # None: music/io's melody rule
    transpose: tuple[int, int] | None = None  # (lo, hi) semitones: train-split augmentation

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["transpose"] = list(self.transpose) if self.transpose is not None else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RemiConfig:
        kw = {k: v for k, v in d.items() if k in {f.name for f in fields(cls)}}
        if kw.get("transpose") is not None:
            kw["transpose"] = tuple(kw["transpose"])
        return cls(**kw)


def tune_windows(
    ids: np.ndarray, info: dict, config: RemiConfig
) -> tuple[np.ndarray, dict[str, int]]:
    """Windows of `seq_len` ids starting on Bar tokens, each at the first bar at or after the
    previous one's end; a window without a Pitch token, or a short tail, is dropped."""
    t = np.asarray(ids, dtype=np.int64)
    bars = np.flatnonzero(np.isin(t, _ids("Bar")))
    pitch = _ids("Pitch")
    out, start = [], 0
    while (i := np.searchsorted(bars, start)) < len(bars) and bars[i] + config.seq_len <= len(t):
        window = t[bars[i] : bars[i] + config.seq_len]
        if np.isin(window, pitch).any():
            out.append(window)
        start = bars[i] + config.seq_len
    empty = np.zeros((0, config.seq_len), dtype=np.int64)
    return (np.stack(out) if out else empty), {}


def transpose_windows(windows: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Each window at every shift in lo..hi semitones that keeps its pitches on the 88 keys."""
    w = np.asarray(windows, dtype=np.int64)
    pitch = _ids("Pitch")  # pitch[k] is the id of MIDI LOWEST_PITCH + k
    index = np.full(int(max(w.max(initial=0), pitch.max())) + 1, -1)
    index[pitch] = np.arange(len(pitch))
    k = index[w]  # (n, T) key index, -1 where not a Pitch token
    notes = k >= 0
    low = np.where(notes, k, len(pitch)).min(axis=1)
    high = np.where(notes, k, -1).max(axis=1)
    out = [w]
    for shift in range(lo, hi + 1):
        ok = (low + shift >= 0) & (high + shift < len(pitch)) & (shift != 0)
        out.append(np.where(notes[ok], pitch[np.clip(k[ok] + shift, 0, len(pitch) - 1)], w[ok]))
    return np.concatenate(out, axis=0)


# ---- the tokenizer ------------------------------------------------------------------------------


class RemiTokenizer:
    """A tune <-> REMI ids of its melody; the tempo it plays back at is saved with it."""

    name: ClassVar[str]

    def __init__(self, seq_len: int = 64, *, track: int | None = None, qpm: float = DEFAULT_QPM):
        self.seq_len, self.track, self.qpm = int(seq_len), track, float(qpm)

    @property
    def encoding(self) -> RemiConfig:
        return RemiConfig(seq_len=self.seq_len, track=self.track)

    @property
    def vocab_size(self) -> int:
        return len(remi())

    @property
    def pad_id(self) -> int | None:
        return None  # fixed-length windows: no padding

    @property
    def eos_id(self) -> int | None:
        return None

    def fit(self, corpus: Any) -> RemiTokenizer:
        return self  # a fixed vocabulary

    def encode(self, item: Any) -> list[int]:
        """A MIDI/ABC path (its first tune) -> ids."""
        ids, _ = first_tune(item, lambda p: read_tunes(p, self.encoding))
        return [int(i) for i in ids]

    def decode(self, ids: Any) -> Any:
        """Ids -> a symusic Score (write it with `.dump_midi(path)`)."""
        return ids_to_score(np.asarray(ids), self.qpm)

    def to_dict(self) -> dict[str, Any]:
        return {"seq_len": self.seq_len, "track": self.track, "qpm": self.qpm}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> RemiTokenizer:
        return cls(**state)


# ---- what the music domain asks of an encoding --------------------------------------------------


def pitch_frames(tokenizer: Any, windows: np.ndarray) -> np.ndarray:
    """Per token, the key number (1..88) of the latest Pitch token so far, 0 before any."""
    w = np.atleast_2d(np.asarray(windows, dtype=np.int64))
    pitch = _ids("Pitch")
    key = np.zeros(int(max(w.max(initial=0), pitch.max())) + 1, dtype=np.int64)
    key[pitch] = _pitches() - PITCH_OFFSET
    k = key[w]
    idx = np.where(k > 0, np.arange(w.shape[1]), -1)
    last = np.maximum.accumulate(idx, axis=1)
    return np.where(last >= 0, np.take_along_axis(k, np.maximum(last, 0), axis=1), 0)


def own_scores(samples: np.ndarray, references: np.ndarray, tokenizer: Any) -> dict[str, Any]:
    return {}  # the pitch metrics and BLEU on ids; rhythm metrics would need decoding


def compose(model: Any, paths: list[Path], options: Any, music: Any) -> list[dict[str, Any]]:
    """Sample `len(paths)` token sequences and write each as a MIDI file."""
    refused = {"--primer": music.primer, "--primer-steps": music.primer_steps,
               "--bars": music.bars, "--restrike": music.restrike, "--wav": music.wav,
               "--png": music.png}  # fmt: skip
    for flag, value in refused.items():
        if value not in (None, False):
            raise SeqGANMusicError(f"{flag} is not supported by the remi encoding")
    tok = model.tokenizer
    length = options.length or DEFAULT_LENGTH_FACTOR * tok.seq_len
    progress = options.progress
    samples = model.sample(
        len(paths), length=length, temperature=options.temperature, seed=options.seed,
        on_step=None if progress is None else (lambda t: progress(t, length)),
    )  # fmt: skip
    qpm = music.tempo if music.tempo is not None else tok.qpm
    out = []
    for row, path in zip(samples, paths):
        score = ids_to_score(row, qpm, music.program)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda fh, s=score: fh.write(s.dumps_midi()))
        notes = [n for track in score.tracks for n in track.notes]
        pitches = [n.pitch for n in notes]
        seconds = max((n.time + n.duration for n in notes), default=0) / score.tpq * 60.0 / qpm
        out.append({"tokens": row, "path": path, "seconds": seconds,
                    "lowest": min(pitches, default=None), "highest": max(pitches, default=None),
                    "extras": ()})  # fmt: skip
    return out


def _no_bars(*args: Any) -> Any:
    raise SeqGANMusicError("whole-tune metrics need a fixed bar length; remi tokens have none")


def _codec(config: RemiConfig, manifest: dict[str, Any]) -> RemiTokenizer:
    train = [u for u in manifest.get("used", []) if u.get("split") == "train"]
    tempi = [float(u["qpm"]) for u in train if u.get("qpm")]
    qpm = float(np.median(tempi)) if tempi else DEFAULT_QPM
    return RemiTokenizer(config.seq_len, track=config.track, qpm=qpm)


REMI_ENCODING = MelodyEncoding(
    "remi", RemiConfig, "midi-remi", read_tunes, tune_windows, transpose_windows,
    ("moved_notes", "notes"), lambda seq_len: RemiConfig(seq_len or RemiConfig().seq_len),
    _codec, pitch_frames, own_scores, compose, _no_bars, _no_bars,
)  # fmt: skip
