"""One rank of the data-parallel trainer tests, launched by torchrun from test_distributed.py.

    python -m torch.distributed.run --standalone --nproc-per-node 2 dist_worker.py OUT_DIR

Every rank trains the same tiny SeqGAN; after each unit the ranks gather their weights (G, D and
G_beta) and check them equal. Then a run cut after 4 units and resumed on the same ranks must end
on the straight run's weights, and an MLE-only run is saved for comparison with one process.
Rank r leaves its weights in OUT_DIR/rank{r}.pt; rank 0 alone writes the checkpoints.
"""

import sys
from pathlib import Path

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: helpers.py
from helpers import tiny_config, tiny_data  # noqa: E402

from seqgan_music.core import distributed
from seqgan_music.core.config import SeqGANConfig
from seqgan_music.core.trainer import SeqGANTrainer, TrainEvent


def config(**train) -> SeqGANConfig:
    # batch 7 and 37 positives: shares differ across ranks and the last batch has 2 rows
    schedule = dict(batch_size=7, d_pretrain_rounds=1, g_steps=1, d_steps=1, num_negatives=15,
                    pg_batch_size=5, eval_every=1)  # fmt: skip
    return tiny_config(**{**schedule, **train})


def data() -> torch.Tensor:
    return tiny_data(37)


def flat(trainer: SeqGANTrainer) -> torch.Tensor:
    modules = (trainer.generator, trainer.discriminator, trainer.rollout.generator)
    return torch.cat([t.detach().reshape(-1).float() for m in modules
                      for t in m.state_dict().values()])  # fmt: skip


def check_equal_weights(trainer: SeqGANTrainer, units: list[str]) -> None:
    """After a unit: every rank's weights must equal rank 0's, bit for bit."""

    def check(event: TrainEvent) -> None:
        mine = flat(trainer)
        parts = [torch.empty_like(mine) for _ in range(distributed.world_size())]
        dist.all_gather(parts, mine)
        if not all(torch.equal(p, parts[0]) for p in parts):
            raise AssertionError(f"weights differ across ranks after {event.phase} {event.step}")
        units.append(f"{event.phase}:{event.step}")

    trainer.callback = check


def main(out: Path) -> None:
    torch.set_num_threads(1)
    distributed.init_from_env(torch.device("cpu"))
    rank = distributed.rank()
    units: list[str] = []
    straight = SeqGANTrainer(config(), data())
    check_equal_weights(straight, units)
    straight.run(out / "run.pt")

    cut = SeqGANTrainer(config(), data())
    cut.run(out / "cut.pt", max_units=4, checkpoint_every=10)
    resumed = SeqGANTrainer.load(out / "cut.pt", data())
    resumed.run(out / "cut.pt")

    mle = SeqGANTrainer(config(d_pretrain_rounds=0, adv_rounds=0, g_pretrain_epochs=3), data())
    mle.run()
    torch.save({"straight": flat(straight), "resumed": flat(resumed), "mle": flat(mle),
                "units": units, "history": straight.history}, out / f"rank{rank}.pt")  # fmt: skip


if __name__ == "__main__":
    main(Path(sys.argv[1]))
