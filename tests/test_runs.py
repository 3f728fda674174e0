"""runs.py and models.py directly: finding checkpoints, the metrics log, exporting a slim model."""

import pytest

from seqgan_music.core.checkpoint import read_checkpoint
from seqgan_music.errors import SeqGANMusicError
from seqgan_music.models import export_model, load_checkpoint
from seqgan_music.runs import (
    SHIPPED_CHECKPOINT,
    describe_checkpoint,
    find_checkpoint,
    read_metrics,
)


def test_a_checkpoint_is_found_from_a_file_a_run_or_its_folder(text_run, tmp_path):
    ckpt = text_run / "checkpoint.pt"
    assert find_checkpoint(ckpt) == ckpt and find_checkpoint(text_run) == ckpt
    assert find_checkpoint(text_run.parent) == ckpt  # the folder of runs: its latest
    assert find_checkpoint(None, out_dir=text_run.parent) == ckpt
    assert find_checkpoint(None, out_dir=tmp_path) == SHIPPED_CHECKPOINT  # nothing trained here
    assert "shipped model" in describe_checkpoint(SHIPPED_CHECKPOINT)
    with pytest.raises(SeqGANMusicError, match="not found"):
        find_checkpoint(tmp_path / "nope")


def test_the_metrics_log_has_a_row_per_unit(text_run):
    rows = read_metrics(text_run / "metrics.csv")
    history = read_checkpoint(text_run / "checkpoint.pt")["history"]
    units = [r for r in rows if r["phase"] != "done"]
    assert [(r["phase"], int(r["step"])) for r in units] == [
        (h["phase"], h["step"]) for h in history
    ]


def test_an_exported_model_is_slim_and_samples_the_same(text_run, tmp_path):
    out = export_model(text_run, tmp_path / "slim.pt", notes={"command": "test"})
    assert out.stat().st_size < (text_run / "checkpoint.pt").stat().st_size
    slim = read_checkpoint(out)
    assert "discriminator" not in slim and slim["metadata"]["training"] == {"command": "test"}
    a, b = load_checkpoint(text_run), load_checkpoint(out)
    assert (a.sample(4, seed=3) == b.sample(4, seed=3)).all()
