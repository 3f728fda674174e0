"""Text corpora: read them, fit a tokenizer on the training split, encode to fixed length.

A plain .txt file with one example per line and a tokenizer name is all a user needs; two known
formats are recognised by file name:
  * poems (Zhang & Lapata's quatrains, qtrain5/qvalid5/qtest5): one poem a line, verse lines
    separated by TAB, characters by spaces -> poem text with "\\n" between verse lines, no spaces
    (poems holding the corpus's rare-character marker "<R>" are dropped and counted);
  * obama (the tcontois speech scrape): one paragraph a line; the scraped "All rights reserved."
    footers, whitespace-only lines and lines with no letter (page numbers) are dropped and counted.

Fixed-length rows (the SeqGAN core's input) are the token ids, then EOS, then PAD, cut to seq_len:
a text longer than seq_len - 1 tokens is cut and carries no EOS (it goes on past the window).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqgan_music.core.splits import SPLITS, seeded_split
from seqgan_music.core.tokenizer import Tokenizer, get_tokenizer_class
from seqgan_music.errors import SeqGANMusicError

KINDS: tuple[str, ...] = ("auto", "lines", "poems", "obama")
# File names of the poem partitions, per split (5-character quatrains first: the paper's 20 tokens).
POEM_FILES: tuple[dict[str, str], ...] = (
    {"train": "qtrain5", "valid": "qvalid5", "test": "qtest5"},
    {"train": "qtrain7", "valid": "qvalid7", "test": "qtest7"},
)
# File-name stems accepted for each split in a folder of plain text files.
SPLIT_STEMS: dict[str, tuple[str, ...]] = {
    "train": ("train",),
    "valid": ("valid", "val", "validation", "dev"),
    "test": ("test",),
}
AUTO_SEQ_LEN_CAP = 64
POEM_RARE = "<R>"  # qtrain5's marker for a replaced rare character (176 of 11,274 poems)


# --- one line of a file <-> one example ----------------------------------------------------------
def poem_line_to_text(line: str) -> str:
    """'偶 寻 半 开 梅<TAB>闲 倚 一 竿 竹...' -> '偶寻半开梅\\n闲倚一竿竹...'."""
    return "\n".join("".join(verse.split()) for verse in line.strip("\r\n").split("\t"))


def text_to_poem_line(text: str) -> str:
    """Inverse of `poem_line_to_text` (for writing generated poems in the corpus's own format)."""
    return "\t".join(" ".join(verse) for verse in text.split("\n"))


def clean_obama_line(line: str) -> str | None:
    """A speech paragraph, tidied; None for scraped footers, page numbers and blank lines."""
    # NFC joins the decomposed accents; soft hyphens are invisible; one apostrophe, so that
    # "we’re" and "we're" are one word.
    text = unicodedata.normalize("NFC", line).replace("\xad", "").replace("’", "'").strip()
    if not text or "All rights reserved" in text or not any(ch.isalpha() for ch in text):
        return None
    return text


def guess_kind(path: str | Path) -> str:
    """'poems' for qtrain5/qvalid5/qtest5 (and *7), 'obama' when the name says so, else 'lines'."""
    name = Path(path).name.lower()
    if name in {f for files in POEM_FILES for f in files.values()}:
        return "poems"
    if "obama" in name:
        return "obama"
    return "lines"


def text_to_lines(text: str) -> list[str]:
    """Lines at "\\n" or "\\r\\n" only: str.splitlines also breaks at \\x0b, \\x1c, \\x85, \\u2028
    and more, which turn one example that contains them into several."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    return lines[:-1] if lines and lines[-1] == "" else lines


def _read_examples(path: Path, kind: str) -> tuple[list[str], int]:
    """(examples, how many non-empty lines were dropped) from one file."""
    if kind not in KINDS:
        raise SeqGANMusicError(f"unknown corpus kind {kind!r}; choose one of: {', '.join(KINDS)}")
    if kind == "auto":
        kind = guess_kind(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "not found"
        raise SeqGANMusicError(f"corpus file {what}: {path}")
    try:
        # utf-8-sig drops a leading BOM; newline="" keeps a lone "\r" inside its line
        with path.open(encoding="utf-8-sig", newline="") as fh:
            lines = text_to_lines(fh.read())
    except UnicodeDecodeError as err:
        raise SeqGANMusicError(
            f"{path} is not UTF-8 text: {err.reason} at byte {err.start}"
        ) from err
    examples: list[str] = []
    for line in lines:
        if kind == "poems":
            # "<R>" marks a rare character the corpus authors replaced: drop (and count) the poem.
            text = poem_line_to_text(line) if line.strip() and POEM_RARE not in line else None
        elif kind == "obama":
            text = clean_obama_line(line)
        else:
            text = line.strip() or None
        if text is not None:
            examples.append(text)
    skipped = sum(1 for line in lines if line) - len(examples)
    return examples, skipped


def read_text_corpus(source: str | Path, *, kind: str = "auto") -> list[str]:
    """The examples of one file. kind: "lines" (one per line, blank lines dropped), "poems",
    "obama", or "auto" (from the file name: see `guess_kind`)."""
    return _read_examples(Path(source), kind)[0]


# --- texts <-> fixed-length id rows --------------------------------------------------------------
def _special_ids(tokenizer: Tokenizer) -> tuple[int, int]:
    eos, pad = tokenizer.eos_id, tokenizer.pad_id
    if eos is None or pad is None:
        raise SeqGANMusicError(
            f"tokenizer {getattr(tokenizer, 'name', tokenizer)!r} has no EOS/PAD id; "
            "fixed-length text needs both"
        )
    return eos, pad


def encode_fixed_length(texts: Sequence[Any], tokenizer: Tokenizer, seq_len: int) -> np.ndarray:
    """(n, seq_len) int64 rows: the ids, then EOS, then PAD; cut at seq_len (then no EOS)."""
    if seq_len < 1:
        raise SeqGANMusicError(f"seq_len must be at least 1, not {seq_len}")
    eos, pad = _special_ids(tokenizer)
    rows = np.full((len(texts), seq_len), pad, dtype=np.int64)
    for i, text in enumerate(texts):
        ids = (list(tokenizer.encode(text)) + [eos])[:seq_len]
        rows[i, : len(ids)] = ids
    return rows


def cut_at(ids: Any, stops: Sequence[int]) -> np.ndarray:
    """One row's ids before the first of `stops` (the whole row when none occurs)."""
    row = np.asarray(ids.tolist() if hasattr(ids, "tolist") else list(ids), dtype=np.int64)
    ends = np.flatnonzero(np.isin(row, list(stops)))
    return row[: ends[0]] if len(ends) else row


def decode_until_eos(ids: Any, tokenizer: Tokenizer) -> Any:
    """Inverse of one `encode_fixed_length` row: decode the ids before the first EOS, minus PAD.

    `ids` may be a list, a numpy array or a torch tensor (one row).
    """
    eos, pad = _special_ids(tokenizer)
    return tokenizer.decode([int(i) for i in cut_at(ids, [eos]) if i != pad])


def trim_at_end(rows: np.ndarray, eos_id: int | None, pad_id: int | None) -> list[np.ndarray]:
    """Rows cut before their first EOS (or PAD), so padding never counts as n-grams."""
    stops = [t for t in (eos_id, pad_id) if t is not None]
    return [cut_at(row, stops) for row in rows]


def auto_seq_len(lengths: Sequence[int], cap: int = AUTO_SEQ_LEN_CAP) -> int:
    """95th percentile of token counts, plus one for EOS, capped (poems: 20 + 3 newlines + 1)."""
    if len(lengths) == 0:
        return 2
    p95 = int(np.percentile(np.asarray(lengths), 95, method="higher"))
    return max(2, min(p95 + 1, cap))


# --- a whole corpus ------------------------------------------------------------------------------
@dataclass
class TextCorpus:
    """Encoded splits (n, seq_len) int64, the tokenizer fitted on train, and the texts."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    tokenizer: Tokenizer
    texts: dict[str, list[str]]
    seq_len: int
    skipped: int = 0  # non-empty lines dropped while reading (footers, page numbers, malformed)
    files: dict[str, str] = field(default_factory=dict)  # split -> file it came from

    def split(self, name: str) -> np.ndarray:
        """The encoded split `name` ("train", "valid" or "test")."""
        if name not in SPLITS:
            raise SeqGANMusicError(f"unknown split {name!r}; choose one of: {', '.join(SPLITS)}")
        return getattr(self, name)


def _split_files(folder: Path) -> dict[str, Path]:
    """The split files of a corpus folder: poem partitions (here or one level down) or train/valid/
    test text files."""
    for candidate in (folder, *sorted(p for p in folder.iterdir() if p.is_dir())):
        for files in POEM_FILES:
            paths = {split: candidate / name for split, name in files.items()}
            if all(p.is_file() for p in paths.values()):
                return paths
    found: dict[str, Path] = {}
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        for split, stems in SPLIT_STEMS.items():
            if path.stem.lower() in stems and split not in found:
                found[split] = path
    if set(found) != set(SPLITS):
        raise SeqGANMusicError(
            f"{folder} needs train/valid/test files (e.g. train.txt valid.txt test.txt) or "
            f"qtrain5/qvalid5/qtest5; found {sorted(p.name for p in folder.iterdir())[:8]}"
        )
    return found


def _split_lines(texts: list[str], seed: int) -> dict[str, list[str]]:
    """The shared seeded split by example (core/splits.py), each split in file order."""
    assign = seeded_split(range(len(texts)), seed)
    return {split: [texts[i] for i in sorted(assign) if assign[i] == split] for split in SPLITS}


def make_tokenizer(name: str, options: dict[str, Any] | None = None) -> Tokenizer:
    """An unfitted tokenizer from its registered name and constructor options."""
    cls = get_tokenizer_class(name)
    try:
        return cls(**(options or {}))
    except (TypeError, ValueError) as err:
        raise SeqGANMusicError(f"bad options for tokenizer {name!r}: {err}") from err


def load_text_corpus(
    source: str | Path,
    *,
    tokenizer: str = "char",
    seq_len: int | None = None,
    tokenizer_options: dict[str, Any] | None = None,
    seed: int = 0,
    kind: str = "auto",
) -> TextCorpus:
    """Read, split, fit a tokenizer on train only, and encode every split to fixed length.

    source: a folder with train/valid/test files, the poems folder (qtrain5/qvalid5/qtest5, here
    or one level down), or one text file (a seeded 80/10/10 split by line). seq_len None: the 95th
    percentile of train lengths + 1 for EOS, capped at 64 (see `auto_seq_len`).
    """
    source = Path(source)
    if not source.exists():
        raise SeqGANMusicError(f"corpus not found: {source}")
    texts: dict[str, list[str]] = {}
    skipped = 0
    if source.is_dir():
        files = _split_files(source)
        for split, path in files.items():
            texts[split], n_skipped = _read_examples(path, kind)
            skipped += n_skipped
    else:
        files = dict.fromkeys(SPLITS, source)
        examples, skipped = _read_examples(source, kind)
        texts = _split_lines(examples, seed)
    if not texts["train"]:
        raise SeqGANMusicError(f"{files['train']}: no training examples after dropping blank lines")

    tok = make_tokenizer(tokenizer, tokenizer_options).fit(texts["train"])
    if seq_len is None:
        seq_len = auto_seq_len([len(tok.encode(t)) for t in texts["train"]])
    encoded = {split: encode_fixed_length(texts[split], tok, seq_len) for split in SPLITS}
    return TextCorpus(
        **encoded,
        tokenizer=tok,
        texts={split: texts[split] for split in SPLITS},
        seq_len=seq_len,
        skipped=skipped,
        files={split: str(path) for split, path in files.items()},
    )
