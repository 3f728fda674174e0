"""Which G a training phase ends with: early stopping of MLE pre-training and `select_on`'s best
adversarial round. Each keeps copies of G's weights and its record saves into the checkpoint as
plain data (`to_state` / `from_state`), so a resumed run selects exactly as an uninterrupted one.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from seqgan_music.core.config import selection_metrics


def weights_copy(module: torch.nn.Module) -> dict[str, Tensor]:
    """A module's weights as they are now, detached from further training."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


class EarlyStopping:
    """G pre-training keeps the epoch with the lowest `valid_nll` (the strongest MLE model)."""

    def __init__(self, best: dict[str, Any] | None = None) -> None:
        self.best = best  # {"epoch", "valid_nll", "state"} or None

    def note(self, epoch: int, metrics: dict[str, float], generator: torch.nn.Module) -> None:
        """Keep a copy of G after `epoch` when its validation NLL is the lowest so far."""
        nll = metrics.get("valid_nll")
        if nll is not None and (self.best is None or nll < self.best["valid_nll"]):
            self.best = {"epoch": epoch, "valid_nll": float(nll), "state": weights_copy(generator)}

    def restore(self, generator: torch.nn.Module) -> None:
        """G becomes its best-validation epoch (nothing kept: G stays as it is)."""
        if self.best is not None:
            generator.load_state_dict(self.best["state"])

    def to_state(self) -> dict[str, Any] | None:
        return self.best


class RoundSelection:
    """`select_on`: score G entering the adversarial phase ("base"), score every round by its
    smallest relative gain over that start, keep the best round's G ("round", "score", "state")
    and, once it is restored at the end, the last round's ("last") for more rounds asked later."""

    def __init__(self, select_on: str, record: dict[str, Any] | None = None) -> None:
        self.select_on = select_on
        self.record = record

    @property
    def started(self) -> bool:
        return self.record is not None

    def start(self, base: dict[str, float]) -> None:
        """The scores of the G the phase starts from: every round's yardstick."""
        self.record = {"base": {k: float(v) for k, v in base.items()},
                       "round": None, "score": None, "state": None}  # fmt: skip

    def score(self, metrics: dict[str, float]) -> float | None:
        """The smallest relative gain of `select_on`'s metrics over the phase's starting G (a
        round better on every metric scores above 0); None when a metric is missing."""
        if self.record is None:
            return None
        base, gains = self.record["base"], []
        for item in selection_metrics(self.select_on):
            name, sign = item.lstrip("-"), (-1.0 if item.startswith("-") else 1.0)
            if name not in metrics or name not in base:
                return None
            gains.append(sign * (metrics[name] - base[name]) / max(abs(base[name]), 1e-12))
        return min(gains) if gains else None

    def note(self, round_: int, metrics: dict[str, float], generator: torch.nn.Module) -> None:
        """Score a round into `metrics["selection_score"]`; keep G when it is the best so far
        (rounds only: the starting G is never chosen, so the kept model is a trained one)."""
        score = self.score(metrics)
        if score is None or self.record is None:
            return
        metrics["selection_score"] = score
        if self.record["score"] is None or score > self.record["score"]:
            self.record.update(round=round_, score=float(score), state=weights_copy(generator))

    def finish(self, generator: torch.nn.Module) -> None:
        """At the phase's end G becomes its best round; the last round's G is kept too, so more
        rounds asked for later continue from it (exact resume)."""
        if self.record is not None and self.record["state"] is not None:
            self.record["last"] = weights_copy(generator)
            generator.load_state_dict(self.record["state"])

    def reopen(self, generator: torch.nn.Module) -> None:
        """More rounds after `finish`: G goes back to the last round's weights."""
        last = (self.record or {}).pop("last", None)
        if last is not None:
            generator.load_state_dict(last)

    @property
    def round(self) -> int | None:
        """The round G was set to, if any."""
        kept = None if self.record is None else self.record["round"]
        return None if kept is None else int(kept)

    def to_state(self) -> dict[str, Any] | None:
        return self.record

    @classmethod
    def from_state(cls, select_on: str, record: Any, generator: torch.nn.Module) -> RoundSelection:
        """A checkpoint's record, refused (ValueError) unless it is None or starting scores, a
        round, a score and G copies that fit `generator`."""
        if record is None:
            return cls(select_on)
        shapes = {k: v.shape for k, v in generator.state_dict().items()}

        def fits(copy: Any) -> bool:  # None, or a state dict of this generator's shapes
            if copy is None:
                return True
            return (
                isinstance(copy, dict)
                and {k: getattr(v, "shape", None) for k, v in copy.items()} == shapes
            )

        ok = (
            isinstance(record, dict)
            and isinstance(record.get("base"), dict)
            and all(isinstance(v, (int, float)) for v in record["base"].values())
            and isinstance(record.get("round"), (int, type(None)))
            and isinstance(record.get("score"), (int, float, type(None)))
            and fits(record.get("state"))
            and fits(record.get("last"))
        )
        if not ok:
            raise ValueError("its best_round record is malformed")
        return cls(select_on, record)
