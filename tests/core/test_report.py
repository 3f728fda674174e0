"""The Table-4-shaped report: means, Welch p-values, reference column, JSON and Markdown."""

import json

import numpy as np
import pytest
from scipy import stats

from seqgan_music.core.report import (
    better_direction,
    comparison_table,
    evaluate_samples,
    seeds_table_markdown,
    table_from_json,
    table_to_json,
    table_to_markdown,
)
from seqgan_music.errors import SeqGANMusicError


def scores():
    return {
        "MLE": {"BLEU-4": np.array([0.5, 0.7, 0.6]), "distinct-4": np.asarray(0.8)},
        "SeqGAN": {"BLEU-4": np.array([0.9, 0.8, 1.0]), "distinct-4": np.asarray(0.6)},
    }


def test_comparison_table_means_p_values_and_reference():
    rows = comparison_table(scores(), reference={"BLEU-4": np.array([1.0, 0.9])})
    bleu, distinct = rows
    assert list(bleu) == ["metric", "better", "MLE", "SeqGAN", "p (SeqGAN vs MLE)", "real data"]
    assert bleu["better"] == "higher" and distinct["better"] == "closer to real data"
    assert bleu["MLE"] == pytest.approx(0.6) and bleu["SeqGAN"] == pytest.approx(0.9)
    expected_p = stats.ttest_ind([0.5, 0.7, 0.6], [0.9, 0.8, 1.0], equal_var=False).pvalue
    assert bleu["p (SeqGAN vs MLE)"] == pytest.approx(expected_p)
    assert bleu["real data"] == pytest.approx(0.95)
    # set-level scalars have a mean but no t-test; the reference lacks the metric
    assert distinct["SeqGAN"] == pytest.approx(0.6)
    assert distinct["p (SeqGAN vs MLE)"] is None and distinct["real data"] is None


def test_single_model_and_missing_metric():
    rows = comparison_table({"MLE": {"MSE": np.array([20.0, 22.0])}, "B": {}})
    assert rows == [
        {"metric": "MSE", "better": "lower", "MLE": 21.0, "B": None, "p (B vs MLE)": None}
    ]
    with pytest.raises(SeqGANMusicError):
        comparison_table({})


def test_json_round_trip_and_markdown():
    rows = comparison_table(scores(), reference={"BLEU-4": np.array([1.0])})
    text = table_to_json(rows)
    assert table_from_json(text) == json.loads(text) == rows
    md = table_to_markdown(rows).splitlines()
    assert md[0] == "| metric | better | MLE | SeqGAN | p (SeqGAN vs MLE) | real data |"
    assert md[1] == "|---|---|---:|---:|---:|---:|"
    assert md[2].startswith("| BLEU-4 | higher | 0.6000 | 0.9000 | 0.0")
    assert md[2].endswith("| 1.0000 |")
    assert md[3] == "| distinct-4 | closer to real data | 0.8000 | 0.6000 | - | - |"
    tiny = table_to_markdown([{"metric": "x", "p (B vs A)": 1.234e-7}])
    assert "1.2e-07" in tiny


def test_subject_is_compared_with_every_other_model():
    three = {**scores(), "MLE+": {"BLEU-4": np.array([0.4, 0.5, 0.45])}}
    row = comparison_table(three, subject="SeqGAN")[0]
    assert [k for k in row if k.startswith("p (")] == ["p (SeqGAN vs MLE)", "p (SeqGAN vs MLE+)"]
    expected = stats.ttest_ind([0.9, 0.8, 1.0], [0.4, 0.5, 0.45], equal_var=False).pvalue
    assert row["p (SeqGAN vs MLE+)"] == pytest.approx(expected)
    assert (
        better_direction("MSE") == "lower" and better_direction("overlap_pitch_range") == "higher"
    )


def test_evaluate_samples_shapes():
    rng = np.random.default_rng(0)
    samples, refs = rng.integers(0, 10, (12, 16)), rng.integers(0, 10, (20, 16))
    out = evaluate_samples(samples, refs, bleu_orders=(2, 4), ignore_token=0, rest_penalty=144.0)
    assert set(out) == {"BLEU-2", "BLEU-4", "MSE", "Self-BLEU-2", "Self-BLEU-4",
                        "distinct-2", "distinct-4"}  # fmt: skip
    for key in ("BLEU-2", "BLEU-4", "MSE", "Self-BLEU-4"):
        assert out[key].shape == (12,)
    assert out["distinct-2"].shape == ()
    assert "MSE" not in evaluate_samples([[1, 2], [3]], [[1, 2, 3]], mse=False)


def test_seeds_table_counts_significant_wins_in_the_better_direction():
    rng = np.random.default_rng(0)

    def seed_rows(shift):
        models = {"best": {"BLEU-4": rng.normal(0.6, 0.05, 200), "MSE": rng.normal(20, 1, 200)},
                  "SeqGAN": {"BLEU-4": rng.normal(0.6 + shift, 0.05, 200),
                             "MSE": rng.normal(20 - 10 * shift, 1, 200)}}  # fmt: skip
        return comparison_table(models, subject="SeqGAN")

    md = seeds_table_markdown({0: seed_rows(0.1), 1: seed_rows(0.1), 2: seed_rows(-0.1)},
                              ["best", "SeqGAN"], "SeqGAN")  # fmt: skip
    summary = md.split("### Mean")[1]
    bleu = next(line for line in summary.splitlines() if line.startswith("| BLEU-4"))
    mse = next(line for line in summary.splitlines() if line.startswith("| MSE"))
    assert bleu.endswith("| 2 of 3 |") and mse.endswith("| 2 of 3 |")  # seed 2 goes against it
    assert " ± " in bleu
    every = md.split("### Mean")[0]
    assert sum(line.startswith("| 2 | ") for line in every.splitlines()) == 2  # every seed shown
