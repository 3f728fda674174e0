"""The model shipped inside the package: `compose` works right after install, offline."""

from pathlib import Path

import music21
import pretty_midi
import pytest
import torch
from click.testing import CliRunner

from seqgan_music import api
from seqgan_music.cli import cli


def test_shipped_checkpoint_is_small_and_records_its_training() -> None:
    path = api.SHIPPED_CHECKPOINT
    assert path.is_file()
    assert path.stat().st_size < 5 * 1024 * 1024
    payload = torch.load(path, weights_only=True)
    assert payload["metadata"]["domain"] == "music"
    assert "seqgan-music compare" in payload["metadata"]["training"]["command"]
    # the matched-diversity test chose the model and its temperature: compose says so
    chosen = payload["metadata"]["compose"]
    assert chosen["temperature"] > 0 and "matched-diversity test" in chosen["why"]


def test_compose_without_a_run_uses_the_shipped_model(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # no checkpoints/ here
    assert api.find_checkpoint(None) == api.SHIPPED_CHECKPOINT
    result = CliRunner().invoke(cli, ["compose", "--out", "tune.mid", "--seed", "0"])
    assert result.exit_code == 0, result.output
    pm = pretty_midi.PrettyMIDI("tune.mid")
    notes = pm.instruments[0].notes
    assert notes and all(21 <= n.pitch <= 108 for n in notes)
    assert pm.get_end_time() == pytest.approx(128 * 0.4, abs=0.41)  # the default: 128 steps
    score = music21.converter.parse("tune.mid")
    # music21 may split a note at a barline into tied notes: compare the pitches it reads
    assert {n.pitch.midi for n in score.flatten().notes} == {n.pitch for n in notes}


def test_the_readmes_compose_runs_twice_in_a_row(tmp_path: Path, monkeypatch) -> None:
    """The set-up command's `compose` is rerun as it is (a second `train` gets its own run name):
    the second one must not fail on the first one's tune.mid."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    setup = next(line for line in readme.splitlines() if "seqgan-music train &&" in line)
    args = setup.split("&& seqgan-music ")[-1].split()
    assert args[0] == "compose"
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        result = CliRunner().invoke(cli, args + ["--num", "1"])
        assert result.exit_code == 0, result.output


def _readme_rows() -> dict[str, list[str]]:
    """The README's table of shipped models: {file: [command, seed, code, threads]}."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    rows = {}
    for line in readme.splitlines():
        if line.startswith("| `seqgan_music/assets/"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_the_readme_says_how_each_shipped_model_was_made() -> None:
    """Command, seed, commit and threads in the README are those recorded in each file."""
    import re
    import subprocess

    root = Path(__file__).resolve().parents[1]
    assets = sorted(
        p.relative_to(root).as_posix() for p in api.SHIPPED_CHECKPOINT.parent.glob("*.pt")
    )
    rows = _readme_rows()
    assert sorted(rows) == assets
    readme = (root / "README.md").read_text()
    for asset in assets:
        training = torch.load(root / asset, weights_only=True)["metadata"]["training"]
        command, seed, code, threads = rows[asset]
        assert command == f"`{training['command']}`"
        assert seed == str(training["seed"])
        if "code" in training:
            assert code == training["code"]
            if (root / ".git").exists():  # the commit is in this repository's history
                found = subprocess.run(["git", "cat-file", "-e", f"{code}^{{commit}}"], cwd=root)
                assert found.returncode == 0, code
        else:
            assert code.startswith("not recorded")
        given = re.search(r"--threads (\d+)", training["command"])
        assert threads == (given.group(1) if given else "not recorded")
        if "best_valid_epoch" in training:
            assert f"best validation epoch ({training['best_valid_epoch']})" in readme
