"""The distributed runner's command line: flags reach the run and DiLoCo configs; bad input stops early."""

from __future__ import annotations

import pytest

from rlhub.train.distributed.run import parse_args


def test_flags_fill_both_configs() -> None:
    config = parse_args(["--data", "text", "--decay", "true", "--inner-steps", "13", "--compression", "int8",
                         "--error-feedback", "true", "--fragments", "2"])  # fmt: skip
    assert (config.data, config.decay, config.steps) == ("text", True, 1500)
    assert (config.diloco.inner_steps, config.diloco.compression, config.diloco.error_feedback) == (13, "int8", True)
    assert config.diloco.fragments == 2 and config.diloco.outer_lr == 0.7


@pytest.mark.parametrize(
    ("flag", "value", "allowed"),
    [
        ("data", "shakespeare", "arithmetic, text"),
        ("mode", "fsdp", "ddp, diloco"),
        ("compression", "int4", "none, fp16, int8"),
    ],
)
def test_unknown_choices_are_refused_before_any_process_group(
    flag: str, value: str, allowed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parse_args([f"--{flag}", value])
    assert f"--{flag} must be one of {allowed}, not '{value}'" in capsys.readouterr().err


def test_help_explains_every_flag_with_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--inner-steps INNER_STEPS H: inner optimizer steps between synchronisations. (default: 50)" in text
    assert "--fragments FRAGMENTS Streaming:" in text and "--seed SEED Model initialisation seed" in text
