"""Fetch the Nottingham MIDI set (Boulanger-Lewandowski et al. 2012) into midi_data/nottingham.

The public copy (GitHub ShakeelRaja/Structured-Augmented-LSTM, data/Nottingham.zip) merged the test
split into train and valid; the standard 694/173/170 split is rebuilt from the trailing index i of
`<set>_simple_chords_<i>.mid`: i % 6 == 4 -> valid, i % 6 == 5 -> test, else train
(shared/data/nottingham/PROVENANCE.md). The checksum is verified before anything is written, and
the folder appears in one rename, so an interrupted download leaves nothing half-written.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from seqgan_music.errors import SeqGANMusicError

NOTTINGHAM_URL = "https://raw.githubusercontent.com/ShakeelRaja/Structured-Augmented-LSTM/master/data/Nottingham.zip"
NOTTINGHAM_SHA256 = "4c1e041f4591949d662073f38097bcaf76cfa537c0f6e68f76bdc2d146ad1f45"
NOTTINGHAM_BYTES = 692_463
_INDEX = re.compile(r"_(\d+)\.midi?$", re.IGNORECASE)


def nottingham_split(filename: str) -> str | None:
    """The standard split of a `<set>_simple_chords_<i>.mid` name, None if it has no index."""
    m = _INDEX.search(filename)
    if m is None:
        return None
    return {4: "valid", 5: "test"}.get(int(m.group(1)) % 6, "train")


def fetch(url: str, timeout: float = 60.0) -> bytes:
    """The bytes at `url`; network failures become a one-line SeqGANMusicError."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (a fixed https URL)
            return resp.read()
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise SeqGANMusicError(f"could not download {url}: {getattr(err, 'reason', err)}") from err


def download_nottingham(
    dest: Path = Path("midi_data"), *, url: str = NOTTINGHAM_URL, sha256: str = NOTTINGHAM_SHA256
) -> Path:
    """Download, verify and unpack Nottingham.zip into dest/nottingham/{train,valid,test}.

    Returns dest/"nottingham". A folder already there from the same archive is kept as is.
    """
    dest = Path(dest)
    target = dest / "nottingham"
    stamp = target / ".sha256"
    if stamp.is_file() and stamp.read_text().strip() == sha256:
        return target
    data = fetch(url)
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise SeqGANMusicError(
            f"checksum mismatch for {url}: expected sha256 {sha256}, got {got} "
            f"({len(data)} bytes); nothing was written"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as err:
        raise SeqGANMusicError(f"{url} is not a zip archive") from err
    dest.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".nottingham-", dir=dest))
    try:
        counts = _unpack(archive, tmp)
        if not sum(counts.values()):
            raise SeqGANMusicError(f"{url} holds no .mid files")
        (tmp / ".sha256").write_text(sha256 + "\n")
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)  # atomic on one filesystem: the folder is complete or absent
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _unpack(archive: zipfile.ZipFile, out: Path) -> dict[str, int]:
    """Write every .mid member into out/<split>/<name>; returns files per split."""
    counts = {"train": 0, "valid": 0, "test": 0}
    for info in archive.infolist():
        member = PurePosixPath(info.filename)
        if info.is_dir() or member.suffix.lower() not in (".mid", ".midi"):
            continue
        if member.name.startswith(".") or "__MACOSX" in member.parts:
            continue
        split = nottingham_split(member.name)
        if split is None:  # no index: keep the archive's own folder when it names a split
            split = next((p for p in member.parts[:-1] if p in counts), "train")
        (out / split).mkdir(exist_ok=True)
        (out / split / member.name).write_bytes(archive.read(info))
        counts[split] += 1
    return counts
