"""Run folders: where a training run writes, and how the latest one (or a checkpoint) is found.

`out_dir/<run>/` holds checkpoint.pt (resumable), checkpoint-pretrained.pt, config.json,
metrics.csv and curve.png; `out_dir/latest` names the newest run. A checkpoint is found from a
file, a run folder, or (nothing given) the latest run, else the model shipped in the package.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from seqgan_music.core import distributed
from seqgan_music.core.curves import pyplot, read_rows_csv, write_rows_csv
from seqgan_music.core.files import LOCK_NAME, atomic_write_text
from seqgan_music.core.trainer import SeqGANTrainer, TrainEvent
from seqgan_music.errors import SeqGANMusicError

CHECKPOINT_NAME = "checkpoint.pt"
LATEST_FILE = "latest"
METRICS_COLUMNS = ("phase", "step", "total")
SHIPPED_CHECKPOINT = Path(__file__).resolve().parent / "assets" / "folk-small.pt"


def read_latest(out_dir: Path) -> str | None:
    """The run name in `out_dir/latest`, or None."""
    latest = out_dir / LATEST_FILE
    if not latest.exists():
        return None
    name = latest.read_text().strip()
    return name or None


def write_latest(out_dir: Path, run_name: str) -> None:
    """Point `out_dir/latest` at `run_name` (written atomically)."""
    atomic_write_text(out_dir / LATEST_FILE, run_name + "\n")


def check_run_name(name: str) -> str:
    """A run name is one folder name inside `out_dir`: never a path that leads elsewhere."""
    if (
        not isinstance(name, str) or not name.strip() or name in (".", "..", LATEST_FILE)
        or "/" in name or "\\" in name or "\0" in name or name.startswith(".")
    ):  # fmt: skip
        raise SeqGANMusicError(
            f"run name {name!r} is not a plain folder name: give one name without '/' or a "
            f"leading '.', and not {LATEST_FILE!r}"
        )
    return name


def claim_default_name(out_dir: Path) -> str:
    """run-<date>-<time>, with -2, -3, ... when that folder exists: two runs started in the same
    second each get their own (the folder is created here, atomically, to claim the name)."""
    stamp = time.strftime("run-%Y%m%d-%H%M%S")
    out_dir.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        name = stamp if n == 1 else f"{stamp}-{n}"
        try:
            (out_dir / name).mkdir()
        except FileExistsError:
            continue
        return name
    raise SeqGANMusicError(f"{out_dir}: no free run name for {stamp}")


def run_folder(
    out_dir: Path, run_name: str | None, resume: bool, init_from: str | Path | None,
    force: bool = False,
) -> tuple[Path, Path | None]:  # fmt: skip
    """The run folder, and the checkpoint the run starts from (None: from scratch). A folder that
    holds a run already is continued only with `resume`, replaced only with `force`."""
    if run_name is not None:
        check_run_name(run_name)
    start_from = None
    if init_from is not None and not resume:  # a file, a run folder or a folder of runs
        if not Path(init_from).exists():
            raise SeqGANMusicError(f"nothing to start from: {init_from} does not exist")
        start_from = find_checkpoint(init_from)
    if resume:
        run_name = run_name or read_latest(out_dir)
        if run_name is None:
            raise SeqGANMusicError(f"nothing to resume: no run under {out_dir}")
        start_from = out_dir / run_name / CHECKPOINT_NAME
        if not start_from.exists():
            raise SeqGANMusicError(f"nothing to start from: {start_from} does not exist")
    elif run_name is not None and not force and (out_dir / run_name / CHECKPOINT_NAME).exists():
        raise SeqGANMusicError(
            f"{out_dir / run_name} holds a run already: give --resume to continue it, --force to "
            "replace it, or another --run-name"
        )
    if run_name is None and distributed.is_main():
        run_name = claim_default_name(out_dir)
    return out_dir / str(distributed.broadcast_object(run_name)), start_from  # rank 0's name


# What a run folder holds besides its lock: removed first when `force` replaces a run.
RUN_FILES = (CHECKPOINT_NAME, "checkpoint-pretrained.pt", "config.json", "metrics.csv",
             "curve.png")  # fmt: skip


def only_lock(folder: Path) -> bool:
    return {p.name for p in folder.iterdir()} <= {LOCK_NAME}


@contextlib.contextmanager
def kept_if_used(folder: Path, new: bool) -> Iterator[None]:
    """Create `folder`; if it is `new` (or held nothing but a lock) and the run fails leaving
    nothing but its lock, remove it: a failed `train` leaves no empty run folder or `--out`."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        if new and distributed.is_main() and folder.is_dir() and only_lock(folder):
            (folder / LOCK_NAME).unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


