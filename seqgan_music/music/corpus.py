"""Corpora: folders of MIDI/ABC tunes -> train/valid/test windows, parsed on all cores, cached.

`prepare_corpus(source)` takes "embedded" (the Ryan's Mammoth Collection inside music21's wheel,
works offline), "nottingham" (midi_data/nottingham, see `download.py`), a folder (searched
recursively for .mid/.midi/.abc) or one file. A folder with train/ and valid/ or test/ subfolders
keeps its split; otherwise tunes (never windows) are split 80/10/10 with a seeded permutation.
The result is cached as .npz + .json manifest under a key of the files' contents and the encoding
parameters, so a change to either rebuilds it. Broken files are skipped, each with its reason.
"""

from __future__ import annotations

import errno
import hashlib
import importlib.metadata
import importlib.util
import json
import math
import os
import stat
import sys
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from seqgan_music.core.files import atomic_write, atomic_write_text
from seqgan_music.core.runtime import usable_cores
from seqgan_music.core.splits import SPLITS, seeded_split
from seqgan_music.core.workers import map_with_limit
from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.encodings import (
    BUILTIN_MODULES,
    DEFAULT_ENCODING,
    config_from_dict,
    encoding_of,
)
from seqgan_music.music.io.files import (
    MAX_FILE_MB,
    MAX_FILE_MB_ENV,
    PARSE_TIMEOUT_ENV,
    PARSE_TIMEOUT_S,
    TUNE_SUFFIXES,
    is_abc,
)
from seqgan_music.music.paper.encoding import EncodingConfig
from seqgan_music.music.pitch import REST

# bump when the cache layout, the reading or the split rule changes (2: mido; 3: core/splits.py;
# 4: the beat encoding's tunes record their mode, music/conditions.py)
CACHE_FORMAT = 4
SPLIT_DIRS = {"train": "train", "valid": "valid", "validation": "valid", "test": "test"}
EMBEDDED_COLLECTION = "ryansMammoth"
NOTTINGHAM_DIR = Path("midi_data") / "nottingham"


@dataclass
class Corpus:
    """Windows of tokens per split, int64 (n, seq_len), with the manifest that explains them."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    manifest: dict[str, Any] = field(default_factory=dict)
    encoding: Any = field(default_factory=EncodingConfig)  # a registered encoding's config
    from_cache: bool = False

    def split(self, name: str) -> np.ndarray:
        if name not in SPLITS:
            raise SeqGANMusicError(f"unknown split {name!r}; choose one of: {', '.join(SPLITS)}")
        return getattr(self, name)

    @property
    def summary(self) -> str:
        """One line: tunes, windows per split, files skipped and why."""
        return self.manifest.get("summary", "")


# ---- where the files are ------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """$SEQGAN_MUSIC_CACHE, else ~/.cache/seqgan-music."""
    env = os.environ.get("SEQGAN_MUSIC_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "seqgan-music"


def embedded_dir() -> Path:
    """music21's copy of Ryan's Mammoth Collection; found without importing music21 (slow)."""
    spec = importlib.util.find_spec("music21")
    if spec is None or not spec.submodule_search_locations:
        raise SeqGANMusicError("the embedded corpus needs music21: pip install music21")
    folder = Path(list(spec.submodule_search_locations)[0]) / "corpus" / EMBEDDED_COLLECTION
    if not folder.is_dir():
        raise SeqGANMusicError(f"music21's corpus folder {folder} is missing (a slim install?)")
    return folder


def _is_tune_file(path: Path) -> bool:
    return path.suffix.lower() in TUNE_SUFFIXES and not path.name.startswith(".")


def display_path(path: str | Path) -> str:
    """A path as printable text: bytes of a name that is not UTF-8 (Latin-1 "caf\\xe9.mid") are
    shown as \\xNN escapes, so messages, manifests and the console never fail on them."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


_NOT_REGULAR = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))  # fmt: skip


