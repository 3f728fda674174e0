"""Malformed checkpoints are one-line project errors before any model is allocated, in every
command that reads one (compose, export, evaluate, train --init-from), and NaN weights never
compose silently; anything that is not the project's own error is reported as a bug."""

import os
import pickle
import warnings
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from seqgan_music import api
from seqgan_music.cli import cli
from seqgan_music.core.checkpoint import check_models, read_checkpoint, save_checkpoint
from seqgan_music.core.config import GeneratorConfig, tiny
from seqgan_music.core.metadata import RunMetadata
from seqgan_music.core.trainer import SeqGANTrainer
from seqgan_music.errors import CheckpointError, ConfigError, SeqGANMusicError

V, T = 12, 6


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A finished tiny run's checkpoint payload, as the trainer writes it (oracle ids)."""
    data = torch.randint(0, V, (64, T), generator=torch.Generator().manual_seed(0))
    metadata = RunMetadata(
        "oracle", tokenizer={"name": "ids", "state": {"vocab_size": V}}, tokenizer_name="ids",
        data="oracle", seq_len=T, seed=0, preset="tiny",
    ).to_dict()  # fmt: skip
    trainer = SeqGANTrainer(tiny(V, T).with_train(adv_rounds=1), data, metadata=metadata)
    path = tmp_path_factory.mktemp("good") / "checkpoint.pt"
    trainer.run(path)
    return torch.load(path, weights_only=True)


def _broken(payload: dict, how: str) -> dict:
    bad = {**payload, "generator": dict(payload["generator"])}
    bad["config"] = {k: dict(v) for k, v in payload["config"].items()}
    if how == "shape":
        bad["generator"]["head.weight"] = bad["generator"]["head.weight"][:-1]
    elif how == "missing weight":
        del bad["generator"]["lstm.weight_hh_l0"]
    elif how == "no generator":
        del bad["generator"]
    elif how == "no config":
        del bad["config"]
    elif how == "config disagrees":
        bad["config"]["generator"]["hidden_dim"] += 1
    elif how == "absurd size":
        bad["config"]["generator"]["vocab_size"] = 1 << 40
    elif how == "absurd model":  # each size allowed, the product is terabytes
        bad["config"]["generator"].update(emb_dim=1 << 24)
    elif how == "nan":
        weight = bad["generator"]["head.weight"].clone()
        weight[0, 0] = float("nan")
        bad["generator"]["head.weight"] = weight
    elif how == "inf in D":
        bad["discriminator"] = dict(bad["discriminator"])
        bad["discriminator"]["out.bias"] = torch.full_like(
            bad["discriminator"]["out.bias"], float("inf")
        )
    return bad


CASES = {
    "shape": "has shape",
    "missing weight": "do not match its config",
    "no generator": "no generator weights",
    "no config": "config is not valid",
    "config disagrees": "its config implies",
    "absurd size": "vocab_size must be in 1..",
    "absurd model": "parameters",
    "nan": "NaN or infinite",
}


@pytest.mark.parametrize("how", sorted(CASES))
def test_check_models_names_the_problem(good: dict, how: str) -> None:
    with pytest.raises(CheckpointError, match=CASES[how]) as err:
        check_models("x.pt", _broken(good, how))
    assert "\n" not in str(err.value) and isinstance(err.value, SeqGANMusicError)


def test_a_good_checkpoint_passes_and_infinite_d_weights_do_not(good: dict) -> None:
    parts = ("generator", "discriminator", "rollout")
    assert check_models("x.pt", good, parts).generator == GeneratorConfig(V, T, 8, 16)
    with pytest.raises(CheckpointError, match="discriminator weight out.bias holds NaN"):
        check_models("x.pt", _broken(good, "inf in D"), parts)


def _run(*args: object) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True)


def _one_line(result: object, fragment: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0], result.stderr


BROKEN = ["shape", "config disagrees", "absurd model", "nan", "no generator"]


