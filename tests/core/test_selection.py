"""Round selection and early stopping on their own: which G a phase ends with."""

import pytest
import torch

from seqgan_music.core.selection import EarlyStopping, RoundSelection


def _g(value: float) -> torch.nn.Linear:
    layer = torch.nn.Linear(2, 2)
    torch.nn.init.constant_(layer.weight, value)
    return layer


def test_early_stopping_keeps_the_lowest_valid_nll():
    stop, g = EarlyStopping(), _g(0.0)
    for epoch, (nll, w) in enumerate([(3.0, 1.0), (2.0, 2.0), (2.5, 3.0)], start=1):
        torch.nn.init.constant_(g.weight, w)
        stop.note(epoch, {"valid_nll": nll}, g)
    stop.note(4, {}, g)  # no validation score: nothing to compare
    assert (stop.best["epoch"], stop.best["valid_nll"]) == (2, 2.0)
    stop.restore(g)
    assert torch.all(g.weight == 2.0)


def test_the_best_round_is_the_largest_smallest_gain_and_the_last_is_kept():
    sel, g = RoundSelection("valid_bleu4,-valid_mse"), _g(0.0)
    assert sel.score({"valid_bleu4": 1.0, "valid_mse": 1.0}) is None  # not started
    sel.start({"valid_bleu4": 0.5, "valid_mse": 10.0})
    rounds = [
        {"valid_bleu4": 0.6, "valid_mse": 9.0},  # +20%, +10%: 0.1
        {"valid_bleu4": 0.7, "valid_mse": 11.0},  # worse MSE: -0.1
        {"valid_bleu4": 0.52, "valid_mse": 8.0},  # +4%, +20%: 0.04
    ]
    for r, metrics in enumerate(rounds, start=1):
        torch.nn.init.constant_(g.weight, float(r))
        sel.note(r, metrics, g)
        assert metrics["selection_score"] == pytest.approx([0.1, -0.1, 0.04][r - 1])
    assert sel.round == 1
    sel.finish(g)
    assert torch.all(g.weight == 1.0)
    sel.reopen(g)  # more rounds asked for: from the last round's weights
    assert torch.all(g.weight == 3.0)


def test_a_checkpoint_record_round_trips_and_a_malformed_one_is_refused():
    sel, g = RoundSelection("valid_nll"), _g(0.0)
    sel.start({"valid_nll": 2.0})
    sel.note(1, {"valid_nll": 1.0}, g)
    again = RoundSelection.from_state("valid_nll", sel.to_state(), g)
    assert again.round == 1 and again.record["base"] == {"valid_nll": 2.0}
    assert RoundSelection.from_state("", None, g).record is None
    for broken in ({"base": "x"}, {**sel.to_state(), "state": {"weight": torch.zeros(3)}}, [1]):
        with pytest.raises(ValueError, match="best_round"):
            RoundSelection.from_state("valid_nll", broken, g)