def entry_problem(path: Path) -> str | None:
    """Why an entry with a tune's name is not read (None: a regular file, or a link to one).

    Only regular files are ever opened: a FIFO would block, a link to /dev/zero never ends.
    """
    if path.name.startswith("."):
        return "hidden file (its name starts with '.')"
    try:
        mode = path.stat().st_mode  # follows links
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "symlink loop"
        if err.errno == errno.ENOENT and path.is_symlink():
            return f"dangling link (its target {display_path(os.readlink(path))} does not exist)"
        return f"unreadable ({err.strerror or type(err).__name__})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    kind = next((what for test, what in _NOT_REGULAR if test(mode)), "a special file")
    return f"not a regular file ({kind})"


def find_tune_entries(root: Path) -> tuple[list[Path], dict[Path, str]]:
    """Every entry under `root` named like a tune (.mid/.midi/.abc): files, links, folders, FIFOs...
    and {entry: why it is not searched or read} for the folders that cannot be listed and the
    links (to a tune or a folder) that lead outside `root`, which are never followed: a link to
    `..` must not pull files into a corpus unasked.

    Folders are searched recursively, linked ones inside `root` too, each once (a link loop ends);
    hidden folders (.git, .cache) are not searched. `entry_problem` says which entries can be read.
    """
    found: list[Path] = []
    barred: dict[Path, str] = {}
    seen: set[tuple[int, int]] = set()
    inside = Path(os.path.realpath(root))
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = folder.stat()
        except OSError:  # a link that does not lead to a folder: its entry says why
            continue
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as err:
            barred[folder] = f"unreadable folder ({err.strerror or type(err).__name__})"
            continue
        for entry in entries:
            path = Path(entry.path)
            tune_named = path.suffix.lower() in TUNE_SUFFIXES
            try:
                is_folder = entry.is_dir()  # follows links
            except OSError:
                is_folder = False
            if (tune_named or is_folder) and entry.is_symlink():
                target = Path(os.path.realpath(path))
                if not target.is_relative_to(inside):
                    barred[path] = (
                        f"a link to outside the corpus folder (to {display_path(target)}; "
                        "not followed)"
                    )
                    continue
            if tune_named:
                found.append(path)
            if is_folder and not entry.name.startswith("."):
                stack.append(path)
    return sorted(found), barred


def resolve_source(source: str | Path) -> tuple[str, Path, list[Path], dict[Path, str]]:
    """(name, root, entries sorted, {entry: why it is skipped unread}) for "embedded",
    "nottingham", a folder or one file.

    The entries of a folder include what cannot be read (`entry_problem`), the folders that
    cannot be listed and the links that lead outside it (`find_tune_entries`): all are counted."""
    if str(source) == "embedded":
        root = embedded_dir()
        return "embedded", root, sorted(p for p in root.iterdir() if _is_tune_file(p)), {}
    if str(source) == "nottingham":
        root = NOTTINGHAM_DIR
        if not root.is_dir():
            raise SeqGANMusicError(
                f"{root} not found: run `seqgan-music data download nottingham` first"
            )
    else:
        root = Path(source)
    if root.is_file():
        return display_path(root.stem), root.parent, [root], {}
    if not root.is_dir():
        problem = entry_problem(root) if os.path.lexists(root) else None
        if problem and not problem.startswith("hidden"):
            raise SeqGANMusicError(f"{display_path(root)}: {problem}")
        raise SeqGANMusicError(f"no such file or folder: {display_path(root)}")
    files, barred = find_tune_entries(root)
    if not files and not barred:
        raise SeqGANMusicError(f"no .mid, .midi or .abc files under {display_path(root)}")
    return display_path(root.resolve().name), root, sorted(files + list(barred)), barred


def given_split(root: Path, files: list[Path]) -> dict[Path, str] | None:
    """{file: split} when `root` has a train/ folder and a valid/ or test/ one, else None."""
    top = {p.name.lower() for p in root.iterdir() if p.is_dir()} if root.is_dir() else set()
    if "train" not in top or not top & {"valid", "validation", "test"}:
        return None
    out = {}
    for f in files:
        first = f.relative_to(root).parts[0].lower()
        if first in SPLIT_DIRS and len(f.relative_to(root).parts) > 1:
            out[f] = SPLIT_DIRS[first]
    return out


