"""Data-parallel training on torch.distributed: the process group and the few collectives we use.

A run launched by torchrun (`torchrun --nproc-per-node N -m seqgan_music train ...`, or
`seqgan-music train --nproc N`, which calls torch.distributed.run) has WORLD_SIZE and RANK in its
environment; `init_from_env` joins the group: NCCL on CUDA (one GPU per local rank), gloo on CPU.
Without them, or with WORLD_SIZE 1, nothing is initialised and every helper here is a no-op that
returns at once, so single-process training runs exactly the code it ran before.

The trainer keeps G, D and G_beta identical on every rank by averaging gradients explicitly
(`average_gradients`, one flat all-reduce per optimiser step, each rank's gradient weighted by its
share of the global minibatch; D's, the large one, by `GradientExchange`, bucketed all-reduces
launched from gradient hooks while backward runs): the models keep their plain methods (sample,
nll, log_probs), which DistributedDataParallel's forward-only hooks would not see.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import importlib
import os
from collections.abc import Iterable, Iterator, Sequence

import torch
import torch.distributed as dist
from torch import Tensor

from seqgan_music.errors import SeqGANMusicError

# Seconds a collective (or the rendezvous) may wait for a missing rank before failing: long enough
# for rank 0 to parse a corpus or write a checkpoint while the others wait, short enough that a
# stuck rank ends the job instead of hanging it. SEQGAN_DIST_TIMEOUT overrides it.
DEFAULT_TIMEOUT_S = 600.0


class RankFailure(SeqGANMusicError):
    """A collective failed: another rank died, or it timed out waiting for one (one line)."""


@contextlib.contextmanager
def _collective() -> Iterator[None]:
    """Turn gloo's and NCCL's errors (a peer's closed socket, a timeout) into one line."""
    try:
        yield
    except RuntimeError as err:
        text = str(err).strip()
        first = text.splitlines()[0][:200] if text else type(err).__name__
        raise RankFailure(f"rank {rank()}: training stopped, another rank failed or timed out "
                          f"({first})") from err  # fmt: skip


def env_world_size() -> int:
    """WORLD_SIZE as torchrun sets it (1 when not launched by torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def world_size() -> int:
    return dist.get_world_size() if is_initialized() else 1


def rank() -> int:
    """This process's global rank; torchrun's RANK before the group exists (0 alone)."""
    if is_initialized():
        return dist.get_rank()
    return int(os.environ.get("RANK", "0")) if env_world_size() > 1 else 0


def is_main() -> bool:
    """Rank 0, the one process that writes checkpoints, metrics and curves."""
    return rank() == 0


def timeout_s() -> float:
    return float(os.environ.get("SEQGAN_DIST_TIMEOUT", DEFAULT_TIMEOUT_S))


def init_from_env(device: torch.device) -> torch.device:
    """Join torchrun's process group if there is one; return the device this rank trains on.

    The backend follows the device: NCCL for CUDA (rank -> cuda:LOCAL_RANK), gloo for CPU.
    """
    if env_world_size() <= 1:
        return device
    if device.type == "cuda":  # one GPU per rank: NCCL does not share a GPU between ranks
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if local >= torch.cuda.device_count():
            raise SeqGANMusicError(f"local rank {local} has no GPU of its own: this machine has "
                                   f"{torch.cuda.device_count()}; start at most that many ranks "
                                   "per machine, or train with --device cpu")  # fmt: skip
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    if not is_initialized():
        # torch._dynamo (imported by torch.optim's first optimiser) keeps a reference to a
        # process group that exists when it is imported, so `_destroy` at exit would not destroy
        # it: gloo's worker threads then live on into interpreter shutdown, where one that drops
        # a finished collective's tensor takes the GIL and aborts the rank with SIGABRT
        # ("terminate called without an active exception", under load). Imported first, it
        # holds none, and `_destroy` joins gloo's threads while Python is whole (tested).
        importlib.import_module("torch._dynamo")
        backend = "nccl" if device.type == "cuda" else "gloo"
        timeout = datetime.timedelta(seconds=timeout_s())
        with _collective():
            dist.init_process_group(backend, timeout=timeout, **_attempt_store(timeout))
        atexit.register(_destroy)
    return device


def _attempt_store(timeout: datetime.timedelta) -> dict:
    """Under torchrun, the process group's keys in the agent's store, under a prefix of this
    attempt: after `--max-restarts` restarts the group, the store still holds the dead attempt's
    addresses, and a rank that read one failed to connect (seen with gloo on torch 2.13)."""
    if os.environ.get("TORCHELASTIC_USE_AGENT_STORE") != "True":
        return {}  # plain env:// (MASTER_ADDR, MASTER_PORT): torch's default
    world, me = env_world_size(), int(os.environ["RANK"])
    store = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), world,
                          is_master=False, timeout=timeout)  # fmt: skip
    attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
    return {"store": dist.PrefixStore(f"seqgan/attempt{attempt}", store), "rank": me,
            "world_size": world}  # fmt: skip


def _destroy() -> None:
    if is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    if world_size() > 1:
        with _collective():
            dist.barrier()


def shard_sizes(n: int, world: int | None = None) -> list[int]:
    """n items split over the ranks in contiguous shares; the first n % world ranks get one more."""
    world = world or world_size()
    return [n // world + (r < n % world) for r in range(world)]


def shard(n: int) -> slice:
    """This rank's contiguous share of n items (see `shard_sizes`)."""
    sizes = shard_sizes(n)
    start = sum(sizes[: rank()])
    return slice(start, start + sizes[rank()])


def average_gradients(parameters: Iterable[torch.nn.Parameter], weight: float) -> None:
    """Replace every gradient by the sum over ranks of `weight` x that rank's gradient.

    With weight = (this rank's examples) / (the global minibatch), the result is the gradient of
    the global minibatch's mean loss, however unevenly the batch was split; a rank with no
    examples takes part with zeros. One flat all-reduce for all parameters.
    """
    if world_size() <= 1:
        return
    params = [p for p in parameters if p.requires_grad]
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.reshape(-1) for g in grads]).mul_(weight)
    with _collective():
        dist.all_reduce(flat)
    offset = 0
    for p in params:  # views into the reduced buffer: no copy (optimisers read them in place)
        p.grad = flat[offset : offset + p.numel()].view_as(p)
        offset += p.numel()


