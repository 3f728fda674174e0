"""Checkpoints: atomic writes, weights-only loading, one-line errors for every bad file."""

import collections

import pytest
import torch

from seqgan_music.core.checkpoint import FORMAT_VERSION, read_checkpoint, save_checkpoint
from seqgan_music.core.config import paper_synthetic
from seqgan_music.errors import SeqGANMusicError


class Arbitrary:
    """Anything that is not a tensor or JSON-native value: weights_only must refuse to build it."""


def _payload():
    return {
        "domain": "text",
        "config": paper_synthetic(100, 8).to_dict(),
        "weights": {"w": torch.arange(6.0).reshape(2, 3)},
        "history": [{"phase": "g_pretrain", "step": 1, "metrics": {"loss": 1.5}}],
        "rng": torch.Generator().get_state(),
    }


def test_round_trip_loads_with_plain_weights_only(tmp_path):
    path = tmp_path / "sub" / "run.pt"
    save_checkpoint(path, _payload())
    raw = torch.load(path, weights_only=True)  # what any user can run on our files
    assert raw["format_version"] == FORMAT_VERSION
    data = read_checkpoint(path, expect_domain="text")
    assert torch.equal(data["weights"]["w"], torch.arange(6.0).reshape(2, 3))
    assert data["history"] == _payload()["history"]
    assert data["config"]["discriminator"]["filters"][0] == [1, 100]
    assert [p.name for p in path.parent.iterdir()] == ["run.pt"]  # no temp file left behind


def test_save_replaces_an_existing_file(tmp_path):
    path = tmp_path / "run.pt"
    save_checkpoint(path, {"n": 1})
    save_checkpoint(path, {"n": 2})
    assert read_checkpoint(path)["n"] == 2


def test_failed_save_leaves_the_previous_checkpoint(tmp_path):
    path = tmp_path / "run.pt"
    save_checkpoint(path, {"n": 1})
    with pytest.raises(Exception):  # noqa: B017 - torch raises a pickling error of its own choice
        save_checkpoint(path, {"n": 2, "bad": lambda: None})
    assert read_checkpoint(path)["n"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]


def test_refuses_arbitrary_pickled_objects(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"x": Arbitrary(), "format_version": FORMAT_VERSION}, path)
    with pytest.raises(SeqGANMusicError, match="not a seqgan-music checkpoint") as err:
        read_checkpoint(path)
    assert "\n" not in str(err.value) and "could run code" in str(err.value)
    assert "PyTorch 2.6" not in str(err.value)  # torch's paragraph is not the message


class Sneaky(collections.OrderedDict):
    """A dict look-alike: still an arbitrary class to the unpickler."""


def test_refuses_an_ordered_dict_subclass_too(tmp_path):
    path = tmp_path / "sneaky.pt"
    torch.save(Sneaky(format_version=FORMAT_VERSION), path)
    with pytest.raises(SeqGANMusicError):
        read_checkpoint(path)


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "checkpoint not found"),
        (b"not a torch file at all", "not a seqgan-music checkpoint"),
        (b"", "not a seqgan-music checkpoint"),
    ],
)
def test_missing_or_garbage_files(tmp_path, content, message):
    path = tmp_path / "x.pt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SeqGANMusicError, match=message) as err:
        read_checkpoint(path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("content", [b"hello\n", bytes(range(256)) * 2, b"PK\x03\x04garbage"])
def test_a_fake_checkpoint_is_one_plain_sentence(tmp_path, content):
    path = tmp_path / "fake.pt"
    path.write_bytes(content)
    with pytest.raises(SeqGANMusicError) as err:
        read_checkpoint(path)
    message = str(err.value)
    assert message.startswith(f"{path} is not a seqgan-music checkpoint: torch cannot read it (")
    assert not message.endswith(": 101") and "PyTorch" not in message and len(message) < 200


def test_wrong_version_structure_and_domain(tmp_path):
    path = tmp_path / "x.pt"
    torch.save({"weights": torch.zeros(1)}, path)
    with pytest.raises(SeqGANMusicError, match="no format_version"):
        read_checkpoint(path)
    torch.save([1, 2], path)
    with pytest.raises(SeqGANMusicError, match="no format_version"):
        read_checkpoint(path)
    torch.save({"format_version": FORMAT_VERSION + 1}, path)
    with pytest.raises(SeqGANMusicError, match=f"format {FORMAT_VERSION + 1}"):
        read_checkpoint(path)
    save_checkpoint(path, {"domain": "music"})
    with pytest.raises(SeqGANMusicError, match="'music' checkpoint, expected 'text'"):
        read_checkpoint(path, expect_domain="text")
    assert read_checkpoint(path, expect_domain="music")["domain"] == "music"
