"""Any environment as training data: `sft` rows are whole chats in which the oracle answers (tool calls
included), for supervised fine-tuning; `rl` rows are prompts with their reference answers and tasks,
for RL trainers that score with the environment (`rlhub.load(row["env"]).score(...)`)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterator
from typing import Any, Literal

from rlhub.core.env import Environment
from rlhub.core.model import PolicyClient


def export_rows(
    env: Environment, format: Literal["sft", "rl"], split: str = "train", n: int = 1000, seed: int = 0
) -> Iterator[dict[str, Any]]:
    for index in range(n):
        task = env.task(index, split, seed)
        prompt = [m.to_openai() for m in env.prompt_messages(task)]
        if format == "rl":
            yield {"env": env.spec, "prompt": prompt, "answer": task.answer, "task": task.model_dump(mode="json")}
            continue
        client = PolicyClient(functools.partial(env.oracle, task))
        episode = asyncio.run(env.rollout(task, client))
        row: dict[str, Any] = {
            "env": env.spec,
            "task_id": task.id,
            "messages": prompt + [m.to_openai() for m in episode.messages],
        }
        if client.tools:
            row["tools"] = [spec.to_openai() for spec in client.tools]
        yield row


__all__ = ["export_rows"]
