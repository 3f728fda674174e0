"""The oracle domain: sequences drawn from the paper's LSTM oracle, scored by NLL-oracle (Eq. 14).

`--data oracle` draws a fresh N(0, 1) oracle from the seed; `--data FILE.npz` loads one (the
released parameters reproduce the paper's setting). Samples are plain token ids, so its tokenizer
is the identity on ids.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from seqgan_music.core.domain import (
    ComposeOptions,
    Composition,
    Dataset,
    DomainBase,
    LoadOptions,
    NoOptions,
    Preset,
    draw_samples,
    read_domain_options,
    register_domain,
    write_lines,
)
from seqgan_music.core.files import refuse_existing
from seqgan_music.core.model import Model
from seqgan_music.core.sampling import sample_in_chunks
from seqgan_music.core.splits import SPLITS
from seqgan_music.core.tokenizer import register_tokenizer
from seqgan_music.errors import SeqGANMusicError
from seqgan_music.oracle.lstm import OracleLSTM
from seqgan_music.oracle.presets import PRESETS, SEQ_LEN, SIZES

RANDOM_SOURCE = "oracle"  # --data oracle: a fresh N(0, 1) oracle drawn from the seed
RELEASED = "released"  # `--oracle released`: the paper's oracle file beside the checkout
RELEASED_FILE = Path("shared") / "data" / "oracle" / "lantaoyu_target_params.npz"
N_HELD_OUT = 1_000  # oracle samples in each of valid and test


@register_tokenizer("ids")
class IdTokenizer:
    """Token ids as they are: the oracle's samples are already integers 0..V-1."""

    name: ClassVar[str]

    def __init__(self, vocab_size: int = 5000) -> None:
        self._vocab_size = int(vocab_size)

    vocab_size = property(lambda self: self._vocab_size)
    pad_id = property(lambda self: None)
    eos_id = property(lambda self: None)

    def fit(self, corpus: Iterable[Any]) -> IdTokenizer:
        return self

    def encode(self, item: Sequence[int]) -> list[int]:
        return [int(i) for i in item]

    def decode(self, ids: Sequence[int]) -> list[int]:
        return [int(i) for i in ids]

    def to_dict(self) -> dict[str, Any]:
        return {"vocab_size": self._vocab_size}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> IdTokenizer:
        return cls(**state)


def resolve_oracle(value: str | Path | None) -> Path | None:
    """`released` -> the paper's oracle file (../shared/data/oracle/... from the working folder or
    beside this checkout); a path must exist; None stays None (a random oracle)."""
    if value is None:
        return None
    if str(value) != RELEASED:
        path = Path(value)
        if not path.is_file():
            raise SeqGANMusicError(f"oracle file not found: {path}")
        return path
    checkout = Path(__file__).resolve().parents[2]
    for root in (Path.cwd().parent, Path.cwd(), checkout.parent, checkout):
        if (root / RELEASED_FILE).is_file():
            return root / RELEASED_FILE
    raise SeqGANMusicError(
        f"the released oracle is not beside this checkout (looked for ../{RELEASED_FILE}); "
        "get lantaoyu_target_params.npz (its PROVENANCE.md says how) and pass --oracle PATH"
    )


def read_oracle(path: str | Path | None, seed: int) -> tuple[OracleLSTM, str]:
    """The oracle in `path` (an .npz), or a fresh N(0, 1) one from `seed`; and its origin."""
    if path is None:
        return OracleLSTM.random(seed), f"random N(0,1) oracle, seed {seed}"
    try:
        return OracleLSTM.from_npz(path), str(path)
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as err:
        raise SeqGANMusicError(f"cannot read oracle {path}: {err}") from err


def oracle_samples(oracle: OracleLSTM, n: int, rng: torch.Generator) -> torch.Tensor:
    """(n, SEQ_LEN) sequences drawn from the oracle: the synthetic experiment's "real data"."""
    return sample_in_chunks(lambda k: oracle.sample(k, SEQ_LEN, rng=rng), n)


@register_domain("oracle")
class OracleDomain(DomainBase):
    """Sequences from the LSTM oracle, scored by NLL-oracle; its own samples are the floor."""

    sources = "'oracle' or an oracle's .npz parameters"

    tokenizer = "ids"
    PRESETS: Mapping[str, Preset] = PRESETS

    def __init__(self) -> None:
        self._oracles: dict[tuple[str | None, int], OracleLSTM] = {}

    def claims(self, source: str, tokenizer: str | None) -> bool:
        return source == RANDOM_SOURCE or Path(source).suffix == ".npz"

    def _oracle(self, path: str | None, seed: int) -> OracleLSTM:
        if (path, seed) not in self._oracles:
            self._oracles[(path, seed)] = read_oracle(path, seed)[0]
        return self._oracles[(path, seed)]

    def load(self, source: str, options: LoadOptions) -> Dataset:
        """The paper's 10,000 training sequences, then 1,000 each for valid and test."""
        read_domain_options(NoOptions, options, "oracle")  # e.g. no music encoding
        if options.seq_len not in (None, SEQ_LEN):
            raise SeqGANMusicError(
                f"the oracle's sequences are {SEQ_LEN} long, not {options.seq_len}"
            )
        path = None if source == RANDOM_SOURCE else source
        oracle = self._oracle(path, options.seed)
        rng = torch.Generator().manual_seed(options.seed)
        n_train = SIZES["paper"].n_train
        data = oracle_samples(oracle, n_train + 2 * N_HELD_OUT, rng).numpy()
        parts = np.split(data, [n_train, n_train + N_HELD_OUT])
        counts = {s: len(a) for s, a in zip(SPLITS, parts)}
        manifest = {
            "source": source, "oracle_file": path, "oracle_seed": options.seed, "counts": counts,
            "summary": f"{source}: oracle samples of length {SEQ_LEN}, vocabulary "
                       f"{oracle.vocab_size}; " + ", ".join(f"{s} {n}" for s, n in counts.items()),
        }  # fmt: skip
        tok = options.fitted_tokenizer or IdTokenizer(oracle.vocab_size)
        return Dataset("oracle", *parts, tok, manifest)

    def score(
        self, samples: np.ndarray, references: np.ndarray, dataset: Dataset
    ) -> dict[str, np.ndarray]:
        """NLL-oracle per sample (Eq. 14 before the mean): lower is closer to the oracle."""
        oracle = self._oracle(dataset.manifest["oracle_file"], dataset.manifest["oracle_seed"])
        return {"NLL-oracle": oracle.nll(torch.as_tensor(samples, dtype=torch.long)).numpy()}

    def compose(self, model: Model, out: Path | None, options: ComposeOptions) -> list[Composition]:
        """Samples as lines of token ids, written to `out` when it is given."""
        read_domain_options(NoOptions, options, "oracle")
        if out is not None:
            refuse_existing([out], options.force)
        samples = draw_samples(model, options)
        texts = [" ".join(str(int(t)) for t in row) for row in samples]
        path = write_lines(out, texts)
        return [Composition(tokens=row, path=path, text=t) for row, t in zip(samples, texts)]
