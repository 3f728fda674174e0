"""benchmarks/probe_cli.py, the bad-input probe (issue 21): its judge and its sandbox check can
fail, and two of its cheap cases pass through the real CLI (the whole probe is a benchmark)."""

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "probe_cli.py"


@pytest.fixture(scope="module")
def probe():
    spec = importlib.util.spec_from_file_location("probe_cli", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["probe_cli"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("probe_cli", None)


def test_the_judge_names_each_miss(probe) -> None:
    case = probe.Case("x", [], says="must say")
    one = probe.Result("seqgan-music: error: no\n", 1, "seqgan-music: error: no\n", 0.1)
    assert probe.judge(case, one, [], 10) == ["did not say 'must say'"]
    traced = probe.Result("Traceback (most recent call last):\n", 1, "Traceback\n  x\n", 0.1)
    assert probe.judge(probe.Case("x", []), traced, [], 10) == ["TRACEBACK", "2 lines on stderr"]
    assert probe.judge(probe.Case("x", []), probe.Result("", 0, "", 0.1), [], 10)[0] == "ACCEPTED"
    assert probe.judge(probe.Case("x", []), probe.Result("", None, "", 10), [], 10)[0][:4] == "HANG"
    assert probe.judge(probe.Case("x", [], "ok"), one, ["a/b"], 10) == ["REFUSED (rc 1)",
                                                                     "WROTE a/b"]  # fmt: skip


def test_the_sandbox_sees_writes_outside_the_named_folders(probe, tmp_path: Path) -> None:
    box = probe.Sandbox(tmp_path)
    before = box.snapshot()
    (tmp_path / "out" / "mine").mkdir()
    (tmp_path / "out" / "mine" / "a.mid").write_bytes(b"x")
    (tmp_path / "home" / "stray.txt").write_text("x")
    after = box.snapshot()
    assert probe.written_outside(before, after, ("out/mine",)) == ["home/stray.txt"]
    assert probe.written_outside(before, after, ("out",)) == ["home/stray.txt"]
    assert probe.written_outside(before, after, ("out/min",)) == [
        "home/stray.txt", "out/mine", "out/mine/a.mid"]  # fmt: skip


@pytest.mark.parametrize(
    "argv", [["train", "--data", "tunes", "--set", "nope=1"], ["compose", "--tempo", "nan"]]
)
def test_two_cheap_cases_pass_through_the_cli(probe, argv, tmp_path: Path) -> None:
    box = probe.Sandbox(tmp_path)
    case = probe.Case(" ".join(argv), argv)
    before = box.snapshot()
    res = box.cli(case.argv, 120)
    assert probe.judge(case, res, probe.written_outside(before, box.snapshot(), ()), 120) == []
