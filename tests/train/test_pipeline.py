"""The pipeline and the commands: SFT, GRPO, held-out evaluations as rollout logs, summary and curve."""

import json

import pytest
from typer.testing import CliRunner

from rlhub.cli.main import app
from rlhub.core.errors import ConfigError
from rlhub.rollout.log import read_log
from rlhub.train.pipeline import train_pipeline

from .conftest import ADD, small_config


@pytest.mark.slow
def test_pipeline_writes_evaluations_summary_and_curve(tmp_path, tiny_path):
    config = small_config(tmp_path, tiny_path, **{"sft.steps": 3, "grpo.steps": 2})
    result = train_pipeline(config)
    out = tmp_path / "out"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["eval_tasks"] == 20 and summary["sft_steps"] == 3 and summary["grpo_steps"] == 2
    for name, evaluation in (("sft", result.before), ("grpo", result.after)):
        log = read_log(out / f"eval-{name}.jsonl")
        assert log.header.model == name and log.header.split == "test" and len(log.rollouts) == 20
        assert log.footer is not None and log.footer.metrics == evaluation
        assert summary[f"accuracy_{'before' if name == 'sft' else 'after'}"] == log.footer.metrics.accuracy
        shown = CliRunner().invoke(app, ["view", str(out / f"eval-{name}.jsonl")])
        assert shown.exit_code == 0 and f"model {name}" in shown.output and "pass@1" in shown.output
    assert (out / "curve.png").stat().st_size > 1000


def test_commands_with_overrides(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(f'[env]\nid = "{ADD}"\n[model]\npath = "{tmp_path / "m"}"\n')
    common = [str(config), "--run.progress", "false", "--run.threads", "1"]

    def rlhub(*args):
        result = CliRunner().invoke(app, list(args))
        return result.exit_code, result.output

    shape = ["--model.hidden", "16", "--model.layers", "1", "--model.heads", "2"]
    assert "parameters" in rlhub("train", "tiny-model", *common, *shape)[1]
    sft_args = ["--sft.steps", "2", "--sft.batch_size", "4", "--sft.micro_batch_size", "2", "--sft.eval_every", "0"]
    code, output = rlhub("train", "sft", *common, *sft_args, "--run.out", str(tmp_path / "sft"))
    assert code == 0 and "2 steps" in output
    grpo_args = ["--grpo.steps", "1", "--grpo.prompts", "2", "--grpo.group", "2", "--env.max_tokens", "4"]
    init = ["--run.init_from", str(tmp_path / "sft" / "model"), "--run.out", str(tmp_path / "grpo")]
    code, output = rlhub("train", "grpo", *common, *grpo_args, *init)
    assert code == 0 and "1 steps" in output
    with pytest.raises(ConfigError, match=r"unknown config field optim\.nope"):
        CliRunner().invoke(app, ["train", "sft", *common, "--optim.nope", "1"], catch_exceptions=False)