# ---- parsing (runs in worker processes) ---------------------------------------------------------


@dataclass(frozen=True)
class ParseLimits:
    """Per corpus file: a size cap in MB and a parse time limit in seconds (0: none)."""

    max_file_mb: float = MAX_FILE_MB
    parse_timeout: float = PARSE_TIMEOUT_S

    @classmethod
    def resolve(cls, max_file_mb: float | None = None, parse_timeout: float | None = None
                ) -> ParseLimits:  # fmt: skip
        """The values given, else $SEQGAN_MUSIC_MAX_FILE_MB / $SEQGAN_MUSIC_PARSE_TIMEOUT, else
        the defaults (16 MB, 60 s); each must be a finite number >= 0 (0: no limit)."""
        return cls(
            _limit(max_file_mb, MAX_FILE_MB_ENV, MAX_FILE_MB),
            _limit(parse_timeout, PARSE_TIMEOUT_ENV, PARSE_TIMEOUT_S),
        )

    def too_large(self, size: int) -> str | None:
        """The skip reason of a file of `size` bytes, None when it is within the cap."""
        if not self.max_file_mb or size <= self.max_file_mb * 1e6:
            return None
        return (
            f"larger than the {self.max_file_mb:g} MB limit ({size / 1e6:.1f} MB; raise it with "
            f"--max-file-mb or ${MAX_FILE_MB_ENV})"
        )

    def timed_out(self, task: Any) -> list[tuple[str, Any, dict]]:
        why = (
            f"parsing took longer than the {self.parse_timeout:g} s limit (stopped; raise it with "
            f"--parse-timeout or ${PARSE_TIMEOUT_ENV})"
        )
        return [(Path(task[0]).name, None, {"reason": why})]


def _limit(value: float | None, env: str, default: float) -> float:
    if value is None:
        text = os.environ.get(env)
        if not text:
            return default
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        where = f"${env}"
    else:
        where = "the limit"
    if not (math.isfinite(value) and value >= 0):
        raise SeqGANMusicError(f"{where} must be a number >= 0 (0: no limit), not {value}")
    return float(value)


def _parse_task(task: tuple[str, Any]) -> list[tuple[str, Any, dict]]:
    return encoding_of(task[1]).parse(Path(task[0]), task[1])


def _warm_parser(enc: Any, abc: bool) -> None:
    """A worker's start: the registry and the parsers' imports (seconds under load), done before
    its first file so that they do not count against the file's time limit."""
    import seqgan_music.music.io.midi  # noqa: F401  (pretty_midi, mido)

    encoding_of(enc)
    if abc:
        import seqgan_music.music.io.abc  # noqa: F401  (music21)


def _parse_failed(task: tuple[str, Any], why: str) -> list[tuple[str, Any, dict]]:
    return [(Path(task[0]).name, None, {"reason": f"failed to parse ({why})"})]


def parse_files(
    files: list[Path], enc: Any, workers: int | None, progress: bool, desc: str,
    limits: ParseLimits = ParseLimits(),
) -> list[list[tuple[str, Any, dict]]]:  # fmt: skip
    """`parse_file` over all files, on `workers` processes (default: all cores), in file order.

    Each file is parsed in a worker process that is killed when the file takes longer than
    `limits.parse_timeout` (the file is then skipped with that reason); with no time limit and
    one worker, files are parsed here."""
    if workers is None:
        workers = usable_cores()
    workers = max(1, min(workers or 1, len(files)))
    tasks = [(str(f), enc) for f in files]
    bar = dict(total=len(tasks), desc=desc, unit="file", disable=not progress, file=sys.stderr)
    if workers == 1 and not limits.parse_timeout:
        return list(_bar_from_first(map(_parse_task, tasks), bar))
    warm = (_warm_parser, (enc, any(is_abc(f) for f in files)))
    out: list[Any] = [None] * len(tasks)
    done = map_with_limit(
        _parse_task, tasks, workers=workers, limit=limits.parse_timeout or None,
        on_timeout=limits.timed_out, on_failure=_parse_failed, warm=warm,
        preload=["seqgan_music.music.io.midi", *BUILTIN_MODULES],
    )  # fmt: skip
    for k, result in _bar_from_first(done, bar):
        out[k] = result
    return out


