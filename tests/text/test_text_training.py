"""A third-party tokenizer, registered through the public API, trains on the generic SeqGAN core.

Nothing is installed: a toy tokenizer is registered (into a scratch copy of the registry), a tiny
text file is loaded with it by name, the trainer runs every phase of Algorithm 1 once, and the
checkpoint's tokenizer is rebuilt with no corpus at hand to decode samples.
"""

import pytest
import torch

import seqgan_music.core.tokenizer as registry
import seqgan_music.core.trainer as trainer_module
from seqgan_music.core.checkpoint import read_checkpoint
from seqgan_music.core.config import (
    DiscriminatorConfig,
    GeneratorConfig,
    SeqGANConfig,
    TrainConfig,
)
from seqgan_music.core.tokenizer import register_tokenizer, tokenizer_from_dict, tokenizer_to_dict
from seqgan_music.text.corpus import decode_until_eos, load_text_corpus


class Syllables:
    """Toy tokenizer: words of a fixed syllable set, one id each, after PAD=0 and EOS=1."""

    def __init__(self, syllables: str = "ba be bi bo bu") -> None:
        self.syllables = syllables.split()

    vocab_size = property(lambda self: 2 + len(self.syllables))
    pad_id = property(lambda self: 0)
    eos_id = property(lambda self: 1)

    def fit(self, corpus):
        return self

    def encode(self, item):
        return [2 + self.syllables.index(s) for s in item.split()]

    def decode(self, ids):
        return " ".join(self.syllables[i - 2] for i in ids)

    def to_dict(self):
        return {"syllables": " ".join(self.syllables)}

    @classmethod
    def from_dict(cls, state):
        return cls(**state)


@pytest.fixture
def toy_registered(monkeypatch):
    registry.available_tokenizers()
    monkeypatch.setattr(registry.TOKENIZERS, "entries", dict(registry.TOKENIZERS.entries))
    register_tokenizer("syllables")(Syllables)


def test_toy_tokenizer_trains_and_decodes_from_the_checkpoint(toy_registered, tmp_path):
    lines = ["ba be bi", "bo bu", "ba ba be bo bu", "bi bo", "bu bu ba be", "be bi bo bu ba"] * 8
    path = tmp_path / "songs.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    corpus = load_text_corpus(path, tokenizer="syllables", seq_len=6, seed=0)
    vocab, seq_len = corpus.tokenizer.vocab_size, corpus.seq_len
    assert (vocab, seq_len) == (7, 6) and corpus.train.shape == (40, 6)

    config = SeqGANConfig(
        GeneratorConfig(vocab, seq_len, emb_dim=8, hidden_dim=8),
        DiscriminatorConfig(vocab, seq_len, emb_dim=8, filters=((2, 4), (3, 4))),
        TrainConfig(batch_size=8, g_pretrain_epochs=2, d_pretrain_rounds=1, d_pretrain_epochs=1,
                    adv_rounds=1, d_steps=1, k_epochs=1, rollout_num=2, eval_every=1),
    )  # fmt: skip
    events = []
    trainer = trainer_module.SeqGANTrainer(
        config,
        torch.from_numpy(corpus.train),
        callback=events.append,
        metadata={"domain": "text", "tokenizer": tokenizer_to_dict(corpus.tokenizer)},
    )
    checkpoint = tmp_path / "toy.pt"
    trainer.run(checkpoint)
    phases = [e.phase for e in events]
    assert phases == ["g_pretrain", "g_pretrain", "d_pretrain", "adversarial", "done"]
    for event in events[:-1]:
        assert all(torch.isfinite(torch.tensor(v)) for v in event.metrics.values())

    payload = read_checkpoint(checkpoint)  # weights-only: the tokenizer is plain data
    tokenizer = tokenizer_from_dict(payload["metadata"]["tokenizer"])
    assert isinstance(tokenizer, Syllables)
    generator = trainer_module.checkpoint_generator(payload)
    samples = generator.sample(16, rng=torch.Generator().manual_seed(0))  # (16, seq_len)
    assert samples.shape == (16, seq_len)
    texts = [decode_until_eos(row, tokenizer) for row in samples]  # PAD dropped, cut at EOS
    assert all(set(text.split()) <= set("ba be bi bo bu".split()) for text in texts)
    assert any(texts)
