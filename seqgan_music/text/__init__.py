"""The text domain: tokenizers (`char`, `word`) and corpora (plain lines, poems, speeches)."""
