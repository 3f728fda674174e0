"""Precision: a short oracle run in bf16 reaches the NLL-oracle of fp32 within noise."""

import numpy as np
import torch

from seqgan_music.core.runtime import Runtime
from seqgan_music.core.trainer import checkpoint_generator
from seqgan_music.oracle.experiment import nll_oracle_per_sample, run_oracle_experiment
from seqgan_music.oracle.lstm import OracleLSTM


def test_a_short_oracle_run_in_bf16_reaches_the_fp32_nll_oracle(tmp_path):
    """The oracle experiment's tiny preset (a 40-token oracle, 2 MLE epochs, 2 adversarial
    rounds) in each precision: the final NLL-oracle of 2,000 samples of each SeqGAN generator
    agrees within 3 standard errors of the difference. Measured: 3.2914 (fp32) vs 3.2909 (bf16)
    nats, standard error of the difference 0.0086; with seed 1, 3.3142 vs 3.3138; the two seeds
    differ by 0.023. bf16 changes G only through the rewards, so it moves far less than noise."""
    oracle = OracleLSTM.random(4, vocab_size=40, emb_dim=8, hidden_dim=8)
    npz = tmp_path / "oracle.npz"
    np.savez(npz, **{name: p.detach().numpy() for name, p in oracle.named_parameters()})
    nll = {}
    for precision in ("fp32", "bf16"):
        out = tmp_path / precision
        runtime = Runtime.resolve("cpu", precision, set_threads=False)
        run_oracle_experiment("tiny", out, oracle_path=npz, runtime=runtime)
        payload = torch.load(out / "seqgan.pt", weights_only=True)
        assert payload["precision"] == precision
        generator = checkpoint_generator(payload)
        nll[precision] = nll_oracle_per_sample(oracle, generator, 2000, 7)
    diff = (nll["bf16"].mean() - nll["fp32"].mean()).abs()
    se = (nll["bf16"].var() / 2000 + nll["fp32"].var() / 2000).sqrt()
    assert diff < 3 * se