def all_sum(value: Tensor) -> Tensor:
    """The sum of `value` over ranks (a new tensor; `value` itself at world size 1)."""
    if world_size() <= 1:
        return value
    out = value.clone()
    with _collective():
        dist.all_reduce(out)
    return out


def gather_rows(local: Tensor, sizes: Sequence[int]) -> Tensor:
    """Concatenate every rank's rows in rank order; rank r holds sizes[r] rows (may be 0)."""
    if world_size() <= 1:
        return local
    padded = local.new_zeros((max(sizes), *local.shape[1:]))
    padded[: len(local)] = local
    parts = [torch.empty_like(padded) for _ in sizes]
    with _collective():
        dist.all_gather(parts, padded)
    return torch.cat([part[:n] for part, n in zip(parts, sizes, strict=True)])


def broadcast_modules(*modules: torch.nn.Module) -> None:
    """Copy rank 0's parameters and buffers to every rank (a guard at the start of a run)."""
    if world_size() <= 1:
        return
    with _collective():
        for module in modules:
            for tensor in module.state_dict().values():
                dist.broadcast(tensor, src=0)


def broadcast_object(value: object) -> object:
    """Rank 0's value of a small picklable object (e.g. the run folder's name)."""
    if world_size() <= 1:
        return value
    box = [value]
    with _collective():
        dist.broadcast_object_list(box, src=0)
    return box[0]


