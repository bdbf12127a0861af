"""The command lines are public: this freezes every flag of `rlhub train`, `rlhub eval` and the
distributed runner, so renaming or dropping one is a deliberate change made here too."""

import typer.main

from rlhub.cli.main import app
from rlhub.train.config import TrainConfig, flags
from rlhub.train.distributed.run import DistributedConfig

SECTIONS = {
    "model": ["path", "tiny", "hidden", "layers", "heads", "device"],
    "env": ["id", "args", "seed", "eval_tasks", "eval_seed", "max_tokens"],
    "optim": ["lr", "weight_decay", "warmup_steps", "grad_clip"],
    "sft": [
        "steps",
        "batch_size",
        "micro_batch_size",
        "data",
        "pack",
        "pack_length",
        "eval_every",
        "val_tasks",
        "stop_at",
    ],
    "grpo": [
        "steps",
        "prompts",
        "group",
        "temperature",
        "lr",
        "epochs",
        "micro_batch_size",
        "loss",
        "scale_rewards",
        "clip_low",
        "clip_high",
        "beta",
        "dynamic_sampling",
        "score_workers",
        "time_budget_s",
    ],
    "run": ["out", "seed", "save_every", "resume", "init_from", "threads", "progress", "progress_every"],
    "diloco": [
        "inner_steps",
        "outer_lr",
        "outer_momentum",
        "nesterov",
        "compression",
        "error_feedback",
        "warmup_steps",
        "fragments",
    ],
}
"""`--section.field` overrides: the fields of each section of `TrainConfig`."""
READS = {
    "sft": ["model", "env", "optim", "sft", "run", "diloco"],
    "grpo": ["model", "env", "optim", "grpo", "run", "diloco"],
    "pipeline": ["model", "env", "optim", "sft", "grpo", "run", "diloco"],
    "tiny-model": ["model", "env", "run"],
}
"""The sections each `rlhub train` command reads (and lists in `--help`)."""
DISTRIBUTED = [
    "mode",
    "steps",
    "batch",
    "lr",
    "warmup",
    "decay",
    "data",
    "digits",
    "context",
    "hidden",
    "layers",
    "seed",
    "val-size",
    "log-every",
    "checkpoint-every",
    "out",
    "inner-steps",
    "outer-lr",
    "outer-momentum",
    "nesterov",
    "compression",
    "error-feedback",
    "warmup-steps",
    "fragments",
]
EVAL = [
    "--api-key",
    "--api-key-env",
    "--base-url",
    "--concurrency",
    "--config",
    "--hub",
    "--max-tokens",
    "--mock-accuracy",
    "--model",
    "--out",
    "--push",
    "--quiet",
    "--request-timeout",
    "--retries",
    "--sampling-seed",
    "--score-workers",
    "--seed",
    "--split",
    "--start",
    "--temperature",
    "--timeout",
    "--token",
    "--top-p",
    "-C",
    "-c",
    "-m",
    "-n",
    "-o",
    "-q",
    "-r",
]


def test_train_commands_read_these_overrides() -> None:
    train = typer.main.get_command(app).commands["train"]  # type: ignore[attr-defined]
    for name, command in train.commands.items():
        assert list(command.reads) == READS[name], name
        expected = [f"--{section}.{field}" for section in READS[name] for field in SECTIONS[section]]
        assert flags(TrainConfig(), command.reads) == expected, name


def test_distributed_runner_flags() -> None:
    assert flags(DistributedConfig(), flat=True) == [f"--{name}" for name in DISTRIBUTED]


def test_eval_flags() -> None:
    command = typer.main.get_command(app).commands["eval"]  # type: ignore[attr-defined]
    assert sorted(o for p in command.params for o in p.opts if o.startswith("-")) == EVAL
