"""Built-in text tokenizers: `char` (poems) and `word` (speeches).

Both share one closed vocabulary with fixed special ids, the same in every text tokenizer:

    PAD = 0   padding after the end of a sequence (never a model target that matters)
    EOS = 1   end of sequence: generated text is decoded up to the first one
    UNK = 2   any token that is not in the vocabulary (unseen, or cut by `max_vocab`)

then the corpus tokens by descending frequency (ties in code-point order), so a vocabulary is
deterministic for a given corpus. `decode` is the inverse of `encode`: it renders PAD and EOS as
nothing and UNK as `unk_text`. `to_dict` / `from_dict` are symmetric and JSON-native, so a
checkpoint carries its tokenizer and `compose` rebuilds it with no corpus at hand.

Round trips (tested with hypothesis in tests/text/test_tokenizers.py), for a tokenizer fitted on
the text itself (an open vocabulary, so no UNK):
  * char, newline_token=True:  decode(encode(x)) == x for every string x.
  * char, newline_token=False: decode(encode(x)) == x.replace("\\n", "") (line breaks are dropped);
    with line_width=w > 0, "\\n" is re-inserted every w characters, so a poem of equal lines
    (4 x 5 characters) round-trips exactly.
  * word, lowercase=False: decode(encode(x)) == normalize_spacing(x) for every string x, and
    normalize_spacing is idempotent, so decode(encode(x)) == x exactly for text in normal spacing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from seqgan_music.core.tokenizer import register_tokenizer

PAD_ID, EOS_ID, UNK_ID = 0, 1, 2
SPECIAL_TOKENS: tuple[str, ...] = ("<pad>", "<eos>", "<unk>")


class _VocabTokenizer:
    """A closed vocabulary of string tokens; subclasses say how text splits into tokens and back."""

    name: str  # set by @register_tokenizer
    unk_text: str = "<unk>"

    def __init__(self, *, max_vocab: int | None = None) -> None:
        if max_vocab is not None and max_vocab <= len(SPECIAL_TOKENS):
            raise ValueError(f"max_vocab must exceed {len(SPECIAL_TOKENS)}, not {max_vocab}")
        self.max_vocab = max_vocab
        self._id_to_token: list[str] = list(SPECIAL_TOKENS)
        self._token_to_id: dict[str, int] = {}
        self._fitted = False

    # --- what a subclass defines -----------------------------------------------------------------
    def split(self, text: str) -> list[str]:
        raise NotImplementedError

    def join(self, tokens: list[str]) -> str:
        raise NotImplementedError

    def options(self) -> dict[str, Any]:
        """Constructor keyword arguments, JSON-native (saved by `to_dict`)."""
        return {"max_vocab": self.max_vocab}

    # --- the protocol ----------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return len(self._id_to_token)

    @property
    def pad_id(self) -> int:
        return PAD_ID

    @property
    def eos_id(self) -> int:
        return EOS_ID

    @property
    def unk_id(self) -> int:
        return UNK_ID

    def fit(self, corpus: Iterable[str]) -> _VocabTokenizer:
        """Build the vocabulary: most frequent tokens first, capped at `max_vocab` ids in all."""
        counts = Counter(tok for text in corpus for tok in self.split(text))
        ranked = sorted(counts, key=lambda tok: (-counts[tok], tok))
        if self.max_vocab is not None:
            ranked = ranked[: self.max_vocab - len(SPECIAL_TOKENS)]
        self._set_vocab(ranked)
        return self

    def encode(self, item: str) -> list[int]:
        """Text -> ids (no EOS added: `encode_fixed_length` does that). Unknown tokens -> UNK."""
        if not self._fitted:
            raise RuntimeError(f"{type(self).__name__} has no vocabulary yet: call fit() first")
        return [self._token_to_id.get(tok, UNK_ID) for tok in self.split(item)]

    def decode(self, ids: Sequence[int]) -> str:
        """Ids -> text; PAD and EOS render as nothing, UNK as `unk_text`."""
        ids = [int(i) for i in ids]
        return self.join([self.id_to_token(i) for i in ids if i not in (PAD_ID, EOS_ID)])

    def token_to_id(self, token: str) -> int:
        """The id of `token` (UNK when it is not in the vocabulary)."""
        return self._token_to_id.get(token, UNK_ID)

    def id_to_token(self, token_id: int) -> str:
        """The token with id `token_id`; UNK renders as `unk_text`."""
        token_id = int(token_id)
        if not 0 <= token_id < self.vocab_size:
            raise ValueError(f"token id must be in range 0..{self.vocab_size - 1}, not {token_id}")
        return self.unk_text if token_id == UNK_ID else self._id_to_token[token_id]

    def to_dict(self) -> dict[str, Any]:
        """JSON-native state: the options and the vocabulary after the special tokens."""
        return {"options": self.options(), "vocab": self._id_to_token[len(SPECIAL_TOKENS) :]}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> _VocabTokenizer:
        """Inverse of `to_dict`."""
        tokenizer = cls(**state["options"])
        tokenizer._set_vocab(list(state["vocab"]))
        return tokenizer

    def _set_vocab(self, tokens: list[str]) -> None:
        self._id_to_token = list(SPECIAL_TOKENS) + tokens
        self._token_to_id = {tok: i for i, tok in enumerate(self._id_to_token)}
        self._fitted = True

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{type(self).__name__}({opts}; vocab_size={self.vocab_size})"


# The char tokenizer's default cap: the 5,229 symbols of the poems' training split fit; text with
# tens of thousands of rare symbols (binary junk, mixed scripts) keeps the most frequent ones, the
# rest -> UNK, so the softmax stays small. max_vocab=None lifts it.
CHAR_VOCAB = 8000


@register_tokenizer("char")
class CharTokenizer(_VocabTokenizer):
    """One token per character. For the poems: 4 lines x 5 characters = 20 tokens (+3 newlines)."""

    unk_text = "\ufffd"  # the Unicode replacement character

    def __init__(
        self, *, newline_token: bool = True, line_width: int = 0, max_vocab: int | None = CHAR_VOCAB
    ) -> None:
        super().__init__(max_vocab=max_vocab)
        self.newline_token = newline_token
        # Without newline tokens, decode may re-insert a break every line_width characters.
        self.line_width = line_width

    def options(self) -> dict[str, Any]:
        return {
            "newline_token": self.newline_token,
            "line_width": self.line_width,
            "max_vocab": self.max_vocab,
        }

    def split(self, text: str) -> list[str]:
        return list(text if self.newline_token else text.replace("\n", ""))

    def join(self, tokens: list[str]) -> str:
        text = "".join(tokens)
        if self.newline_token or self.line_width <= 0:
            return text
        w = self.line_width
        return "\n".join(text[i : i + w] for i in range(0, len(text), w))


# A number with inner separators (10,000 / 2.5 / 9:30), a word with inner apostrophes or hyphens
# (don't, well-being), a dash "--", or any other single non-space character (punctuation is split
# off). No multi-character token may be made of _NO_SPACE_BEFORE marks ("..." would re-join from
# ". . ." and break idempotence), so an ellipsis is three "." tokens.
_WORD_RE = re.compile(r"\d+(?:[.,:]\d+)+|\w+(?:['’-]\w+)*|--+|[^\w\s]")
# Spacing when joining: no space before closing punctuation, none after opening punctuation.
# Apostrophes and straight quotes are neither (they would glue onto a word and change its split).
_NO_SPACE_BEFORE = frozenset(".,;:!?%)]}”")
_NO_SPACE_AFTER = frozenset("([{“$")


@register_tokenizer("word")
class WordTokenizer(_VocabTokenizer):
    """Words and punctuation marks; optional lower-casing; the `max_vocab` most frequent tokens."""

    def __init__(self, *, lowercase: bool = True, max_vocab: int = 5000) -> None:
        super().__init__(max_vocab=max_vocab)
        self.lowercase = lowercase

    def options(self) -> dict[str, Any]:
        return {"lowercase": self.lowercase, "max_vocab": self.max_vocab}

    def split(self, text: str) -> list[str]:
        return _WORD_RE.findall(text.lower() if self.lowercase else text)

    def join(self, tokens: list[str]) -> str:
        parts: list[str] = []
        for i, tok in enumerate(tokens):
            if i > 0 and tok not in _NO_SPACE_BEFORE and tokens[i - 1] not in _NO_SPACE_AFTER:
                parts.append(" ")
            parts.append(tok)
        return "".join(parts)


def normalize_spacing(text: str) -> str:
    """The normal form that a case-keeping word tokenizer reproduces: its tokens re-joined."""
    tokenizer = WordTokenizer(lowercase=False)
    return tokenizer.join(tokenizer.split(text))
