"""models.py directly: a checkpoint becomes a Model on the runtime's device, or a clear error."""

import pytest
import torch

from seqgan_music.core.runtime import Runtime
from seqgan_music.errors import CheckpointError, SeqGANMusicError
from seqgan_music.models import load_checkpoint


def test_a_training_checkpoint_loads_as_a_model(text_run):
    model = load_checkpoint(text_run, runtime=Runtime.resolve("cpu", set_threads=False))
    assert model.domain == "text" and model.tokenizer.name == "char"
    assert next(model.generator.parameters()).device == torch.device("cpu")
    assert not model.generator.training
    assert model.sample(3, seed=0).shape == (3, model.config.generator.seq_len)


def test_what_is_not_a_training_checkpoint_is_refused(tmp_path):
    torch.save({"config": {}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(SeqGANMusicError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "missing.pt")
