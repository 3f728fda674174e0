"""The data's own NLL of the synthetic oracle: its NLL of its own samples, with the sample count.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/oracle_data_nll.py --num 50000

Prints mean ± standard error for the released oracle and a random N(0,1) one (what `oracle`
without `--oracle` draws), and the NLL of greedy decoding, to show the mean is no per-model floor.
"""

from __future__ import annotations

import argparse

import torch

from seqgan_music.oracle.domain import resolve_oracle
from seqgan_music.oracle.lstm import OracleLSTM


def _greedy_nll(oracle: OracleLSTM, n: int = 1, length: int = 20) -> float:
    with torch.no_grad():
        x, h, c = oracle._initial(n)
        tokens = []
        for _ in range(length):
            logits, h, c = oracle.step(x, h, c)
            tokens.append(logits.argmax(-1))
            x = oracle.embedding[tokens[-1]]
        return oracle.nll(torch.stack(tokens, 1)).mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    oracles = {"released": OracleLSTM.from_npz(resolve_oracle("released")),
               f"random (seed {args.seed})": OracleLSTM.random(args.seed)}  # fmt: skip
    for name, oracle in oracles.items():
        rng = torch.Generator().manual_seed(args.seed)
        nll = torch.cat([oracle.nll(oracle.sample(min(5000, args.num - i), 20, rng=rng))
                         for i in range(0, args.num, 5000)])  # fmt: skip
        sem = nll.std().item() / len(nll) ** 0.5
        print(f"{name}: data's own NLL {nll.mean().item():.4f} ± {sem:.4f} over {len(nll)} "
              f"samples; greedy decoding {_greedy_nll(oracle):.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
