"""The TRL adapter: an environment as a dataset plus a reward function, driven by a real GRPOTrainer."""

import json

import pytest

from rlhub.core.types import Task
from rlhub.train.trl_adapter import env_dataset, reward_function


def test_dataset_rows_and_rewards(add_env):
    data = env_dataset(add_env, 5, split="test", seed=2)
    row = data[0]
    task = add_env.task(0, "test", 2)
    assert row["prompt"] == [{"role": "user", "content": task.prompt[0].content}]
    assert json.loads(row["answer"]) == task.answer and Task.model_validate_json(row["task"]) == task
    reward = reward_function(add_env)
    completions = [[{"role": "assistant", "content": task.answer}], [{"role": "assistant", "content": "x"}]]
    assert reward([row["prompt"]] * 2, completions, task=[row["task"]] * 2) == [1.5, 0.5 * (len(task.answer) == 1)]
    assert reward(["p"], [f" {task.answer} "], task=[row["task"]]) == [1.5]  # plain-text completions too


@pytest.mark.slow
def test_grpo_trainer_trains_on_an_environment(tmp_path, add_env, tiny_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    args = GRPOConfig(
        output_dir=str(tmp_path),
        use_cpu=True,
        max_steps=2,
        per_device_train_batch_size=8,
        num_generations=4,
        max_completion_length=6,
        learning_rate=1e-3,
        logging_steps=1,
        report_to=[],
        save_strategy="no",
        seed=0,
    )
    trainer = GRPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(tiny_path),
        processing_class=AutoTokenizer.from_pretrained(tiny_path),
        reward_funcs=reward_function(add_env),
        train_dataset=env_dataset(add_env, 64),
        args=args,
    )
    trainer.train()
    logged = [entry for entry in trainer.state.log_history if "reward" in entry]
    assert len(logged) == 2 and all(0.0 <= e["reward"] <= 1.5 for e in logged)


@pytest.mark.slow
def test_module_docstring_example_runs_on_cpu_as_written(tmp_path):
    """The example users copy: executed verbatim, in a fresh process, from an empty directory."""
    import re
    import subprocess
    import sys

    from rlhub.train import trl_adapter

    (snippet,) = re.findall(r"```python\n(.*?)```", trl_adapter.__doc__, re.DOTALL)
    done = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "'train_runtime'" in done.stdout and (tmp_path / "runs/trl/model/config.json").exists()
