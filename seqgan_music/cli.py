"""The `seqgan-music` command: a thin click layer over the Python API (`seqgan_music.api`).

Exit status: 0 done; 2 a usage error (an unknown option, a value out of its range), one line;
1 every other error, the project's own turned into one line on stderr (`--debug` shows the
traceback instead); 130 interrupted.
"""

from __future__ import annotations

import functools
import json
import math
import os
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from seqgan_music import __version__
from seqgan_music.errors import SeqGANMusicError, SeqGANMusicWarning


class FiniteRange(click.FloatRange):
    """click's FloatRange that also refuses NaN (which compares False with every bound) and
    infinities: `--tempo nan` is a usage error, not a traceback or a silent NaN."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


# Bounds on what a command may ask for, far past any use (a million steps is 4.8 days of music at
# 0.4 s a step), so that `--length 1000000000` is a one-line error instead of 32 GB asked for.
MAX_STEPS = 1 << 20
MAX_SAMPLES = 100_000
SEED = click.IntRange(0, 2**63 - 1)

DEVICE = click.Choice(["auto", "cpu", "cuda"])
device_option = click.option(
    "--device", type=DEVICE, default="auto", show_default=True,
    help="auto (CUDA when present), cpu or cuda.",
)  # fmt: skip
quiet_option = click.option("--quiet", is_flag=True, help="No progress bars.")
precision_option = click.option(
    "--precision", type=click.Choice(["fp32", "bf16", "auto"]), default=None,
    help="Matmul precision: bf16 (mixed: float32 weights, bf16 matmuls), fp32, or auto (bf16 "
    "where the device has fast bf16 matmul; the presets' default).",
)  # fmt: skip


threads_option = click.option(
    "--threads", type=click.IntRange(min=1), default=None,
    help="CPU threads (default: $OMP_NUM_THREADS, else every core, waiting passively so a busy "
    "machine does not slow them many times over).",
)  # fmt: skip
compile_option = click.option(
    "--compile", "compile_mode", type=click.Choice(["auto", "on", "off"]), default=None,
    help="torch.compile the hot paths: on, off, or auto (where it pays); default: the run's "
    "setting (stored in its checkpoint like --precision).",
)  # fmt: skip


def runtime_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--device, --precision, --threads and --compile, resolved once into one `runtime` argument
    (seqgan_music.core.runtime.Runtime) that the command passes down; place it below
    `friendly_errors`, so a bad device is a one-line error."""

    @functools.wraps(fn)
    def wrapper(*args: Any, device: str, precision: str | None, threads: int | None,
                compile_mode: str | None, **kwargs: Any) -> Any:  # fmt: skip
        from seqgan_music import Runtime  # threads are set before torch loads: not the facade

        runtime = Runtime.resolve(device, precision, threads, compile_mode)
        return fn(*args, runtime=runtime, **kwargs)

    for option in (compile_option, threads_option, precision_option, device_option):
        wrapper = option(wrapper)
    return wrapper


settings_option = click.option(
    "--set", "settings", multiple=True, metavar="NAME=VALUE",
    help="Override one TrainConfig field, e.g. --set adv_rounds=50 (repeatable).",
)  # fmt: skip
_debug = False


def _fail(message: str) -> None:
    click.echo(f"seqgan-music: error: {message}", err=True)
    sys.exit(1)


REPORT_HINT = (
    "seqgan-music: this is a bug, not a problem with your input: please report it with the "
    "traceback above"
)


def _os_error_line(err: OSError) -> str:
    """An OS error as one sentence that names its file."""
    what = err.strerror or str(err) or type(err).__name__
    return f"{err.filename}: {what}" if err.filename else what


def friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """One line and exit 1 for the project's own errors and OS errors; anything else is a bug:
    its traceback, then a one-line hint to report it (--debug shows every traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except KeyboardInterrupt:
            click.echo(
                "seqgan-music: interrupted; training state up to the last finished epoch or round "
                "is saved: continue with `seqgan-music train --resume`",
                err=True,
            )
            sys.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except SeqGANMusicError as err:
            if _debug:
                raise
            _fail(str(err).splitlines()[0] if str(err) else type(err).__name__)
        except OSError as err:  # unwritable --out, full disk, ...
            if _debug:
                raise
            _fail(_os_error_line(err))
        except Exception:
            traceback.print_exc()
            click.echo(REPORT_HINT, err=True)
            sys.exit(1)

    return wrapper


def _parse_overrides(pairs: tuple[str, ...]) -> dict[str, Any]:
    """`--set g_pretrain_epochs=10 --set baseline=true` -> {"g_pretrain_epochs": 10, ...}."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--set")
        key, value = pair.split("=", 1)
        if not key.strip():
            raise click.BadParameter(f"{pair!r} has no setting name before '='", param_hint="--set")
        try:
            out[key.strip()] = json.loads(
                value.lower() if value.lower() in ("true", "false") else value
            )
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


