"""Reading text corpora, fixed-length encoding, and whole-corpus loading (inline tiny corpora)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqgan_music.errors import SeqGANMusicError
from seqgan_music.text.corpus import (
    auto_seq_len,
    decode_until_eos,
    encode_fixed_length,
    guess_kind,
    load_text_corpus,
    poem_line_to_text,
    read_text_corpus,
    text_to_poem_line,
)
from seqgan_music.text.tokenizers import EOS_ID, PAD_ID, UNK_ID, CharTokenizer, WordTokenizer

POEMS = "偶 寻 半 开 梅\t闲 倚 一 竿 竹\t儿 童 不 知 春\t问 草 何 故 绿\n" \
        "桥 坏 <R> 系 绳\t水 浅 牛 可 跨\t牛 背 度 溪 人\t须 眉 绿 如 画\n" \
        "少 闻 鸡 声 眠\t老 听 鸡 声 起\t千 古 万 代 人\t消 磨 数 声 里"  # fmt: skip
OBAMA = (
    "Good afternoon, everybody.\n"
    "     \n"
    "   ©2010. All rights reserved.   \n"
    "    3\n"
    "\n"
    "We\u2019re headed for a\u00adgood place.\n"
    "Property of   © Copyright 2010. All rights reserved.   \n"
)


def test_lines_drop_blank_lines_and_strip(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("  first example \n\n   \nsecond\n", encoding="utf-8")
    assert read_text_corpus(path) == ["first example", "second"]


def test_poems_become_lines_of_characters_and_rare_markers_are_dropped(tmp_path):
    path = tmp_path / "qtrain5"
    path.write_text(POEMS, encoding="utf-8")
    assert guess_kind(path) == "poems"
    poems = read_text_corpus(path)
    assert poems == [
        "偶寻半开梅\n闲倚一竿竹\n儿童不知春\n问草何故绿",
        "少闻鸡声眠\n老听鸡声起\n千古万代人\n消磨数声里",
    ]
    assert read_text_corpus(path, kind="lines")[0].startswith("偶 寻")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(st.characters(exclude_categories=("Z", "C")), min_size=1, max_size=7),
                min_size=1, max_size=4))  # fmt: skip
def test_poem_line_round_trip(verses):
    text = "\n".join(verses)
    assert poem_line_to_text(text_to_poem_line(text)) == text


def test_obama_filters_footers_page_numbers_and_whitespace(tmp_path):
    path = tmp_path / "obama_speeches.txt"
    path.write_text(OBAMA, encoding="utf-8")
    assert guess_kind(path) == "obama"
    assert read_text_corpus(path) == ["Good afternoon, everybody.", "We're headed for agood place."]
    corpus = load_text_corpus(path, tokenizer="word", seq_len=8)
    assert corpus.skipped == 4  # two footers, a page number, a whitespace-only line


def test_encode_fixed_length_cuts_then_eos_then_pad():
    tok = CharTokenizer().fit(["abcdef"])
    rows = encode_fixed_length(["ab", "abcd", "abcdef"], tok, seq_len=5)
    a, b = tok.encode("a")[0], tok.encode("b")[0]
    assert rows.dtype == np.int64 and rows.shape == (3, 5)
    assert rows[0].tolist() == [a, b, EOS_ID, PAD_ID, PAD_ID]
    assert rows[1].tolist() == tok.encode("abcd") + [EOS_ID]
    assert rows[2].tolist() == tok.encode("abcde")  # cut: no room for EOS
    assert [decode_until_eos(r, tok) for r in rows] == ["ab", "abcd", "abcde"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=5))
def test_decode_until_eos_inverts_fixed_length_rows(texts):
    tok = CharTokenizer().fit(texts)
    rows = encode_fixed_length(texts, tok, seq_len=13)
    assert [decode_until_eos(row, tok) for row in rows] == texts


def test_decode_until_eos_stops_at_the_first_eos_and_accepts_tensors():
    torch = pytest.importorskip("torch")
    tok = WordTokenizer().fit(["hello world"])
    ids = tok.encode("hello world") + [EOS_ID] + tok.encode("world") + [PAD_ID]
    assert decode_until_eos(torch.tensor(ids), tok) == "hello world"
    assert decode_until_eos(np.array([PAD_ID, UNK_ID]), tok) == "<unk>"


def test_auto_seq_len_is_p95_plus_eos_capped():
    assert auto_seq_len([23] * 50) == 24
    assert auto_seq_len(list(range(1, 41))) == 40  # p95 of 1..40 is 39
    assert auto_seq_len([500, 900]) == 64
    assert auto_seq_len([]) == 2


def test_folder_with_splits_fits_on_train_only(tmp_path):
    (tmp_path / "train.txt").write_text("abc\nabd\n", encoding="utf-8")
    (tmp_path / "valid.txt").write_text("abz\n", encoding="utf-8")
    (tmp_path / "test.txt").write_text("dcba\n", encoding="utf-8")
    corpus = load_text_corpus(tmp_path)
    assert corpus.tokenizer.vocab_size == 3 + 4  # a b c d: z was only in valid
    assert corpus.seq_len == 4  # 3 characters + EOS
    assert corpus.valid[0].tolist() == corpus.tokenizer.encode("ab") + [UNK_ID, EOS_ID]
    assert corpus.test.shape == (1, 4)
    assert corpus.texts["train"] == ["abc", "abd"]


def test_poems_folder_one_level_down(tmp_path):
    sub = tmp_path / "zhang_lapata"
    sub.mkdir()
    for name in ("qtrain5", "qvalid5", "qtest5"):
        (sub / name).write_text(POEMS, encoding="utf-8")
    corpus = load_text_corpus(tmp_path, tokenizer="char")
    assert corpus.seq_len == 24  # 20 characters + 3 line breaks + EOS
    assert corpus.train.shape == (2, 24) and corpus.skipped == 3
    assert decode_until_eos(corpus.test[0], corpus.tokenizer) == corpus.texts["test"][0]
    flat = load_text_corpus(tmp_path, tokenizer_options={"newline_token": False, "line_width": 5})
    assert flat.seq_len == 21
    assert decode_until_eos(flat.train[1], flat.tokenizer) == flat.texts["train"][1]


def test_one_file_splits_80_10_10_by_seed(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("".join(f"line {i}\n" for i in range(50)), encoding="utf-8")
    a = load_text_corpus(path, tokenizer="word", seed=1)
    b = load_text_corpus(path, tokenizer="word", seed=1)
    c = load_text_corpus(path, tokenizer="word", seed=2)
    sizes = {split: len(a.texts[split]) for split in ("train", "valid", "test")}
    assert sizes == {"train": 40, "valid": 5, "test": 5}
    everything = a.texts["train"] + a.texts["valid"] + a.texts["test"]
    assert sorted(everything) == sorted(f"line {i}" for i in range(50))
    assert a.texts == b.texts and a.texts != c.texts
    assert np.array_equal(a.train, b.train)


@pytest.mark.parametrize("source, options, message", [
    ("missing.txt", {}, "not found"),
    ("empty_dir", {}, "train/valid/test"),
    ("blank.txt", {}, "no training examples"),
    ("ok.txt", {"tokenizer": "klingon"}, "choose one of: .*char.*word"),
    ("ok.txt", {"tokenizer_options": {"colour": "red"}}, "bad options for tokenizer 'char'"),
    ("ok.txt", {"kind": "sonnets"}, "unknown corpus kind"),
    ("ok.txt", {"seq_len": 0}, "seq_len must be at least 1, not 0"),
])  # fmt: skip
def test_user_errors_are_one_line(tmp_path, source, options, message):
    (tmp_path / "empty_dir").mkdir()
    (tmp_path / "blank.txt").write_text("\n  \n", encoding="utf-8")
    (tmp_path / "ok.txt").write_text("a\nb\n", encoding="utf-8")
    with pytest.raises(SeqGANMusicError, match=message) as info:
        load_text_corpus(tmp_path / source, **options)
    assert "\n" not in str(info.value)


def test_non_utf8_file_is_a_user_error(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\u00e9\n".encode("latin-1"))
    with pytest.raises(SeqGANMusicError, match="not UTF-8"):
        read_text_corpus(path)
    with pytest.raises(SeqGANMusicError, match="is a folder"):
        read_text_corpus(tmp_path)


# --- the real corpora (skipped without ../shared/data) -------------------------------------------
def test_real_poems(shared_data):
    corpus = load_text_corpus(shared_data / "poems", tokenizer="char")
    assert corpus.files["train"].endswith("qtrain5")
    assert corpus.seq_len == 24
    assert (len(corpus.texts["train"]), len(corpus.texts["test"])) == (11_274 - 176, 1_025)
    assert all(len(p) == 23 for split in corpus.texts.values() for p in split)
    assert (corpus.train[:, -1] == EOS_ID).all()
    assert decode_until_eos(corpus.test[0], corpus.tokenizer) == corpus.texts["test"][0]


def test_real_obama_word_level(shared_data):
    path = shared_data / "obama" / "tcontois_obama_speeches.txt"
    corpus = load_text_corpus(path, tokenizer="word")
    assert corpus.tokenizer.vocab_size == 5000
    assert corpus.seq_len == 64
    assert not any("rights reserved" in t for t in corpus.texts["train"])
    n = sum(len(t) for t in corpus.texts.values())
    assert corpus.train.shape[0] + corpus.valid.shape[0] + corpus.test.shape[0] == n > 6_000


def test_only_newlines_split_examples_and_a_bom_is_dropped(tmp_path):
    # 4 examples holding the characters str.splitlines breaks at; \r\n and a lone \r as well
    lines = ["one\x0btwo", "three\x1cfour", "five\u2028six", "seven\x85eight", "nine\rten"]
    path = tmp_path / "odd.txt"
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\n").encode("utf-8"))
    assert read_text_corpus(path) == lines
    words = load_text_corpus(path, tokenizer="word", seed=0).texts
    assert not any("\ufeff" in t for split in words.values() for t in split)
