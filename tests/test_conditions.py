"""Metre and mode as conditions (music/conditions.py), end to end with the beat encoding: the
corpus names each window's condition, `--set conditions=on` trains one start token per
condition, the checkpoint keeps their names, `compose --metre/--mode` picks the id.

The corpus is written here: tunes in 4/4 with a C-major key signature ending on C, and in 6/8
with an A-minor one ending on A (no committed binaries)."""

from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import torch
from click.testing import CliRunner
from helpers import run_cli

import seqgan_music
from seqgan_music.cli import cli
from seqgan_music.core.generator import Generator
from seqgan_music.errors import SeqGANMusicError
from seqgan_music.music.beat.encoding import notes_to_beat_tokens
from seqgan_music.music.beat.tunes import beat_tokens_to_midi
from seqgan_music.music.conditions import (
    metre_name,
    midi_key_scale,
    mode_from_signature,
    pick_condition,
)
from seqgan_music.music.io.files import melodies_in_quarters

SPLITS = {"train": 10, "valid": 2, "test": 2}
# (metre, key number of pretty_midi's KeySignature, scale, last pitch)
KINDS = [((4, 4), 0, [60, 62, 64, 65, 67, 69, 71, 72], 60),  # C major, ends on C
         ((6, 8), 21, [57, 59, 60, 62, 64, 65, 67, 69], 57)]  # A minor, ends on A  # fmt: skip


def tune(seed: int, kind: int, bars: int = 12) -> pretty_midi.PrettyMIDI:
    metre, key, scale, last = KINDS[kind]
    rng = np.random.default_rng(seed)
    bar = metre[0] * 16 // metre[1]
    notes, t = [], 0
    while t < bars * bar - 4:
        d = int(rng.choice([2, 2, 4]))
        notes.append((t, t + d, int(rng.choice(scale))))
        t += d
    notes.append((t, bars * bar, last))
    s, e, p = (np.array([n[i] for n in notes]) for i in range(3))
    pm = beat_tokens_to_midi(notes_to_beat_tokens(s, e, p, bars * bar), 4, qpm=100.0,
                             time_signature=metre)  # fmt: skip
    pm.key_signature_changes.append(pretty_midi.KeySignature(key, 0.0))
    return pm


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("conditions")
    k = 0
    for split, n in SPLITS.items():
        (root / "tunes" / split).mkdir(parents=True)
        for _ in range(n):
            tune(k, k % 2).write(str(root / "tunes" / split / f"tune_{k}.mid"))
            k += 1
    return root


pytestmark = pytest.mark.usefixtures("workdir_cache")  # tests/conftest.py


def train(workdir: Path, name: str, *extra: str) -> Path:
    result = run_cli("train", "--data", workdir / "tunes", "--encoding", "beat", "--preset",
                     "tiny", "--out", workdir / "ck", "--run-name", name, "--seed", "1",
                     "--quiet", *extra)  # fmt: skip
    assert result.exit_code == 0, result.output
    return workdir / "ck" / name / "checkpoint.pt"


@pytest.fixture(scope="module")
def trained(workdir: Path) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEQGAN_MUSIC_CACHE", str(workdir / "cache"))
        return train(workdir, "cond", "--set", "conditions=on")


def test_modes_come_from_the_key_signature_and_the_last_note():
    assert midi_key_scale("D") == (2, "major") and midi_key_scale("F#m") == (6, "minor")
    assert midi_key_scale("Bbm") == (10, "minor")
    # a D-major signature: ending on D major, on E dorian, on A mixolydian, on B minor
    for last, found in [(2, (2, "major")), (4, (4, "dorian")), (9, (9, "mixolydian")),
                        (11, (11, "minor")), (7, (2, "major")), (None, (2, "major"))]:  # fmt: skip
        assert mode_from_signature(2, "major", last) == found
    assert mode_from_signature(4, "minor", 9) == (9, "dorian")  # E minor's scale = A dorian's
    assert metre_name(6, 8) == "6/8" and metre_name(5, 4) == "other"


