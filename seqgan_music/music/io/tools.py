"""The system tools behind the outputs musicians use, each a Debian package: LilyPond engraves the
score (`lilypond`, whose `musicxml2ly` reads our MusicXML), FluidSynth plays the MIDI through a
General MIDI soundfont (`fluidsynth`, `fluid-soundfont-gm`). A missing one is a one-line error
naming the package to install.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from seqgan_music.core.files import atomic_write
from seqgan_music.errors import SeqGANMusicError

SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/default.sf2",
)
TOOL_SECONDS = 300  # one engraving or synthesis; far above the seconds a tune takes


def _tool(name: str, package: str, what: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SeqGANMusicError(f"{what} needs {name}: apt-get install {package}")
    return path


def soundfont() -> Path:
    """The first General MIDI soundfont installed; a one-line error when there is none."""
    for candidate in SOUNDFONTS:
        if Path(candidate).is_file():
            return Path(candidate)
    raise SeqGANMusicError(
        "--wav needs a General MIDI soundfont: apt-get install fluid-soundfont-gm"
    )


def _run(args: list[str], what: str) -> None:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=TOOL_SECONDS)
    except subprocess.TimeoutExpired as err:
        raise SeqGANMusicError(f"{what}: {Path(args[0]).name} took over {TOOL_SECONDS} s") from err
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no message"]
        raise SeqGANMusicError(f"{what}: {Path(args[0]).name} failed ({last[0][:200]})")


def midi_to_wav(midi: Path, wav: Path, sample_rate: int = 44100) -> Path:
    """Render a MIDI file to a 16-bit stereo WAV with FluidSynth and the GM soundfont."""
    exe = _tool("fluidsynth", "fluidsynth", "--wav")
    font = soundfont()

    with tempfile.TemporaryDirectory(prefix="seqgan-wav-") as tmp:
        out = Path(tmp) / "tune.wav"
        _run([exe, "-ni", "-q", "-g", "0.8", "-r", str(sample_rate), "-T", "wav",
              "-F", str(out), str(font), str(midi)], "--wav")  # fmt: skip
        return _copy(out, wav)


def _copy(src: Path, dest: Path) -> Path:
    """src's bytes to dest, atomically (a partial file is never left under dest's name)."""
    data = src.read_bytes()
    return atomic_write(dest, lambda fh: fh.write(data))


def engrave(musicxml: Path, out_stem: Path) -> tuple[Path, Path]:
    """MusicXML -> LilyPond input (musicxml2ly) -> out_stem.pdf and out_stem.png (one page)."""
    to_ly = _tool("musicxml2ly", "lilypond", "--score")
    lily = _tool("lilypond", "lilypond", "--score")
    with tempfile.TemporaryDirectory(prefix="seqgan-score-") as tmp:
        ly = Path(tmp) / "tune.ly"
        _run([to_ly, "--no-beaming", "-o", str(ly), str(musicxml)], "--score")
        _run([lily, "-s", "-dno-point-and-click", "-dcrop", "-dresolution=110", "--pdf", "--png",
              "-o", str(Path(tmp) / "tune"), str(ly)], "--score")  # fmt: skip
        made = []
        for suffix in (".pdf", ".png"):
            # the PDF a page as printed; the PNG cropped to the music (-dcrop) for a screen
            src = Path(tmp) / (f"tune{suffix}" if suffix == ".pdf" else "tune.cropped.png")
            if not src.is_file():  # a long tune makes tune-page1.png, ...: keep the first page
                pages = sorted(Path(tmp).glob(f"tune-page*{suffix}"))
                if not pages:
                    raise SeqGANMusicError(f"--score: lilypond wrote no {suffix} file")
                src = pages[0]
            made.append(_copy(src, out_stem.with_suffix(suffix)))
    return made[0], made[1]
