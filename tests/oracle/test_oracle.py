"""The synthetic oracle: released parameters, sampling, and NLL (Eq. 14) against a plain loop."""

import csv
import json
import math

import numpy as np
import pytest
import torch

from seqgan_music.errors import SeqGANMusicError
from seqgan_music.oracle.experiment import run_oracle_experiment
from seqgan_music.oracle.lstm import OracleLSTM


def test_released_oracle_loads_with_the_papers_shapes(shared_data):
    path = shared_data / "oracle" / "lantaoyu_target_params.npz"
    oracle = OracleLSTM.from_npz(path)
    assert (oracle.vocab_size, oracle.emb_dim, oracle.hidden_dim) == (5000, 32, 32)
    assert oracle.embedding.shape == (5000, 32) and oracle.Wo.shape == (32, 5000)
    with np.load(path) as arrays:
        assert torch.equal(oracle.Uog, torch.from_numpy(arrays["Uog"]))
    # The paper's log: an MLE-trained G scores about 9; the oracle's own samples score lower.
    nll = oracle.nll(oracle.sample(200, 20, rng=torch.Generator().manual_seed(0))).mean().item()
    assert 3.0 < nll < 9.0


def test_npz_round_trip_and_shape_check(tmp_path):
    oracle = OracleLSTM.random(3, vocab_size=40, emb_dim=6, hidden_dim=5)
    arrays = {name: p.numpy() for name, p in oracle.named_parameters()}
    np.savez(tmp_path / "o.npz", **arrays)
    again = OracleLSTM.from_npz(tmp_path / "o.npz")
    pairs = zip(oracle.parameters(), again.parameters(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)
    arrays["bo"] = arrays["bo"][:-1]
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match="bo has shape"):
        OracleLSTM.from_npz(tmp_path / "bad.npz")
    np.save(tmp_path / "lone.npy", arrays["bo"])
    with pytest.raises(ValueError, match="not an .npz archive"):
        OracleLSTM.from_npz(tmp_path / "lone.npy")


@pytest.mark.parametrize("content", [b"PK\x03\x04 not really a zip", b"", b"random bytes"])
def test_unreadable_oracle_file_is_a_one_line_error(tmp_path, content):
    path = tmp_path / "oracle.npz"
    path.write_bytes(content)
    with pytest.raises(SeqGANMusicError, match="cannot read oracle") as err:
        run_oracle_experiment("tiny", tmp_path / "run", oracle_path=path)
    assert "\n" not in str(err.value)


def _nll_by_hand(oracle: OracleLSTM, seq: list[int]) -> float:
    """The gate equations written out one token at a time, in float64 (row-vector convention)."""
    p = {name: t.double() for name, t in oracle.named_parameters()}
    sig = torch.sigmoid
    h = torch.zeros(oracle.hidden_dim, dtype=torch.float64)
    c = torch.zeros_like(h)
    prev, total = 0, 0.0
    for y in seq:
        x = p["embedding"][prev]
        i = sig(x @ p["Wi"] + h @ p["Ui"] + p["bi"])
        f = sig(x @ p["Wf"] + h @ p["Uf"] + p["bf"])
        o = sig(x @ p["Wog"] + h @ p["Uog"] + p["bog"])
        c = f * c + i * torch.tanh(x @ p["Wc"] + h @ p["Uc"] + p["bc"])
        h = o * torch.tanh(c)
        total -= torch.log_softmax(h @ p["Wo"] + p["bo"], dim=0)[y].item()
        prev = y
    return total / len(seq)


def test_nll_matches_a_step_by_step_computation():
    oracle = OracleLSTM.random(1, vocab_size=30, emb_dim=8, hidden_dim=7)
    tokens = oracle.sample(5, 9, rng=torch.Generator().manual_seed(2))
    got = oracle.nll(tokens, chunk=2)  # chunking must not change the result
    want = [_nll_by_hand(oracle, row.tolist()) for row in tokens]
    assert got.shape == (5,)
    assert torch.allclose(got.double(), torch.tensor(want, dtype=torch.float64), atol=1e-4)


