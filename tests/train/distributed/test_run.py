"""The distributed runner's command line: flags reach the run and DiLoCo configs; bad input stops early."""

from __future__ import annotations

import pytest

from rlhub.train.config import flag_rows
from rlhub.train.distributed.run import DistributedConfig, main, parse_args


def test_flags_fill_both_configs() -> None:
    config = parse_args(["--data", "text", "--decay", "true", "--inner-steps", "13", "--compression", "int8",
                         "--error-feedback", "true", "--fragments", "2"])  # fmt: skip
    assert (config.data, config.decay, config.steps) == ("text", True, 1500)
    assert (config.diloco.inner_steps, config.diloco.compression, config.diloco.error_feedback) == (13, "int8", True)
    assert config.diloco.fragments == 2 and config.diloco.outer_lr == 0.7


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("data", "shakespeare", "data must be one of arithmetic, text, not 'shakespeare'"),
        ("mode", "fsdp", "mode must be one of ddp, diloco, not 'fsdp'"),
        ("compression", "int4", "diloco.compression must be one of none, fp16, int8, not 'int4'"),
        ("steps", "many", "steps must be int, not 'many'"),
        ("inner-stepz", "3", "unknown flag --inner_stepz"),
    ],
)
def test_bad_flags_are_refused_before_any_process_group(flag: str, value: str, message: str) -> None:
    with pytest.raises(SystemExit, match=message):
        main([f"--{flag}", value])


def test_sections_can_be_named_too() -> None:
    assert parse_args(["--diloco.inner_steps", "7"]).diloco.inner_steps == 7


def test_help_explains_every_flag_with_its_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    main(["--help"])
    text = capsys.readouterr().out
    rows = flag_rows(DistributedConfig(), flat=True)
    assert all(flag in text for flag, *_ in rows)
    assert ("--inner-steps", "int", "50", "H: inner optimizer steps between synchronisations.") in rows
    assert ("--mode", "ddp|diloco", "'diloco'", "'ddp' (all-reduce gradients every step) or 'diloco'.") in rows