_END = object()


def _bar_from_first(results: Any, bar: dict[str, Any]) -> Any:
    """Yield `results` under a bar that starts after the first one, which pays for start-up
    (spawning workers, importing music21) and would make the first ETA absurd; the bar shows
    itself only once it has measured a rate (`delay`), so it never shows "?" either."""
    it = iter(results)
    first = next(it, _END)
    if first is _END:
        return
    yield first
    with tqdm(initial=1, delay=0.5, **bar) as progress:
        for result in it:
            yield result
            progress.update(1)


# ---- cache --------------------------------------------------------------------------------------


def parser_versions() -> dict[str, str]:
    """Versions of the parsing libraries: a new parser may read the same bytes differently."""
    out = {}
    for lib in ("pretty_midi", "mido", "music21"):
        try:
            out[lib] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            out[lib] = "absent"
    return out


def _relative(path: Path, root: Path) -> Path:
    return path.relative_to(root) if path.is_relative_to(root) else path


def cache_key(
    root: Path, files: list[Path], enc: Any, seed: int, limits: ParseLimits = ParseLimits(),
    barred: dict[Path, str] | None = None,
) -> tuple[str, dict]:  # fmt: skip
    """sha256 over the files' relative paths and contents and the parameters (the encoding's name
    and the parse time limit among them); also the entries that cannot be read (`entry_problem`,
    over the size cap, `barred` (a folder or link not followed), or a read error), with the
    reason, recorded as skipped."""
    params = [CACHE_FORMAT, encoding_of(enc).name, enc.to_dict(), seed, parser_versions(),
              limits.parse_timeout]  # fmt: skip
    h = hashlib.sha256(json.dumps(params).encode())
    unreadable = {}
    for f in files:
        h.update(os.fsencode(_relative(f, root)) + b"\0")  # a name need not be UTF-8
        problem = (barred or {}).get(f) or entry_problem(f)
        if problem is None:
            try:
                problem = limits.too_large(f.stat().st_size)
                if problem is None:
                    h.update(hashlib.sha256(f.read_bytes()).digest())
                    continue
            except OSError as err:
                problem = f"unreadable ({err.strerror or type(err).__name__})"
        unreadable[f] = problem
        h.update(problem.encode())
    return h.hexdigest(), unreadable


def save_corpus(corpus: Corpus, npz_path: Path) -> None:
    """Write `corpus` as .npz (windows) + .json (manifest, encoding) beside it, atomically."""
    arrays = {s: corpus.split(s) for s in SPLITS}
    atomic_write(npz_path, lambda fh: np.savez(fh, **arrays))
    meta = {
        "manifest": corpus.manifest,
        "encoding": corpus.encoding.to_dict(),
        "encoding_name": encoding_of(corpus.encoding).name,
    }
    atomic_write_text(npz_path.with_suffix(".json"), json.dumps(meta, indent=1))


def load_corpus(npz_path: Path) -> Corpus:
    """Inverse of `save_corpus`."""
    meta = json.loads(npz_path.with_suffix(".json").read_text())
    with np.load(npz_path) as z:
        arrays = {s: z[s].astype(np.int64) for s in SPLITS}
    enc = config_from_dict(meta["encoding"], meta.get("encoding_name", DEFAULT_ENCODING))
    return Corpus(**arrays, manifest=meta["manifest"], encoding=enc, from_cache=True)


# ---- assembling ---------------------------------------------------------------------------------


