"""Example environments for core tests, good and deliberately broken (check_env must catch each)."""

from __future__ import annotations

import itertools
import random

import rlhub
from rlhub import Message, Rubric, Task


def exact(response: str, reference: object) -> bool:
    return response.strip() == str(reference)


@rlhub.environment("tests/add", version="1.0.0")
class Add(rlhub.SingleTurnEnv):
    """Adds two numbers."""

    digits: int = 2
    rubric = Rubric(correct=exact)

    def make_task(self, rng: random.Random) -> Task:
        a, b = rng.randint(0, 10**self.digits), rng.randint(0, 10**self.digits)
        return Task(prompt=f"{a}+{b}", answer=str(a + b), tags=("add",))


@rlhub.environment("tests/add", version="0.9.0")
class OldAdd(Add):
    """An older version of tests/add."""


_counter = itertools.count()


@rlhub.environment("tests/flaky-generator", version="0.1.0")
class FlakyGenerator(Add):
    """Non-deterministic: reads a process-global counter."""

    def make_task(self, rng: random.Random) -> Task:
        n = next(_counter)
        return Task(prompt=f"{n}+1", answer=str(n + 1))


@rlhub.environment("tests/global-rng", version="0.1.0")
class GlobalRng(Add):
    """Uses the global random module instead of the rng it is given."""

    def make_task(self, rng: random.Random) -> Task:
        a = rng.randint(0, 100)
        random.random()
        return Task(prompt=f"{a}+0", answer=str(a))


@rlhub.environment("tests/wrong-gold", version="0.1.0")
class WrongGold(Add):
    """The reference answer fails the env's own verifier (off by one)."""

    def make_task(self, rng: random.Random) -> Task:
        a, b = rng.randint(0, 99), rng.randint(0, 99)
        return Task(prompt=f"{a}+{b}", answer=str(a + b + 1), info={"sum": a + b})

    rubric = Rubric(correct=lambda response, reference, task: response.strip() == str(task.info["sum"]))


@rlhub.environment("tests/out-of-range", version="0.1.0")
class OutOfRange(Add):
    """A reward function returning 5 where the rubric promises [0, 1]."""

    rubric = Rubric(correct=lambda response, reference: 5.0 if response.strip() == str(reference) else 0.0)


@rlhub.environment("tests/accepts-anything", version="0.1.0")
class AcceptsAnything(Add):
    """A verifier that gives full reward to any answer (a reward hack waiting to happen)."""

    rubric = Rubric(correct=lambda response, reference: 1.0)


@rlhub.environment("tests/echo-tools", version="0.1.0")
class EchoTools(rlhub.ToolEnv):
    """Say the secret word, which only the `secret` tool knows."""

    max_turns = 4
    rubric = Rubric(correct=exact)

    def make_task(self, rng: random.Random) -> Task:
        word = "".join(rng.choice("abcdefgh") for _ in range(6))
        return Task(prompt="What is the secret word?", answer=word)

    def tools(self, state: rlhub.State) -> list:
        def secret(upper: bool = False) -> str:
            """The secret word.

            Args:
                upper: return it in capitals
            """
            return state.task.answer.upper() if upper else state.task.answer

        return [secret]

    def oracle(self, task: Task, messages: list[Message]) -> Message:
        if messages[-1].role == "tool":
            return Message.assistant(messages[-1].content)
        return Message.assistant('<tool_call>{"name": "secret", "arguments": {}}</tool_call>')
