"""The built-in text tokenizers: round trips over generated text, vocabulary rules, save/load."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqgan_music.text.tokenizers import (
    EOS_ID,
    PAD_ID,
    SPECIAL_TOKENS,
    UNK_ID,
    CharTokenizer,
    WordTokenizer,
    normalize_spacing,
)

# Any text, including newlines, tabs, punctuation, combining marks and astral characters.
any_text = st.text(max_size=80)
# Text that looks like prose: words, numbers and punctuation separated by assorted whitespace.
prose_piece = st.one_of(
    st.from_regex(r"[A-Za-zé]{1,8}", fullmatch=True),
    st.from_regex(r"[0-9]{1,3}([.,][0-9]{1,3})?", fullmatch=True),
    st.sampled_from(list(".,;:!?()[]\"'“”‘’$%-–—…/") + ["--", "...", "don't", "well-being"]),
)
prose = st.lists(
    st.tuples(prose_piece, st.sampled_from(["", " ", "  ", "\n", "\t"])), max_size=30
).map(lambda parts: "".join(p + sep for p, sep in parts))


@settings(max_examples=200, deadline=None)
@given(any_text)
def test_char_round_trip_is_exact_for_any_text(text):
    tok = CharTokenizer().fit([text])
    ids = tok.encode(text)
    assert len(ids) == len(text)
    assert tok.decode(ids) == text
    assert UNK_ID not in ids


@settings(max_examples=100, deadline=None)
@given(any_text)
def test_char_without_newline_token_drops_line_breaks(text):
    tok = CharTokenizer(newline_token=False).fit([text])
    assert tok.decode(tok.encode(text)) == text.replace("\n", "")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(st.characters(exclude_characters="\n"), min_size=5, max_size=5), min_size=1,
                max_size=6))  # fmt: skip
def test_char_line_width_restores_equal_lines(lines):
    poem = "\n".join(lines)
    tok = CharTokenizer(newline_token=False, line_width=5).fit([poem])
    assert len(tok.encode(poem)) == 5 * len(lines)
    assert tok.decode(tok.encode(poem)) == poem


@settings(max_examples=300, deadline=None)
@given(st.one_of(any_text, prose))
def test_word_round_trip_is_the_idempotent_normal_form(text):
    """decode(encode(x)) == normalize_spacing(x); on normal-form text that is x itself."""
    tok = WordTokenizer(lowercase=False, max_vocab=10_000).fit([text])
    decoded = tok.decode(tok.encode(text))
    assert decoded == normalize_spacing(text)
    assert normalize_spacing(decoded) == decoded  # idempotent: an exact round trip from here on
    assert tok.decode(tok.encode(decoded)) == decoded
    assert decoded.split() == [] or "".join(decoded.split()) == "".join(text.split())


@settings(max_examples=100, deadline=None)
@given(st.one_of(any_text, prose))
def test_word_lowercase_round_trip_is_the_normal_form_of_the_lowered_text(text):
    tok = WordTokenizer(lowercase=True, max_vocab=10_000).fit([text])
    assert tok.decode(tok.encode(text)) == normalize_spacing(text.lower())


def test_word_splits_punctuation_and_keeps_inner_marks():
    tok = WordTokenizer(lowercase=False)
    text = "We're here -- in 2,016 (well-being!), “yes”... $5 or 9:30?"
    assert tok.split(text) == [
        "We're", "here", "--", "in", "2,016", "(", "well-being", "!", ")", ",", "“", "yes", "”",
        ".", ".", ".", "$", "5", "or", "9:30", "?",
    ]  # fmt: skip
    assert normalize_spacing(text) == text


def test_word_lowercase_and_vocab_cap():
    corpus = ["The cat sat.", "the cat ran.", "A dog sat!"]
    tok = WordTokenizer(lowercase=True, max_vocab=len(SPECIAL_TOKENS) + 3).fit(corpus)
    # counts: the 2, cat 2, sat 2, . 2, then singletons; ties broken in code-point order
    assert tok.vocab_size == 6
    assert [tok.id_to_token(i) for i in range(3, 6)] == [".", "cat", "sat"]
    assert tok.encode("THE CAT SAT.") == [UNK_ID, 4, 5, 3]
    assert tok.decode(tok.encode("THE CAT SAT.")) == "<unk> cat sat."


def test_special_ids_are_fixed_and_render_as_nothing():
    tok = CharTokenizer().fit(["abc"])
    assert (tok.pad_id, tok.eos_id, tok.unk_id) == (PAD_ID, EOS_ID, UNK_ID) == (0, 1, 2)
    ids = tok.encode("cab")
    assert tok.decode(ids + [EOS_ID, PAD_ID, PAD_ID]) == "cab"
    assert tok.decode([UNK_ID]) == "\ufffd"
    assert tok.encode("xa") == [UNK_ID, tok.token_to_id("a")]


def test_char_vocab_is_by_frequency_then_code_point():
    tok = CharTokenizer().fit(["bba", "ca"])
    assert [tok.id_to_token(i) for i in range(3, tok.vocab_size)] == ["a", "b", "c"]


@pytest.mark.parametrize("make", [
    lambda: CharTokenizer(newline_token=False, line_width=5, max_vocab=10),
    lambda: WordTokenizer(lowercase=False, max_vocab=8),
])  # fmt: skip
def test_save_load_is_json_and_symmetric(make):
    corpus = ["Spring dawn, sleeping:\nbirds sing.", "Night wind, rain;\nhow many fell?"]
    tok = make().fit(corpus)
    state = json.loads(json.dumps(tok.to_dict()))
    again = type(tok).from_dict(state)
    assert again.to_dict() == tok.to_dict()
    for text in corpus + ["unseen words, and \u00e9"]:
        assert again.encode(text) == tok.encode(text)


def test_errors_name_the_bad_value():
    with pytest.raises(RuntimeError, match="fit"):
        CharTokenizer().encode("a")
    with pytest.raises(ValueError, match="0..4"):
        CharTokenizer().fit(["ab"]).decode([7])
    with pytest.raises(ValueError, match="max_vocab"):
        WordTokenizer(max_vocab=2)


def test_char_vocabulary_is_capped_by_default_to_the_most_frequent():
    # 20,000 distinct rare symbols and a few frequent letters
    text = "abc" * 50 + "".join(chr(0x4E00 + i) for i in range(20000))
    tok = CharTokenizer().fit([text])
    assert tok.vocab_size == CharTokenizer().max_vocab == 8000
    assert tok.encode("abc") == [3, 4, 5]  # the most frequent symbols keep ids
    assert tok.encode(chr(0x4E00 + 19999)) == [UNK_ID]  # the rarest are UNK
    assert CharTokenizer(max_vocab=None).fit([text]).vocab_size == 3 + 3 + 20000
    # a checkpoint's tokenizer saved without a cap loads without one
    assert (
        CharTokenizer.from_dict({"options": {"max_vocab": None}, "vocab": ["x"]}).max_vocab is None
    )