def _stack(windows: list[np.ndarray], seq_len: int) -> np.ndarray:
    return np.concatenate(windows) if windows else np.zeros((0, seq_len), dtype=np.int64)


def _usable_tunes(
    parsed: dict[Path, list[tuple[str, Any, dict]]], rel: dict[Path, str], seq_len: int,
    skipped: list[dict[str, str]], counted: tuple[str, ...] = ("moved_notes",),
) -> tuple[dict[str, tuple[Path, np.ndarray, dict]], Counter]:  # fmt: skip
    """{tune: (file, tokens, info)} of the tunes long enough to train on, and the sums of their
    `counted` info (notes moved into range, ...); every other tune is appended to `skipped` with
    its reason."""
    tunes: dict[str, tuple[Path, np.ndarray, dict]] = {}
    totals = Counter({k: 0 for k in counted})
    for f, results in parsed.items():
        multi = len(results) > 1
        for label, tokens, info in results:
            tune = f"{rel[f]}#{label.rsplit('#', 1)[1]}" if multi else rel[f]
            if tokens is None:
                skipped.append({"file": tune, "reason": info["reason"]})
            elif not np.any(tokens != REST):
                skipped.append({"file": tune, "reason": "no notes sound at the sample times"})
            elif len(tokens) < seq_len:
                skipped.append({"file": tune, "reason": f"shorter than {seq_len} steps"})
            else:
                tunes[tune] = (f, tokens, info)
                totals.update({k: int(info.get(k, 0)) for k in counted})
    return tunes, totals


def _assign_splits(
    tunes: dict[str, tuple[Path, np.ndarray, dict]], by_file: dict[Path, str] | None, seed: int,
    skipped: list[dict[str, str]],
) -> dict[str, str]:  # fmt: skip
    """{tune: split}: the folders' split when there is one, else the shared seeded split."""
    if by_file is None:
        return seeded_split(sorted(tunes), seed)
    assign = {t: by_file.get(f) for t, (f, _, _) in tunes.items()}
    for t in [t for t, s in assign.items() if s is None]:
        skipped.append({"file": t, "reason": "outside the train/valid/test folders"})
        del assign[t]
    return assign  # type: ignore[return-value]


def build_corpus(
    name: str, root: Path, files: list[Path], enc: Any, seed: int,
    unreadable: dict[Path, str], workers: int | None, progress: bool, use_folders: bool = True,
    limits: ParseLimits = ParseLimits(),
) -> Corpus:  # fmt: skip
    """Parse, window and split; skipped files and tunes are listed in the manifest."""
    rel = {f: display_path(_relative(f, root)) for f in files}
    todo = [f for f in files if f not in unreadable]
    parsed = dict(
        zip(todo, parse_files(todo, enc, workers, progress, f"parsing {name}", limits), strict=True)
    )
    skipped = [{"file": rel[f], "reason": why} for f, why in unreadable.items()]
    scheme = encoding_of(enc)
    tunes, totals = _usable_tunes(parsed, rel, enc.seq_len, skipped, scheme.counted)
    if not tunes:
        why = Counter(s["reason"] for s in skipped).most_common(3)
        raise SeqGANMusicError(
            f"no usable tune in {name} ({len(files)} files; skipped: "
            + "; ".join(f"{n} x {r}" for r, n in why)
            + ")"
        )
    by_file = given_split(root, files) if use_folders else None
    split_rule = "folders" if by_file is not None else f"seeded 80/10/10 by tune (seed {seed})"
    assign = _assign_splits(tunes, by_file, seed, skipped)
    windows: dict[str, list[np.ndarray]] = {s: [] for s in SPLITS}
    used = []
    for t, s in assign.items():
        w, window_counts = scheme.windows(tunes[t][1], tunes[t][2], enc)
        totals.update(window_counts)
        windows[s].append(w)
        used.append(
            {
                "file": t,
                "split": s,
                "steps": len(tunes[t][1]),
                "windows": len(w),
                **{k: v for k, v in tunes[t][2].items() if k != "reason"},
            }
        )
    arrays = {s: _stack(windows[s], enc.seq_len) for s in SPLITS}
    if enc.transpose is not None:  # augmentation is for training only: valid/test stay as heard
        arrays["train"] = scheme.augment(arrays["train"], *enc.transpose)
    counts = {f"{s}_windows": int(len(arrays[s])) for s in SPLITS}
    counts |= {f"{s}_tunes": sum(1 for u in used if u["split"] == s) for s in SPLITS}
    moved = totals["moved_notes"]
    counts |= {"files": len(files), "skipped": len(skipped), **dict(totals)}
    reasons = Counter(s["reason"].split(" (")[0] for s in skipped)
    why = ", ".join(f"{n} {r}" for r, n in reasons.most_common())
    summary = (
        f"{name}: {len(used)} tunes from {len(files)} files -> windows train/valid/test "
        f"{counts['train_windows']}/{counts['valid_windows']}/{counts['test_windows']}; "
        f"{len(skipped)} skipped"
        + (f" ({why})" if skipped else "")
        + (f"; {moved} notes moved by octaves into range" if moved else "")
        + _loss_note(totals)
    )
    manifest = {
        "source": name, "root": str(root), "split_rule": split_rule, "seed": seed,
        "encoding_name": scheme.name, "encoding": enc.to_dict(), "counts": counts,
        "summary": summary,
        "parsers": parser_versions(), "skipped": skipped, "used": used,
    }  # fmt: skip
    return Corpus(**arrays, manifest=manifest, encoding=enc)


