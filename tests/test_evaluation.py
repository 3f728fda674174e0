"""evaluation.py directly: a report scored on the held-out split, written when asked."""

import json

from seqgan_music.evaluation import evaluate


def test_one_checkpoint_is_scored_against_its_own_corpus(text_run, tmp_path):
    report = evaluate([text_run], num_samples=20, out_dir=tmp_path)
    by_metric = {row["metric"]: row for row in report.rows}
    bleu = by_metric["BLEU-2"]
    assert bleu["better"] == "higher" and 0 <= bleu["run"] <= bleu["real data"] <= 1
    assert "BLEU-2" in report.markdown and "20 samples per model" in report.markdown
    assert json.loads(report.json_path.read_text()) == json.loads(json.dumps(report.rows))
    assert report.markdown_path.read_text().strip() == report.markdown.strip()
