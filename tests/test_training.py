"""training.py directly: a run folder, its files, resuming, presets with overrides."""

import json

import pytest

from seqgan_music.core.checkpoint import read_checkpoint
from seqgan_music.datasets import load_dataset
from seqgan_music.errors import ConfigError, SeqGANMusicError
from seqgan_music.runs import read_latest, read_metrics
from seqgan_music.training import build_config, train


def test_a_run_folder_holds_what_the_docstring_promises(text_run):
    names = {p.name for p in text_run.iterdir()}
    assert {"checkpoint.pt", "checkpoint-pretrained.pt", "config.json", "metrics.csv"} <= names
    assert read_latest(text_run.parent) == "run"
    state = read_checkpoint(text_run / "checkpoint.pt")
    assert state["phase"] == "done" and state["metadata"]["tokenizer_name"] == "char"
    assert json.loads((text_run / "config.json").read_text()) == state["config"]
    phases = {row["phase"] for row in read_metrics(text_run / "metrics.csv")}
    assert {"g_pretrain", "d_pretrain", "adversarial"} <= phases


def test_resume_continues_the_run_it_names(text_run, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQGAN_MUSIC_CACHE", str(tmp_path / "cache"))
    lines = text_run.parent.parent / "lines.txt"
    out = tmp_path / "out"
    cut = train(lines, preset="tiny", tokenizer="char", out_dir=out, run_name="r", seed=1,
                progress=False, max_units=2)  # fmt: skip
    assert read_checkpoint(cut.checkpoint)["phase"] != "done"
    done = train(lines, out_dir=out, resume=True, progress=False)
    assert done.run_dir == cut.run_dir and read_checkpoint(done.checkpoint)["phase"] == "done"
    with pytest.raises(SeqGANMusicError, match="nothing to resume"):
        train(lines, out_dir=tmp_path / "empty", resume=True, progress=False)


def test_build_config_sizes_the_preset_and_checks_overrides(text_run):
    lines = text_run.parent.parent / "lines.txt"
    dataset = load_dataset(lines, tokenizer="char", progress=False)
    config = build_config(dataset, "tiny", {"adv_rounds": 3})
    assert config.generator.vocab_size == dataset.tokenizer.vocab_size
    assert config.generator.seq_len == dataset.seq_len and config.train.adv_rounds == 3
    with pytest.raises(ConfigError):
        build_config(dataset, "tiny", {"adv_rounds": -1})
    with pytest.raises(ConfigError, match="unknown preset"):
        build_config(dataset, "huge")
