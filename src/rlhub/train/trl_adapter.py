"""Train with TRL on any rlhub environment: its tasks as a `datasets.Dataset`, its rubric as a reward function.

```python
from trl import GRPOConfig, GRPOTrainer

from rlhub import load
from rlhub.train.modeling import create_tiny_model
from rlhub.train.trl_adapter import env_dataset, reward_function

env = load("rlhub/arithmetic", digits=1)
model = create_tiny_model("runs/trl/model", env, hidden=32, layers=1, heads=2)  # or any HF model directory
trainer = GRPOTrainer(
    model=str(model),
    reward_funcs=reward_function(env),
    train_dataset=env_dataset(env, 64),
    args=GRPOConfig(
        output_dir="runs/trl",
        use_cpu=True,  # drop on a GPU
        max_steps=2,
        per_device_train_batch_size=8,
        num_generations=4,
        max_completion_length=8,
        report_to=[],
    ),
)
trainer.train()
```

Rows hold the prompt in conversational format (`prompt`), the reference answer (`answer`, JSON) and
the whole task (`task`, JSON); TRL passes extra columns to reward functions, which is how the rubric
gets its task back. Covered: single-turn environments (the completion is the model's one reply).
Multi-turn and tool environments need rlhub's own GRPO, which runs the environment's episode loop.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rlhub.core.env import Environment
from rlhub.core.types import Message, Task


def env_dataset(env: Environment, n: int, split: str = "train", seed: int = 0) -> Any:
    """Tasks `0..n-1` of `split` as a Dataset with `prompt`, `answer` and `task` columns."""
    from datasets import Dataset

    tasks = [env.task(i, split, seed) for i in range(n)]
    return Dataset.from_dict(
        {
            "prompt": [[{"role": m.role, "content": m.content} for m in env.prompt_messages(t)] for t in tasks],
            "answer": [json.dumps(t.answer) for t in tasks],
            "task": [t.model_dump_json() for t in tasks],
        }
    )


def reward_function(env: Environment) -> Callable[..., list[float]]:
    """A TRL reward function `(prompts, completions, task, **kwargs) -> list[float]` scoring with the rubric."""

    def reward(prompts: list[Any], completions: list[Any], task: list[str], **kwargs: Any) -> list[float]:
        scores = []
        for completion, raw in zip(completions, task, strict=True):
            text = completion[-1]["content"] if isinstance(completion, list) else str(completion)
            scores.append(env.score(Task.model_validate_json(raw), [Message.assistant(text)]).value)
        return scores

    reward.__name__ = f"rlhub_{env.id.replace('/', '_').replace('-', '_')}"
    return reward


__all__ = ["env_dataset", "reward_function"]