def test_an_abc_tune_takes_its_mode_from_k(tmp_path: Path):
    path = tmp_path / "t.abc"
    path.write_text("X:1\nT:t\nM:6/8\nL:1/8\nK:Ador\nABA GED|EAA ABc|ABA GED|EAA A3|\n")
    from seqgan_music.music.beat.encoding import BeatEncodingConfig
    from seqgan_music.music.beat.tunes import read_beat_tunes

    (_, melody, _), = melodies_in_quarters(path)  # fmt: skip
    assert melody["key"] == (9, "dorian")
    (_, _, info), = read_beat_tunes(path, BeatEncodingConfig())  # fmt: skip
    assert (info["mode"], info["tonic_pc"], info["mode_source"]) == ("dorian", 9, "abc")


def test_pick_condition_fills_what_is_open_and_refuses_what_was_not_trained():
    known = {"names": ["4/4 major", "6/8 major", "6/8 minor"], "train_windows": [50, 30, 20]}
    assert pick_condition(known, None, None) == (0, "4/4 major")
    assert pick_condition(known, "6/8", None) == (1, "6/8 major")
    assert pick_condition(known, "6/8", "minor") == (2, "6/8 minor")
    with pytest.raises(SeqGANMusicError, match="not trained on 3/4 dorian tunes; it knows: "
                       "4/4 major, 6/8 major, 6/8 minor"):  # fmt: skip
        pick_condition(known, "3/4", "dorian")
    with pytest.raises(SeqGANMusicError, match=r"not trained on 5/4 \(metre other\) tunes"):
        pick_condition(known, "5/4", None)
    assert pick_condition({"names": ["other major", "4/4 major"]}, "7/8", None) == (
        0, "other major")  # fmt: skip


def test_data_info_counts_conditions_and_mode_sources(workdir: Path):
    result = run_cli("data", "info", "--data", workdir / "tunes", "--encoding", "beat")
    assert result.exit_code == 0, result.output
    # 5 training tunes of each kind; 12 bars of 4/4 make 4 windows of 48 steps, of 6/8 3
    assert "conditions (metre mode: training windows): 4/4 major: 20, 6/8 minor: 15" in (
        result.output
    )
    assert "mode read from (tunes): midi 14" in result.output


def test_the_checkpoint_names_its_conditions(trained: Path):
    payload = torch.load(trained, weights_only=True)
    assert payload["config"]["generator"]["conditions"] == 2
    assert payload["config"]["train"]["conditions"] == "on"
    assert payload["metadata"]["conditions"] == {
        "names": ["4/4 major", "6/8 minor"], "train_windows": [20, 15],
    }  # fmt: skip
    assert payload["generator"]["embedding.weight"].shape[0] == 90 + 2  # a start row each


def spy_conditions(monkeypatch: pytest.MonkeyPatch) -> list:
    seen: list = []
    sample = Generator.sample

    def spy(self, n, *args, conditions=None, **kw):
        seen.append(None if conditions is None else conditions.tolist())
        return sample(self, n, *args, conditions=conditions, **kw)

    monkeypatch.setattr(Generator, "sample", spy)
    return seen


@pytest.mark.parametrize(
    "asked, condition",
    [({"metre": "6/8"}, [1]), ({"key": "A", "mode": "minor"}, [1]), ({}, [0]),
     ({"metre": "4/4", "key": "C"}, [0]), ({"metre": "6/8", "form": "AABB", "bars": 2}, [1])],
)  # fmt: skip
def test_compose_picks_the_asked_condition_start_token(
    trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, asked: dict, condition: list
):
    seen = spy_conditions(monkeypatch)
    (piece,) = seqgan_music.compose(tmp_path / "t.mid", checkpoint=trained, seed=3, **asked)
    assert seen and all(s == condition for s in seen)
    name = ["4/4 major", "6/8 minor"][condition[0]]
    assert piece.info["condition"] == name and f"condition {name}" in piece.summary
    assert piece.info["metre"] == name.split(" ")[0]  # nothing asked: the condition's metre


