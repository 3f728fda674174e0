"""The Python API of seqgan-music: what the CLI calls, and what a notebook user calls.

    import seqgan_music as sm
    result = sm.train("embedded")  # music21's folk tunes, sized for a laptop
    sm.compose("tune.mid", checkpoint=result.checkpoint)
    report = sm.evaluate([result.checkpoint], data="embedded")

A facade: each job lives in a module named for it (training, datasets, run folders, models,
composition, evaluation, the domains' own modules); this one names them in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from seqgan_music.composition import Composition, compose
from seqgan_music.core.distributed import is_main as is_main_process
from seqgan_music.core.distributed import launch_local
from seqgan_music.core.domain import (
    Dataset,
    available_domains,
    domain_for,
    get_domain,
    preset_config,
    register_domain,
)
from seqgan_music.core.metadata import RunMetadata
from seqgan_music.core.model import Model
from seqgan_music.core.runtime import Runtime, runtime_or_default
from seqgan_music.core.trainer import TrainEvent
from seqgan_music.datasets import load_dataset
from seqgan_music.errors import ConfigError, SeqGANMusicError
from seqgan_music.evaluation import (
    EvaluationReport,
    compare,
    compare_seeds,
    evaluate,
    evaluate_compare,
)
from seqgan_music.models import export_model, load_checkpoint
from seqgan_music.quality_diversity import parse_temperatures
from seqgan_music.runs import (
    CHECKPOINT_NAME,
    SHIPPED_CHECKPOINT,
    check_run_name,
    describe_checkpoint,
    find_checkpoint,
    plot_learning_curve,
    read_metrics,
)
from seqgan_music.settings import merge_settings, read_config_file
from seqgan_music.training import TrainResult, build_config, train

__all__ = [
    "CHECKPOINT_NAME",
    "Composition",
    "ConfigError",
    "Dataset",
    "EvaluationReport",
    "Model",
    "RunMetadata",
    "Runtime",
    "SHIPPED_CHECKPOINT",
    "SeqGANMusicError",
    "TrainEvent",
    "TrainResult",
    "available_domains",
    "build_config",
    "compare",
    "compare_seeds",
    "compose",
    "corpus_conditions",
    "data_summary",
    "domain_for",
    "download_corpus",
    "evaluate",
    "evaluate_tunes",
    "evaluate_compare",
    "export_model",
    "check_run_name",
    "describe_checkpoint",
    "find_checkpoint",
    "get_domain",
    "is_main_process",
    "launch_local",
    "load_checkpoint",
    "load_dataset",
    "merge_settings",
    "music_encodings",
    "oracle_presets",
    "parse_temperatures",
    "plot_learning_curve",
    "preset_config",
    "prepare_corpus",
    "read_config_file",
    "read_metrics",
    "register_domain",
    "resolve_oracle",
    "run_oracle_experiment",
    "train",
]


def prepare_corpus(
    data: str = "embedded",
    *,
    seq_len: int | None = None,
    stride: int | None = None,
    step_seconds: float | None = None,
    seed: int = 0,
    progress: bool = True,
    refresh: bool = False,
    encoding: str | None = None,
    max_file_mb: float | None = None,
    parse_timeout: float | None = None,
    **options: Any,
) -> Any:
    """Encode a music corpus to cached token windows (`seqgan-music data prepare`), in the music
    encoding `encoding` ("paper", the default, or "beat"); `options` are that encoding's own
    (beat: steps_per_quarter, stride_bars). A file over `max_file_mb`, or slower to parse than
    `parse_timeout` seconds, is skipped (None: $SEQGAN_MUSIC_MAX_FILE_MB /
    $SEQGAN_MUSIC_PARSE_TIMEOUT, else 16 MB and 60 s; 0: no limit)."""
    from seqgan_music.music.corpus import prepare_corpus as prepare
    from seqgan_music.music.encodings import encoding_config

    config = encoding_config(encoding, seq_len, stride=stride, step_seconds=step_seconds, **options)
    return prepare(data, encoding=config, seed=seed, progress=progress, refresh=refresh,
                   max_file_mb=max_file_mb, parse_timeout=parse_timeout)  # fmt: skip


def data_summary(
    data: str = "embedded", *, seed: int = 0, progress: bool = False, encoding: str | None = None,
    max_file_mb: float | None = None, parse_timeout: float | None = None,
) -> Any:  # fmt: skip
    """A prepared music corpus with its manifest (`seqgan-music data info`); the limits as in
    `prepare_corpus`."""
    from seqgan_music.music.corpus import prepare_corpus as prepare
    from seqgan_music.music.encodings import encoding_config

    return prepare(data, encoding=encoding_config(encoding), seed=seed, progress=progress,
                   max_file_mb=max_file_mb, parse_timeout=parse_timeout)  # fmt: skip


def corpus_conditions(corpus: Any) -> list[str]:
    """`data info`'s lines on a prepared corpus's conditions (music/conditions.py): training
    windows per (metre, mode), tunes per mode source; none for an encoding that reads no mode."""
    from seqgan_music.music.conditions import describe

    return describe(corpus.manifest)


def music_encodings() -> list[str]:
    """The music encodings `--encoding` takes (music/encodings.py: "beat", "paper")."""
    from seqgan_music.music.encodings import available_encodings

    return available_encodings()


def download_corpus(name: str, dest: str | Path, *, url: str | None = None) -> Path:
    """Fetch a public corpus (today: Nottingham), checksum-verified, unpacked atomically."""
    from seqgan_music.music.download import NOTTINGHAM_URL, download_nottingham

    if name != "nottingham":
        raise SeqGANMusicError(f"unknown corpus {name!r}; choose one of: nottingham")
    return download_nottingham(Path(dest), url=url or NOTTINGHAM_URL)


def oracle_presets() -> list[str]:
    """The oracle experiment's preset names."""
    return sorted(get_domain("oracle").presets())


