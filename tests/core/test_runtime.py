"""The Runtime: device, precision, threads and compile resolved once at the entry, passed down."""

import re
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from seqgan_music.cli import cli
from seqgan_music.core.checkpoint import read_checkpoint
from seqgan_music.core.config import TrainConfig
from seqgan_music.core.runtime import Runtime, runtime_or_default
from seqgan_music.errors import ConfigError

PKG = Path(__file__).resolve().parents[2] / "seqgan_music"


def test_resolve_checks_every_setting():
    runtime = Runtime.resolve("cpu", "bf16", None, "on", set_threads=False)
    assert runtime.device == torch.device("cpu") and runtime.threads == torch.get_num_threads()
    assert runtime.train_settings() == {"precision": "bf16", "compile": "on"}
    assert Runtime.resolve("cpu", set_threads=False).train_settings() == {}  # the run's own
    with pytest.raises(ConfigError, match="precision"):
        Runtime.resolve("cpu", "fp16", set_threads=False)
    with pytest.raises(ConfigError, match="compile"):
        Runtime.resolve("cpu", compile="always", set_threads=False)
    with pytest.raises(ConfigError, match="device"):
        Runtime.resolve("tpu", set_threads=False)
    with pytest.raises(ConfigError, match="compile"):
        TrainConfig(compile="sometimes")


def test_threads_are_set_only_when_asked():
    before = torch.get_num_threads()
    try:
        assert Runtime.resolve("cpu", threads=2).threads == 2 == torch.get_num_threads()
        torch.set_num_threads(1)
        assert runtime_or_default(None).threads == 1  # a library call leaves them alone
    finally:
        torch.set_num_threads(before)


def test_cli_runtime_options_reach_the_checkpoint(tmp_path, monkeypatch):
    """--precision and --compile are stored in the run's config, like every TrainConfig field."""
    monkeypatch.setenv("SEQGAN_MUSIC_CACHE", str(tmp_path / "cache"))
    lines = tmp_path / "lines.txt"
    lines.write_text("\n".join(f"the cat sat on mat number {i % 7}" for i in range(60)) + "\n")
    result = CliRunner().invoke(cli, [
        "train", "--data", str(lines), "--tokenizer", "char", "--preset", "tiny", "--out",
        str(tmp_path / "ck"), "--run-name", "r", "--quiet", "--device", "cpu", "--threads", "1",
        "--precision", "bf16", "--compile", "off",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    train = read_checkpoint(tmp_path / "ck" / "r" / "checkpoint.pt")["config"]["train"]
    assert (train["precision"], train["compile"]) == ("bf16", "off")


def test_a_bad_device_is_one_line(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = CliRunner().invoke(cli, ["compose", "--device", "cuda", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "no CUDA device" in result.stderr
    assert "Traceback" not in result.output


def test_nothing_below_the_entry_resolves_the_runtime():
    """Devices are resolved, threads set and autocast entered only through core/runtime.py (and
    the trainer's own autocast of its configured precision)."""
    rules = {
        r"\bresolve_device\(": {"core/runtime.py", "core/devices.py"},
        r"set_num_threads\(": {"core/runtime.py"},
        r"(?<![.\w])autocast\(": {"core/precision.py", "core/runtime.py", "core/trainer.py"},
    }
    for pattern, allowed in rules.items():
        users = {p.relative_to(PKG).as_posix() for p in PKG.rglob("*.py")
                 if re.search(pattern, p.read_text())}  # fmt: skip
        assert users <= allowed, f"{pattern} used in {sorted(users - allowed)}"
