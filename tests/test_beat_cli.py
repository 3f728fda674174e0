"""`--encoding beat` end to end: corpus, training, whole-tune compose, rhythm metrics, errors.

The corpus is built here from grid melodies in 4/4 and 6/8 (no committed binaries); training uses
the `tiny` preset.
"""

from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import torch
from click.testing import CliRunner
from helpers import run_cli

from seqgan_music.cli import cli
from seqgan_music.music.beat.encoding import HOLD, BeatEncodingConfig, notes_to_beat_tokens
from seqgan_music.music.beat.tunes import beat_tokens_to_midi, read_beat_tune
from seqgan_music.music.corpus import prepare_corpus
from seqgan_music.music.paper.encoding import EncodingConfig

SPLITS = {"train": 10, "valid": 3, "test": 3}
METRES = {0: ((4, 4), 100.0), 1: ((6, 8), 100.0), 2: ((4, 4), 120.0)}  # 4/4 twice as common


def grid_tune(seed: int, bars: int, metre: tuple[int, int]) -> np.ndarray:
    """A melody of quarter and eighth notes, re-struck repeats and rests, in a C major scale."""
    rng = np.random.default_rng(seed)
    bar = metre[0] * 16 // metre[1]
    notes, t = [], 0
    while t < bars * bar - 2:
        d = int(rng.choice([2, 2, 4]))
        if rng.random() > 0.1:
            notes.append((t, t + d, int(rng.choice([60, 62, 64, 65, 67, 69, 71, 72]))))
        t += d
    s, e, p = (np.array([n[i] for n in notes]) for i in range(3))
    return notes_to_beat_tokens(s, e, p, bars * bar)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("beat")
    k = 0
    for split, n in SPLITS.items():
        (root / "tunes" / split).mkdir(parents=True)
        for _ in range(n):
            metre, qpm = METRES[k % 3]
            pm = beat_tokens_to_midi(grid_tune(k, 12, metre), 4, qpm=qpm, time_signature=metre)
            pm.write(str(root / "tunes" / split / f"tune_{k}.mid"))
            k += 1
    return root


pytestmark = pytest.mark.usefixtures("workdir_cache")  # tests/conftest.py
run = run_cli