def resolve_oracle(value: str | Path | None) -> Path | None:
    """`--oracle`: "released" (the paper's file beside the checkout), an .npz path, or None."""
    from seqgan_music.oracle.domain import resolve_oracle as resolve

    return resolve(value)


def run_oracle_experiment(
    preset: str = "cpu",
    out_dir: str | Path = "runs/oracle",
    *,
    oracle_path: str | Path | None = None,
    runtime: Runtime | None = None,
    seed: int = 0,
    callback: Any = None,
) -> dict[str, Any]:
    """The paper's synthetic experiment (Table 1, Figure 2): NLL-oracle of MLE vs SeqGAN."""
    from seqgan_music.oracle.experiment import run_oracle_experiment as run

    return run(preset, out_dir, oracle_path=oracle_path, runtime=runtime_or_default(runtime),
               seed=seed, callback=callback)  # fmt: skip


def evaluate_tunes(
    checkpoints: list[str | Path], *, data: str | None, names: list[str] | None = None,
    num: int = 100, seed: int = 0, runtime: Runtime | None = None,
    temperatures: Sequence[float] | None = None,
) -> str:  # fmt: skip
    """Whole-tune metrics of each checkpoint's tunes and the real ones (a markdown table); the
    models' domain must offer them (music). `temperatures`: each model composes at the one whose
    notes per bar match the valid split's real tunes (else at 1)."""
    if data is None:
        raise SeqGANMusicError("--tunes needs --data: a folder with train/, valid/ and test/")
    models = [load_checkpoint(c, runtime=runtime) for c in checkpoints]
    names = names or [str(c) for c in checkpoints]
    scorer = getattr(get_domain(models[0].domain), "evaluate_tunes", None)
    if scorer is None or len({m.domain for m in models}) > 1:
        raise SeqGANMusicError("--tunes scores music models only, one domain at a time")
    return scorer(list(zip(names, models)), data, num=num, seed=seed, temperatures=temperatures)