def _loss_note(totals: Counter) -> str:
    """'; of N notes: a off-grid, b dropped, ...' for an encoding that counts quantisation."""
    lost = {k: v for k, v in totals.items() if k not in ("moved_notes", "notes") and v}
    if not lost:
        return ""
    parts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in lost.items())
    return f"; of {totals['notes']} notes: {parts}" if "notes" in totals else f"; {parts}"


def prepare_corpus(
    source: str | Path,
    *,
    encoding: Any = EncodingConfig(),
    cache_dir: Path | None = None,
    seed: int = 0,
    workers: int | None = None,
    progress: bool = True,
    refresh: bool = False,
    max_file_mb: float | None = None,
    parse_timeout: float | None = None,
) -> Corpus:
    """Windows for train/valid/test from "embedded", "nottingham", a folder or a file; cached.

    The cache file is keyed by the files' contents and `encoding`/`seed`; `refresh` rebuilds it.
    Files that cannot be used are skipped and listed in `corpus.manifest["skipped"]`; a source with
    no usable tune raises SeqGANMusicError. A file over `max_file_mb` is skipped unread, one whose
    parse runs past `parse_timeout` seconds is stopped and skipped (`ParseLimits.resolve`: None
    reads $SEQGAN_MUSIC_MAX_FILE_MB / $SEQGAN_MUSIC_PARSE_TIMEOUT, else 16 MB and 60 s; 0: none).
    """
    limits = ParseLimits.resolve(max_file_mb, parse_timeout)
    name, root, files, barred = resolve_source(source)
    key, unreadable = cache_key(root, files, encoding, seed, limits, barred)
    npz = Path(cache_dir or default_cache_dir()) / f"{name}-{key[:20]}.npz"
    if not refresh and npz.is_file() and npz.with_suffix(".json").is_file():
        try:
            return load_corpus(npz)
        except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile):
            # a damaged cache entry: rebuild it
            pass
    use_folders = not Path(str(source)).is_file()  # one file: no folder split to keep
    corpus = build_corpus(
        name, root, files, encoding, seed, unreadable, workers, progress, use_folders, limits
    )
    corpus.manifest["cache_key"] = key
    corpus.manifest["cache_file"] = str(npz)
    try:
        save_corpus(corpus, npz)
    except OSError as err:  # a read-only cache is no reason to fail: the corpus is in memory
        corpus.manifest["cache_file"] = f"not written ({err.strerror})"
    return corpus