class MetricsLog:
    """Keeps one CSV row per finished unit and forwards each TrainEvent to the callback.

    The rows start from the trainer's own history, so after a resume the CSV holds exactly the
    units in the checkpoint: a unit logged but lost to a kill before its save is not doubled.
    """

    def __init__(self, path: Path, forward: Callable[[TrainEvent], None] | None) -> None:
        self.path = path
        self.forward = forward
        self.rows: list[dict[str, Any]] = []

    def start_from(self, trainer: SeqGANTrainer) -> None:
        self.rows = [
            {"phase": h["phase"], "step": h["step"], "total": trainer.phase_total(h["phase"]),
             **h["metrics"]}
            for h in trainer.history
        ]  # fmt: skip
        if trainer.phase == "done":  # a finished run resumed: its "done" row is not in history
            total = trainer.phase_total("adversarial")
            kept = trainer.selected_round
            self.rows.append({"phase": "done", "step": trainer.step, "total": total,
                              **({} if kept is None else {"selected_round": kept})})  # fmt: skip
        write_rows_csv(self.path, self.rows, METRICS_COLUMNS)

    def __call__(self, event: TrainEvent) -> None:
        self.rows.append(
            {"phase": event.phase, "step": event.step, "total": event.total, **event.metrics}
        )
        write_rows_csv(self.path, self.rows, METRICS_COLUMNS)
        if self.forward is not None:
            self.forward(event)


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The rows of a run's metrics.csv (values as strings)."""
    return read_rows_csv(path)


def plot_learning_curve(metrics_csv: Path, png: Path) -> Path | None:
    """The run's diagnostics per unit, phases in order, as a PNG (None without matplotlib or
    rows): validation NLL; mean reward and D's accuracy on fresh negatives and held-out
    positives (a saturating D shows as accuracies near 1 and rewards near 0); validation BLEU
    and, for music, MSE."""
    plt = pyplot()
    rows = read_metrics(metrics_csv)
    if plt is None or not any(r.get("valid_nll") for r in rows):
        return None
    xs = list(range(1, len(rows) + 1))  # one x per unit, phases laid end to end
    boundaries = [i for i in range(1, len(rows)) if rows[i]["phase"] != rows[i - 1]["phase"]]
    quality = sorted({k for r in rows for k in r if k.startswith("valid_") and k != "valid_nll"})
    kept = _kept_round_x(rows, xs)
    panels = [["valid_nll"], ["reward", "d_acc_fake", "d_acc_valid"], quality]
    panels = [cols for cols in panels if any(r.get(c) for r in rows for c in cols)]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.6 * len(panels)), sharex=True,
                             squeeze=False)  # fmt: skip
    for ax, cols in zip(axes[:, 0], panels):
        for col in cols:
            pts = [(xs[i], float(r[col])) for i, r in enumerate(rows) if r.get(col)]
            target = ax.twinx() if col == "valid_mse" else ax
            target.plot(*zip(*pts), marker=".", label=col, color="grey" if target is not ax
                        else None)  # fmt: skip
            if target is not ax:
                target.set_ylabel("valid_mse")
        for boundary in boundaries:
            ax.axvline(boundary + 0.5, color="grey", linestyle=":", linewidth=0.8)
        if kept is not None:
            ax.axvline(kept, color="tab:red", linestyle="--", linewidth=0.9, label="kept round")
        ax.legend(fontsize=7, loc="best")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("validation NLL per token")
    axes[-1, 0].set_xlabel("unit: G pre-training epochs, D pre-training rounds, adversarial "
                           "rounds (dotted lines between phases)")  # fmt: skip
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png


def _kept_round_x(rows: list[dict[str, Any]], xs: list[int]) -> int | None:
    """The x of the adversarial round `select_on` kept (the done row names it), if any."""
    done = next((r for r in rows if r["phase"] == "done" and r.get("selected_round")), None)
    if done is None:
        return None
    kept = int(float(done["selected_round"]))
    return next((x for x, r in zip(xs, rows)
                 if r["phase"] == "adversarial" and int(r["step"]) == kept), None)  # fmt: skip


def find_checkpoint(path: str | Path | None = None, out_dir: str | Path = "checkpoints") -> Path:
    """A checkpoint from a file, a run folder, the folder `train --out` wrote (its latest run),
    that folder's `latest` file, or (None) the latest run under `out_dir`, else the shipped one."""
    if path is not None:
        p = Path(path)
        if p.is_file() and p.name == LATEST_FILE:  # the pointer file itself
            p = p.parent
        if p.is_dir() and not (p / CHECKPOINT_NAME).exists() and read_latest(p) is not None:
            p = p / str(read_latest(p))  # the folder of runs: its latest one
        if p.is_dir():
            p = p / CHECKPOINT_NAME
        if not p.exists():
            raise SeqGANMusicError(f"checkpoint not found: {path}")
        return p
    latest = read_latest(Path(out_dir))
    if latest is not None and (Path(out_dir) / latest / CHECKPOINT_NAME).exists():
        return Path(out_dir) / latest / CHECKPOINT_NAME
    if not SHIPPED_CHECKPOINT.exists():
        raise SeqGANMusicError("no checkpoint given, none trained, and no shipped model found")
    return SHIPPED_CHECKPOINT


def describe_checkpoint(path: Path, *, given: bool = False) -> str:
    """Which model this is, in words: the shipped model or a path (for `compose` to say);
    `given`: the user named it (so it was not a fallback for want of a trained run)."""
    if Path(path).resolve() == SHIPPED_CHECKPOINT:
        why = "" if given else " (no trained run under ./checkpoints)"
        return f"the shipped model {SHIPPED_CHECKPOINT.name}{why}"
    return str(path)