def test_sampling_without_a_condition_draws_the_training_mixture(
    trained: Path, monkeypatch: pytest.MonkeyPatch
):
    seen = spy_conditions(monkeypatch)
    seqgan_music.load_checkpoint(trained).sample(400, length=8, seed=0)
    ids = np.array(seen[0])
    assert abs((ids == 1).mean() - 15 / 35) < 0.07  # 6/8 minor: 15 of the 35 training windows


def test_held_out_nll_of_a_conditioned_model_is_the_mixture_s(trained: Path, workdir: Path):
    model = seqgan_music.load_checkpoint(trained)
    windows = np.random.default_rng(0).integers(0, 90, (5, 48))
    x = torch.as_tensor(windows)
    per = torch.stack([model.generator.log_probs(x, 1.0, torch.full((5,), c)).sum(1)
                       for c in (0, 1)])  # (C, N): log G(window | c)  # fmt: skip
    prior = torch.tensor([20 / 35, 15 / 35]).log().unsqueeze(1)
    expected = -torch.logsumexp(per + prior, dim=0) / 48
    assert np.allclose(model.token_nll(windows), expected.detach().numpy(), atol=1e-5)


@pytest.mark.parametrize("names", [None, ["4/4 major"], [1, 2], ["4/4", "6/8 minor"]])
def test_malformed_condition_names_are_a_one_line_error(trained: Path, tmp_path: Path, names):
    payload = torch.load(trained, weights_only=True)
    payload["metadata"]["conditions"]["names"] = names
    torch.save(payload, tmp_path / "bad.pt")
    result = run_cli("compose", "--checkpoint", tmp_path / "bad.pt", "--out", tmp_path / "t.mid",
                     "--metre", "6/8")  # fmt: skip
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "does not name its 2 conditions" in result.output
    # export refuses it too: it never writes a copy that compose would refuse
    result = run_cli("export", "--checkpoint", tmp_path / "bad.pt", "--out", tmp_path / "x.pt")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "does not name its 2 conditions" in result.output
    assert not (tmp_path / "x.pt").exists()


def test_compose_refuses_a_condition_it_was_not_trained_on(trained: Path, tmp_path: Path):
    result = run_cli("compose", "--checkpoint", trained, "--out", tmp_path / "t.mid",
                     "--meter", "3/4", "--key", "D", "--mode", "dorian")  # fmt: skip
    assert result.exit_code != 0
    assert result.output.strip().splitlines()[-1] == (
        "seqgan-music: error: this model was not trained on 3/4 dorian tunes; it knows: "
        "4/4 major, 6/8 minor"
    )