@pytest.fixture(scope="module")
def trained(workdir: Path) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEQGAN_MUSIC_CACHE", str(workdir / "cache"))
        result = CliRunner().invoke(
            cli,
            ["train", "--data", str(workdir / "tunes"), "--encoding", "beat", "--preset", "tiny",
             "--out", str(workdir / "ck"), "--run-name", "beat", "--seed", "1", "--quiet"],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    return workdir / "ck" / "beat"


def test_the_checkpoint_keeps_the_encoding_tempo_and_metre(trained: Path) -> None:
    meta = torch.load(trained / "checkpoint.pt", weights_only=True)["metadata"]
    assert meta["corpus"]["encoding"] == "beat" and meta["tokenizer_name"] == "midi-beat"
    state = meta["tokenizer"]["state"]
    # training split: tunes 0..9 -> metres by k % 3: 4/4 x7 (100 or 120 qpm), 6/8 x3 (100 qpm)
    assert state["time_signature"] == [4, 4] and state["qpm"] == pytest.approx(100.0)
    assert meta["seq_len"] == BeatEncodingConfig().seq_len


def test_compose_bars_writes_a_whole_tune_with_tempo_and_metre(trained: Path, workdir: Path):
    out = workdir / "out" / "tune.mid"
    result = run("compose", "--checkpoint", trained, "--out", out, "--bars", "16", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "256 steps" in result.output  # 16 bars of 16 sixteenths, past the 48-step window
    pm = pretty_midi.PrettyMIDI(str(out))
    ts = pm.time_signature_changes[0]
    assert (ts.numerator, ts.denominator) == (4, 4)
    assert pm.get_tempo_changes()[1][0] == pytest.approx(100.0)
    tokens, info = read_beat_tune(out)
    assert len(tokens) == 256 and info["off_grid_notes"] == 0
    default = workdir / "out" / "default.mid"
    result = run("compose", "--checkpoint", trained, "--out", default, "--num", "1", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "128 steps" in result.output  # 8 bars of 4/4 by default
    faster = workdir / "out" / "fast.mid"
    result = run("compose", "--checkpoint", trained, "--out", faster, "--bars", "2", "--tempo",
                 "150", "--seed", "3", "--wav", "--png")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert pretty_midi.PrettyMIDI(str(faster)).get_tempo_changes()[1][0] == pytest.approx(150.0)
    assert faster.with_suffix(".wav").is_file() and faster.with_suffix(".png").is_file()


def test_compose_continues_a_primer_in_its_metre(trained: Path, workdir: Path) -> None:
    primer = workdir / "tunes" / "test" / "tune_13.mid"  # k = 13: 6/8
    out = workdir / "out" / "primed.mid"
    result = run("compose", "--checkpoint", trained, "--out", out, "--primer", primer,
                 "--bars", "8", "--seed", "4")  # fmt: skip
    assert result.exit_code == 0, result.output
    tokens, info = read_beat_tune(out)
    assert info["time_signature"] == [6, 8] and len(tokens) == 8 * 12
    given, _ = read_beat_tune(primer)
    assert np.array_equal(tokens[:24], given[:24])  # a quarter of the bars: the primer's first 2


def test_evaluate_has_rhythm_metrics_beside_the_pitch_metrics(trained: Path) -> None:
    result = run("evaluate", "--checkpoint", trained, "--num", "50")
    assert result.exit_code == 0, result.output
    for row in ("BLEU-4", "MSE", "pitch_range", "notes_per_bar", "strong_beat_share",
                "overlap_note_duration", "overlap_inter_onset_interval"):  # fmt: skip
        assert f"| {row} |" in result.output


def test_corpus_cache_and_manifest_know_the_encoding(workdir: Path) -> None:
    kw = dict(cache_dir=workdir / "cache2", workers=1, progress=False)
    beat = prepare_corpus(workdir / "tunes", encoding=BeatEncodingConfig(), **kw)
    paper = prepare_corpus(workdir / "tunes", encoding=EncodingConfig(), **kw)
    assert beat.manifest["cache_file"] != paper.manifest["cache_file"]
    assert beat.manifest["encoding_name"] == "beat" and paper.manifest["encoding_name"] == "paper"
    again = prepare_corpus(workdir / "tunes", encoding=BeatEncodingConfig(), **kw)
    assert again.from_cache and isinstance(again.encoding, BeatEncodingConfig)
    assert np.array_equal(again.train, beat.train)
    counts = beat.manifest["counts"]
    assert counts["off_grid_notes"] == counts["dropped_notes"] == 0  # rendered on the grid
    assert counts["mid_bar_windows"] == 0  # 48 steps: 3 bars of 4/4, 4 of 6/8
    assert (beat.train[:, 0] != HOLD).all()  # every window decodes on its own


def test_data_prepare_with_the_beat_encoding_and_bad_options(workdir: Path) -> None:
    result = run("data", "prepare", "--data", workdir / "tunes", "--encoding", "beat",
                 "--stride-bars", "1", "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "tunes from" in result.output
    bad = run("data", "prepare", "--data", workdir / "tunes", "--stride-bars", "1", "--quiet")
    assert bad.exit_code == 1 and "--stride-bars is not an option of the paper" in bad.stderr
    bad = run("train", "--data", workdir / "tunes", "--encoding", "jazz")
    assert (
        bad.exit_code == 1 and "unknown encoding 'jazz'; choose one of: beat, paper" in bad.stderr
    )
    bad = run("train", "--data", workdir / "tunes", "--encoding", "paper", "--tokenizer",
              "midi-beat", "--quiet")  # fmt: skip
    assert bad.exit_code == 1 and "does not use tokenizer" in bad.stderr