class SamplingBar:
    """A bar for long composes, opened by the first report (the generator reports every 256
    steps, so a short compose never shows one)."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.started = time.time()  # tqdm's clock; the first report's rate counts from here

    def __call__(self, steps: int, length: int) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=length, desc="sampling", unit="step", file=sys.stderr,
                            dynamic_ncols=True, delay=1.0)  # fmt: skip
            self.bar.start_t = self.started
        self.bar.update(steps - self.bar.n)

    def __enter__(self) -> SamplingBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


class ProgressBars:
    """A tqdm bar per training phase, fed by the trainer's callback."""

    def __init__(self, threads: int | None = None) -> None:
        self.bar = None
        self.phase = None
        self.threads = threads  # shown in each bar's label

    def _label(self) -> str:
        """ " [2 ranks x 1 thread]" under torchrun, " [1 thread]" alone, "" without a count."""
        world = int(os.environ.get("WORLD_SIZE", "1"))  # torchrun's; the bars run on rank 0
        ranks = f"{world} ranks x " if world > 1 else ""
        if self.threads is None:
            return f" [{world} ranks]" if world > 1 else ""
        return f" [{ranks}{self.threads} thread{'s' if self.threads > 1 else ''}]"

    def __call__(self, event: Any) -> None:
        from tqdm import tqdm

        if event.phase != self.phase:
            self.close()
            self.phase = event.phase
            if event.phase == "done":
                return
            # The first event arrives after the first unit: start the bar one unit earlier, that
            # unit's wall time ago, so the first ETA is that unit's time (not "?" or a guess).
            self.bar = tqdm(
                total=event.total,
                initial=max(event.step - 1, 0),
                desc=f"{event.phase}{self._label()}",
                unit="unit",
                file=sys.stderr,
                dynamic_ncols=True,
                smoothing=0,  # units are alike: the mean rate since the start is the best guess
            )
            self.bar.start_t -= getattr(event, "seconds", 0.0)
        if self.bar is not None:
            self.bar.n = event.step
            shown = {k: f"{v:.3g}" for k, v in event.metrics.items() if isinstance(v, float)}
            self.bar.set_postfix(shown, refresh=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class _OneLineUsageError(click.UsageError):
    """click's usage error shown as one line (click prints a usage line, a hint and the error)."""

    def show(self, file: Any = None) -> None:
        where = f" (see `{self.ctx.command_path} --help`)" if self.ctx is not None else ""
        click.echo(f"seqgan-music: error: {self.format_message()}{where}", err=True)


class _Group(click.Group):
    """The command group whose parsing errors, its own and its subcommands', are one line."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as err:
            raise _one_line(err) from err

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as err:
            raise _one_line(err) from err


# A group called without its command shows its help (click raises it as a usage error).
_HELP_ERRORS = tuple(
    cls for cls in (getattr(click.exceptions, "NoArgsIsHelpError", None),) if cls is not None
)


def _one_line(err: click.UsageError) -> click.UsageError:
    if isinstance(err, (_OneLineUsageError, *_HELP_ERRORS)):
        return err
    one = _OneLineUsageError(err.format_message().splitlines()[0], err.ctx)
    one.exit_code = err.exit_code
    return one


@click.group(
    cls=_Group,
    epilog="Examples:\n\n  seqgan-music train\n\n  seqgan-music compose --out tune.mid\n\n"
    "  seqgan-music evaluate --checkpoint checkpoints/mle --checkpoint checkpoints/seqgan "
    "--data nottingham",
)
@click.version_option(__version__, prog_name="seqgan-music")
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
def cli(debug: bool) -> None:
    """Train SeqGAN on folk-tune MIDI or text, compose tunes, evaluate models.

    Exit status: 0 done, 2 usage error (an unknown option, a value out of range), 1 any other
    error, 130 interrupted."""
    global _debug
    _debug = debug
    warnings.showwarning = _show_warning


_plain_showwarning = warnings.showwarning


def _show_warning(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    """The project's warnings as one line on stderr; others as Python shows them."""
    if issubclass(category, SeqGANMusicWarning):
        click.echo(f"seqgan-music: warning: {message}", err=True)
    else:
        _plain_showwarning(message, category, *args, **kwargs)


DATA_HELP = (
    "Corpus: 'embedded' (music21's folk tunes, no download), 'nottingham' (after `data download`), "
    "a folder of MIDI/ABC files, or a text file / poems folder (with --tokenizer). A MIDI/ABC "
    "file over 16 MB, or slower than 60 s to parse, is skipped and counted "
    "($SEQGAN_MUSIC_MAX_FILE_MB, $SEQGAN_MUSIC_PARSE_TIMEOUT; 0: no limit)."
)  # the limits of music/io/files.py (tested), written out: the CLI imports only the facade
data_option = click.option("--data", default="embedded", show_default=True, help=DATA_HELP)


def parse_limit_options(f: Callable) -> Callable:
    """--max-file-mb and --parse-timeout: the corpus's per-file limits (music/corpus.py)."""
    f = click.option(
        "--parse-timeout", type=FiniteRange(min=0), default=None, metavar="SECONDS",
        help="Stop and skip a file that takes longer to parse (default 60, or "
        "$SEQGAN_MUSIC_PARSE_TIMEOUT; 0: no limit).",
    )(f)  # fmt: skip
    return click.option(
        "--max-file-mb", type=FiniteRange(min=0), default=None, metavar="MB",
        help="Skip, unread, a file larger than this (default 16, or $SEQGAN_MUSIC_MAX_FILE_MB; "
        "0: no limit).",
    )(f)  # fmt: skip


tokenizer_option = click.option(
    "--tokenizer", default=None,
    help="Tokenizer for text corpora: char (the default for a .txt file), word, ...",
)  # fmt: skip
seq_len_option = click.option(
    "--seq-len", type=click.IntRange(1, MAX_STEPS), default=None,
    help="Sequence length (music: 32 steps with --encoding paper, 48 with beat).",
)  # fmt: skip
encoding_option = click.option(
    "--encoding", default=None, metavar="NAME",
    help="Music encoding: paper (a pitch every 0.4 s, the default), beat (a sixteenth-note "
    "grid of note-on, hold and rest on the file's own tempo and metre), or an installed "
    "plugin's (remi, with the miditok extra); an unknown name lists the choices.",
)  # fmt: skip


def _encoding_options(
    encoding: str | None, transpose_to: str | None = None
) -> dict[str, Any] | None:
    """--encoding and --transpose-to travel as themselves, the music domain's load options."""
    given = {"encoding": encoding, "transpose_to": transpose_to}
    return {k: v for k, v in given.items() if v is not None} or None


def _command_line_args(ctx: click.Context, skip: tuple[str, ...]) -> list[str]:
    """The options given on the command line to this command (and its group), rebuilt as argv."""
    args = ["--debug"] if _debug else []
    args.append(ctx.info_name or "train")
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name)
        if not isinstance(param, click.Option) or param.name in skip:
            continue
        if source not in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT):
            continue
        value, flag = ctx.params[param.name], param.opts[0]
        if param.is_flag:
            args += [flag] if value else []
        else:
            for item in value if param.multiple else [value]:
                args += [flag, str(item)]
    return args