def launch_local(nproc: int, module: str, args: Sequence[str]) -> str | None:
    """`torchrun --standalone --nproc-per-node nproc -m module args` in this process, through
    torch.distributed.run; returns None on success, else one line naming the first failed rank."""
    import logging

    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    # torchrun's agent logs each worker it stops (each elastic module's logger has its own
    # level); the one line returned here says what happened.
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("torch.distributed.elastic"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    argv = ["--standalone", f"--nproc-per-node={nproc}", "--module", module, *args]
    try:
        run(get_args_parser().parse_args(argv))
    except ChildFailedError as err:
        failed, failure = err.get_first_failure()
        how = (f"was killed by {failure.signal_name()}" if failure.exitcode < 0
               else f"exited with code {failure.exitcode}")  # fmt: skip
        return (f"rank {failed} of {nproc} {how}; the other ranks were stopped (the last "
                "checkpoint is kept: continue with `seqgan-music train --resume`)")  # fmt: skip
    return None


# Bytes of float32 gradient per all-reduce bucket of `GradientExchange` (DDP's default is 25 MB;
# smaller buckets start earlier in the backward pass: the paper D's 27 MB make about 7).
BUCKET_BYTES = 4 << 20


class GradientExchange:
    """Gradient averaging that overlaps the backward pass (what `average_gradients` does at the
    end of it): parameters are cut into buckets in reverse order (the order backward finishes
    them); a hook after each parameter's gradient is accumulated launches its bucket's
    asynchronous all-reduce as soon as the bucket is complete and every earlier bucket launched,
    so all ranks issue the same collectives in the same order, and the reduction of the last
    layers runs while backward computes the first ones. `finish` launches what backward did not
    (a rank with no examples in a minibatch runs no backward: it sends zeros), waits, and writes
    the sums back into the gradients, identical on every rank (the sum is computed once and
    shared). `bf16` sends the buckets as bfloat16 (half the bytes, the sum rounded to bf16).

    Usage per optimiser step: `begin(weight)`, backward, `finish()`, optimiser step. At world size 1
    nothing is registered and both calls return at once.
    """

    def __init__(self, parameters: Iterable[torch.nn.Parameter], *, bf16: bool = False) -> None:
        self.bf16, self.weight = bf16, 1.0
        self.buckets: list[list[torch.nn.Parameter]] = []
        self._pending: list[tuple[Tensor, object]] = []  # (flat buffer, async work) per bucket
        self._ready: list[int] = []  # parameters done per bucket
        if world_size() <= 1:
            return
        params = [p for p in parameters if p.requires_grad]
        bucket, size = [], 0
        for p in reversed(params):
            bucket.append(p)
            size += 4 * p.numel()
            if size >= BUCKET_BYTES:
                self.buckets.append(bucket)
                bucket, size = [], 0
        if bucket:
            self.buckets.append(bucket)
        self._where = {id(p): i for i, b in enumerate(self.buckets) for p in b}
        for p in params:
            # a plain function, not a bound method: copies of the model (deepcopy) never
            # drag this object (and its pending work) along
            p.register_post_accumulate_grad_hook(lambda param, ex=self: ex._on_grad(param))

    def begin(self, weight: float) -> None:
        """Before backward: this rank's gradients will be weighted by `weight` (see
        `average_gradients`)."""
        self.weight = weight
        self._pending, self._ready = [], [0] * len(self.buckets)

    def _on_grad(self, param: torch.nn.Parameter) -> None:
        if not self._ready or id(param) not in self._where:
            return  # a backward outside begin/finish (e.g. a test's own): left alone
        self._ready[self._where[id(param)]] += 1
        # launch in bucket order only, so every rank issues the same collectives in turn
        while len(self._pending) < len(self.buckets):
            nxt = len(self._pending)
            if self._ready[nxt] < len(self.buckets[nxt]):
                break
            self._launch(nxt)

    def _launch(self, index: int) -> None:
        params = self.buckets[index]
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads]).mul_(self.weight)
        if self.bf16:
            flat = flat.to(torch.bfloat16)
        with _collective():
            work = dist.all_reduce(flat, async_op=True)
        self._pending.append((flat, work))

    def finish(self) -> None:
        """After backward: every bucket reduced; each gradient is the ranks' weighted sum."""
        if not self.buckets:
            return
        while len(self._pending) < len(self.buckets):
            self._launch(len(self._pending))
        with _collective():
            for (flat, work), params in zip(self._pending, self.buckets, strict=True):
                work.wait()
                flat = flat.float()
                offset = 0
                for p in params:  # views into the reduced buffer, as average_gradients
                    p.grad = flat[offset : offset + p.numel()].view_as(p)
                    offset += p.numel()
        self._pending, self._ready = [], []
