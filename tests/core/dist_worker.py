"""One rank of the data-parallel trainer tests, launched by torchrun from test_distributed.py.

    python -m torch.distributed.run --standalone --nproc-per-node 2 dist_worker.py OUT_DIR

Every rank trains the same tiny SeqGAN; after each unit the ranks gather their weights (G, D and
G_beta) and check them equal. Then a run cut after 4 units and resumed on the same ranks must end
on the straight run's weights, and an MLE-only run is saved for comparison with one process.
Rank r leaves its weights in OUT_DIR/rank{r}.pt; rank 0 alone writes the checkpoints.
"""

import copy
import os
import sys
from dataclasses import replace
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


def exchange_equals_flat_average(rank: int) -> None:
    """D's overlapped bucketed exchange gives the flat all-reduce's gradients, bit for bit, and
    launches buckets while backward runs; a rank with no rows sends zeros."""
    d = SeqGANTrainer(config(), data()).discriminator
    tokens, labels = data()[rank * 3 : rank * 3 + 3], torch.tensor([1.0, 0.0, 1.0])
    exchange = distributed.GradientExchange(d.parameters())
    assert len(exchange.buckets) > 1
    grads = []
    for overlapped in (True, False):
        d.zero_grad(set_to_none=True)
        torch.manual_seed(0)
        if overlapped:
            exchange.begin(0.25 + 0.5 * rank)
            d.loss(tokens, labels).backward()
            assert exchange._pending, "no bucket was launched during backward"
            exchange.finish()
        else:
            d.loss(tokens, labels).backward()
            distributed.average_gradients(d.parameters(), 0.25 + 0.5 * rank)
        grads.append(torch.cat([p.grad.reshape(-1) for p in d.parameters()]))
    if not torch.equal(grads[0], grads[1]):
        raise AssertionError("overlapped and flat gradient averages differ")
    d.zero_grad(set_to_none=True)
    exchange.begin(0.0 if rank else 1.0)  # rank 1 has no rows: no backward, zeros
    if rank == 0:
        torch.manual_seed(0)
        d.loss(tokens, labels).backward()
    exchange.finish()
    torch.manual_seed(0)
    alone = copy.deepcopy(d)
    alone.zero_grad(set_to_none=True)
    alone.loss(data()[0:3], labels).backward()
    for p, q in zip(d.parameters(), alone.parameters(), strict=True):
        if not torch.equal(p.grad, q.grad):
            raise AssertionError("a rank without rows changed the gradient")


def main(out: Path) -> None:
    torch.set_num_threads(1)
    distributed.init_from_env(torch.device("cpu"))
    distributed.BUCKET_BYTES = 256  # the tiny D (1.7 kB)'s gradients in several overlapped buckets
    rank = distributed.rank()
    exchange_equals_flat_average(rank)
    units: list[str] = []
    straight = SeqGANTrainer(config(), data())
    check_equal_weights(straight, units)
    straight.run(out / "run.pt")

    cut = SeqGANTrainer(config(), data())
    cut.run(out / "cut.pt", max_units=4, checkpoint_every=10)
    resumed = SeqGANTrainer.load(out / "cut.pt", data())
    resumed.run(out / "cut.pt")

    # D's gradient buckets sent as bf16: the ranks still agree bit for bit
    compressed = SeqGANTrainer(config(grad_bf16=True, adv_rounds=1), data())
    check_equal_weights(compressed, [])
    compressed.run()

    # two condition ids for G and D: each rank draws its PG batch's and negatives' ids from its
    # own stream, and the negatives' ids are gathered with them for D
    base = config(adv_rounds=1)
    two = replace(base, generator=replace(base.generator, conditions=2),
                  discriminator=replace(base.discriminator, conditions=2))  # fmt: skip
    conditioned = SeqGANTrainer(two, data(), train_conditions=torch.arange(37) % 2)
    check_equal_weights(conditioned, [])
    conditioned.run()

    mle = SeqGANTrainer(config(d_pretrain_rounds=0, adv_rounds=0, g_pretrain_epochs=3), data())
    mle.run()
    distributed._destroy()  # what atexit runs: it must join gloo's threads before Python ends
    threads = [(Path("/proc/self/task") / t / "comm").read_text().strip()
               for t in os.listdir("/proc/self/task")]  # fmt: skip
    torch.save({"straight": flat(straight), "resumed": flat(resumed), "mle": flat(mle),
                "bf16": flat(compressed), "conditioned": flat(conditioned),
                "units": units, "history": straight.history, "threads": threads},
               out / f"rank{rank}.pt")  # fmt: skip


if __name__ == "__main__":
    main(Path(sys.argv[1]))
