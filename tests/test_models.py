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


def test_the_runtime_compile_setting_reaches_generator_sample(text_run, monkeypatch):
    """compose and evaluate sample through Model.sample: --compile (else the run's setting) is
    what Generator.sample is given."""
    from seqgan_music.core.generator import Generator

    seen = []
    original = Generator.sample

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get("compile"))
        return original(self, *args, **{**kwargs, "compile": False})

    monkeypatch.setattr(Generator, "sample", spy)
    for setting in ("on", "off", None):
        runtime = Runtime.resolve("cpu", compile=setting, set_threads=False)
        model = load_checkpoint(text_run, runtime=runtime)
        model.sample(2, seed=0)
    assert seen == ["on", "off", model.config.train.compile]


def test_what_is_not_a_training_checkpoint_is_refused(tmp_path):
    torch.save({"config": {}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(SeqGANMusicError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "missing.pt")
