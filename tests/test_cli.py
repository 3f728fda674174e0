"""The `seqgan-music` command, in-process with click's CliRunner: every command and error path.

A tiny MIDI corpus is built here with pretty_midi (no committed binaries); training uses the
`tiny` preset so the whole module runs in well under a minute.
"""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import torch
from click.testing import CliRunner
from helpers import run_cli

from seqgan_music import api
from seqgan_music.cli import cli

STEP = 0.4


def _write_tune(path: Path, rng: np.random.Generator, steps: int = 100) -> None:
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    melody = pretty_midi.Instrument(program=0, name="melody")
    t = 0.0
    pitch = 67
    while t < steps * STEP:
        dur = STEP * int(rng.integers(1, 4))
        pitch = int(np.clip(pitch + rng.integers(-3, 4), 55, 84))
        melody.notes.append(pretty_midi.Note(90, pitch, t, t + dur))
        t += dur
    pm.instruments.append(melody)
    pm.write(str(path))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    tunes = root / "tunes"
    tunes.mkdir()
    for i in range(12):
        _write_tune(tunes / f"tune_{i}.mid", rng)
    (tunes / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06truncated")  # skipped, counted
    (root / "empty").mkdir()
    (root / "lines.txt").write_text(
        "\n".join(f"the cat sat on mat number {i % 7}" for i in range(60)) + "\n"
    )
    return root


pytestmark = pytest.mark.usefixtures("workdir_cache")  # tests/conftest.py
run = run_cli


def assert_one_line_error(result: object, *fragments: str) -> None:
    assert result.exit_code in (1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.fixture(scope="module")
def trained(workdir: Path) -> Path:
    """One tiny training run shared by the tests below."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEQGAN_MUSIC_CACHE", str(workdir / "cache"))
        result = CliRunner().invoke(
            cli,
            ["train", "--data", str(workdir / "tunes"), "--preset", "tiny", "--out",
             str(workdir / "ck"), "--run-name", "tiny", "--seed", "3", "--quiet"],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    return workdir / "ck" / "tiny"


COMMANDS = [
    ["train"],
    ["compose"],
    ["evaluate"],
    ["compare"],
    ["oracle"],
    ["export"],
    ["data", "prepare"],
    ["data", "download"],
    ["data", "info"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_examples(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Example" in result.output
    assert "--" in result.output  # options are listed with their help


def test_train_skips_and_counts_a_bad_file(trained: Path, workdir: Path) -> None:
    result = run("train", "--data", workdir / "tunes", "--preset", "tiny", "--set",
                 "adv_rounds=1", "--out", workdir / "ck-bad-file", "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 skipped" in result.output


def test_train_writes_the_run_folder(trained: Path) -> None:
    for name in ("checkpoint.pt", "checkpoint-pretrained.pt", "config.json", "metrics.csv"):
        assert (trained / name).is_file(), name
    assert (trained.parent / "latest").read_text().strip() == "tiny"
    payload = torch.load(trained / "checkpoint.pt", weights_only=True)
    assert payload["phase"] == "done"
    assert payload["config"]["train"]["seed"] == 3
    rows = api.read_metrics(trained / "metrics.csv")
    assert {r["phase"] for r in rows} >= {"g_pretrain", "d_pretrain", "adversarial"}


def test_metrics_csv_has_the_per_round_diagnostics(trained: Path) -> None:
    rows = api.read_metrics(trained / "metrics.csv")
    adversarial = [r for r in rows if r["phase"] == "adversarial"]
    assert adversarial
    for row in adversarial:  # every round: reward, D's two accuracies, validation quality
        values = {k: float(row[k]) for k in ("reward", "d_acc_fake", "d_acc_valid", "d_p_fake",
                                              "valid_nll", "valid_bleu4", "valid_mse")}  # fmt: skip
        assert all(0.0 <= values[k] <= 1.0 for k in ("reward", "d_acc_fake", "d_acc_valid"))
        assert 0.0 < values["valid_bleu4"] <= 1.0 and values["valid_mse"] >= 0.0
    assert all(r["d_acc_valid"] for r in rows if r["phase"] == "d_pretrain")
    assert (trained / "curve.png").stat().st_size > 0


def test_compose_writes_playable_midi(trained: Path, workdir: Path) -> None:
    out = workdir / "out" / "tune.mid"
    result = run("compose", "--checkpoint", trained, "--out", out, "--num", "3", "--seed", "1")
    assert result.exit_code == 0, result.output
    paths = [out, out.with_name("tune-2.mid"), out.with_name("tune-3.mid")]
    for path in paths:
        assert f"wrote {path}" in result.output
        pm = pretty_midi.PrettyMIDI(str(path))
        pitches = [n.pitch for n in pm.instruments[0].notes]
        assert pitches and 21 <= min(pitches) and max(pitches) <= 108
        assert pm.get_end_time() <= 128 * STEP + 1e-6  # the default length: 128 steps
        assert pm.get_tempo_changes()[1][0] == pytest.approx(150.0)
    import music21

    score = music21.converter.parse(str(paths[0]))
    assert len(score.flatten().notes) > 0


def test_compose_is_seeded(trained: Path, workdir: Path) -> None:
    a, b = workdir / "a.mid", workdir / "b.mid"
    for path in (a, b):
        assert run("compose", "--checkpoint", trained, "--out", path, "--seed", "7").exit_code == 0
    notes = [[(n.pitch, n.start) for n in pretty_midi.PrettyMIDI(str(p)).instruments[0].notes]
             for p in (a, b)]  # fmt: skip
    assert notes[0] == notes[1]


def test_compose_continues_a_primer(trained: Path, workdir: Path) -> None:
    primer = workdir / "tunes" / "tune_0.mid"
    out = workdir / "primed.mid"
    result = run("compose", "--checkpoint", trained, "--out", out, "--primer", primer,
                 "--length", "40", "--seed", "2")  # fmt: skip
    assert result.exit_code == 0, result.output
    from seqgan_music.music.paper.tunes import read_primer, read_tune_tokens

    steps = 40 // 4
    assert np.array_equal(read_tune_tokens(out)[:steps], read_primer(primer, steps))


def test_compose_defaults_to_the_latest_run(trained: Path, workdir: Path, monkeypatch) -> None:
    monkeypatch.chdir(workdir)
    (workdir / "checkpoints").mkdir(exist_ok=True)
    (workdir / "checkpoints" / "latest").write_text("tiny\n")
    link = workdir / "checkpoints" / "tiny"
    if not link.exists():
        link.symlink_to(trained)
    assert api.find_checkpoint(None) == Path("checkpoints/tiny/checkpoint.pt")


def test_export_writes_a_slim_checkpoint_that_composes(trained: Path, workdir: Path) -> None:
    slim = workdir / "slim.pt"
    result = run("export", "--checkpoint", trained, "--out", slim, "--note", "seconds=12")
    assert result.exit_code == 0, result.output
    assert slim.stat().st_size < (trained / "checkpoint.pt").stat().st_size / 2
    payload = torch.load(slim, weights_only=True)
    assert payload["metadata"]["training"] == {"seconds": 12}
    assert "discriminator" not in payload
    result = run("compose", "--checkpoint", slim, "--out", workdir / "slim.mid", "--seed", "7")
    assert result.exit_code == 0, result.output


def test_compose_uses_and_names_the_temperature_recorded_at_export(
    trained: Path, workdir: Path
) -> None:
    tuned = workdir / "tuned.pt"
    result = run("export", "--checkpoint", trained, "--out", tuned, "--compose-temperature",
                 "0.85", "--compose-why", "matched test on valid")  # fmt: skip
    assert result.exit_code == 0, result.output
    result = run("compose", "--checkpoint", tuned, "--out", workdir / "tuned.mid", "--seed", "7")
    assert result.exit_code == 0, result.output
    assert "at temperature 0.85 (matched test on valid)" in result.stderr
    model = api.load_checkpoint(tuned)
    assert model.compose_default == (0.85, "matched test on valid")
    samples = api.compose(workdir / "t.mid", model=model, num=3, seed=7, length=16)
    explicit = model.sample(3, seed=7, temperature=0.85, length=16)
    np.testing.assert_array_equal(np.stack([p.tokens for p in samples]), explicit)
    result = run("compose", "--checkpoint", trained, "--out", workdir / "plain.mid", "--seed", "7")
    assert "at temperature 1 (no tuned temperature recorded" in result.stderr
    result = run("compose", "--checkpoint", tuned, "--out", workdir / "hot.mid", "--temperature",
                 "1.2")  # fmt: skip
    assert "at temperature 1.2 (given)" in result.stderr
    assert_one_line_error(run("export", "--checkpoint", trained, "--out", workdir / "x.pt",
                              "--compose-temperature", "0"), "--compose-temperature")  # fmt: skip


def test_evaluate_prints_a_table_with_p_values(trained: Path, workdir: Path) -> None:
    out = workdir / "eval"
    result = run("evaluate", "--checkpoint", trained / "checkpoint-pretrained.pt",
                 "--checkpoint", trained, "--name", "MLE", "--name", "SeqGAN", "--num", "50",
                 "--out", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "BLEU-4" in result.output and "MSE" in result.output
    assert "p (SeqGAN vs MLE)" in result.output
    assert (out / "evaluation.json").is_file() and (out / "evaluation.md").is_file()


def test_evaluate_matches_diversity_over_a_temperature_grid(trained: Path, workdir: Path) -> None:
    out = workdir / "eval-matched"
    result = run("evaluate", "--checkpoint", trained / "checkpoint-pretrained.pt",
                 "--checkpoint", trained, "--name", "MLE", "--name", "SeqGAN", "--num", "40",
                 "--temperatures", "0.7,1,1.3", "--out", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.index("### Matched diversity") < text.index("### Every model at temperature 1")
    matched = json.loads((out / "matched.json").read_text())
    assert matched["statistic"] == "Self-BLEU-4"
    first = matched["verdict"][0]
    assert first["metric"] == "temperature" and first["SeqGAN"] == 1.0
    assert 0.7 <= first["MLE"] <= 1.3 and matched["matched"]["MLE"]["temperature"] == first["MLE"]
    assert {r["metric"] for r in matched["verdict"]} >= {"C2ST accuracy", "Frechet distance",
            "coverage MSE", "copied", "held-out NLL", "entropy/token", "BLEU-4", "MSE"}  # fmt: skip
    grid = [(m, t) for m in ("MLE", "SeqGAN") for t in (0.7, 1.0, 1.3)]
    curves = [(r["model"], r["temperature"]) for r in matched["curves"]]
    assert curves == grid + [("real data", None)]
    assert (out / "quality_diversity.png").is_file() and (out / "matched.md").is_file()
    assert len(list((out / "samples").glob("*.npy"))) == 6 + 2  # the grid, then the verdict's
    assert_one_line_error(run("evaluate", "--checkpoint", trained, "--temperatures", "x"),
                          "--temperatures")  # fmt: skip
    assert_one_line_error(run("evaluate", "--checkpoint", trained, "--num", "20",
                              "--temperatures", "1", "--subject", "nobody"), "nobody")  # fmt: skip


def test_resume_after_an_interruption_finishes_identically(trained: Path, workdir: Path) -> None:
    out = workdir / "resume"
    api.train(workdir / "tunes", preset="tiny", out_dir=out, run_name="r", seed=3,
              progress=False, max_units=2)  # fmt: skip
    assert torch.load(out / "r" / "checkpoint.pt", weights_only=True)["phase"] != "done"
    # a kill after a unit was logged but before its checkpoint: the CSV has one row too many
    csv_path = out / "r" / "metrics.csv"
    lines = csv_path.read_text().splitlines()
    csv_path.write_text("\n".join([*lines, lines[-1]]) + "\n")
    result = run("train", "--resume", "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    resumed = torch.load(out / "r" / "checkpoint.pt", weights_only=True)["generator"]
    straight = torch.load(trained / "checkpoint.pt", weights_only=True)["generator"]
    assert all(torch.equal(resumed[k], straight[k]) for k in straight)
    steps = [(r["phase"], r["step"]) for r in api.read_metrics(csv_path)]
    assert steps == [(r["phase"], r["step"]) for r in api.read_metrics(trained / "metrics.csv")]


def test_data_prepare_and_info(workdir: Path) -> None:
    for command in ("prepare", "info"):
        result = run("data", command, "--data", workdir / "tunes")
        assert result.exit_code == 0, result.output
        assert "train" in result.output


def test_data_info_lists_skipped_entries_as_sentences(workdir: Path, tmp_path: Path) -> None:
    import os
    import shutil

    src = tmp_path / "mixed"
    shutil.copytree(workdir / "tunes", src)
    shutil.copy(src / "tune_0.mid", os.fsdecode(bytes(src) + b"/caf\xe9.mid"))  # Latin-1 name
    os.mkfifo(src / "fifo.mid")
    result = run("data", "info", "--data", src)
    assert result.exit_code == 0, result.output
    assert "  skipped fifo.mid: not a regular file (a FIFO)" in result.output
    assert "  skipped broken.mid: not a readable MIDI file" in result.output
    assert "{" not in result.output and "13 tunes from 15 files" in result.output


def test_a_value_error_keeps_its_quotes(trained: Path, workdir: Path) -> None:
    result = run("train", "--data", workdir / "tunes", "--set", "adv_rounds=abc", "--quiet",
                 "--out", workdir / "ck-quotes")  # fmt: skip
    assert_one_line_error(result, "adv_rounds must be of type int, not 'abc'")
    # the run failed before writing anything: no empty run folder (with only its lock) is left
    assert not list((workdir / "ck-quotes").glob("run-*")), list((workdir / "ck-quotes").iterdir())


def test_text_training_and_sampling(workdir: Path) -> None:
    out = workdir / "text"
    result = run("train", "--data", workdir / "lines.txt", "--tokenizer", "word", "--preset",
                 "tiny", "--out", out, "--run-name", "w", "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    result = run("compose", "--checkpoint", out / "w", "--out", workdir / "s.txt", "--num", "4")
    assert result.exit_code == 0, result.output
    lines = (workdir / "s.txt").read_text().splitlines()
    assert len(lines) == 4
    vocab = set(" ".join(f"the cat sat on mat number {i}" for i in range(7)).split()) | {"<unk>"}
    assert all(set(line.split()) <= vocab for line in lines)
    result = run("evaluate", "--checkpoint", out / "w", "--num", "20")
    assert result.exit_code == 0, result.output
    assert all(f"BLEU-{n}" in result.output for n in (2, 3, 4))
    assert "MSE" not in result.output


def test_oracle_tiny_runs(workdir: Path) -> None:
    out = workdir / "oracle"
    result = run("oracle", "--preset", "tiny", "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    assert (out / "results.json").is_file()
    assert "random N(0,1) oracle" in result.stderr and "not the paper's" in result.stderr
    assert "--oracle released" in result.stderr


def test_oracle_missing_file_is_one_line(workdir: Path) -> None:
    result = run("oracle", "--preset", "tiny", "--oracle", workdir / "nope.npz", "--quiet")
    assert_one_line_error(result, "oracle file not found")


# ---- error paths: one line on stderr, non-zero exit, no traceback ----------------------------


def test_missing_data(workdir: Path) -> None:
    assert_one_line_error(run("train", "--data", workdir / "nope", "--quiet"), "nope")


def test_a_file_no_domain_reads_says_what_each_reads(workdir: Path) -> None:
    (workdir / "notes.csv").write_text("pitch,duration\n60,1\n")
    result = run("train", "--data", workdir / "notes.csv", "--quiet")
    assert_one_line_error(result, "no domain reads notes.csv (music: a .mid, .midi or .abc file")
    assert "text: a .txt file" in result.stderr and "--tokenizer char or word" in result.stderr


def test_a_txt_file_without_a_tokenizer_says_it_took_the_default(workdir: Path) -> None:
    from seqgan_music.datasets import load_dataset

    summary = load_dataset(workdir / "lines.txt", progress=False).manifest["summary"]
    assert "char tokenizer (the default; --tokenizer word for words)" in summary
    word = load_dataset(workdir / "lines.txt", tokenizer="word", progress=False)
    assert "word tokenizer," in word.manifest["summary"]
    assert "char (the default for a .txt file)" in " ".join(run("train", "--help").output.split())
    compose_help = " ".join(run("compose", "--help").output.split())
    assert "paper encoding: a step is 0.4 s" in compose_help
    assert (
        "beat: a sixteenth note" in compose_help and "beat: a step is a sixteenth" in compose_help
    )


def test_folder_without_tunes(workdir: Path) -> None:
    assert_one_line_error(run("train", "--data", workdir / "empty", "--quiet"), "empty")


def test_not_a_checkpoint(workdir: Path) -> None:
    bad = workdir / "bad.pt"
    bad.write_bytes(b"\x00garbage" * 10)
    assert_one_line_error(run("compose", "--checkpoint", bad, "--out", workdir / "x.mid"))


def test_checkpoint_from_another_version(workdir: Path) -> None:
    old = workdir / "old.pt"
    torch.save({"format_version": 999, "config": {}}, old)
    assert_one_line_error(run("compose", "--checkpoint", old, "--out", workdir / "x.mid"), "999")


def test_checkpoint_of_another_domain(trained: Path, workdir: Path) -> None:
    text = workdir / "text" / "w"
    if not text.exists():
        pytest.skip("needs the text run from test_text_training_and_sampling")
    result = run("evaluate", "--checkpoint", trained, "--checkpoint", text, "--num", "5")
    assert_one_line_error(result, "domain")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda(trained: Path, workdir: Path) -> None:
    result = run("compose", "--checkpoint", trained, "--out", workdir / "x.mid", "--device", "cuda")
    assert_one_line_error(result, "CUDA")


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["compose", "--temperature", "0"], "temperature"),
        (["compose", "--num", "0"], "num"),
        (["compose", "--program", "200"], "program"),
        (["train", "--set", "no_such_field=1"], "no_such_field"),
        (["train", "--set", "update_rate=3"], "update_rate"),
        (["train", "--tokenizer", "klingon"], "choose one of"),
        (["train", "--preset", "huge"], "choose one of"),
        (["train", "--device", "tpu"], "tpu"),
    ],
)
def test_invalid_values(trained: Path, workdir: Path, args: list[str], fragment: str) -> None:
    extra = ["--checkpoint", str(trained), "--out", str(workdir / "x.mid")]
    if args[0] == "train":
        data = workdir / ("lines.txt" if "--tokenizer" in args else "tunes")
        extra = ["--data", str(data), "--out", str(workdir / "ck-bad"), "--quiet"]
    assert_one_line_error(run(*args, *extra), fragment)


@pytest.mark.parametrize(
    "args",
    [
        ["compose", "--tempo", "nan"], ["compose", "--temperature", "nan"],
        ["compose", "--temperature", "inf"], ["compose", "--length", "1000000000"],
        ["compose", "--length", "0"], ["compose", "--seed", "-1"],
        ["compose", "--bars", "0"], ["compose", "--primer-steps", "0"],
        ["evaluate", "--num", "-1"], ["evaluate", "--num", "0"],
        ["train", "--seq-len", "0"], ["data", "prepare", "--seq-len", "0"],
        ["data", "prepare", "--step-seconds", "nan"],
    ],
)  # fmt: skip
def test_values_out_of_range_are_usage_errors(trained: Path, workdir: Path, args) -> None:
    """NaN, infinities, zero or negative counts and lengths past MAX_STEPS: one line, exit 2,
    nothing run (the outside probe saw tracebacks, 32 GB asked for, or 0 quietly made 32)."""
    extra = {"compose": ["--checkpoint", trained, "--out", workdir / "range.mid"],
             "evaluate": ["--checkpoint", trained], "train": ["--data", workdir / "tunes"],
             "data": ["--data", workdir / "tunes"]}[args[0]]  # fmt: skip
    result = run(*args, *extra)
    assert result.exit_code == 2, result.output
    assert_one_line_error(result, args[-2])
    assert not (workdir / "range.mid").exists()


def test_one_sampling_call_is_bounded(trained: Path) -> None:
    from seqgan_music.core.model import MAX_SAMPLE_TOKENS

    model = api.load_checkpoint(trained)
    with pytest.raises(api.SeqGANMusicError, match="lower --num or --length"):
        model.sample(4, length=MAX_SAMPLE_TOKENS // 2)


def test_unwritable_output(trained: Path, workdir: Path) -> None:
    blocker = workdir / "a-file"
    blocker.write_text("not a folder")
    result = run("compose", "--checkpoint", trained, "--out", blocker / "tune.mid")
    assert_one_line_error(result, "a-file")


def test_resume_with_nothing_to_resume(workdir: Path) -> None:
    assert_one_line_error(run("train", "--resume", "--out", workdir / "void"), "nothing to resume")


def test_download_refuses_a_checksum_mismatch(workdir: Path) -> None:
    (workdir / "srv").mkdir(exist_ok=True)
    (workdir / "srv" / "Nottingham.zip").write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    directory = str(workdir / "srv")

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=directory, **kwargs)

        def log_message(self, *args):  # keep the request log off stderr
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/Nottingham.zip"
        result = run("data", "download", "nottingham", "--dest", workdir / "dl", "--url", url)
    finally:
        server.shutdown()
    assert_one_line_error(result, "checksum mismatch")
    assert not (workdir / "dl" / "nottingham").exists()


def test_debug_shows_the_traceback(workdir: Path) -> None:
    result = run("--debug", "train", "--data", workdir / "nope", "--quiet")
    assert result.exit_code != 0
    assert result.exception is not None and not isinstance(result.exception, SystemExit)


def test_config_file_sets_the_preset_and_flags_win(workdir: Path) -> None:
    conf = workdir / "run.toml"
    conf.write_text('preset = "tiny"\nseed = 5\n[train]\nadv_rounds = 1\nrollout_num = 3\n')
    out = workdir / "toml"
    result = run("train", "--data", workdir / "tunes", "--config", conf, "--set", "rollout_num=4",
                 "--out", out, "--run-name", "c", "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "c" / "config.json").read_text())
    assert saved["train"]["adv_rounds"] == 1
    assert saved["train"]["seed"] == 5
    assert saved["train"]["rollout_num"] == 4  # the flag wins over the file
    assert saved["generator"]["hidden_dim"] == 16  # the tiny preset


def test_bad_config_file(workdir: Path) -> None:
    conf = workdir / "bad.toml"
    conf.write_text("preset = [unclosed\n")
    assert_one_line_error(run("train", "--config", conf, "--quiet"), "TOML")


def test_python_dash_m_runs_the_same_command() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "seqgan_music", "--help"], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    for command in ("train", "compose", "evaluate", "compare", "data", "oracle", "export"):
        assert command in done.stdout


def test_compare_trains_both_branches_from_one_pretrained_generator(workdir: Path) -> None:
    out = workdir / "compare"
    result = run("compare", "--data", workdir / "tunes", "--preset", "tiny", "--out", out,
                 "--num", "30", "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if line.startswith("| metric"))
    assert header.split(" | ")[1:5] == ["better", "MLE (best valid)", "MLE (+epochs)", "SeqGAN"]
    assert "p (SeqGAN vs MLE (best valid))" in header and "p (SeqGAN vs MLE (+epochs))" in header
    assert "| BLEU-4 | higher |" in result.output and "| MSE | lower |" in result.output
    summary = json.loads((out / "compare.json").read_text())
    best = torch.load(out / "seqgan" / "checkpoint.pt", weights_only=True)["best_g"]
    assert summary["best_valid_epoch"] == best["epoch"] and summary["adversarial_rounds"] == 2
    seqgan = torch.load(out / "seqgan" / "checkpoint-pretrained.pt", weights_only=True)
    mle = torch.load(out / "mle" / "checkpoint.pt", weights_only=True)
    assert mle["config"]["train"]["mode"] == "mle"
    # the baseline's history starts with SeqGAN's pre-training, unit for unit
    pretraining = [(h["phase"], h["step"]) for h in seqgan["history"]]
    assert [(h["phase"], h["step"]) for h in mle["history"]][: len(pretraining)] == pretraining
    assert (out / "evaluation.md").is_file() and (out / "compare.json").is_file()


def test_compare_keeps_the_best_validation_round_of_both_trained_branches(workdir: Path) -> None:
    out = workdir / "compare-select"
    result = run("compare", "--data", workdir / "tunes", "--preset", "tiny", "--out", out,
                 "--num", "20", "--set", "select_on=valid_bleu4,-valid_mse", "--set",
                 "adv_rounds=3", "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "compare.json").read_text())
    for branch in ("seqgan", "mle"):
        state = torch.load(out / branch / "checkpoint.pt", weights_only=True)
        kept = state["best_round"]
        assert summary["selected_round"][branch] == kept["round"] and 1 <= kept["round"] <= 3
        assert all(torch.equal(state["generator"][k], v) for k, v in kept["state"].items())
        rows = (out / branch / "metrics.csv").read_text().splitlines()
        header, done = rows[0].split(","), rows[-1].split(",")
        assert done[0] == "done" and float(done[header.index("selected_round")]) == kept["round"]
        scores = [float(r.split(",")[header.index("selection_score")]) for r in rows
                  if r.startswith("adversarial,")]  # fmt: skip
        assert max(scores) == scores[kept["round"] - 1]


def test_train_says_which_round_it_kept(workdir: Path) -> None:
    out = workdir / "kept"
    result = run("train", "--data", workdir / "tunes", "--preset", "tiny", "--out", out,
                 "--set", "select_on=valid_bleu4", "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    kept = torch.load(next(out.glob("*/checkpoint.pt")), weights_only=True)["best_round"]["round"]
    assert f"kept adversarial round {kept} of 2" in result.output
    # the curve marks it: the x of that adversarial row (units laid end to end)
    from seqgan_music.runs import _kept_round_x, read_metrics

    rows = read_metrics(next(out.glob("*/metrics.csv")))
    x = _kept_round_x(rows, list(range(1, len(rows) + 1)))
    assert rows[x - 1]["phase"] == "adversarial" and int(rows[x - 1]["step"]) == kept


def test_compare_over_seeds_reports_every_seed_and_the_mean(workdir: Path) -> None:
    out = workdir / "compare-seeds"
    result = run("compare", "--data", workdir / "tunes", "--preset", "tiny", "--out", out,
                 "--num", "20", "--seeds", "0,1", "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (out / "seed-0" / "evaluation.md").is_file() and (out / "seed-1" / "seqgan").is_dir()
    text = (out / "seeds.md").read_text()
    assert "### Every seed" in text and "Mean ± sd over seeds 0, 1" in text
    assert "| 0 | BLEU-4 | higher |" in text and "| 1 | BLEU-4 | higher |" in text
    assert " ± " in text and "of 2" in text
    assert text.index("## Matched diversity") < text.index("## Every model at temperature 1")
    assert "- seed 0: MLE (best valid) " in text and "- seed 1: " in text
    assert set(json.loads((out / "matched_seeds.json").read_text())) == {"0", "1"}
    assert set(json.loads((out / "seeds.json").read_text())) == {"0", "1"}
    assert_one_line_error(run("compare", "--seeds", "0,x", "--quiet"), "--seeds")


def test_a_second_train_on_the_same_run_folder_is_refused(workdir: Path) -> None:
    from seqgan_music.core.files import RunLock

    with RunLock(workdir / "ck-locked" / "busy"):
        result = run("train", "--data", workdir / "tunes", "--preset", "tiny", "--quiet",
                     "--out", workdir / "ck-locked", "--run-name", "busy")  # fmt: skip
    assert_one_line_error(result, "is in use by another training process (pid")


def test_resuming_a_finished_run_keeps_its_done_row(trained: Path, workdir: Path) -> None:
    import shutil

    out = workdir / "finished"
    shutil.copytree(trained, out / "tiny")
    result = run("train", "--resume", "--out", out, "--run-name", "tiny", "--quiet")
    assert result.exit_code == 0, result.output
    rows = api.read_metrics(out / "tiny" / "metrics.csv")
    assert rows == api.read_metrics(trained / "metrics.csv") and rows[-1]["phase"] == "done"


def test_progress_bars_first_eta_comes_from_the_first_units_time(capsys) -> None:
    import re

    from seqgan_music.cli import ProgressBars
    from seqgan_music.core.trainer import TrainEvent

    bars = ProgressBars()
    bars(TrainEvent("g_pretrain", 1, 20, {"g_mle_loss": 2.5}, seconds=3600.0))
    shown = str(bars.bar)
    bars.close()
    assert "?" not in shown, shown
    h, m, s = (int(x) for x in re.search(r"<(\d+):(\d\d):(\d\d)", shown).groups())
    assert 19 * 3600 <= h * 3600 + m * 60 + s < 19 * 3660, shown  # 19 units left of an hour each


def test_set_without_a_name_is_one_sentence(workdir: Path) -> None:
    result = run("train", "--data", workdir / "tunes", "--set", "=3", "--quiet")
    assert_one_line_error(result, "'=3' has no setting name before '='")


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("compose", "--primer", "no-such-primer.mid"), "no-such-primer.mid"),
        (("train", "--no-such-option"), "No such option"),
        (("no-such-command",), "No such command"),
        (("data", "info", "--seed", "x"), "'x' is not a valid integer"),
    ],
)
def test_click_usage_errors_are_one_line_too(args: tuple[str, ...], fragment: str) -> None:
    """click's own parsing errors (usage, hint and error on three lines) are one line, exit 2."""
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert_one_line_error(result, fragment, "--help")
    assert "Usage:" not in result.stderr


def test_a_full_disk_is_one_sentence_naming_the_file(trained: Path, workdir: Path, monkeypatch):
    import errno

    from seqgan_music.core import files

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", no_space)
    out = workdir / "full" / "slim.pt"
    result = run("export", "--checkpoint", trained, "--out", out)
    assert_one_line_error(result, f"{out}: No space left on device")
    assert "Errno" not in result.stderr and not list((workdir / "full").iterdir())


# ---- compose: which model, where it writes, what it refuses -------------------------------------


def test_compose_says_which_model_it_used(trained: Path, workdir: Path, monkeypatch) -> None:
    monkeypatch.chdir(workdir / "out")  # no ./checkpoints here: the shipped model
    result = run("compose", "--out", "shipped.mid", "--num", "1")
    assert result.exit_code == 0, result.output
    assert "composed with the shipped model folk-small.pt" in result.stderr
    assert "at temperature 1 (the matched-diversity test on the valid split" in result.stderr
    result = run("compose", "--checkpoint", trained, "--out", "mine.mid", "--num", "1")
    assert f"composed with {trained / 'checkpoint.pt'}" in result.stderr


def test_the_shipped_model_named_with_checkpoint_is_no_fallback(workdir: Path) -> None:
    result = run("compose", "--checkpoint", api.SHIPPED_CHECKPOINT, "--num", "1",
                 "--out", workdir / "named.mid")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "the shipped model folk-small.pt" in result.stderr
    assert "no trained run" not in result.stderr


def test_export_without_a_run_says_it_exports_the_shipped_model(workdir, monkeypatch) -> None:
    (workdir / "bare").mkdir(exist_ok=True)
    monkeypatch.chdir(workdir / "bare")  # no ./checkpoints here
    result = run("export", "--out", "copy.pt")
    assert result.exit_code == 0, result.output
    assert "exporting the shipped model folk-small.pt (no trained run" in result.stderr


def test_compose_prints_and_stores_the_seed_it_drew(trained: Path, workdir: Path) -> None:
    import re

    from seqgan_music.music.io.midi import read_midi_texts
    from seqgan_music.music.paper.tunes import read_tune_tokens

    first = workdir / "seeded" / "a.mid"
    result = run("compose", "--checkpoint", trained, "--out", first, "--num", "2")
    assert result.exit_code == 0, result.output
    seed = re.search(r", seed (\d+) \(--seed \1 repeats it\)", result.stderr).group(1)
    assert f"seqgan-music compose seed {seed}: tune 1 of 2, temperature 1" in read_midi_texts(first)
    again = workdir / "seeded" / "b.mid"
    assert run("compose", "--checkpoint", trained, "--out", again, "--num", "2",
               "--seed", seed).exit_code == 0  # fmt: skip
    assert np.array_equal(read_tune_tokens(first), read_tune_tokens(again))


def test_force_leaves_no_old_preview_beside_a_new_tune(trained: Path, workdir: Path) -> None:
    out = workdir / "previews" / "tune.mid"
    first = run("compose", "--checkpoint", trained, "--out", out, "--num", "1", "--png", "--wav")
    assert first.exit_code == 0 and out.with_suffix(".wav").exists(), first.output
    result = run("compose", "--checkpoint", trained, "--out", out, "--num", "1", "--force")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.parent.iterdir()) == ["tune.mid"]


def test_a_saved_velocity_out_of_range_is_one_line(workdir: Path) -> None:
    from seqgan_music.core.checkpoint import save_checkpoint

    payload = torch.load(api.SHIPPED_CHECKPOINT, weights_only=True)
    tokenizer = payload["metadata"]["tokenizer"]
    for bad in ({"velocity": -5}, {"step_seconds": "fast"}):
        state = {**tokenizer["state"], **bad}
        metadata = {**payload["metadata"], "tokenizer": {**tokenizer, "state": state}}
        save_checkpoint(workdir / "velocity.pt", {**payload, "metadata": metadata})
        result = run("compose", "--checkpoint", workdir / "velocity.pt", "--out",
                     workdir / "velocity.mid")  # fmt: skip
        assert_one_line_error(result, "tokenizer", str(next(iter(bad.values()))))
        assert not (workdir / "velocity.mid").exists()


def test_checkpoint_may_be_the_folder_train_wrote_or_its_latest_file(trained, workdir) -> None:
    runs = trained.parent  # what `train --out` was given: run folders and `latest`
    (runs / "latest").write_text("tiny\n")
    for given in (runs, runs / "latest"):
        result = run("compose", "--checkpoint", given, "--out", workdir / "via" / given.name,
                     "--num", "1", "--force")  # fmt: skip
        assert result.exit_code == 0, result.output
        assert f"composed with {trained / 'checkpoint.pt'}" in result.stderr
    slim = workdir / "via" / "slim.pt"
    assert run("export", "--checkpoint", runs / "latest", "--out", slim).exit_code == 0
    result = run("evaluate", "--checkpoint", runs, "--num", "10")
    assert result.exit_code == 0, result.output
    result = run("train", "--init-from", runs, "--out", workdir / "branch", "--quiet",
                 "--set", "adv_rounds=1")  # fmt: skip
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", ["x.wav", "x.txt", "x.png"])
def test_a_music_model_refuses_an_out_that_is_not_midi(trained, workdir, name) -> None:
    result = run("compose", "--checkpoint", trained, "--out", workdir / name)
    assert_one_line_error(result, "a music model writes .mid, .abc or .musicxml files")
    assert not (workdir / name).exists()


def test_an_empty_out_is_refused(trained: Path, workdir: Path) -> None:
    assert_one_line_error(run("compose", "--checkpoint", trained, "--out", ""), "--out", "empty")


def test_existing_files_are_refused_without_force(trained: Path, workdir: Path) -> None:
    out = workdir / "keep" / "tune.mid"
    assert run("compose", "--checkpoint", trained, "--out", out, "--num", "1").exit_code == 0
    before = out.read_bytes()
    result = run("compose", "--checkpoint", trained, "--out", out, "--num", "1", "--seed", "5")
    assert_one_line_error(result, f"{out} exists", "--force")
    assert out.read_bytes() == before
    result = run("compose", "--checkpoint", trained, "--out", out, "--num", "1", "--seed", "5",
                 "--force")  # fmt: skip
    assert result.exit_code == 0 and out.read_bytes() != before
    # a preview that exists counts too
    (out.with_name("new.wav")).write_bytes(b"mine")
    result = run("compose", "--checkpoint", trained, "--out", out.with_name("new.mid"), "--wav",
                 "--num", "1")  # fmt: skip
    assert_one_line_error(result, "new.wav exists")


def test_compose_defaults_primer_steps_and_a_long_length_warning(trained, workdir) -> None:
    out = workdir / "defaults"
    result = run("compose", "--checkpoint", trained, "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [f"tune-{i}.mid" for i in range(1, 5)]
    assert result.output.count("128 steps") == 4 and "times the" not in result.stderr
    assert "trained with the tiny preset" in result.stderr  # a tiny model is said to be one
    primer = workdir / "tunes" / "tune_0.mid"
    result = run("compose", "--checkpoint", trained, "--out", workdir / "p7.mid", "--num", "1",
                 "--primer", primer, "--primer-steps", "7", "--seed", "2")  # fmt: skip
    assert result.exit_code == 0, result.output
    from seqgan_music.music.paper.tunes import read_primer, read_tune_tokens

    assert np.array_equal(read_tune_tokens(workdir / "p7.mid")[:7], read_primer(primer, 7))
    result = run("compose", "--checkpoint", trained, "--out", workdir / "p.mid", "--primer",
                 primer, "--primer-steps", "128")  # fmt: skip
    assert_one_line_error(result, "--primer-steps must be 1..127")
    result = run("compose", "--checkpoint", trained, "--out", workdir / "long.mid", "--num", "1",
                 "--length", "600")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "seqgan-music: warning: --length 600 is 19 times the 32 steps" in result.stderr


def test_long_composes_report_progress(trained: Path, workdir: Path) -> None:
    from seqgan_music.errors import SeqGANMusicWarning

    seen = []
    with pytest.warns(SeqGANMusicWarning, match="--length 600"):
        api.compose(workdir / "prog.mid", checkpoint=trained, num=1, length=600,
                    progress=lambda t, n: seen.append((t, n)))  # fmt: skip
    assert seen == [(256, 600), (512, 600)]


def test_a_text_model_refuses_music_outputs(workdir: Path) -> None:
    out = workdir / "text-refuse"
    assert run("train", "--data", workdir / "lines.txt", "--tokenizer", "word", "--preset", "tiny",
               "--out", out, "--run-name", "w", "--quiet").exit_code == 0  # fmt: skip
    result = run("compose", "--checkpoint", out / "w", "--out", workdir / "s.mid")
    assert_one_line_error(result, "a text model writes its samples as text")
    result = run("compose", "--checkpoint", out / "w", "--out", workdir / "s2.txt", "--png")
    assert_one_line_error(result, "--png is not an option of text models")
    assert not (workdir / "s.mid").exists() and not (workdir / "s2.txt").exists()
    result = run("compose", "--checkpoint", out / "w")  # no --out: printed only
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 4  # one may be empty


def test_the_split_has_its_own_seed_not_the_training_seed(workdir: Path, monkeypatch) -> None:
    from seqgan_music import training
    from seqgan_music.core.metadata import RunMetadata

    split_seeds = []
    real = training.load_dataset

    def spy(*args, **kwargs):
        split_seeds.append(kwargs["seed"])
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "load_dataset", spy)
    out = workdir / "split-seeds"
    for name, extra in (("seed5", ["--seed", "5"]), ("split5", ["--split-seed", "5"])):
        result = run("train", "--data", workdir / "tunes", "--preset", "tiny", "--out", out,
                     "--run-name", name, "--quiet", *extra)  # fmt: skip
        assert result.exit_code == 0, result.output
    result = run("train", "--resume", "--out", out, "--run-name", "split5", "--quiet")
    assert result.exit_code == 0, result.output
    assert split_seeds == [0, 5, 5]  # --seed leaves the split alone; a resume keeps its own
    meta = torch.load(out / "split5" / "checkpoint.pt", weights_only=True)["metadata"]
    assert (meta["seed"], meta["split_seed"]) == (0, 5)
    # a checkpoint from before split_seed existed was split with its training seed
    assert RunMetadata(seed=7).held_out_seed() == 7
    assert RunMetadata(seed=7, split_seed=0).held_out_seed() == 0


def test_evaluate_says_what_it_scored_and_how_to_read_it(trained: Path, workdir: Path) -> None:
    result = run("evaluate", "--checkpoint", trained, "--checkpoint", trained, "--name", "a",
                 "--name", "b", "--num", "30")  # fmt: skip
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"Corpus {workdir / 'tunes'}, scored against its test split (" in out
    assert "30 samples per model (seed 0, temperature 1)" in out
    assert "BLEU: higher is closer" in out and "MSE: lower is closer" in out
    assert "Self-BLEU: lower is more diverse" in out
    assert "Real data: " in out and "windows of the valid split" in out