@pytest.mark.parametrize("how", BROKEN)
def test_every_command_refuses_a_broken_checkpoint(good: dict, how: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    save_checkpoint(bad, _broken(good, how))
    _one_line(_run("compose", "--checkpoint", bad, "--out", tmp_path / "s.txt"), CASES[how])
    assert not (tmp_path / "s.txt").exists()  # NaN weights never compose
    _one_line(_run("export", "--checkpoint", bad, "--out", tmp_path / "slim.pt"), CASES[how])
    assert not (tmp_path / "slim.pt").exists()  # nor are they exported
    _one_line(_run("evaluate", "--checkpoint", bad, "--num", "4"), CASES[how])
    result = _run("train", "--init-from", bad, "--out", tmp_path / "runs", "--quiet")
    _one_line(result, CASES[how])


def test_an_unexpected_exception_is_a_bug_with_its_traceback(monkeypatch, tmp_path) -> None:
    def boom(*args, **kwargs):
        raise ZeroDivisionError("an internal mistake")

    monkeypatch.setattr(api, "compose", boom)
    result = _run("compose", "--out", tmp_path / "t.mid")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr and "ZeroDivisionError" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("seqgan-music: this is a bug")


class _Tok:
    vocab_size = V


def test_invalid_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="adv_rounds must be at least 0"):
        tiny(V, T).with_train(adv_rounds=-1)
    windows = torch.zeros(1, T, dtype=torch.long).numpy()
    dataset = api.Dataset("music", windows, windows, windows, _Tok())
    with pytest.raises(ConfigError, match="unknown preset 'huge' for music; choose one of"):
        api.build_config(dataset, "huge")


def test_run_metadata_of_the_wrong_types_is_refused() -> None:
    assert RunMetadata.from_dict({"domain": "music", "seq_len": 32, "x": 1}).extra == {"x": 1}
    for bad in ({"seq_len": "x"}, {"domain": ["music"]}, {"tokenizer": "char"}, {"seed": True}):
        with pytest.raises(CheckpointError, match="run metadata"):
            RunMetadata.from_dict(bad)
    with pytest.raises(CheckpointError, match="must be a dict"):
        RunMetadata.from_dict([])