def _check_run_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A run name is one folder name inside --out (a usage error otherwise, exit 2)."""
    from seqgan_music import api

    if value is None:
        return None
    try:
        return api.check_run_name(value)
    except SeqGANMusicError as err:
        raise click.BadParameter(str(err)) from None


def _launch_ranks(nproc: int) -> None:
    """`seqgan-music train --nproc N ...` = `torchrun --standalone --nproc-per-node N -m
    seqgan_music train ...`: the same command on N ranks, through torch.distributed.run."""
    from seqgan_music import api

    args = _command_line_args(click.get_current_context(), skip=("nproc",))
    failure = api.launch_local(nproc, "seqgan_music", args)
    if failure is not None:
        _fail(failure)


@cli.command(
    epilog="Examples:\n\n  seqgan-music train\n\n  seqgan-music train --data "
    "midi_data/nottingham --preset paper --device cuda\n\n  seqgan-music train "
    "--data poems.txt --tokenizer char --out checkpoints\n\n  seqgan-music train "
    "--resume"
)
@data_option
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file with [train] settings and 'preset'; flags win.",
)
@click.option("--preset", default=None, help="default (minutes on a CPU), paper, or tiny.")
@click.option(
    "--out",
    "out_dir",
    default="checkpoints",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Folder for run folders and the 'latest' pointer.",
)
@click.option(
    "--run-name", default=None, callback=_check_run_name,
    help="Run folder name, one folder inside --out (default: run-<date>-<time>, numbered when "
    "taken).",
)  # fmt: skip
@click.option(
    "--seed", type=SEED, default=None, help="Random seed of training (CPU runs repeat exactly)."
)
@click.option(
    "--split-seed",
    type=SEED,
    default=None,
    help="Seed of the 80/10/10 split of a corpus without its own (default 0, whatever --seed).",
)
@click.option("--resume", is_flag=True, help="Continue the latest (or --run-name) run.")
@click.option(
    "--force", is_flag=True,
    help="Replace the run --run-name names if it holds one (refused otherwise).",
)  # fmt: skip
@tokenizer_option
@seq_len_option
@encoding_option
@click.option(
    "--transpose-to", default=None, metavar="TONIC",
    help="Beat encoding: move every tune to this tonic (e.g. C), its mode kept, so a mode is "
    "one set of pitches; compose --key moves the tunes back. Default: as heard.",
)  # fmt: skip
@click.option(
    "--init-from",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Start from this checkpoint's state (e.g. a -pretrained.pt) instead of "
    "scratch; with --set mode=mle this trains the MLE baseline.",
)
@click.option(
    "--nproc",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Train data-parallel on N processes of this machine (torch.distributed.run; for "
    "several machines call torchrun, see the README).",
)
@settings_option
@quiet_option
@friendly_errors
@runtime_options
def train(
    data: str,
    config_file: Path | None,
    preset: str | None,
    out_dir: Path,
    run_name: str | None,
    seed: int | None,
    split_seed: int | None,
    resume: bool,
    force: bool,
    tokenizer: str | None,
    seq_len: int | None,
    encoding: str | None,
    transpose_to: str | None,
    init_from: Path | None,
    settings: tuple[str, ...],
    nproc: int,
    quiet: bool,
    runtime: Any,
) -> None:
    """Pre-train G by MLE, pre-train D, then run SeqGAN's adversarial training (Algorithm 1)."""
    if nproc > 1:
        return _launch_ranks(nproc)
    from seqgan_music import api

    overrides = _parse_overrides(settings)
    merged = api.merge_settings(
        config_file, overrides=overrides, data=None if data == "embedded" else data,
        preset=preset, seed=seed, split_seed=split_seed,
        tokenizer=tokenizer, seq_len=seq_len,
    )  # fmt: skip
    bars = None if quiet else ProgressBars(runtime.threads)
    try:
        result = api.train(
            merged.pop("data"),
            **merged,
            out_dir=out_dir,
            run_name=run_name,
            runtime=runtime,
            domain_options=_encoding_options(encoding, transpose_to),
            resume=resume,
            force=force,
            init_from=init_from,
            callback=bars,
            progress=not quiet,
        )
    finally:
        if bars is not None:
            bars.close()
    if not api.is_main_process():
        return  # rank 0 reports for the whole job
    if result.corpus_summary:
        click.echo(f"corpus: {result.corpus_summary}")
    click.echo(f"trained in {result.seconds:.0f} s; checkpoint: {result.checkpoint}")
    if result.selected_round is not None:
        rounds = sum(1 for h in result.history if h["phase"] == "adversarial")
        click.echo(f"kept adversarial round {result.selected_round} of {rounds}, the best on the "
                   "validation split (select_on)")  # fmt: skip
    click.echo(
        f"metrics: {result.metrics_csv}"
        + (f"; curve: {result.curve_png}" if result.curve_png else "")
    )


