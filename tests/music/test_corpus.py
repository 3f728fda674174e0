"""Corpora: splits, cache invalidation, ABC, parallel parsing, and every kind of bad input."""

import io
import json
import os
import shutil
from pathlib import Path

import mido
import numpy as np
import pytest

from seqgan_music.core.splits import seeded_split
from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music import corpus as corpus_mod
from seqgan_music.music.corpus import given_split, prepare_corpus
from seqgan_music.music.paper.encoding import EncodingConfig
from seqgan_music.music.paper.tunes import read_primer, read_tune_tokens, write_midi

ENC = EncodingConfig(seq_len=8, stride=8)


def midi_bytes(lines: list[str], ticks_per_beat: int = 480) -> bytes:
    """A one-track MIDI file from mido's text forms: `Message.from_str` lines, or
    "meta <type> key=value ..." for meta messages."""
    track = mido.MidiTrack()
    for line in lines:
        if line.startswith("meta "):
            kind, *args = line[5:].split()
            track.append(
                mido.MetaMessage(kind, **{k: int(v) for k, v in (a.split("=") for a in args)})
            )
        else:
            track.append(mido.Message.from_str(line))
    mid = mido.MidiFile(ticks_per_beat=ticks_per_beat)
    mid.tracks.append(track)
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def scale(n: int, channel: int = 0, ticks: int = 480) -> list[str]:
    """n quarter notes going up from middle C."""
    out = []
    for i in range(n):
        out.append(f"note_on channel={channel} note={60 + i % 12} velocity=90 time=0")
        out.append(f"note_off channel={channel} note={60 + i % 12} velocity=0 time={ticks}")
    return out


def good_tune(path: Path, seed: int, steps: int = 40) -> Path:
    tokens = np.random.default_rng(seed).integers(1, 89, steps)
    return write_midi(tokens, path)


# 10-tick notes ending on every beat (0.5 s): none covers a step centre 0.2 + 0.4k
BLIPS = [f"note_{kind} channel=0 note=60 velocity=90 time={t}" for _ in range(30)
         for kind, t in (("on", 470), ("off", 10))]  # fmt: skip

RANDOM_BYTES = bytes(np.random.default_rng(1).integers(0, 256, 300, dtype=np.uint8))
NOT_MIDI = b"this is not a MIDI file, just text with a .mid name\n" * 4
NO_NOTES = ["meta set_tempo tempo=500000", "program_change channel=0 program=3 time=0"]
HUGE_TICK = ["note_on channel=0 note=60 velocity=90 time=0",
             "note_off channel=0 note=60 velocity=0 time=268435455"]  # fmt: skip
BAD_FILES = {
    "empty.mid": (b"", "empty file"),
    "random.mid": (RANDOM_BYTES, "not a readable MIDI"),
    "text.mid": (NOT_MIDI, "not a readable MIDI"),
    "drums.mid": (midi_bytes(scale(20, channel=9)), "drum-only"),
    "no_notes.mid": (midi_bytes(NO_NOTES), "no notes sound"),
    "blips.mid": (midi_bytes(BLIPS), "no notes sound"),  # notes fall between the sample times
    "zero_tempo.mid": (midi_bytes(["meta set_tempo tempo=0"] + scale(20)), "not a readable MIDI"),
    "slow_tempo.mid": (midi_bytes(["meta set_tempo tempo=16777215"] + scale(300)), "absurd length"),
    # read (no tick limit), then refused for what it is: a 78-hour note
    "huge_ticks.mid": (midi_bytes(HUGE_TICK), "absurd length"),
    "short.mid": (midi_bytes(scale(3)), "shorter than 8 steps"),
}  # fmt: skip


