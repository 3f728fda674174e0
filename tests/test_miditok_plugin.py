"""The MidiTok plugin (seqgan_music_miditok, registered only through entry points): a third-party
encoding trains, composes and evaluates end to end through the public API."""

from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip(
    "miditok", reason="the miditok extra is not installed: pip install -e .[miditok]"
)
if "remi" not in {ep.name for ep in entry_points(group="seqgan_music.encodings")}:
    pytest.skip("the remi entry point is not installed: reinstall with pip install -e .",
                allow_module_level=True)  # fmt: skip

import seqgan_music as sm  # noqa: E402
from seqgan_music.core.runtime import Runtime  # noqa: E402
from seqgan_music.errors import SeqGANMusicError  # noqa: E402
from seqgan_music.music.beat.encoding import notes_to_beat_tokens  # noqa: E402
from seqgan_music.music.beat.tunes import beat_tokens_to_midi  # noqa: E402
from seqgan_music.music.io.midi import load_midi  # noqa: E402
from seqgan_music_miditok import RemiTokenizer, pitch_frames  # noqa: E402

CPU = Runtime.resolve("cpu", set_threads=False)


def _tune(rng: np.random.Generator, bars: int = 12) -> list[tuple[int, int, int]]:
    notes, t = [], 0
    while t < bars * 16 - 2:
        d = int(rng.choice([2, 2, 4]))
        notes.append((t, t + d, int(rng.choice([60, 62, 64, 65, 67, 69, 71, 72]))))
        t += d
    return notes


def _write(notes: list[tuple[int, int, int]], path: Path) -> None:
    s, e, p = (np.array([n[i] for n in notes]) for i in range(3))
    beat_tokens_to_midi(notes_to_beat_tokens(s, e, p, s.max() + 4), 4, qpm=100).write(str(path))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("remi") / "tunes"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for k in range(12):
        _write(_tune(rng), folder / f"t{k}.mid")
    return folder


def test_a_melody_round_trips_through_remi(corpus):
    tok = RemiTokenizer()
    ids = tok.encode(corpus / "t0.mid")
    score = tok.decode(ids)
    got = [(n.time * 4 // score.tpq, n.pitch) for n in score.tracks[0].notes]  # sixteenths
    pm = load_midi(corpus / "t0.mid")
    want = [(round(pm.time_to_tick(n.start) * 4 / pm.resolution), n.pitch)
            for n in pm.instruments[0].notes]  # fmt: skip
    assert got == want
    frames = pitch_frames(tok, np.array([ids]))
    assert frames.max() == max(p for _, p in want) - 20 and frames[0, 0] == 0  # Bar first


def test_remi_trains_composes_and_evaluates(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQGAN_MUSIC_CACHE", str(tmp_path / "cache"))
    run = sm.train(corpus, preset="tiny", domain_options={"encoding": "remi"},
                   out_dir=tmp_path / "ck", progress=False, runtime=CPU)  # fmt: skip
    assert "tunes" in run.corpus_summary
    model = sm.load_checkpoint(run.checkpoint, runtime=CPU)
    assert model.tokenizer.name == "midi-remi" and model.tokenizer.qpm == 100
    pieces = sm.compose(tmp_path / "out.mid", model=model, num=2, seed=0, runtime=CPU)
    assert [p.path.name for p in pieces] == ["out.mid", "out-2.mid"]
    assert all(len(p.tokens) == 4 * model.tokenizer.seq_len for p in pieces)
    load_midi(pieces[0].path)  # a readable MIDI file
    with pytest.raises(SeqGANMusicError, match="--bars is not supported by the remi encoding"):
        sm.compose(tmp_path / "x.mid", model=model, bars=4, runtime=CPU)
    report = sm.evaluate([run.checkpoint], num_samples=50, runtime=CPU)
    metrics = {row["metric"] for row in report.rows}
    assert {"BLEU-4", "MSE", "pitch_range"} <= metrics