@cli.command(
    epilog="Examples:\n\n  seqgan-music compose --out tune.mid\n\n  seqgan-music "
    "compose --out tunes/ --num 8 --seed 1 --temperature 0.9 --png --wav\n\n  "
    "seqgan-music compose --out reply.mid --primer theme.abc --length 64"
)
@click.option(
    "--out",
    default=None,
    help="Output .mid (tune.mid, tune-2.mid, ... with --num) or a folder [music default: "
    "tune.mid]; text: a .txt file (default: print only).",
)
@click.option(
    "--checkpoint",
    default=None,
    type=click.Path(path_type=Path),
    help="Checkpoint file or run folder (default: latest run, else the shipped model).",
)
@click.option("--num", default=4, show_default=True, type=click.IntRange(1, MAX_SAMPLES),
              help="How many tunes.")  # fmt: skip
@click.option(
    "--seed", type=SEED, default=None,
    help="Random seed for sampling (default: a random one, printed and stored).",
)  # fmt: skip
@click.option(
    "--temperature",
    default=None,
    type=FiniteRange(min=0, min_open=True, max=100),
    help="Sampling temperature (<1 safer, >1 wilder; default: the model's own, the one the "
    "matched-diversity test chose on the valid split where recorded, else 1).",
)
@click.option(
    "--length",
    type=click.IntRange(1, MAX_STEPS),
    default=None,
    help="Steps per tune. paper encoding: a step is 0.4 s at the default tempo (default 128 "
    "steps = 51 s); beat: a sixteenth note (default 8 bars: 128 steps in 4/4, 16 s at 120 "
    "quarter notes a minute); text: tokens (default: the trained length).",
)
@click.option(
    "--bars", type=click.IntRange(1, MAX_STEPS // 16), default=None,
    help="Bars per tune, sampled in one pass past the training window (beat models: bars of the "
    "training data's or the primer's metre; paper models: 4 steps a bar).",
)  # fmt: skip
@click.option(
    "--primer",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="MIDI or ABC file whose opening steps the tune continues.",
)
@click.option(
    "--primer-steps",
    type=click.IntRange(1, MAX_STEPS),
    default=None,
    help="Steps of the primer kept (default: a quarter of --length, at most the trained length).",
)
@click.option("--force", is_flag=True, help="Overwrite files that exist (refused otherwise).")
@click.option(
    "--program",
    default=None,
    type=click.IntRange(0, 127),
    help="General MIDI program (default 0 = acoustic grand piano; 73 = flute, 40 = violin).",
)
@click.option(
    "--tempo",
    type=FiniteRange(min=1, max=1000),
    default=None,
    help="Quarter notes a minute. paper encoding: a step is played as a quarter note (default "
    "150: 0.4 s a step); beat: a step is a sixteenth (default: the model's, 120 unless set).",
)
@click.option("--restrike", is_flag=True, help="Re-strike repeated pitches instead of holding.")
@click.option("--wav", is_flag=True, help="Also write a .wav (FluidSynth, General MIDI soundfont).")
@click.option("--png", is_flag=True, help="Also write a piano-roll .png (needs matplotlib).")
@click.option(
    "--form",
    type=click.Choice(["AABB", "AB", "ABAB"], case_sensitive=False),
    default=None,
    help="Parts of --bars bars (default 8), each ending on a cadence.",
)
@click.option("--key", default=None, help="Tonic (D, F#, Bb): notes kept in its scale.")
@click.option(
    "--mode",
    type=click.Choice(["major", "minor", "dorian", "mixolydian"]),
    default=None,
    help="Mode of --key (default major).",
)
@click.option(
    "--metre", "--meter", "metre", default=None, help="Time signature, e.g. 6/8 (beat encoding)."
)
@click.option(
    "--score", is_flag=True, help="Also engrave the score: .pdf and -score.png (LilyPond)."
)
@click.option(
    "--guard",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of training tunes (MIDI): a --form tune copying 2+ bars of one is drawn again.",
)
@friendly_errors
@runtime_options
def compose(
    out: str | None,
    checkpoint: Path | None,
    num: int,
    seed: int | None,
    temperature: float | None,
    length: int | None,
    bars: int | None,
    primer: Path | None,
    primer_steps: int | None,
    force: bool,
    program: int | None,
    tempo: float | None,
    restrike: bool,
    wav: bool,
    png: bool,
    form: str | None,
    key: str | None,
    mode: str | None,
    metre: str | None,
    score: bool,
    guard: Path | None,
    runtime: Any,
) -> None:
    """Compose new tunes (or text) from a trained checkpoint (fp32 unless --precision says)."""
    from seqgan_music import api

    model_path = api.find_checkpoint(checkpoint)
    model = api.load_checkpoint(model_path, runtime=runtime)
    why = "given"
    if temperature is None:
        temperature, why = model.compose_default
    with SamplingBar() as bar:
        pieces = api.compose(
            out,  # compose refuses an empty one
            model=model,
            force=force,
            primer_steps=primer_steps,
            progress=bar,
            num=num,
            seed=seed,
            temperature=temperature,
            length=length,
            bars=bars,
            primer=primer,
            program=program,
            tempo=tempo,
            restrike=restrike,
            wav=wav,
            png=png,
            form=form,
            key=key,
            mode=mode,
            metre=metre,
            score=score,
            guard=guard,
            runtime=runtime,
        )
    # stderr: a text model's samples on stdout stay clean to pipe
    seed_note = f", seed {pieces[0].seed} (--seed {pieces[0].seed} repeats it)" if pieces else ""
    model_text = api.describe_checkpoint(model_path, given=checkpoint is not None)
    click.echo(f"seqgan-music: composed with {model_text} at temperature {temperature:g} ({why})"
               f"{seed_note}", err=True)  # fmt: skip
    _report_pieces(pieces)


def _report_pieces(pieces: list[Any]) -> None:
    for piece in pieces:
        if piece.text is not None:
            click.echo(piece.text)
            continue
        extra = "".join(f", {p}" for p in piece.extras)
        click.echo(f"wrote {piece.path}{extra}: {piece.summary}")
    if pieces and pieces[0].text is not None and pieces[0].path is not None:
        click.echo(f"wrote {pieces[0].path}")


@cli.command(
    epilog="Examples:\n\n  seqgan-music evaluate --checkpoint checkpoints/compare/mle "
    "--checkpoint checkpoints/compare/seqgan --data midi_data/nottingham\n\n  "
    "seqgan-music evaluate --checkpoint checkpoints/poems --data poems/"
)
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path),
    help="A checkpoint or run folder (repeatable; p-values compare the first two).",
)
@click.option(
    "--data",
    default=None,
    help="Corpus whose test split is the reference (default: "
    "the corpus the first checkpoint was trained on).",
)
@click.option("--name", "names", multiple=True, help="Column name per checkpoint (repeatable).")
@click.option(
    "--num",
    "num_samples",
    type=click.IntRange(1, MAX_SAMPLES),
    default=1000,
    show_default=True,
    help="Samples drawn per model.",
)
@click.option("--seed", type=SEED, default=0, show_default=True, help="Sampling seed.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for evaluation.json and evaluation.md.",
)
@click.option(
    "--temperatures",
    default="off",
    show_default=True,
    metavar="T1,T2,...|default|off",
    help="The matched-diversity test: every model over this temperature grid, the others matched "
    "to --subject's diversity on the valid split, scored on test (default: 0.5..1.3). With "
    "--tunes: each model at the one matching the valid tunes' notes per bar.",
)
@click.option("--subject", default=None, help="The model the others are matched to (a --name; "
              "default: the last checkpoint).")  # fmt: skip