def make_truncated(folder: Path) -> Path:
    data = good_tune(folder / "whole.mid", 0).read_bytes()
    (folder / "whole.mid").unlink()
    path = folder / "truncated.mid"
    path.write_bytes(data[: len(data) // 2])
    return path


def test_every_bad_file_is_skipped_with_its_reason(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name, (data, _) in BAD_FILES.items():
        (src / name).write_bytes(data)
    make_truncated(src)
    for i in range(5):
        good_tune(src / f"good{i}.mid", i)
    c = prepare_corpus(src, encoding=ENC, cache_dir=tmp_path / "cache", workers=1, progress=False)
    reasons = {s["file"]: s["reason"] for s in c.manifest["skipped"]}
    for name, (_, why) in BAD_FILES.items():
        assert why in reasons[name], (name, reasons[name])
    assert "not a readable MIDI" in reasons["truncated.mid"]
    assert len(reasons) == len(BAD_FILES) + 1
    assert sorted(u["file"] for u in c.manifest["used"]) == [f"good{i}.mid" for i in range(5)]
    assert c.manifest["counts"]["skipped"] == len(reasons)
    assert f"{len(reasons)} skipped" in c.summary and "\n" not in c.summary
    assert sum(len(c.split(s)) for s in ("train", "valid", "test")) == 5 * 5  # 40 steps / 8


def test_unreadable_file_is_skipped(tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        good_tune(src / f"good{i}.mid", i)
    locked = good_tune(src / "locked.mid", 9)
    real_read_bytes = Path.read_bytes

    def deny(self):  # tests run as root, where chmod 000 does not stop reads: simulate it
        if self.name == "locked.mid":
            raise PermissionError(13, "Permission denied")
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    c = prepare_corpus(src, encoding=ENC, cache_dir=tmp_path / "cache", workers=1, progress=False)
    assert c.manifest["skipped"] == [
        {"file": locked.name, "reason": "unreadable (Permission denied)"}
    ]


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root reads chmod 000 files; simulated in the test above"
)
def test_chmod_000_file_is_skipped(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        good_tune(src / f"good{i}.mid", i)
    good_tune(src / "locked.mid", 9).chmod(0)
    c = prepare_corpus(src, encoding=ENC, cache_dir=tmp_path / "cache", workers=1, progress=False)
    assert [s["file"] for s in c.manifest["skipped"]] == ["locked.mid"]


def test_folder_without_usable_tunes_is_a_clear_error(tmp_path):
    (tmp_path / "a.mid").write_bytes(b"junk")
    (tmp_path / "b.mid").write_bytes(b"")
    with pytest.raises(SeqGANMusicError, match="no usable tune"):
        prepare_corpus(tmp_path, encoding=ENC, cache_dir=tmp_path / "c", workers=1, progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SeqGANMusicError, match="no .mid"):
        prepare_corpus(tmp_path / "empty", cache_dir=tmp_path / "d", progress=False)
    with pytest.raises(SeqGANMusicError, match="no such file"):
        prepare_corpus(tmp_path / "missing", progress=False)


def test_nottingham_source_missing_tells_how_to_download(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SeqGANMusicError, match="seqgan-music data download nottingham"):
        prepare_corpus("nottingham", progress=False)


def test_folder_split_is_kept(tmp_path):
    for split, n in (("train", 4), ("valid", 2), ("test", 1)):
        for i in range(n):
            good_tune(tmp_path / split / "sub" / f"{split}{i}.mid", hash(split) % 100 + i)
    good_tune(tmp_path / "loose.mid", 7)
    c = prepare_corpus(
        tmp_path, encoding=ENC, cache_dir=tmp_path / "cache", workers=1, progress=False
    )
    assert (len(c.train), len(c.valid), len(c.test)) == (20, 10, 5)
    assert c.manifest["split_rule"] == "folders"
    assert {u["file"].split("/")[0] for u in c.manifest["used"] if u["split"] == "valid"} == {
        "valid"
    }
    assert c.manifest["skipped"] == [
        {"file": "loose.mid", "reason": "outside the train/valid/test folders"}
    ]


def test_single_file_source_goes_to_train(tmp_path):
    (tmp_path / "valid").mkdir()
    path = good_tune(tmp_path / "train" / "one.mid", 0)
    c = prepare_corpus(path, encoding=ENC, cache_dir=tmp_path / "cache", workers=1, progress=False)
    assert (len(c.train), len(c.valid), len(c.test)) == (5, 0, 0)
    assert c.manifest["source"] == "one" and not c.manifest["skipped"]


def test_a_library_crash_on_one_file_is_recorded(tmp_path, monkeypatch):
    from seqgan_music.music.paper import tunes

    for i in range(3):
        good_tune(tmp_path / "src" / f"t{i}.mid", i)
    real = tunes.read_midi_tune

    def flaky(path, *args):
        if Path(path).name == "t1.mid":
            raise IndexError("list index out of range")
        return real(path, *args)

    monkeypatch.setattr(tunes, "read_midi_tune", flaky)
    c = prepare_corpus(  # no time limit: parsed in this process, where the patch applies
        tmp_path / "src", encoding=ENC, cache_dir=tmp_path / "c", workers=1, progress=False,
        parse_timeout=0,
    )  # fmt: skip
    assert c.manifest["skipped"] == [
        {"file": "t1.mid", "reason": "failed to parse (IndexError: list index out of range)"}
    ]


def test_given_split_detection(tmp_path):
    (tmp_path / "train").mkdir()
    assert given_split(tmp_path, []) is None  # train alone is not a split
    (tmp_path / "validation").mkdir()
    f = tmp_path / "validation" / "x.mid"
    assert given_split(tmp_path, [f]) == {f: "valid"}


def test_seeded_split_is_by_tune_and_reproducible():
    labels = [f"t{i}" for i in range(100)]
    a, b, c = seeded_split(labels, 0), seeded_split(labels, 0), seeded_split(labels, 1)
    assert a == b and a != c
    assert sorted(a) == sorted(labels)  # each tune exactly once, so never in two splits
    assert [list(a.values()).count(s) for s in ("train", "valid", "test")] == [80, 10, 10]
    small = seeded_split(["x", "y", "z"], 0)
    assert sorted(small.values()) == ["test", "train", "valid"]


def test_seeded_split_keeps_each_tunes_windows_together(tmp_path):
    for i in range(20):
        good_tune(tmp_path / "tunes" / f"t{i:02d}.mid", i, steps=24 + 8 * (i % 4))
    c = prepare_corpus(tmp_path / "tunes", encoding=ENC, cache_dir=tmp_path / "cache", seed=3,
                       workers=1, progress=False)  # fmt: skip
    used = c.manifest["used"]
    assert len({u["file"] for u in used}) == len(used) == 20
    for s in ("train", "valid", "test"):
        assert len(c.split(s)) == sum(u["windows"] for u in used if u["split"] == s)
    assert (len(c.valid) > 0) and (len(c.test) > 0)
    # windows of a tune appear in the order of its tokens: rebuild them from the sources
    train_tunes = [u["file"] for u in used if u["split"] == "train"]
    first = read_tune_tokens(tmp_path / "tunes" / train_tunes[0])[:8]
    assert np.array_equal(c.train[0], first)


def test_cache_hit_and_invalidation(tmp_path):
    src = tmp_path / "src"
    for i in range(4):
        good_tune(src / f"t{i}.mid", i)
    kw = dict(cache_dir=tmp_path / "cache", workers=1, progress=False)
    first = prepare_corpus(src, encoding=ENC, **kw)
    assert not first.from_cache and Path(first.manifest["cache_file"]).is_file()
    again = prepare_corpus(src, encoding=ENC, **kw)
    assert again.from_cache and again.manifest == first.manifest
    for s in ("train", "valid", "test"):
        assert np.array_equal(again.split(s), first.split(s)) and again.split(s).dtype == np.int64
    assert again.encoding == ENC
    # a change to the encoding rebuilds
    other = prepare_corpus(src, encoding=EncodingConfig(seq_len=8, stride=4), **kw)
    assert not other.from_cache and len(other.train) > len(first.train)
    # a change to a file's contents rebuilds
    good_tune(src / "t0.mid", 99)
    changed = prepare_corpus(src, encoding=ENC, **kw)
    assert not changed.from_cache and changed.manifest["cache_key"] != first.manifest["cache_key"]
    # refresh rebuilds even when nothing changed; a damaged cache entry is rebuilt too
    assert not prepare_corpus(src, encoding=ENC, refresh=True, **kw).from_cache
    cache_file = Path(changed.manifest["cache_file"])
    cache_file.write_bytes(b"damaged")
    assert not prepare_corpus(src, encoding=ENC, **kw).from_cache
    cache_file.write_bytes(cache_file.read_bytes()[:40])  # a truncated zip: BadZipFile
    assert not prepare_corpus(src, encoding=ENC, **kw).from_cache
    meta = json.loads(Path(changed.manifest["cache_file"]).with_suffix(".json").read_text())
    assert meta["manifest"]["counts"]["files"] == 4 and meta["encoding"]["seq_len"] == 8


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQGAN_MUSIC_CACHE", str(tmp_path / "envcache"))
    good_tune(tmp_path / "src" / "a.mid", 0)
    c = prepare_corpus(tmp_path / "src", encoding=ENC, workers=1, progress=False)
    assert Path(c.manifest["cache_file"]).parent == tmp_path / "envcache"
    assert c.train.shape == (5, 8) and len(c.valid) == len(c.test) == 0  # one tune: train only


def test_transposition_augments_train_only(tmp_path):
    for i in range(10):
        good_tune(tmp_path / "src" / f"t{i}.mid", i)
    kw = dict(cache_dir=tmp_path / "cache", workers=1, progress=False)
    plain = prepare_corpus(tmp_path / "src", encoding=ENC, **kw)
    aug = prepare_corpus(
        tmp_path / "src", encoding=EncodingConfig(seq_len=8, stride=8, transpose=(-1, 1)), **kw
    )
    assert len(aug.train) > len(plain.train)
    assert np.array_equal(aug.train[: len(plain.train)], plain.train)
    assert np.array_equal(aug.valid, plain.valid) and np.array_equal(aug.test, plain.test)


def test_parallel_parsing_matches_serial(tmp_path):
    for i in range(6):
        good_tune(tmp_path / "src" / f"t{i}.mid", i)
    (tmp_path / "src" / "bad.mid").write_bytes(b"MThd junk")
    serial = prepare_corpus(
        tmp_path / "src", encoding=ENC, cache_dir=tmp_path / "a", workers=1, progress=False
    )
    pooled = prepare_corpus(
        tmp_path / "src", encoding=ENC, cache_dir=tmp_path / "b", workers=2, progress=True
    )
    for s in ("train", "valid", "test"):
        assert np.array_equal(serial.split(s), pooled.split(s))
    assert serial.manifest["skipped"] == pooled.manifest["skipped"]


ABC_TWO_TUNES = """X:1
T:Up and down
M:4/4
L:1/4
Q:1/4=200
K:C
C D E F | G A B c | c B A G | F E D C | {/d}C2 [CEG]2 | E F G A | z4 | G F E D |]

X:2
T:Second
M:4/4
L:1/4
K:G
G A B c | d e f g | g f e d | c B A G | G A B c | d e f g | g f e d | c B A G |]
"""


def test_abc_file_with_two_tunes(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "two.abc").write_text(ABC_TWO_TUNES)
    good_tune(tmp_path / "src" / "m.mid", 1)
    c = prepare_corpus(
        tmp_path / "src", encoding=ENC, cache_dir=tmp_path / "cache", workers=1, progress=False
    )
    assert sorted(u["file"] for u in c.manifest["used"]) == ["m.mid", "two.abc#0", "two.abc#1"]
    tokens = read_tune_tokens(tmp_path / "src" / "two.abc")  # the first tune, at a fixed 120 qpm
    assert len(tokens) == 40  # 32 quarters * 0.5 s / 0.4 s; the Q: field is ignored
    assert tokens[:5].tolist() == [40, 42, 44, 44, 45]  # C 0-0.5 s, D 0.5-1, E 1-1.5, F 1.5-2
    assert tokens[23] == 67 - 20  # the [CEG] chord at 9-10 s (centre 9.4 s): its top note
    assert tokens[20:22].tolist() == [40, 40]  # C2 at 8-9 s; its grace note is dropped
    assert tokens[30:35].tolist() == [0] * 5  # z4 at 12-14 s


def test_primer_reads_the_first_steps(tmp_path):
    path = write_midi([0, 40, 41, 42, 43, 44], tmp_path / "p.mid")
    assert read_primer(path, 3).tolist() == [0, 40, 41]
    (tmp_path / "t.abc").write_text(ABC_TWO_TUNES)
    assert read_primer(tmp_path / "t.abc", 2).tolist() == [40, 42]
    with pytest.raises(SeqGANMusicError, match="no notes"):
        read_primer(write_midi([0, 0, 40], tmp_path / "r.mid"), 2)
    with pytest.raises(SeqGANMusicError, match="not a readable MIDI"):
        (tmp_path / "bad.mid").write_bytes(b"junk")
        read_primer(tmp_path / "bad.mid", 2)
    with pytest.raises(SeqGANMusicError, match="no such file"):
        read_primer(tmp_path / "none.mid", 2)


def test_embedded_handful_of_tunes(tmp_path, monkeypatch):
    few = tmp_path / "ryans"
    few.mkdir()
    for p in sorted(corpus_mod.embedded_dir().glob("*.abc"))[:6]:
        shutil.copy(p, few / p.name)
    monkeypatch.setattr(corpus_mod, "embedded_dir", lambda: few)
    c = prepare_corpus("embedded", cache_dir=tmp_path / "cache", workers=1, progress=False)
    assert c.manifest["source"] == "embedded" and c.manifest["split_rule"].startswith("seeded")
    assert c.train.shape[1] == 32 and c.train.min() >= 0 and c.train.max() <= 88
    assert len(c.train) + len(c.valid) + len(c.test) >= 6
    assert prepare_corpus("embedded", cache_dir=tmp_path / "cache", progress=False).from_cache


@pytest.mark.slow
def test_embedded_whole_collection(tmp_path):
    c = prepare_corpus("embedded", cache_dir=tmp_path, progress=False)
    total = len(c.train) + len(c.valid) + len(c.test)
    assert 2700 <= total <= 3500, c.summary
    assert c.manifest["counts"]["files"] == 1059


def test_nottingham_train_split(shared_data, tmp_path):
    c = prepare_corpus(shared_data / "nottingham" / "boulanger_lewandowski_2012",
                       cache_dir=tmp_path, workers=2, progress=False)  # fmt: skip
    assert c.train.shape[1] == 32 and c.train.dtype == np.int64
    assert 0 <= c.train.min() and c.train.max() <= 88
    assert abs(len(c.train) - 3100) / 3100 < 0.05, len(c.train)
    counts = c.manifest["counts"]
    assert (counts["train_tunes"], counts["valid_tunes"], counts["test_tunes"]) == (
        692,
        173,
        170,
    )  # two train tunes are under 32 steps
    assert all(u.get("track") == 0 for u in c.manifest["used"])


def test_entries_that_are_not_regular_files_are_counted_and_never_opened(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(4):
        good_tune(src / f"good{i}.mid", i)
    latin1 = Path(os.fsdecode(bytes(src) + b"/caf\xe9.mid"))  # a Latin-1 name: not UTF-8
    good_tune(latin1, 7)
    (src / "dir.mid").mkdir()
    good_tune(src / "dir.mid" / "inner.mid", 8)  # a folder named like a tune is still searched
    (src / "loop.mid").symlink_to("loop.mid")
    (src / "dangling.mid").symlink_to("nothere.mid")
    os.mkfifo(src / "fifo.mid")  # opening it would block for ever
    (src / "zero.mid").symlink_to("/dev/zero")  # reading it would never end (and is outside)
    good_tune(src / ".hidden.mid", 9)
    (src / "sub").mkdir()
    (src / "sub" / "up").symlink_to("..")  # a folder loop: searched once
    c = prepare_corpus(src, encoding=ENC, cache_dir=tmp_path / "cache", workers=1, progress=False)
    reasons = {s["file"]: s["reason"] for s in c.manifest["skipped"]}
    assert reasons == {
        ".hidden.mid": "hidden file (its name starts with '.')",
        "dangling.mid": "dangling link (its target nothere.mid does not exist)",
        "dir.mid": "a folder, not a file",
        "fifo.mid": "not a regular file (a FIFO)",
        "loop.mid": "symlink loop",
        "zero.mid": "a link to outside the corpus folder (to /dev/zero; not followed)",
    }
    used = sorted(u["file"] for u in c.manifest["used"])
    assert used == ["caf\\xe9.mid", "dir.mid/inner.mid"] + [f"good{i}.mid" for i in range(4)]
    assert "6 skipped" in c.summary and "1 symlink loop" in c.summary
    json.dumps(c.manifest, ensure_ascii=False).encode("utf-8")  # no lone surrogate: printable
    again = prepare_corpus(src, encoding=ENC, cache_dir=tmp_path / "cache", progress=False)
    assert again.from_cache and again.manifest["skipped"] == c.manifest["skipped"]


def test_a_fifo_given_as_the_corpus_is_refused_by_name(tmp_path):
    os.mkfifo(tmp_path / "pipe.mid")
    with pytest.raises(SeqGANMusicError, match=r"pipe.mid: not a regular file \(a FIFO\)"):
        prepare_corpus(tmp_path / "pipe.mid", cache_dir=tmp_path / "cache", progress=False)


def test_the_parse_bar_starts_after_the_first_result(capsys):
    import io

    out = io.StringIO()
    seen = []

    def results():
        for i in range(3):
            seen.append(i)
            yield i

    bar = dict(total=3, desc="parsing", unit="file", disable=False, file=out)
    gen = corpus_mod._bar_from_first(results(), bar)
    assert next(gen) == 0 and out.getvalue() == ""  # no bar yet: start-up is not measured
    assert list(gen) == [1, 2] and seen == [0, 1, 2]
    assert list(corpus_mod._bar_from_first(iter([]), bar)) == []


def busy_midi(path: Path, notes: int) -> Path:
    """A valid one-track MIDI file of `notes` one-tick notes: small (8 bytes a note) but slow to
    parse (100,000 notes: about 15 s here, a 0.8 MB file)."""
    events = b"".join(
        bytes([0, 0x90, 40 + i % 40, 64, 1, 0x80, 40 + i % 40, 0]) for i in range(notes)
    )
    events += b"\x00\xff\x2f\x00"
    header = b"MThd" + (6).to_bytes(4, "big") + bytes([0, 0, 0, 1, 1, 0xE0])
    path.write_bytes(header + b"MTrk" + len(events).to_bytes(4, "big") + events)
    return path


def test_a_file_slow_to_parse_is_stopped_and_skipped_and_one_too_large_is_never_read(
    tmp_path, monkeypatch
):
    import multiprocessing

    src = tmp_path / "src"
    for i in range(4):
        good_tune(src / f"good{i}.mid", i)
    busy_midi(src / "busy.mid", 100_000)
    (src / "huge.mid").write_bytes(b"MThd" + bytes(3_000_000))
    real_read_bytes = Path.read_bytes

    def never_huge(self):
        assert self.name != "huge.mid", "a file over the size cap was read"
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", never_huge)
    c = prepare_corpus(src, encoding=ENC, cache_dir=tmp_path / "c", workers=2, progress=False,
                       max_file_mb=1, parse_timeout=1)  # fmt: skip
    reasons = {s["file"]: s["reason"] for s in c.manifest["skipped"]}
    assert reasons["busy.mid"].startswith("parsing took longer than the 1 s limit (stopped")
    assert reasons["huge.mid"].startswith("larger than the 1 MB limit (3.0 MB")
    assert sorted(u["file"] for u in c.manifest["used"]) == [f"good{i}.mid" for i in range(4)]
    assert "1 parsing took longer than the 1 s limit" in c.summary
    assert "1 larger than the 1 MB limit" in c.summary
    assert multiprocessing.active_children() == []  # the stopped worker is gone too


def test_parse_limits_come_from_the_environment_and_are_checked(tmp_path, monkeypatch):
    src = tmp_path / "src"
    for i in range(3):
        good_tune(src / f"good{i}.mid", i)
    (src / "big.mid").write_bytes(b"MThd" + bytes(20_000))
    monkeypatch.setenv("SEQGAN_MUSIC_MAX_FILE_MB", "0.01")
    c = prepare_corpus(src, encoding=ENC, cache_dir=tmp_path / "c", workers=1, progress=False)
    assert [s["file"] for s in c.manifest["skipped"]] == ["big.mid"]
    assert "larger than the 0.01 MB limit" in c.manifest["skipped"][0]["reason"]
    monkeypatch.setenv("SEQGAN_MUSIC_MAX_FILE_MB", "0")  # no cap: the file is read (and broken)
    c = prepare_corpus(src, encoding=ENC, cache_dir=tmp_path / "c", workers=1, progress=False)
    assert "not a readable MIDI" in c.manifest["skipped"][0]["reason"]
    for bad in ("lots", "-1", "nan"):
        monkeypatch.setenv("SEQGAN_MUSIC_PARSE_TIMEOUT", bad)
        with pytest.raises(SeqGANMusicError, match="SEQGAN_MUSIC_PARSE_TIMEOUT must be a number"):
            prepare_corpus(src, encoding=ENC, cache_dir=tmp_path / "c", progress=False)


def test_data_info_and_prepare_take_the_limits(tmp_path, monkeypatch):
    from helpers import run_cli

    monkeypatch.setenv("SEQGAN_MUSIC_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "src"
    for i in range(3):
        good_tune(src / f"good{i}.mid", i)
    busy_midi(src / "busy.mid", 100_000)
    done = run_cli("data", "info", "--data", src, "--parse-timeout", "1", "--max-file-mb", "0.5")
    assert done.exit_code == 0, done.output
    assert "skipped busy.mid: larger than the 0.5 MB limit (0.8 MB" in done.output
    done = run_cli("data", "prepare", "--data", src, "--parse-timeout", "1", "--quiet")
    assert done.exit_code == 0, done.output
    assert "1 skipped (1 parsing took longer than the 1 s limit)" in done.output
    assert run_cli("data", "info", "--data", src, "--parse-timeout", "nan").exit_code == 2


def test_links_out_of_the_corpus_are_not_followed_and_unreadable_folders_are_counted(
    tmp_path, monkeypatch
):
    src = tmp_path / "corpus"
    for i in range(3):
        good_tune(src / f"good{i}.mid", i)
    for i in range(4):  # beside the corpus, not in it
        good_tune(tmp_path / f"outside{i}.mid", 10 + i)
    (src / "up").symlink_to("..")  # would pull in the four tunes above and the corpus again
    (src / "one.mid").symlink_to(tmp_path / "outside0.mid")
    (src / "sub").mkdir()
    good_tune(src / "sub" / "inner.mid", 5)
    (src / "sub" / "same.mid").symlink_to("../good0.mid")  # a link inside the corpus: followed
    (src / "locked").mkdir()
    good_tune(src / "locked" / "hidden_away.mid", 6)
    real_scandir = os.scandir

    def deny(folder):  # tests run as root, where chmod 000 does not stop listing: simulate it
        if Path(folder).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(folder)

    monkeypatch.setattr(os, "scandir", deny)
    c = prepare_corpus(src, encoding=ENC, cache_dir=tmp_path / "cache", workers=1, progress=False)
    reasons = {s["file"]: s["reason"] for s in c.manifest["skipped"]}
    assert reasons == {
        "up": f"a link to outside the corpus folder (to {tmp_path}; not followed)",
        "one.mid": f"a link to outside the corpus folder (to {tmp_path / 'outside0.mid'}; not "
        "followed)",
        "locked": "unreadable folder (Permission denied)",
    }
    used = sorted(u["file"] for u in c.manifest["used"])
    assert used == ["good0.mid", "good1.mid", "good2.mid", "sub/inner.mid", "sub/same.mid"]
    assert "2 a link to outside the corpus folder, 1 unreadable folder" in c.summary


def test_the_help_states_the_limits_the_corpus_applies():
    from helpers import run_cli

    from seqgan_music.music.io import files

    for command in (["train"], ["data", "prepare"], ["data", "info"]):
        text = " ".join(run_cli(*command, "--help").output.split())
        assert f"over {files.MAX_FILE_MB:g} MB, or slower than {files.PARSE_TIMEOUT_S:g} s" in text
        assert f"${files.MAX_FILE_MB_ENV}, ${files.PARSE_TIMEOUT_ENV}" in text
    text = " ".join(run_cli("data", "info", "--help").output.split())
    assert f"(default {files.PARSE_TIMEOUT_S:g}, or ${files.PARSE_TIMEOUT_ENV}" in text
    assert f"(default {files.MAX_FILE_MB:g}, or ${files.MAX_FILE_MB_ENV}" in text
