"""WAV preview, piano-roll PNG, and the midi-pitch codec in the tokenizer registry."""

import wave

import numpy as np
import pretty_midi
import pytest
from hypothesis import given
from hypothesis import strategies as st

from seqgan_music.core.tokenizer import (
    available_tokenizers,
    get_tokenizer_class,
    tokenizer_from_dict,
    tokenizer_to_dict,
)
from seqgan_music.music.paper.encoding import EncodingConfig
from seqgan_music.music.paper.tokenizer import MidiPitchCodec
from seqgan_music.music.paper.tunes import write_midi, write_wav
from seqgan_music.music.render import (
    piano_roll_to_tokens,
    tokens_to_piano_roll,
    write_piano_roll_png,
)


@pytest.mark.parametrize("tokens", [[40, 40, 0, 52, 88, 1], [0, 0, 0, 0]])
def test_wav_preview(tmp_path, tokens):
    path = write_wav(tokens, tmp_path / "a.wav", sample_rate=8000)
    with wave.open(str(path)) as w:
        assert w.getframerate() == 8000 and w.getnchannels() == 1
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    assert audio.size >= int(len(tokens) * 0.4 * 8000) - 1
    assert np.isfinite(audio.astype(float)).all()
    assert (np.abs(audio).max() > 1000) == any(tokens)  # silence stays silence (no NaN)


@given(st.lists(st.integers(0, 88), max_size=40))
def test_piano_roll_round_trip(tokens):
    roll = tokens_to_piano_roll(tokens)
    assert roll.shape == (88, len(tokens)) and roll.sum() == sum(t > 0 for t in tokens)
    assert piano_roll_to_tokens(roll).tolist() == tokens


def test_piano_roll_png(tmp_path):
    one = write_piano_roll_png([40, 41, 0, 43], tmp_path / "one.png")
    many = write_piano_roll_png(np.array([[40, 41, 0, 43], [0, 0, 0, 0]]), tmp_path / "many.png")
    ragged = write_piano_roll_png([[40, 41], [0, 0, 50, 51, 52]], tmp_path / "ragged.png")
    for p in (one, many, ragged):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_codec_is_registered_and_round_trips(tmp_path):
    assert "midi-pitch" in available_tokenizers()
    assert get_tokenizer_class("midi-pitch") is MidiPitchCodec
    codec = MidiPitchCodec(step_seconds=0.25, seq_len=16, program=40, restrike=True)
    assert (codec.vocab_size, codec.pad_id, codec.eos_id) == (89, None, None)
    assert codec.fit([]) is codec
    rebuilt = tokenizer_from_dict(tokenizer_to_dict(codec))
    assert isinstance(rebuilt, MidiPitchCodec) and rebuilt.to_dict() == codec.to_dict()
    ids = [40, 40, 0, 41]
    pm = rebuilt.decode(ids)
    assert isinstance(pm, pretty_midi.PrettyMIDI) and pm.instruments[0].program == 40
    assert len(pm.instruments[0].notes) == 3  # restrike
    assert codec.encode(pm) == ids
    assert codec.encode(write_midi(ids, tmp_path / "x.mid", step_seconds=0.25)) == ids
    enc = EncodingConfig(step_seconds=0.3, seq_len=20, stride=10)
    assert MidiPitchCodec.from_encoding(enc).to_dict()["stride"] == 10