@click.option("--tunes", is_flag=True, help="Whole tunes (music): cadence, recurring bars, mode, "
              "groove, plagiarism; --data has train/, valid/, test/; --num tunes.")  # fmt: skip
@friendly_errors
@runtime_options
def evaluate(
    checkpoints: tuple[Path, ...],
    data: str | None,
    names: tuple[str, ...],
    num_samples: int,
    seed: int,
    out_dir: Path | None,
    temperatures: str,
    subject: str | None,
    tunes: bool,
    runtime: Any,
) -> None:
    """Score models against held-out data: BLEU, MSE, diversity, musical metrics, p-values."""
    from seqgan_music import api

    if names and len(names) != len(checkpoints):
        raise click.BadParameter("give one --name per --checkpoint", param_hint="--name")
    if tunes:
        click.echo(api.evaluate_tunes(list(checkpoints), data=data, names=list(names) or None,
                                      num=num_samples, seed=seed, runtime=runtime,
                                      temperatures=_parse_temperatures(temperatures)))  # fmt: skip
        return
    report = api.evaluate(
        list(checkpoints),
        data=data,
        names=list(names) or None,
        num_samples=num_samples,
        seed=seed,
        out_dir=out_dir,
        runtime=runtime,
        subject=subject,
        temperatures=_parse_temperatures(temperatures),
    )
    click.echo(report.markdown)
    if report.json_path:
        click.echo(f"wrote {report.json_path} and {report.markdown_path}")


