"""Run folders are the user's data: a run name stays inside --out, a finished run is replaced only
when asked, default names never collide, a killed writer's temp files go, a failed train leaves no
folder behind, and bad settings are refused before the corpus is read."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import run_cli

from seqgan_music import runs, training
from seqgan_music.errors import SeqGANMusicError


@pytest.fixture
def corpus(text_run: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The text corpus the `text_run` fixture trained on, with its cache."""
    root = text_run.parents[1]
    monkeypatch.setenv("SEQGAN_MUSIC_CACHE", str(root / "cache"))
    return root / "lines.txt"


def _train(corpus: Path, out: Path, *args: str):
    return run_cli("train", "--data", corpus, "--tokenizer", "char", "--preset", "tiny",
                   "--quiet", "--out", out, *args)  # fmt: skip


def _one_line(result, code: int, *fragments: str) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("name", ["../../escape", "a/b", "..", ".", "latest", ".hidden", ""])
def test_a_run_name_is_one_folder_inside_out(corpus: Path, tmp_path: Path, name: str) -> None:
    out = tmp_path / "a" / "b" / "out"
    _one_line(_train(corpus, out, "--run-name", name), 2, "--run-name")
    assert not (tmp_path / "a").exists() and not (tmp_path / "escape").exists()
    with pytest.raises(SeqGANMusicError, match="not a plain folder name"):
        training.train(corpus, tokenizer="char", preset="tiny", out_dir=out, run_name=name)


def test_a_finished_run_is_replaced_only_with_force(corpus: Path, text_run: Path, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(text_run, out / "run")
    before = (out / "run" / "checkpoint.pt").read_bytes()
    _one_line(_train(corpus, out, "--run-name", "run"), 1, "holds a run already", "--resume",
              "--force")  # fmt: skip
    assert (out / "run" / "checkpoint.pt").read_bytes() == before
    result = _train(corpus, out, "--run-name", "run", "--force", "--seed", "5")
    assert result.exit_code == 0, result.output
    assert (out / "run" / "checkpoint.pt").read_bytes() != before


def test_runs_started_in_the_same_second_get_their_own_names(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(runs.time, "strftime", lambda fmt: "run-20260101-000000")
    names = [runs.claim_default_name(tmp_path) for _ in range(3)]
    assert names == ["run-20260101-000000", "run-20260101-000000-2", "run-20260101-000000-3"]
    assert all((tmp_path / n).is_dir() for n in names)


def test_a_start_removes_its_runs_stale_temp_files(corpus: Path, text_run: Path, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(text_run, out / "run")
    stale = [out / "run" / ".checkpoint.pt.k3x9.tmp", out / "run" / ".metrics.csv.q1.tmp"]
    for path in stale:
        path.write_bytes(b"half a write")
    (out / ".latest.z.tmp").write_text("another run's\n")  # not this run's folder: kept
    result = _train(corpus, out, "--run-name", "run", "--resume")
    assert result.exit_code == 0, result.output
    assert not any(p.exists() for p in stale) and (out / ".latest.z.tmp").exists()


def test_a_failed_train_leaves_no_folder_behind(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "checkpoints"
    result = _train(corpus, out, "--set", "select_on=nonsense_metric")
    _one_line(result, 1, "select_on names nonsense_metric", "valid_nll")
    assert not out.exists()


@pytest.mark.parametrize(
    "args, fragment",
    [(("--set", "rollout_num=1000000000"), "lower rollout_num"),
     (("--set", "batch_size=0"), "batch_size must be at least 1"),
     (("--set", "no_such=1"), "unknown train setting(s): no_such"),
     (("--set", "temperature=NaN"), "temperature must be a finite number"),
     (("--preset", "huge"), "unknown preset 'huge'")],
)  # fmt: skip
def test_settings_are_checked_before_the_corpus_is_read(
    corpus: Path, tmp_path: Path, monkeypatch, args: tuple[str, ...], fragment: str
) -> None:
    def never(*a, **k):
        raise AssertionError("the corpus was read before the settings were checked")

    monkeypatch.setattr(training, "load_dataset", never)
    _one_line(_train(corpus, tmp_path / "out", *args), 1, fragment)
    assert not (tmp_path / "out").exists()
