"""Small environments for rollout tests: single turn, tools, and one with a slow verifier."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import rlhub
from rlhub import Message, Rubric, State, Task


def exact(response: str, reference: object) -> bool:
    return response.strip() == str(reference)


@rlhub.environment("rollouttests/add", version="1.0.0")
class Add(rlhub.SingleTurnEnv):
    """a+b, tagged by size."""

    digits: int = 2
    rubric = Rubric(correct=exact)

    def make_task(self, rng: random.Random) -> Task:
        a, b = rng.randint(0, 10**self.digits), rng.randint(0, 10**self.digits)
        return Task(prompt=f"What is {a} + {b}?", answer=str(a + b), tags=("big" if a + b > 100 else "small",))


@rlhub.environment("rollouttests/mul", version="1.0.0")
class Mul(rlhub.ToolEnv):
    """Multiply with a tool."""

    rubric = Rubric(correct=exact)

    def make_task(self, rng: random.Random) -> Task:
        a, b = rng.randint(2, 999), rng.randint(2, 999)
        return Task(prompt=f"Use the tool: {a} * {b}", answer=str(a * b), info={"a": a, "b": b})

    def tools(self, state: State) -> list[Callable[..., Any]]:
        def mul(a: int, b: int) -> int:
            """Multiply two integers."""
            return a * b

        return [mul]

    def oracle(self, task: Task, messages: Any) -> Message:
        if messages[-1].role == "user":
            call = '<tool_call>{"name": "mul", "arguments": {"a": %d, "b": %d}}</tool_call>'
            return Message.assistant(call % (task.info["a"], task.info["b"]))
        return Message.assistant(messages[-1].content)


def slow_exact(response: str, reference: object) -> bool:
    time.sleep(0.2)
    return exact(response, reference)


@rlhub.environment("rollouttests/slow", version="1.0.0")
class SlowVerifier(Add):
    """Add, with a verifier that takes 0.2 s per rollout."""

    rubric = Rubric(correct=slow_exact)