@cli.command(
    epilog="Example:\n\n  seqgan-music compare --data midi_data/nottingham --seed 0 "
    "--out checkpoints/compare"
)
@data_option
@click.option("--preset", default="default", show_default=True, help="default, paper or tiny.")
@click.option(
    "--out",
    "out_dir",
    default="checkpoints/compare",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Folder for both runs and the report.",
)
@click.option("--seed", type=SEED, default=0, show_default=True, help="Random seed.")
@click.option(
    "--seeds",
    default=None,
    metavar="S1,S2,...",
    help="Run the whole comparison once per seed (in <out>/seed-<s>) and report every seed "
    "plus mean ± sd over seeds (seeds.md).",
)
@click.option(
    "--num",
    "num_samples",
    type=click.IntRange(1, MAX_SAMPLES),
    default=1000,
    show_default=True,
    help="Samples drawn per model for evaluation.",
)
@click.option(
    "--temperatures",
    default="default",
    show_default=True,
    metavar="T1,T2,...|default|off",
    help="Grid of the matched-diversity test (default: 0.5,0.7,0.8,0.9,1,1.1,1.3): the MLE rows "
    "at SeqGAN's diversity, chosen on valid, scored on test; off: T = 1 only.",
)
@click.option("--force", is_flag=True, help="Replace the runs a previous compare left in --out.")
@tokenizer_option
@seq_len_option
@encoding_option
@settings_option
@quiet_option
@friendly_errors
@runtime_options
def compare(
    data: str,
    preset: str,
    out_dir: Path,
    seed: int,
    seeds: str | None,
    num_samples: int,
    temperatures: str,
    force: bool,
    tokenizer: str | None,
    seq_len: int | None,
    encoding: str | None,
    settings: tuple[str, ...],
    quiet: bool,
    runtime: Any,
) -> None:
    """Three rows from one MLE pre-training: the best-validation MLE generator, the paper's MLE
    baseline trained on as long as SeqGAN, and SeqGAN, scored on the test split (Table 4)."""
    from seqgan_music import api

    seed_list = _parse_seeds(seeds)
    bars = None if quiet else ProgressBars(runtime.threads)
    overrides = _parse_overrides(settings)
    run_compare = api.compare
    if seed_list is not None:
        run_compare = functools.partial(api.compare_seeds, seeds=seed_list)
    try:
        report = run_compare(
            data,
            out_dir=out_dir,
            preset=preset,
            overrides=overrides,
            **({} if seed_list is not None else {"seed": seed}),
            num_samples=num_samples,
            runtime=runtime,
            tokenizer=tokenizer,
            domain_options=_encoding_options(encoding),
            seq_len=seq_len,
            callback=bars,
            progress=not quiet,
            temperatures=_parse_temperatures(temperatures),
            force=force,
        )
    finally:
        if bars is not None:
            bars.close()
    click.echo(report.markdown)
    click.echo(f"wrote {report.json_path} and {report.markdown_path}")