def test_a_checkpoint_naming_no_domain_is_refused(good: dict, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    save_checkpoint(bad, {**good, "metadata": {**good["metadata"], "domain": ["oracle"]}})
    result = _run("compose", "--checkpoint", bad, "--out", tmp_path / "s.txt")
    _one_line(result, "no tokenizer or domain")


# ---- round 3 of the outside probe: sizes that pass one check and fail the next, odd dtypes,
# and the training state a resume restores ---------------------------------------------------


def _meta_shapes(config: dict) -> dict:
    from seqgan_music.core.generator import Generator

    with torch.device("meta"):
        return Generator(GeneratorConfig(**config["generator"])).state_dict()


def _weights(good: dict, how: str) -> dict:
    bad = {**good, "generator": dict(good["generator"])}
    if how == "hidden 20000, zero-stride":  # 160 KB on disk, 6.4 GB once built
        bad["config"] = {k: dict(v) for k, v in good["config"].items()}
        bad["config"]["generator"]["hidden_dim"] = 20000
        bad["generator"] = {k: torch.zeros(()).expand(v.shape)
                            for k, v in _meta_shapes(bad["config"]).items()}  # fmt: skip
    elif how == "zero-stride":
        bad["generator"]["head.weight"] = torch.zeros(()).expand(V, 16)
    else:
        dtype = {"int64": torch.int64, "bool": torch.bool, "complex": torch.complex64}[how]
        bad["generator"]["head.weight"] = bad["generator"]["head.weight"].to(dtype)
    return bad


WEIGHTS = {
    "hidden 20000, zero-stride": "parameters",
    "zero-stride": "zero-stride view",
    "int64": "is int64, not floating point",
    "bool": "is bool, not floating point",
    "complex": "is complex64, not floating point",
}


@pytest.mark.parametrize("how", sorted(WEIGHTS))
def test_weights_stored_in_full_as_real_floats(good: dict, how: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    save_checkpoint(bad, _weights(good, how))
    assert bad.stat().st_size < 1 << 20
    _one_line(_run("compose", "--checkpoint", bad, "--out", tmp_path / "s.txt"), WEIGHTS[how])
    _one_line(_run("export", "--checkpoint", bad, "--out", tmp_path / "slim.pt"), WEIGHTS[how])
    result = _run("train", "--init-from", bad, "--out", tmp_path / "runs", "--quiet")
    _one_line(result, WEIGHTS[how])


def _state(good: dict, how: str) -> dict:
    bad = dict(good)
    head = good["generator"]["head.weight"]
    if how in ("step -5", "step 10**15"):
        bad.update(phase="g_pretrain", step=-5 if how == "step -5" else 10**15)
    elif how == "best_g nan":
        state = {k: v.clone() for k, v in good["generator"].items()}
        state["head.weight"][0, 0] = float("nan")
        bad["best_g"] = {"epoch": 1, "valid_nll": 2.0, "state": state}
    elif how == "best_g shape":
        state = {**good["generator"], "head.weight": head[:-1]}
        bad["best_g"] = {"epoch": 1, "valid_nll": 2.0, "state": state}
    elif how == "best_g nll":
        bad["best_g"] = {"epoch": 1, "valid_nll": float("nan"), "state": good["generator"]}
    elif how in ("optimiser nan", "optimiser shape"):
        opt = {"state": {k: dict(v) for k, v in good["g_pg_opt"]["state"].items()},
               "param_groups": good["g_pg_opt"]["param_groups"]}  # fmt: skip
        index = max(opt["state"])
        avg = opt["state"][index]["exp_avg"]
        opt["state"][index]["exp_avg"] = (
            torch.full_like(avg, float("nan")) if how == "optimiser nan" else avg[..., :-1]
        )
        bad["g_pg_opt"] = opt
    elif how == "history":
        bad["history"] = [{"phase": "g_pretrain"}]
    return bad


STATES = {
    "step -5": "is not one its history reaches",
    "step 10**15": "is not one its history reaches",
    "best_g nan": "best_g weight head.weight holds NaN",
    "best_g shape": "best_g weight head.weight has shape",
    "best_g nll": "best_g record is malformed",
    "optimiser nan": "g_pg_opt exp_avg of parameter",
    "optimiser shape": "g_pg_opt exp_avg of parameter",
    "history": "history is malformed",
}


@pytest.mark.parametrize("how", sorted(STATES))
def test_a_resume_refuses_a_training_state_that_does_not_fit(
    good: dict, how: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.pt"
    save_checkpoint(bad, _state(good, how))
    data = torch.zeros(8, T, dtype=torch.long)
    with pytest.raises(CheckpointError, match=STATES[how]):
        SeqGANTrainer.load(bad, data)
    result = _run("train", "--init-from", bad, "--out", tmp_path / "runs", "--quiet")
    _one_line(result, STATES[how])
    assert not (tmp_path / "runs").exists()  # a failed train leaves no folder behind


def test_the_good_training_state_resumes(good: dict, tmp_path: Path) -> None:
    path = tmp_path / "good.pt"
    save_checkpoint(path, good)
    trainer = SeqGANTrainer.load(path, torch.zeros(8, T, dtype=torch.long))
    assert (trainer.phase, trainer.step) == (good["phase"], good["step"])


def test_a_domain_nobody_registered_or_two_domains_are_refused(good: dict, tmp_path: Path) -> None:
    evil = tmp_path / "evil.pt"
    save_checkpoint(evil, {**good, "domain": None,
                           "metadata": {**good["metadata"], "domain": "evil"}})  # fmt: skip
    _one_line(_run("compose", "--checkpoint", evil, "--out", tmp_path / "s.txt"), "'evil'")
    two = tmp_path / "two.pt"
    save_checkpoint(two, {**good, "domain": "evil"})
    _one_line(_run("export", "--checkpoint", two, "--out", tmp_path / "x.pt"), "two domains")
    assert not (tmp_path / "x.pt").exists()


@pytest.mark.parametrize(
    "state, fragment",
    [(None, "has no state dict"), ({"vocab_size": "many"}, "cannot be rebuilt"),
     ({"vocab_size": V + 1}, f"tokenizer has {V + 1} ids, its generator {V}")],
)  # fmt: skip
def test_a_tokenizer_state_is_validated(good: dict, state, fragment, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    tokenizer = {"name": "ids", "state": state}
    save_checkpoint(bad, {**good, "metadata": {**good["metadata"], "tokenizer": tokenizer}})
    _one_line(_run("compose", "--checkpoint", bad, "--out", tmp_path / "s.txt"), fragment)
    # export checks what compose will read: a model it cannot sample is never exported
    _one_line(_run("export", "--checkpoint", bad, "--out", tmp_path / "x.pt"), fragment)
    assert not (tmp_path / "x.pt").exists()


def test_export_refuses_a_domain_nobody_registered(good: dict, tmp_path: Path) -> None:
    evil = tmp_path / "evil.pt"
    save_checkpoint(evil, {**good, "domain": "evil",
                           "metadata": {**good["metadata"], "domain": "evil"}})  # fmt: skip
    _one_line(_run("export", "--checkpoint", evil, "--out", tmp_path / "x.pt"), "'evil'")
    assert not (tmp_path / "x.pt").exists()


class _Payload:
    """Unpickles as a call to os.mkdir: a code-executing 'checkpoint'."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self) -> tuple:
        return os.mkdir, (self.target,)


def test_a_bare_pickle_is_refused_unrun_and_without_torchs_warning(tmp_path: Path) -> None:
    """A plain pickle (not torch's zip format) runs no code and prints only the one-line error:
    torch's warning about its pickle protocol would be two more lines before it."""
    bad, target = tmp_path / "bare.pt", tmp_path / "pwned"
    bad.write_bytes(pickle.dumps(_Payload(str(target))))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(CheckpointError, match="is not a seqgan-music checkpoint"):
            read_checkpoint(bad)
    assert not target.exists()
    assert [str(w.message) for w in caught] == []
