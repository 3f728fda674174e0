"""`compare --seeds` split into resumable steps, as the docs/results/*_matched runs were made.

Per seed it makes the same calls as `seqgan-music compare` (train SeqGAN; train the MLE branch
from its pre-trained G; `evaluate_compare`: the matched-diversity test and the T = 1 table), but
each step is skipped when done, so a killed run resumes, and another process can evaluate one seed
while the next trains. Then `seeds_report` over the seeds (seeds.md, matched_seeds.json).

    python benchmarks/matched_runs.py train embedded /work/runs/qd/embedded 0,1,2
    python benchmarks/matched_runs.py evaluate embedded /work/runs/qd/embedded 0,1,2

An optional fifth argument is a JSON object of `train` options and settings for both rows, e.g.
'{"domain_options": {"encoding": "beat"}}' or '{"tokenizer": "char", "overrides": {...}}' (the
MLE row adds {"mode": "mle"} to the overrides); `evaluate` ignores it (checkpoints carry them).

One thread (`OMP_NUM_THREADS=1`), the default preset, 1,000 samples a point, the default grid.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def train_seed(data: str, out: Path, seed: int, options: dict | None = None) -> None:
    from seqgan_music.training import train

    if (out / "trained.json").exists():
        return
    options = dict(options or {})
    settings = options.pop("overrides", {})
    common = dict(preset="default", out_dir=out, seed=seed, progress=False, **options)
    done = {}
    for name, overrides in (("seqgan", settings or None), ("mle", {**settings, "mode": "mle"})):
        resume = (out / name / "checkpoint.pt").exists()
        start = {} if name == "seqgan" or resume else {
            "init_from": out / "seqgan" / "checkpoint-pretrained.pt"}  # fmt: skip
        result = train(data, overrides=overrides, run_name=name, resume=resume, **common, **start)
        done[name] = {"seconds": result.seconds, "selected_round": result.selected_round}
    (out / "trained.json").write_text(json.dumps(done, indent=2) + "\n")


def evaluate_seed(data: str, out: Path, seed: int) -> None:
    from seqgan_music.evaluation import evaluate_compare

    while not (out / "trained.json").exists():  # another process is still training it
        time.sleep(30)
    if not (out / "evaluated.flag").exists():
        start = time.time()
        evaluate_compare(out, data=data, num_samples=1000, seed=seed)
        (out / "evaluated.flag").write_text(f"{time.time() - start:.0f} s\n")


def main() -> None:
    if len(sys.argv) not in (5, 6) or sys.argv[1] not in ("train", "evaluate"):
        sys.exit("usage: python benchmarks/matched_runs.py train|evaluate DATA OUT SEEDS [JSON]")
    from seqgan_music.core.runtime import configure_threads

    configure_threads(int(os.environ["OMP_NUM_THREADS"]))  # before torch is imported
    from seqgan_music.evaluation import seeds_report

    step, data, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    seeds = [int(s) for s in sys.argv[4].split(",")]
    options = json.loads(sys.argv[5]) if len(sys.argv) == 6 else None
    for seed in seeds:
        if step == "train":
            train_seed(data, out / f"seed-{seed}", seed, options)
        else:
            evaluate_seed(data, out / f"seed-{seed}", seed)
    if step == "evaluate":
        print(seeds_report(out, seeds).markdown)


if __name__ == "__main__":  # the corpus parser starts worker processes: guard the entry
    main()