@cli.group()
def data() -> None:
    """Prepare, inspect and download music corpora."""


@data.command(
    "prepare",
    epilog="Examples:\n\n  seqgan-music data prepare\n\n  seqgan-music "
    "data prepare --data midi_data/nottingham --stride 16",
)
@data_option
@encoding_option
@click.option(
    "--seq-len",
    type=click.IntRange(1, MAX_STEPS),
    default=None,
    help="Window length in steps (paper 32, beat 48).",
)
@click.option(
    "--stride",
    type=click.IntRange(1, MAX_STEPS),
    default=None,
    help="paper: window stride (default: --seq-len).",
)
@click.option(
    "--step-seconds",
    type=FiniteRange(min=0.001, max=60),
    default=None,
    help="paper: sampling interval (default 0.4 s).",
)
@click.option(
    "--steps-per-quarter",
    type=click.IntRange(1, 96),
    default=None,
    help="beat: grid steps a quarter note (4).",
)
@click.option(
    "--stride-bars", type=click.IntRange(1, 1024), default=None,
    help="beat: bars between window starts (default: windows do not overlap).",
)  # fmt: skip
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the tune split.")
@click.option("--refresh", is_flag=True, help="Rebuild even when a cached copy exists.")
@parse_limit_options
@quiet_option
@friendly_errors
def data_prepare(
    data: str,
    encoding: str | None,
    seq_len: int | None,
    stride: int | None,
    step_seconds: float | None,
    steps_per_quarter: int | None,
    stride_bars: int | None,
    seed: int,
    refresh: bool,
    max_file_mb: float | None,
    parse_timeout: float | None,
    quiet: bool,
) -> None:
    """Turn a corpus into cached token windows (parsed on all cores)."""
    from seqgan_music import api

    corpus = api.prepare_corpus(data, seq_len=seq_len, stride=stride, step_seconds=step_seconds,
                                seed=seed, progress=not quiet, refresh=refresh, encoding=encoding,
                                max_file_mb=max_file_mb, parse_timeout=parse_timeout,
                                steps_per_quarter=steps_per_quarter,
                                stride_bars=stride_bars)  # fmt: skip
    click.echo(corpus.summary)
    click.echo(f"cache: {corpus.manifest.get('cache_file')}")


@data.command("info", epilog="Example:\n\n  seqgan-music data info --data midi_data/nottingham")
@data_option
@encoding_option
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the tune split.")
@parse_limit_options
@friendly_errors
def data_info(
    data: str, encoding: str | None, seed: int, max_file_mb: float | None,
    parse_timeout: float | None,
) -> None:  # fmt: skip
    """Show a prepared corpus: windows per split, files used and skipped (with reasons)."""
    from seqgan_music import api

    # a bar while not cached yet
    corpus = api.data_summary(data, seed=seed, progress=True, encoding=encoding,
                              max_file_mb=max_file_mb, parse_timeout=parse_timeout)  # fmt: skip
    click.echo(corpus.summary)
    for line in api.corpus_conditions(corpus):
        click.echo(line)
    skipped = corpus.manifest.get("skipped", [])
    for entry in skipped[:20]:
        click.echo(f"  skipped {entry['file']}: {entry['reason']}")
    if len(skipped) > 20:
        listed = Path(str(corpus.manifest.get("cache_file"))).with_suffix(".json")
        click.echo(f"  ... and {len(skipped) - 20} more, all listed in {listed}")
    click.echo(f"cache: {corpus.manifest.get('cache_file')}")


