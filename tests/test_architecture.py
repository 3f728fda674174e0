"""The core knows nothing of music or text: walk its imports and fail if it reaches a domain."""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "seqgan_music" / "core"
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
    for path in files:
        bad = [m for m in _imported_modules(path) if m.startswith(FORBIDDEN)]
        assert not bad, f"{path.name} imports {bad}"


def test_heavy_libraries_stay_in_one_module():
    pkg = CORE.parent
    owners = {"music21": {"abc_io.py"}, "mido": {"midi_io.py"}, "pretty_midi": {"midi_io.py"}}
    for lib, allowed in owners.items():
        users = {
            p.name
            for p in pkg.rglob("*.py")
            if any(m == lib or m.startswith(lib + ".") for m in _imported_modules(p))
        }
        assert users <= allowed, f"{lib} imported outside {allowed}: {users - allowed}"
