"""Settings files merge the same way for every caller: given values over the file over defaults."""

import pytest

from seqgan_music import api
from seqgan_music.errors import ConfigError


def test_given_values_win_over_the_file_and_the_file_over_defaults(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('preset = "tiny"\nseed = 4\ntokenizer = "word"\n[train]\nadv_rounds = 3\n')
    merged = api.merge_settings(path, overrides={"rollout_num": 2}, seed=9, seq_len=None)
    assert merged == {
        "data": "embedded", "preset": "tiny", "seed": 9, "tokenizer": "word", "seq_len": None,
        "split_seed": None,
        "overrides": {"adv_rounds": 3, "rollout_num": 2},
    }  # fmt: skip
    assert (api.merge_settings(None)["preset"], api.merge_settings(None)["seed"]) == ("default", 0)
    assert api.merge_settings(path, overrides={"adv_rounds": 1})["overrides"]["adv_rounds"] == 1


def test_bad_files_and_names_are_config_errors(tmp_path):
    (tmp_path / "bad.toml").write_text("preset = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        api.merge_settings(tmp_path / "bad.toml")
    with pytest.raises(ConfigError, match="unknown setting"):
        api.merge_settings(None, presett="tiny")
