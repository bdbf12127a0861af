"""Configs: TOML plus dotted overrides, typed, with errors that name the field."""

from pathlib import Path

import pytest

from rlhub.core.errors import ConfigError
from rlhub.train.config import load_config, parse_overrides


def test_toml_and_overrides(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[env]\nid = "rlhub/arithmetic"\nargs = {digits = 3}\n[optim]\nlr = 1\n[grpo]\nloss = "grpo"\n')
    config = load_config(path, parse_overrides(["--optim.lr", "3e-4", "--grpo.group=4", "--run.out", "x"]))
    assert config.env.args == {"digits": 3}
    assert config.optim.lr == 3e-4
    assert config.grpo.group == 4 and config.grpo.loss == "grpo"
    assert config.run.out == "x"
    assert load_config(path).optim.lr == 1.0  # ints become floats where a float is expected


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"optim.lrr": "1"}, "unknown config field optim.lrr"),
        ({"optimizer.lr": "1"}, "unknown config section"),
        ({"grpo.loss": "ppo"}, "must be one of"),
        ({"grpo.group": "many"}, "grpo.group must be int"),
    ],
)
def test_mistakes_name_the_field(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, overrides)


def test_bad_override_syntax():
    with pytest.raises(ConfigError, match="overrides look like"):
        parse_overrides(["lr", "3"])


@pytest.mark.parametrize("path", sorted(Path(__file__).parents[2].glob("configs/*.toml")), ids=lambda p: p.name)
def test_shipped_configs_load(path):
    config = load_config(path)
    assert config.env.id and config.model.path
