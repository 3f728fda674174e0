"""The Nottingham download against a loopback HTTP server serving a zip built here (no network)."""

import hashlib
import http.server
import io
import threading
import zipfile

import pytest

from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.download import download_nottingham, nottingham_split
from seqgan_music.music.paper.tunes import tokens_to_midi


def _zip() -> bytes:
    buf = io.BytesIO()
    midi = io.BytesIO()
    tokens_to_midi([40, 41, 42]).write(midi)
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("Nottingham/", "")
        for i in range(12):  # indices 4 and 10 are valid, 5 and 11 test
            folder = "train" if i < 8 else "valid"  # as in the public copy: test merged in
            z.writestr(f"Nottingham/{folder}/jigs_simple_chords_{i}.mid", midi.getvalue())
        z.writestr("Nottingham/valid/noindex.mid", midi.getvalue())
        z.writestr("Nottingham/readme.txt", "not a tune")
    return buf.getvalue()


@pytest.fixture
def server():
    payload = {"/Nottingham.zip": _zip()}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = payload.get(self.path)
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", payload["/Nottingham.zip"]
    httpd.shutdown()
    httpd.server_close()


def test_split_rule_from_trailing_index():
    assert [nottingham_split(f"reels_simple_chords_{i}.mid") for i in range(7)] == [
        "train", "train", "train", "train", "valid", "test", "train",
    ]  # fmt: skip
    assert nottingham_split("ashover_simple_chords_1.MID") == "train"
    assert nottingham_split("ashover1.mid") is None and nottingham_split("tune.mid") is None


def test_download_verifies_and_rebuilds_the_split(server, tmp_path):
    base, data = server
    sha = hashlib.sha256(data).hexdigest()
    out = download_nottingham(tmp_path / "midi_data", url=f"{base}/Nottingham.zip", sha256=sha)
    assert out == tmp_path / "midi_data" / "nottingham"
    names = {s: sorted(p.name for p in (out / s).glob("*.mid")) for s in ("train", "valid", "test")}
    assert names["valid"] == [
        "jigs_simple_chords_10.mid",
        "jigs_simple_chords_4.mid",
        "noindex.mid",
    ]
    assert names["test"] == ["jigs_simple_chords_11.mid", "jigs_simple_chords_5.mid"]
    assert len(names["train"]) == 8
    assert not [p for p in out.parent.iterdir() if p.name != "nottingham"]  # no temp folder left
    # a second call finds the same archive there and does not download again
    assert download_nottingham(tmp_path / "midi_data", url=f"{base}/missing", sha256=sha) == out


def test_checksum_mismatch_is_refused_and_writes_nothing(server, tmp_path):
    base, _ = server
    with pytest.raises(SeqGANMusicError, match="checksum mismatch"):
        download_nottingham(tmp_path / "midi_data", url=f"{base}/Nottingham.zip", sha256="0" * 64)
    assert not (tmp_path / "midi_data" / "nottingham").exists()


def test_unreachable_url_is_a_clear_error(server, tmp_path):
    base, _ = server
    with pytest.raises(SeqGANMusicError, match="could not download"):
        download_nottingham(tmp_path, url=f"{base}/missing", sha256="0" * 64)