@data.command("download", epilog="Example:\n\n  seqgan-music data download nottingham")
@click.argument("name", type=click.Choice(["nottingham"]))
@click.option(
    "--dest",
    default="midi_data",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Folder that receives nottingham/{train,valid,test}.",
)
@click.option("--url", default=None, help="Another copy of Nottingham.zip (same SHA-256).")
@friendly_errors
def data_download(name: str, dest: Path, url: str | None) -> None:
    """Fetch a public corpus, verify its checksum and unpack it atomically."""
    from seqgan_music import api

    folder = api.download_corpus(name, dest, url=url)
    counts = {s: len(list((folder / s).glob("*.mid"))) for s in ("train", "valid", "test")}
    click.echo(f"wrote {folder}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@cli.command(
    epilog="Examples:\n\n  seqgan-music oracle --preset cpu --oracle released --out runs/oracle"
    "\n\n  seqgan-music oracle --preset paper --oracle released --device cuda"
)
@click.option(
    "--preset",
    type=click.Choice(["cpu", "paper", "tiny"]),
    default="cpu",
    show_default=True,
    help="paper: the paper's schedule (hours on a CPU).",
)
@click.option(
    "--out",
    "out_dir",
    default="runs/oracle",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Folder for CSV, PNG and results JSON.",
)
@click.option(
    "--oracle",
    "oracle_path",
    default=None,
    metavar="released|NPZ",
    help="'released': the paper's oracle (../shared/data/oracle/lantaoyu_target_params.npz), "
    "or an oracle .npz. Without it a fresh random N(0,1) oracle is drawn: NOT the paper's.",
)
@click.option("--seed", type=SEED, default=0, show_default=True, help="Random seed.")
@quiet_option
@friendly_errors
@runtime_options
def oracle(
    preset: str,
    out_dir: Path,
    oracle_path: str | None,
    seed: int,
    quiet: bool,
    runtime: Any,
) -> None:
    """The paper's synthetic experiment: NLL-oracle of MLE vs SeqGAN (Table 1, Figure 2)."""
    from seqgan_music import api

    path = api.resolve_oracle(oracle_path)
    if path is None:
        click.echo(
            f"note: no --oracle given, so a random N(0,1) oracle is drawn from seed {seed}; it is "
            "not the paper's (use --oracle released for the paper's released oracle)",
            err=True,
        )
    bars = None if quiet else ProgressBars(runtime.threads)
    try:
        result = api.run_oracle_experiment(
            preset,
            out_dir,
            oracle_path=path,
            runtime=runtime,
            seed=seed,
            callback=bars,
        )
    finally:
        if bars is not None:
            bars.close()
    click.echo(
        json.dumps(
            {k: v for k, v in result.items() if not isinstance(v, dict)}, indent=2, default=str
        )
    )


@cli.command(
    epilog="Example:\n\n  seqgan-music export --checkpoint checkpoints/my-run --out my-model.pt"
)
@click.option(
    "--checkpoint",
    default=None,
    type=click.Path(path_type=Path),
    help="Checkpoint file or run folder (default: the latest run).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the slim checkpoint.",
)
@click.option(
    "--note",
    "notes",
    multiple=True,
    metavar="KEY=VALUE",
    help="Recorded under metadata['training'] (e.g. command=..., seconds=...).",
)
@click.option(
    "--compose-temperature",
    type=FiniteRange(min=0, min_open=True, max=100),
    default=None,
    help="compose's default temperature for this model (e.g. the matched test's).",
)
@click.option("--compose-why", default=None, help="Why that temperature, said by compose.")
@friendly_errors
def export(
    checkpoint: Path | None, out: Path, notes: tuple[str, ...],
    compose_temperature: float | None, compose_why: str | None,
) -> None:  # fmt: skip
    """Write a small sampling-only checkpoint (generator + tokenizer, no optimiser or D)."""
    from seqgan_music import api

    if compose_temperature is not None and compose_temperature <= 0:
        raise click.BadParameter("must be positive", param_hint="--compose-temperature")
    if compose_why is not None and compose_temperature is None:
        raise click.BadParameter("needs --compose-temperature", param_hint="--compose-why")
    compose = None
    if compose_temperature is not None:
        compose = {"temperature": compose_temperature, "why": compose_why or "set at export"}
    source = api.find_checkpoint(checkpoint)
    if checkpoint is None:  # say which model: with no run trained here it is the shipped one
        click.echo(f"seqgan-music: exporting {api.describe_checkpoint(source)}", err=True)
    path = api.export_model(source, out, notes=_parse_overrides(notes),
                            compose=compose)  # fmt: skip
    click.echo(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")


def _parse_seeds(text: str | None) -> list[int] | None:
    """'0,1,2' -> [0, 1, 2]; a bad list is a one-line usage error."""
    if text is None:
        return None
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a comma-separated list of integers",
                                 param_hint="--seeds") from None  # fmt: skip
    if not seeds or len(set(seeds)) != len(seeds):
        raise click.BadParameter(f"{text!r}: give distinct seeds", param_hint="--seeds")
    return seeds


def _parse_temperatures(text: str) -> tuple[float, ...] | None:
    """--temperatures: "off", "default" or a comma list; a bad one is a one-line usage error."""
    from seqgan_music import api

    try:
        return api.parse_temperatures(None if text.strip().lower() == "default" else text)
    except api.SeqGANMusicError as err:
        raise click.BadParameter(str(err), param_hint="--temperatures") from None


def main() -> None:
    cli(prog_name="seqgan-music")
