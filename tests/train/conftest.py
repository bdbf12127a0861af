from pathlib import Path

import pytest
import torch

from rlhub.core.registry import load
from rlhub.train.config import load_config
from rlhub.train.modeling import create_tiny_model

ADD = str(Path(__file__).with_name("add_env.py"))
DOUBLE = str(Path(__file__).with_name("double_env.py"))


@pytest.fixture(autouse=True)
def one_thread():
    """Tests run two at a time on two cores: one torch thread each avoids oversubscription."""
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def add_env():
    return load(ADD)


@pytest.fixture(scope="session")
def double_env():
    return load(DOUBLE)


@pytest.fixture(scope="session")
def tiny_path(tmp_path_factory, add_env):
    """A very small model (hidden 32, 1 layer) for the addition env, created once per worker."""
    return create_tiny_model(tmp_path_factory.mktemp("tiny") / "model", add_env, hidden=32, layers=1, heads=2)


@pytest.fixture(scope="session")
def tool_model_path(tmp_path_factory, double_env):
    return create_tiny_model(tmp_path_factory.mktemp("tool") / "model", double_env, hidden=32, layers=1, heads=2)


def small_config(tmp_path, model, env=ADD, **overrides):
    """A config that trains in about a second: tiny batches, few steps, no progress bar."""
    values = {
        "model.path": str(model),
        "env.id": env,
        "env.max_tokens": "6",
        "env.eval_tasks": "20",
        "sft.batch_size": "8",
        "sft.micro_batch_size": "8",
        "sft.steps": "4",
        "sft.eval_every": "0",
        "sft.val_tasks": "8",
        "grpo.prompts": "4",
        "grpo.group": "4",
        "grpo.steps": "2",
        "run.out": str(tmp_path / "out"),
        "run.progress": "false",
        "run.threads": "1",
    }
    values.update({k: str(v) for k, v in overrides.items()})
    return load_config(None, values)
