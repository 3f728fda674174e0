"""The tokenizer registry: every registered tokenizer saves and loads to identical encodings.

Parametrised over `available_tokenizers()`, so a tokenizer is tested the moment it is registered;
its author adds a few sample items to SAMPLES below (the test fails until they do).
"""

import json
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import seqgan_music.core.plugins as plugins
import seqgan_music.core.tokenizer as registry
from seqgan_music.core.tokenizer import (
    ENTRY_POINT_GROUP,
    available_tokenizers,
    get_tokenizer_class,
    register_tokenizer,
    tokenizer_from_dict,
    tokenizer_to_dict,
)
from seqgan_music.errors import SeqGANMusicError


def _midi_pitch_samples():
    # Tunes (PrettyMIDI objects) rendered by the codec from tokens (0 = rest, 1..88 = A0..C8).
    codec = get_tokenizer_class("midi-pitch")()
    tunes = [codec.decode(tokens) for tokens in ([40, 40, 0, 42, 44, 45], [1, 88, 30, 31, 0, 52])]
    return tunes, tunes


def _midi_beat_samples():
    # Tunes rendered by the codec from beat tokens (0 rest, 1 hold, 2..89 note-on of A0..C8).
    codec = get_tokenizer_class("midi-beat")()
    rows = ([41, 1, 1, 41, 0, 43, 1, 45], [2, 89, 1, 1, 0, 0, 30, 31])
    tunes = [codec.decode(tokens) for tokens in rows]
    return tunes, tunes


def _midi_remi_samples():
    # Tunes written by the paper tokenizer's renderer (MIDI files), read back by MidiTok's REMI.
    pytest.importorskip("miditok", reason="the miditok extra is not installed")
    import tempfile

    from seqgan_music.music.paper.tunes import write_midi

    folder = Path(tempfile.mkdtemp())
    paths = [write_midi(row, folder / f"t{i}.mid") for i, row in enumerate(
        ([40, 40, 0, 42, 44, 45, 47, 49], [1, 88, 30, 31, 0, 52, 52, 50]))]  # fmt: skip
    return paths, paths


# name -> a function returning (items to fit on, items to encode). Add a row for a new tokenizer.
SAMPLES = {
    "char": lambda: (["床前明月光\n疑是地上霜", "abc, def!"], ["床前明月光", "unseen \u00e9 text"]),
    "word": lambda: (
        ["Yes we can.", "The economy -- it grew, and we're proud."],
        ["yes, we're proud of the economy!", "Completely unseen words."],
    ),
    "midi-pitch": _midi_pitch_samples,
    "midi-beat": _midi_beat_samples,
    "midi-remi": _midi_remi_samples,
    "ids": lambda: ([[0, 1, 2]], [[4, 0, 4999], [17]]),  # the oracle's: ids as they are
}


@pytest.fixture
def scratch_registry(monkeypatch):
    """Registrations made in a test go into a copy of the registry, dropped afterwards."""
    available_tokenizers()  # load the built-ins into the real registry first
    monkeypatch.setattr(registry.TOKENIZERS, "entries", dict(registry.TOKENIZERS.entries))


@pytest.mark.parametrize("name", available_tokenizers())
def test_save_load_gives_identical_encodings(name):
    if name not in SAMPLES:
        pytest.fail(
            f"tokenizer {name!r} is registered but has no sample: add a row to SAMPLES in "
            "tests/test_registry.py (items to fit on, items to encode)"
        )
    fit_items, items = SAMPLES[name]()
    tokenizer = get_tokenizer_class(name)().fit(fit_items)
    saved = json.dumps(tokenizer_to_dict(tokenizer))  # JSON-native, as checkpoints need
    loaded = tokenizer_from_dict(json.loads(saved))
    assert type(loaded) is type(tokenizer) and loaded.name == name
    assert tokenizer_to_dict(loaded) == json.loads(saved)
    assert (loaded.vocab_size, loaded.pad_id, loaded.eos_id) == (
        tokenizer.vocab_size, tokenizer.pad_id, tokenizer.eos_id)  # fmt: skip
    for item in items:
        ids = list(tokenizer.encode(item))
        assert list(loaded.encode(item)) == ids
        assert all(0 <= int(i) < tokenizer.vocab_size for i in ids)


def test_unknown_name_lists_the_choices():
    with pytest.raises(SeqGANMusicError, match=r"unknown tokenizer 'nope'; choose one of: .*char"):
        get_tokenizer_class("nope")
    with pytest.raises(KeyError):  # still a KeyError for callers that catch that
        get_tokenizer_class("nope")


def test_duplicate_names_are_refused(scratch_registry):
    with pytest.raises(ValueError, match="already registered"):
        register_tokenizer("char")(type("Other", (), {}))


class _Reverse:
    """A toy plugin: one id per letter a-z, after PAD=0 and EOS=1; text comes back reversed."""

    def __init__(self, offset: int = 2) -> None:
        self.offset = offset

    vocab_size = property(lambda self: 26 + self.offset)
    pad_id = property(lambda self: 0)
    eos_id = property(lambda self: 1)

    def fit(self, corpus):
        return self

    def encode(self, item):
        return [ord(c) - ord("a") + self.offset for c in reversed(item)]

    def decode(self, ids):
        return "".join(chr(i - self.offset + ord("a")) for i in reversed(ids))

    def to_dict(self):
        return {"offset": self.offset}

    @classmethod
    def from_dict(cls, state):
        return cls(**state)


def test_register_through_the_api(scratch_registry):
    register_tokenizer("reverse")(_Reverse)
    assert "reverse" in available_tokenizers()
    tok = tokenizer_from_dict(tokenizer_to_dict(get_tokenizer_class("reverse")(offset=3)))
    assert tok.offset == 3 and tok.decode(tok.encode("abc")) == "abc"


def test_entry_point_plugins_are_discovered(scratch_registry, monkeypatch, tmp_path):
    """What `[project.entry-points."seqgan_music.tokenizers"]` does, without installing anything."""
    (tmp_path / "my_plugin.py").write_text(textwrap.dedent("""
        class Shout:
            vocab_size, pad_id, eos_id = 30, 0, 1
            def fit(self, corpus): return self
            def encode(self, item): return [ord(c) - 94 for c in item.lower()]
            def decode(self, ids): return "".join(chr(i + 94) for i in ids).upper()
            def to_dict(self): return {}
            @classmethod
            def from_dict(cls, state): return cls()
    """))  # fmt: skip
    monkeypatch.syspath_prepend(str(tmp_path))
    plugin = EntryPoint(name="shout", value="my_plugin:Shout", group=ENTRY_POINT_GROUP)

    def fake_entry_points(*, group):
        return [plugin] if group == ENTRY_POINT_GROUP else []

    monkeypatch.setattr(plugins, "entry_points", fake_entry_points)
    monkeypatch.setattr(registry.TOKENIZERS, "plugins_loaded", False)
    assert "shout" in available_tokenizers()
    tok = get_tokenizer_class("shout")()
    assert tok.name == "shout" and tok.decode(tok.encode("Hey")) == "HEY"


def test_every_music_encoding_has_its_tokenizer_registered():
    """A built-in encoding's tokenizer registers through music/tokenizers.py, a plugin's through
    its entry point: either way a checkpoint of it rebuilds its tokenizer by name."""
    from seqgan_music.music.encodings import available_encodings, get_encoding

    for name in available_encodings():
        assert get_encoding(name).tokenizer in available_tokenizers(), name