def test_samples_nll_under_the_oracle_matches_its_entropy_rate():
    """E[-log p(Y)] over the oracle's own samples is its entropy: compare the Monte Carlo NLL with
    the exact per-step entropies summed along the same sampled prefixes."""
    oracle = OracleLSTM.random(0, vocab_size=50, emb_dim=8, hidden_dim=8)
    tokens = oracle.sample(2000, 10, rng=torch.Generator().manual_seed(1))
    x, h, c = oracle._initial(tokens.shape[0])
    entropy = torch.zeros(tokens.shape[0])
    for t in range(tokens.shape[1]):
        logits, h, c = oracle.step(x, h, c)
        logp = torch.log_softmax(logits, dim=-1)
        entropy -= (logp.exp() * logp).sum(-1)
        x = oracle.embedding[tokens[:, t]]
    entropy_rate = (entropy / tokens.shape[1]).mean().item()
    nll = oracle.nll(tokens)
    stderr = nll.std().item() / math.sqrt(len(nll))
    assert abs(nll.mean().item() - entropy_rate) < 4 * stderr + 1e-3


def test_sampling_is_seeded():
    oracle = OracleLSTM.random(0, vocab_size=20, emb_dim=4, hidden_dim=4)
    a = oracle.sample(8, 6, rng=torch.Generator().manual_seed(5))
    b = oracle.sample(8, 6, rng=torch.Generator().manual_seed(5))
    assert a.shape == (8, 6) and a.dtype == torch.long and torch.equal(a, b)
    assert int(a.min()) >= 0 and int(a.max()) < 20


def _small_oracle_npz(path):
    oracle = OracleLSTM.random(4, vocab_size=40, emb_dim=8, hidden_dim=8)
    np.savez(path, **{name: p.numpy() for name, p in oracle.named_parameters()})
    return path


def test_oracle_experiment_writes_csv_png_and_results(tmp_path):
    npz = _small_oracle_npz(tmp_path / "oracle.npz")
    out = tmp_path / "run"
    events = []
    result = run_oracle_experiment("tiny", out, oracle_path=npz, callback=events.append)
    assert {"nll_oracle_mle", "nll_oracle_seqgan", "p_value", "wall_seconds", "config"} <= set(
        result
    )
    assert 0.0 <= result["p_value"] <= 1.0
    # G is far from the oracle after two epochs; the data's own NLL is on all training samples
    assert result["nll_oracle_data"] < min(result["nll_oracle_mle"], result["nll_oracle_seqgan"])
    assert result["nll_oracle_data_samples"] == 256 and result["nll_oracle_data_sem"] > 0
    with open(out / "nll_oracle.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["phase", "epoch_or_round", "model", "nll_oracle"]
    assert {r["model"] for r in rows} == {"pretrain", "seqgan", "mle"}
    assert [r["epoch_or_round"] for r in rows if r["model"] == "mle"] == ["0", "1", "2"]
    assert (out / "nll_oracle.png").stat().st_size > 0
    assert (
        json.loads((out / "results.json").read_text())["nll_oracle_mle"] == result["nll_oracle_mle"]
    )
    # both branches ran from the same pre-trained checkpoint, and events came from both
    assert (out / "seqgan-pretrained.pt").exists() and (out / "mle.pt").exists()
    assert sum(e.phase == "done" for e in events) == 2
    # a second call finds both runs finished and reports the same numbers
    again = run_oracle_experiment("tiny", out, oracle_path=npz)
    assert again["nll_oracle_seqgan"] == result["nll_oracle_seqgan"]
    with pytest.raises(SeqGANMusicError, match="another experiment"):
        run_oracle_experiment("tiny", out, oracle_path=npz, seed=1)
    (out / "seqgan.pt").unlink()  # a stale MLE branch is refused too, before any training
    with pytest.raises(SeqGANMusicError, match="mle.pt is another experiment"):
        run_oracle_experiment("tiny", out, oracle_path=npz, seed=1)
    assert not (out / "seqgan.pt").exists()
    with pytest.raises(SeqGANMusicError, match="unknown oracle preset"):
        run_oracle_experiment("huge", out)


def test_released_oracle_resolves_beside_the_checkout(shared_data, tmp_path, monkeypatch):
    from seqgan_music.oracle.domain import resolve_oracle

    expected = (shared_data / "oracle" / "lantaoyu_target_params.npz").resolve()
    monkeypatch.chdir(tmp_path)  # not the checkout: found beside the package's checkout
    assert resolve_oracle("released").resolve() == expected
    assert resolve_oracle(None) is None
    with pytest.raises(SeqGANMusicError, match="oracle file not found"):
        resolve_oracle(tmp_path / "nope.npz")
