"""The domain registry: a new domain is one class and one registration line, nothing in the package.

The toy domain below (counting sequences over a few letters) is trained, composed and evaluated
through the public API only; the built-ins are looked up by the same registry.
"""

from pathlib import Path

import numpy as np
import pytest

import seqgan_music as sm
import seqgan_music.core.domain as domains
import seqgan_music.core.tokenizer as tokenizers
from seqgan_music.core.config import tiny
from seqgan_music.core.domain import (
    ComposeOptions,
    Composition,
    Dataset,
    DomainBase,
    domain_for,
    get_domain,
    register_domain,
)
from seqgan_music.core.metrics import evaluate_samples
from seqgan_music.errors import SeqGANMusicError

LETTERS = "abcdef"


class Letters:
    """Letters a..f as ids 0..5: the toy domain's tokenizer, registered from this file too."""

    vocab_size, pad_id, eos_id = len(LETTERS), None, None

    def fit(self, corpus):
        return self

    def encode(self, item):
        return [LETTERS.index(c) for c in item]

    def decode(self, ids):
        return "".join(LETTERS[int(i)] for i in ids)

    def to_dict(self):
        return {}

    @classmethod
    def from_dict(cls, state):
        return cls()


class Counting(DomainBase):
    """Sources "count:<start letters>": each sequence counts up from a letter, mod 6."""

    tokenizer = "letters"
    PRESETS = {"tiny": tiny}

    def claims(self, source, tokenizer):
        return source.startswith("count:")

    def load(self, source, options):
        starts = [LETTERS.index(c) for c in source.removeprefix("count:")]
        length = options.seq_len or 8
        rows = np.array([[(s + t) % len(LETTERS) for t in range(length)] for s in starts * 20])
        splits = (rows[:80], rows[80:100], rows[100:])
        manifest = {"source": source, "counts": {"train": 80, "valid": 20, "test": len(rows) - 100}}
        return Dataset("counting", *splits, options.fitted_tokenizer or Letters(), manifest)

    def score(self, samples, references, dataset):
        scores = evaluate_samples(samples, references, bleu_orders=(2,), mse=False)
        steps = (np.diff(samples, axis=1) % len(LETTERS)) == 1
        scores["in order"] = steps.mean(axis=1)  # share of steps that count on by one
        return scores

    def compose(self, model, out, options: ComposeOptions):
        rows = model.sample(options.num, seed=options.seed, temperature=options.temperature)
        texts = [model.tokenizer.decode(row) for row in rows]
        if out is not None:
            Path(out).write_text("\n".join(texts) + "\n")
        return [Composition(tokens=row, path=out, text=t) for row, t in zip(rows, texts)]


@pytest.fixture
def scratch_registries(monkeypatch):
    """Registrations made in a test go into copies of both registries, dropped afterwards."""
    domains.available_domains()
    tokenizers.available_tokenizers()
    monkeypatch.setattr(domains.DOMAINS, "entries", dict(domains.DOMAINS.entries))
    monkeypatch.setattr(domains, "_INSTANCES", dict(domains._INSTANCES))
    monkeypatch.setattr(tokenizers.TOKENIZERS, "entries", dict(tokenizers.TOKENIZERS.entries))


def test_builtin_domains_claim_their_sources(tmp_path):
    assert sm.available_domains()[:3] == ["music", "text", "oracle"]
    (tmp_path / "lines.txt").write_text("a\nb\n")
    assert domain_for(tmp_path / "lines.txt").name == "text"
    assert domain_for("embedded").name == "music"
    assert domain_for("oracle").name == "oracle"
    assert domain_for(tmp_path, tokenizer="word").name == "text"
    assert domain_for(tmp_path / "x.txt", tokenizer="midi-pitch").name == "music"


def test_unknown_and_duplicate_domains(scratch_registries):
    with pytest.raises(SeqGANMusicError, match=r"unknown domain 'nope'; choose one of: music"):
        get_domain("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_domain("music")(Counting)


def test_a_toy_domain_trains_composes_and_evaluates(scratch_registries, tmp_path):
    tokenizers.register_tokenizer("letters")(Letters)
    register_domain("counting")(Counting)  # the one registration line

    run = sm.train("count:abcdef", preset="tiny", out_dir=tmp_path / "ck", run_name="toy",
                   seed=0, progress=False, overrides={"g_pretrain_epochs": 30})  # fmt: skip
    model = sm.load_checkpoint(run.checkpoint)
    assert model.domain == "counting" and isinstance(model.tokenizer, Letters)

    pieces = sm.compose(tmp_path / "toy.txt", model=model, num=4, seed=1)
    assert len(pieces) == 4 and all(set(p.text) <= set(LETTERS) for p in pieces)
    assert (tmp_path / "toy.txt").read_text().split() == [p.text for p in pieces]

    report = sm.evaluate([run.checkpoint], num_samples=40)
    rows = {row["metric"]: row for row in report.rows}
    assert set(rows) >= {"BLEU-2", "in order", "Self-BLEU-2"}
    assert rows["in order"]["real data"] == 1.0  # held-out counting sequences count, always
    assert rows["in order"]["toy"] > 0.5  # far above the 1/6 of random letters
