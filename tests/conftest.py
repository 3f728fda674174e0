"""Shared fixtures. Real corpora live in ../shared/data beside the checkout; tests that need them
skip with a clear reason when it is absent (they are never copied into the repository)."""

from pathlib import Path

import pytest
import torch

# Test tensors are tiny: one intra-op thread is faster than two, and keeps the suite's timing
# steady when the machine's two cores are shared.
torch.set_num_threads(1)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real corpora not available: {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture
def workdir_cache(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Corpus caches under the module's `workdir` fixture (each CLI test module has one), so
    the module's tests share them and nothing lands in ~/.cache."""
    monkeypatch.setenv("SEQGAN_MUSIC_CACHE", str(workdir / "cache"))


@pytest.fixture(scope="session")
def text_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny char-level training run (a few seconds) for the job modules' direct tests: its
    run folder under out/, the corpus beside it as lines.txt."""
    from seqgan_music.core.runtime import Runtime
    from seqgan_music.training import train

    root = tmp_path_factory.mktemp("text_run")
    lines = root / "lines.txt"
    lines.write_text("\n".join(f"the cat sat on mat number {i % 7}" for i in range(60)) + "\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEQGAN_MUSIC_CACHE", str(root / "cache"))
        result = train(lines, preset="tiny", tokenizer="char", out_dir=root / "out",
                       run_name="run", seed=1, progress=False,
                       runtime=Runtime.resolve("cpu", set_threads=False))  # fmt: skip
    return result.run_dir
