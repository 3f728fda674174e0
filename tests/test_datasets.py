"""datasets.py directly: the claiming domain loads a source, a checkpoint's domain and fitted
tokenizer are honoured, and domain options reach (only) the domain that has them."""

import numpy as np
import pytest

from seqgan_music.datasets import load_dataset
from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.paper.tunes import write_midi


def test_the_claiming_domain_loads_a_text_file(text_run):
    dataset = load_dataset(text_run.parent.parent / "lines.txt", tokenizer="char", progress=False)
    assert dataset.domain == "text" and dataset.tokenizer.name == "char"
    assert dataset.train.dtype == np.int64 and dataset.train.shape[1] == dataset.seq_len
    assert dataset.manifest["counts"]["train"] == len(dataset.train)


def test_a_fitted_tokenizer_keeps_its_ids(text_run):
    lines = text_run.parent.parent / "lines.txt"
    first = load_dataset(lines, tokenizer="char", progress=False)
    again = load_dataset(lines, tokenizer="char", progress=False, fitted_tokenizer=first.tokenizer)
    assert again.tokenizer is first.tokenizer and np.array_equal(again.test, first.test)


def test_the_encoding_travels_as_a_domain_option(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQGAN_MUSIC_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    for i in range(10):
        write_midi(rng.integers(40, 60, 160), tmp_path / "tunes" / f"t{i}.mid")
    paper = load_dataset(tmp_path / "tunes", progress=False)
    beat = load_dataset(tmp_path / "tunes", progress=False, domain_options={"encoding": "beat"})
    assert (paper.tokenizer.name, beat.tokenizer.name) == ("midi-pitch", "midi-beat")
    assert beat.manifest["encoding"] == "beat"
    with pytest.raises(SeqGANMusicError, match="unknown encoding 'nope'"):
        load_dataset(tmp_path / "tunes", progress=False, domain_options={"encoding": "nope"})
    with pytest.raises(SeqGANMusicError, match="--encoding is not an option of text models"):
        load_dataset(tmp_path / "x.txt", tokenizer="char", domain_options={"encoding": "beat"})