def test_an_unconditioned_checkpoint_composes_as_before(
    workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    with monkeypatch.context() as mp:
        mp.setenv("SEQGAN_MUSIC_CACHE", str(workdir / "cache"))
        plain = train(workdir, "plain")
    assert torch.load(plain, weights_only=True)["config"]["generator"]["conditions"] == 1
    seen = spy_conditions(monkeypatch)
    (piece,) = seqgan_music.compose(tmp_path / "t.mid", checkpoint=plain, seed=3, metre="3/4")
    assert seen == [None] and "condition" not in piece.info and piece.info["metre"] == "3/4"


def test_conditions_need_a_corpus_that_names_them(workdir: Path):
    result = CliRunner().invoke(
        cli, ["train", "--data", str(workdir / "tunes"), "--preset", "tiny", "--set",
              "conditions=on", "--out", str(workdir / "ck"), "--run-name", "paper", "--quiet"],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "conditions=on: this corpus names 0 condition(s); conditions need" in result.output
    assert "Traceback" not in result.output


def test_note_ons_move_by_the_shortest_way_and_stay_on_the_keys():
    from seqgan_music.music.beat.encoding import nearest_shift, shift_note_ons

    assert [nearest_shift(a, 0) for a in (0, 2, 6, 7, 11)] == [0, -2, -6, 5, 1]
    rows = np.array([[0, 1, 41, 1, 89], [2, 0, 1, 50, 3]])  # rest, hold, note-ons
    moved = shift_note_ons(rows, np.array([3, -2]))
    assert moved.tolist() == [[0, 1, 44, 1, 80], [12, 0, 1, 48, 13]]  # 92 -> 80, 0 -> 12


@pytest.fixture(scope="module")
def transposed(workdir: Path) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEQGAN_MUSIC_CACHE", str(workdir / "cache"))
        return train(workdir, "moved", "--transpose-to", "C", "--set", "conditions=on")


def pitch_classes(rows: np.ndarray) -> set[int]:
    from seqgan_music.music.beat.encoding import HOLD, note_on_to_pitch

    return set((note_on_to_pitch(rows[rows > HOLD]) % 12).tolist())


def test_transposed_tunes_keep_their_mode_on_the_common_tonic(transposed: Path, workdir: Path):
    model = seqgan_music.load_checkpoint(transposed)
    assert model.tokenizer.tonic == 0
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEQGAN_MUSIC_CACHE", str(workdir / "cache"))
        data = seqgan_music.load_dataset(str(workdir / "tunes"), fitted_tokenizer=model.tokenizer,
                                         domain_options={"encoding": "beat"})  # fmt: skip
    assert data.manifest["transposed_to"] == 0
    ids = data.conditions["train"]
    assert pitch_classes(data.train[ids == 0]) <= {0, 2, 4, 5, 7, 9, 11}  # C major, unmoved
    # the A-minor tunes, moved up 3 semitones: C natural minor, E natural gone
    assert pitch_classes(data.train[ids == 1]) == {0, 2, 3, 5, 7, 8, 10}


def test_compose_moves_a_transposed_model_back_to_the_asked_key(transposed: Path, tmp_path: Path):
    model = seqgan_music.load_checkpoint(transposed)
    pieces = seqgan_music.compose(tmp_path / "t.mid", model=model, seed=2, num=2, key="D",
                                  mode="minor", metre="6/8")  # fmt: skip
    for piece in pieces:
        assert pitch_classes(np.asarray(piece.tokens)) <= {2, 4, 5, 7, 9, 10, 0, 1}  # D minor
        assert piece.info["key"] == "D minor" and piece.info["condition"] == "6/8 minor"
    (tune,) = seqgan_music.compose(tmp_path / "f.mid", model=model, seed=2, key="A",
                                   mode="minor", form="AB", bars=2)  # fmt: skip
    assert pitch_classes(tune.tokens[tune.tokens > 1][-1:]) == {9}  # ends on A, moved back


@pytest.mark.parametrize(
    "args, message",
    [(("--transpose-to", "H", "--encoding", "beat"), "--transpose-to 'H' is not a key"),
     (("--transpose-to", "C", "--encoding", "paper"), "--transpose-to needs the tunes' keys")],
)  # fmt: skip
def test_transpose_to_needs_a_tonic_and_the_beat_encoding(workdir: Path, args, message):
    result = run_cli("train", "--data", workdir / "tunes", "--preset", "tiny", "--out",
                     workdir / "ck", "--run-name", "bad", "--quiet", *args)  # fmt: skip
    assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output


def test_a_transposed_model_refuses_a_primer(transposed: Path, workdir: Path, tmp_path: Path):
    result = run_cli("compose", "--checkpoint", transposed, "--out", tmp_path / "t.mid",
                     "--primer", workdir / "tunes" / "train" / "tune_0.mid")  # fmt: skip
    assert result.exit_code != 0 and "not supported" in result.output


def test_d_conditions_give_d_a_projection_per_condition(trained: Path, workdir: Path):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEQGAN_MUSIC_CACHE", str(workdir / "cache"))
        path = train(workdir, "judged", "--set", "conditions=on", "--set", "d_conditions=true")
        payload = torch.load(path, weights_only=True)
        assert payload["config"]["discriminator"]["conditions"] == 2
        assert payload["discriminator"]["projection.weight"].shape[0] == 2
        assert payload["discriminator"]["projection.weight"].abs().sum() > 0  # trained
        plain = torch.load(trained, weights_only=True)
        assert not any(k.startswith("projection") for k in plain["discriminator"])
        again = run_cli("train", "--data", workdir / "tunes", "--encoding", "beat", "--out",
                        workdir / "ck", "--run-name", "judged", "--resume", "--set",
                        "d_conditions=false", "--quiet")  # fmt: skip
        assert again.exit_code == 1 and "d_conditions cannot change" in again.output
        alone = run_cli("train", "--data", workdir / "tunes", "--encoding", "beat", "--out",
                        workdir / "ck", "--run-name", "x", "--set", "d_conditions=true",
                        "--quiet")  # fmt: skip
        assert alone.exit_code != 0 and "d_conditions needs conditions=on" in alone.output


def test_sample_conditions_are_the_ids_sample_draws(trained: Path, monkeypatch: pytest.MonkeyPatch):
    model = seqgan_music.load_checkpoint(trained)
    seen = spy_conditions(monkeypatch)
    model.sample(50, length=4, seed=11)
    ids = model.sample_conditions(50, seed=11)
    assert ids.tolist() == seen[0] and len(set(ids.tolist())) == 2  # both conditions drawn
    assert model.sample_conditions(50, seed=11, condition=1).tolist() == [1] * 50


def test_entropy_of_a_conditioned_model_reads_each_sample_under_its_own_condition(
    trained: Path, workdir: Path
):
    """The quality-diversity test's entropy per token: each sample under the start token it was
    drawn from (the mixture's draws), not every sample under the first condition's."""
    from seqgan_music.quality_diversity import ENTROPY, score_draw

    model = seqgan_music.load_checkpoint(trained)
    # G's two start rows made far apart and its head sharp, so condition 0 and 1 predict
    # differently (the tiny G is near uniform)
    with torch.no_grad():
        model.generator.embedding.weight[-2:] = torch.tensor([[5.0], [-5.0]])
        model.generator.head.weight *= 30
    samples = model.sample(40, seed=4)
    ids = model.sample_conditions(40, seed=4)
    x = torch.as_tensor(samples)
    with torch.no_grad():
        logp = torch.log_softmax(model.generator(x, torch.as_tensor(ids)), dim=-1)
    expected = -(logp.exp() * logp).sum(-1).mean(1).numpy()
    assert np.allclose(model.token_entropy(samples, 1.0, ids), expected, atol=1e-6)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEQGAN_MUSIC_CACHE", str(workdir / "cache"))
        data = seqgan_music.load_dataset(str(workdir / "tunes"), fitted_tokenizer=model.tokenizer,
                                         domain_options={"encoding": "beat"})  # fmt: skip
    from seqgan_music.core.domain import get_domain

    scores = score_draw(get_domain("music"), data, samples, data.valid, model, 1.0, seed=4)
    assert np.allclose(scores[ENTROPY], expected, atol=1e-6)
    first = model.token_entropy(samples, 1.0, np.zeros(40, dtype=np.int64))
    assert not np.allclose(first, expected, atol=1e-3)  # the first condition alone differs
    with pytest.raises(SeqGANMusicError, match="each sample's condition"):
        model.token_entropy(samples)


@pytest.mark.parametrize("start, asked", [("plain", "D"), ("moved", "D"), ("moved", "none")])
def test_a_run_from_a_checkpoint_cannot_move_its_tunes_elsewhere(
    trained: Path, transposed: Path, workdir: Path, start: str, asked: str
):
    """--init-from keeps the checkpoint's tonic (its tokenizer's): asking for another one is a
    one-line error, not a run trained where it was not asked to be."""
    source = {"plain": trained, "moved": transposed}[start]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEQGAN_MUSIC_CACHE", str(workdir / "cache"))
        result = run_cli("train", "--data", workdir / "tunes", "--encoding", "beat", "--out",
                         workdir / "ck", "--run-name", f"from-{start}-{asked}", "--init-from",
                         source, "--transpose-to", asked, "--quiet")  # fmt: skip
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert f"--transpose-to {asked}: the checkpoint this run goes on from" in result.output
        same = run_cli("train", "--data", workdir / "tunes", "--encoding", "beat", "--out",
                       workdir / "ck", "--run-name", f"same-{start}-{asked}", "--init-from",
                       transposed, "--transpose-to", "C", "--quiet")  # fmt: skip
        assert same.exit_code == 0, same.output
