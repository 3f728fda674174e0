"""The layers: the core knows no domain, domains know neither the CLI nor each other, and the CLI
only calls the facade. Walk the imports and fail on a crossing."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "seqgan_music"
CORE = PKG / "core"
# Every subpackage but the core is a domain (music, text, oracle, ...).
DOMAINS = sorted(p.name for p in PKG.iterdir() if (p / "__init__.py").is_file() and p != CORE)
# Modules above the core (the facade and its job modules); errors.py is shared by every layer.
TOP_LEVEL = sorted(
    f"seqgan_music.{p.stem}" for p in PKG.glob("*.py") if p.stem not in ("__init__", "errors")
)
FORBIDDEN = (
    "seqgan_music.music",
    "seqgan_music.text",
    "seqgan_music.cli",
    "seqgan_music.api",
    "click",
    "pretty_midi",
    "mido",
    "music21",
)


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_imports_no_domain():
    files = sorted(CORE.glob("*.py"))
    assert files, "the core package has no modules"
    forbidden = FORBIDDEN + tuple(f"seqgan_music.{d}" for d in DOMAINS) + tuple(TOP_LEVEL)
    for path in files:
        bad = [m for m in _imported_modules(path) if m.startswith(forbidden)]
        assert not bad, f"{path.name} imports {bad}"


def test_domains_import_no_cli_and_no_other_domain():
    assert {"music", "text", "oracle"} <= set(DOMAINS)
    for domain in DOMAINS:
        others = tuple(f"seqgan_music.{d}" for d in DOMAINS if d != domain)
        forbidden = ("seqgan_music.cli", "seqgan_music.api", "click") + others
        for path in sorted((PKG / domain).rglob("*.py")):
            bad = [m for m in _imported_modules(path) if m.startswith(forbidden)]
            assert not bad, f"{domain}/{path.name} imports {bad}"


def test_tune_reading_lives_below_the_codecs():
    for codec in ("paper", "beat"):
        imported = _imported_modules(PKG / "music" / codec / "tokenizer.py")
        assert "seqgan_music.music.corpus" not in imported, f"{codec}/tokenizer.py imports corpus"


def test_music_io_knows_no_encoding():
    """music/io reads and writes note lists: no encoding, no tokens (music/paper, music/beat)."""
    encodings = (
        "seqgan_music.music.paper",
        "seqgan_music.music.beat",
        "seqgan_music.music.encodings",
    )
    for path in sorted((PKG / "music" / "io").glob("*.py")):
        bad = [m for m in _imported_modules(path) if m.startswith(encodings)]
        assert not bad, f"music/io/{path.name} imports {bad}"


def test_encodings_do_not_import_each_other():
    for a, b in (("paper", "beat"), ("beat", "paper")):
        for path in sorted((PKG / "music" / a).glob("*.py")):
            bad = [m for m in _imported_modules(path) if m.startswith(f"seqgan_music.music.{b}")]
            assert not bad, f"music/{a}/{path.name} imports {bad}"


def test_cli_calls_only_the_facade():
    allowed = {"seqgan_music", "seqgan_music.api", "seqgan_music.errors"}
    used = {m for m in _imported_modules(PKG / "cli.py") if m.startswith("seqgan_music")}
    assert used <= allowed, f"cli.py reaches past the facade: {sorted(used - allowed)}"


def test_heavy_libraries_stay_in_one_module():
    """music/io alone imports the MIDI and ABC libraries, one module each (music21 also in the
    score writer, which builds MusicXML through it)."""
    owners = {"music21": {"music/io/abc.py", "music/io/score.py"}, "mido": {"music/io/midi.py"},
              "pretty_midi": {"music/io/midi.py"}}  # fmt: skip
    for lib, allowed in owners.items():
        users = {
            p.relative_to(PKG).as_posix()
            for p in PKG.rglob("*.py")
            if any(m == lib or m.startswith(lib + ".") for m in _imported_modules(p))
        }
        assert users <= allowed, f"{lib} imported outside {allowed}: {users - allowed}"


def test_one_entry_point_loader():
    """Every registry (domains, tokenizers, music encodings) is a core.plugins.Registry: only
    core/plugins.py reads entry points."""
    users = {
        p.relative_to(PKG).as_posix()
        for p in PKG.rglob("*.py")
        if any(m.startswith("importlib.metadata") for m in _imported_modules(p))
        and "entry_points" in p.read_text()
    }
    assert users == {"core/plugins.py"}, users


# What only a domain may name: music's compose options and tune facts, text's tokenizers.
DOMAIN_FIELDS = {
    "program", "tempo", "restrike", "wav", "bars", "primer", "primer_steps", "lowest", "highest",
    "pitch", "pitches", "midi", "encoding", "step_seconds", "qpm", "poem", "poems",
}  # fmt: skip


def _identifiers(path: Path) -> set[str]:
    """Every name the module defines or uses: variables, attributes, arguments, fields."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.keyword) and node.arg:
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def test_core_names_no_domain_field():
    for path in sorted(CORE.glob("*.py")):
        bad = sorted(_identifiers(path) & DOMAIN_FIELDS)
        assert not bad, f"core/{path.name} names domain fields {bad}"
