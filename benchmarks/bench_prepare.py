"""Corpus preparation speed: cold (parse every file on all cores) and cached (load the .npz).

    python benchmarks/bench_prepare.py                 # the Nottingham set, all three splits
    python benchmarks/bench_prepare.py --embedded      # also music21's Ryan's Mammoth (~1 min)

Goals on 2 cores: Nottingham cold < 15 s, cached < 0.5 s; embedded cold < 90 s, cached < 0.5 s.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from seqgan_music.music.corpus import prepare_corpus

NOTTINGHAM = Path(__file__).resolve().parents[2] / "shared" / "data" / "nottingham"


def bench(source: str | Path, workers: int | None) -> None:
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        cold = prepare_corpus(source, cache_dir=Path(cache), workers=workers, progress=False)
        t_cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        warm = prepare_corpus(source, cache_dir=Path(cache), workers=workers, progress=False)
        t_warm = time.perf_counter() - t0
    assert warm.from_cache
    files = cold.manifest["counts"]["files"]
    print(cold.summary)
    rate = files / t_cold
    print(f"  cold prepare {t_cold:6.2f} s ({rate:6.1f} files/s), cached load {t_warm:.3f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=NOTTINGHAM / "boulanger_lewandowski_2012")
    ap.add_argument("--embedded", action="store_true", help="also time the embedded corpus")
    ap.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    args = ap.parse_args()
    if args.data.is_dir():
        bench(args.data, args.workers)
    else:
        print(f"skipping Nottingham: {args.data} not found")
    if args.embedded:
        bench("embedded", args.workers)


if __name__ == "__main__":
    main()
