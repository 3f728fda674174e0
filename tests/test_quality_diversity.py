"""The matched-diversity test's parts: the temperature match, the grid option, the melody features,
and a model's held-out NLL and entropy at a temperature."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from seqgan_music.core.config import GeneratorConfig
from seqgan_music.core.generator import Generator
from seqgan_music.core.model import Model
from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.features import N_FEATURES, melody_features
from seqgan_music.quality_diversity import (
    DEFAULT_TEMPERATURES,
    SampleCache,
    _panels,
    match_temperature,
    parse_temperatures,
)


def test_match_temperature_interpolates_between_the_bracketing_grid_points() -> None:
    temps, self_bleu = [0.5, 0.8, 1.0, 1.3], [0.97, 0.93, 0.88, 0.80]
    t, ok = match_temperature(temps, self_bleu, 0.90)
    assert ok and t == pytest.approx(0.8 + 0.2 * (0.93 - 0.90) / (0.93 - 0.88))
    assert match_temperature(temps, self_bleu, 0.88) == (1.0, True)  # a grid point itself
    assert match_temperature(temps[::-1], self_bleu[::-1], 0.90)[0] == pytest.approx(t)


def test_match_temperature_says_when_the_grid_does_not_reach_the_target() -> None:
    assert match_temperature([0.5, 1.0, 1.3], [0.9, 0.8, 0.7], 0.99) == (0.5, False)
    assert match_temperature([0.5, 1.0, 1.3], [0.9, 0.8, 0.7], 0.1) == (1.3, False)


def test_match_temperature_takes_the_crossing_nearest_one() -> None:
    # a curve that crosses the target twice (0.6 and 1.15): the nearer to T = 1 wins
    t, ok = match_temperature([0.5, 0.7, 1.0, 1.3], [0.8, 0.9, 0.95, 0.8], 0.85)
    assert ok and t == pytest.approx(1.0 + 0.3 * (0.95 - 0.85) / 0.15)


def test_parse_temperatures() -> None:
    assert parse_temperatures(None) == DEFAULT_TEMPERATURES
    assert parse_temperatures("1, 0.5,0.8,1") == (0.5, 0.8, 1.0)
    assert parse_temperatures("OFF") is None
    for bad in ("a,b", "0,1", "", "-1"):
        with pytest.raises(SeqGANMusicError, match="--temperatures"):
            parse_temperatures(bad)


def test_melody_features_of_a_hand_written_melody() -> None:
    # C4 (token 40) for 2 steps, rest, E4 (44) 1 step, C4 (40) 3 steps, a long rest
    row = np.array([40, 40, 0, 44, 40, 40, 40, 0])
    f = melody_features(row[None])[0]
    assert f.shape == (N_FEATURES,)
    pc = f[:12]  # token 40 = MIDI 60 = C, token 44 = MIDI 64 = E: by sounding steps
    assert pc[(40 - 1) % 12] == pytest.approx(5 / 6) and pc[(44 - 1) % 12] == pytest.approx(1 / 6)
    intervals = f[12:37]  # -12..12: +4 then -4, one each
    assert intervals[12 + 4] == 0.5 and intervals[12 - 4] == 0.5
    lengths = f[37:45]  # notes of 2, 1 and 3 steps
    np.testing.assert_allclose(lengths[:3], [1 / 3, 1 / 3, 1 / 3])
    rest_share, span, mean, used, notes_per_step = f[45:]
    assert (rest_share, span, used, notes_per_step) == (0.25, 4.0, 2.0, 3 / 8)
    assert mean == pytest.approx((5 * 40 + 44) / 6)
    assert not melody_features(np.zeros((1, 8), dtype=int))[0, :45].any()  # all rests


def _model(tmp_path: Path, vocab: int = 6, seq_len: int = 5) -> Model:
    """A random generator; the tokenizer and config are not read by what is tested here."""
    torch.manual_seed(0)
    g = Generator(GeneratorConfig(vocab_size=vocab, seq_len=seq_len))
    path = tmp_path / "m.pt"
    path.write_bytes(b"x")
    return Model(g, None, None, {"domain": "music"}, path)  # type: ignore[arg-type]


def test_token_nll_and_entropy_follow_the_tempered_distribution(tmp_path: Path) -> None:
    model = _model(tmp_path)
    windows = np.random.default_rng(0).integers(0, 6, size=(300, 5))
    nll = model.token_nll(windows)
    expected = model.generator.nll(torch.as_tensor(windows)).item()
    assert nll.shape == (300,) and nll.mean() == pytest.approx(expected, rel=1e-5)
    hot, cold = model.token_entropy(windows, 2.0), model.token_entropy(windows, 0.3)
    plain = model.token_entropy(windows)
    assert (cold < plain).all() and (plain < hot).all()
    assert (hot <= np.log(6) + 1e-9).all()


def test_sample_cache_draws_once_and_keeps_files(tmp_path: Path) -> None:
    model = _model(tmp_path)
    cache = SampleCache(tmp_path / "samples")
    a = cache.get(model, 20, 0.8, 1, 5)
    assert len(list((tmp_path / "samples").glob("*.npy"))) == 1
    np.testing.assert_array_equal(SampleCache(tmp_path / "samples").get(model, 20, 0.8, 1, 5), a)
    b = cache.get(model, 20, 0.8, 2, 5)
    assert not np.array_equal(a, b)


def test_the_matched_test_runs_on_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Built for music first: text has no MSE, BLEU-2/3/4 and n-gram features (its vocabulary
    # hashed into buckets); the verdict, the distribution metrics and the PNG must all be there.
    from seqgan_music.core.runtime import Runtime
    from seqgan_music.evaluation import evaluate
    from seqgan_music.training import train

    monkeypatch.setenv("SEQGAN_MUSIC_CACHE", str(tmp_path / "cache"))
    words = ["cat", "dog", "sat", "ran", "mat", "log", "the", "a", "on", "by"]
    rng = np.random.default_rng(3)
    lines = tmp_path / "lines.txt"  # 200 lines: at least 10 held-out rows a split for the C2ST
    lines.write_text("\n".join(" ".join(rng.choice(words, 5)) for _ in range(200)) + "\n")
    runtime = Runtime.resolve("cpu", set_threads=False)
    run = train(lines, preset="tiny", tokenizer="word", out_dir=tmp_path / "out", seed=1,
                run_name="run", progress=False, runtime=runtime).run_dir  # fmt: skip
    report = evaluate([run / "checkpoint-pretrained.pt", run], names=["MLE", "SeqGAN"],
                      num_samples=30, temperatures=(0.7, 1.3), out_dir=tmp_path / "eval",
                      runtime=runtime)  # fmt: skip
    matched = json.loads((tmp_path / "eval" / "matched.json").read_text())
    assert matched["statistic"] == "Self-BLEU-4"
    metrics = {r["metric"]: r for r in matched["verdict"]}
    assert {"BLEU-2", "BLEU-4", "C2ST accuracy", "Frechet distance", "coverage BLEU-4",
            "held-out NLL", "entropy/token"} <= set(metrics) and "MSE" not in metrics  # fmt: skip
    for model in ("MLE", "SeqGAN"):
        assert 0 <= metrics["C2ST accuracy"][model] <= 1
        assert metrics["Frechet distance"][model] >= 0 and metrics["held-out NLL"][model] > 0
    assert (tmp_path / "eval" / "quality_diversity.png").is_file()
    keys = list(matched["curves"][0])  # text's panels: each BLEU order against its Self-BLEU
    assert ("Self-BLEU-2", "BLEU-2") in _panels(keys, "Self-BLEU-4")
    assert ("distinct-4", "MSE") not in _panels(keys, "Self-BLEU-4")
    assert report.markdown.index("Matched diversity") < report.markdown.index("temperature 1")
