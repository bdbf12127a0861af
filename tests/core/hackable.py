"""Deliberately hackable environments: each verifier has one classic hole that the exploit battery in
`check_env` must find. Their oracles and wrong answers are honest, so every other check passes."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import rlhub
from rlhub import Message, Rubric, Task


def reply(response: str) -> str:
    """The reply without its reasoning: every verifier here gets that right, so each has one hole only."""
    return re.sub(r"<think>.*?(?:</think>|$)", "", response, flags=re.DOTALL)


def after_answer(response: str) -> str:
    return reply(response).split("Answer:")[-1] if "Answer:" in response else ""


def _sum_task(rng: random.Random) -> Task:
    a, b = rng.randint(10, 99), rng.randint(10, 99)
    return Task(prompt=f"What is {a} + {b}?", answer=str(a + b))


@rlhub.environment("tests/number-anywhere", version="0.1.0")
class NumberAnywhere(rlhub.SingleTurnEnv):
    """Accepts any reply that contains the right number somewhere."""

    rubric = Rubric(correct=lambda response, reference: reference in re.findall(r"\d+", reply(response)))

    def make_task(self, rng: random.Random) -> Task:
        return _sum_task(rng)


@rlhub.environment("tests/rewards-length", version="0.1.0")
class RewardsLength(rlhub.SingleTurnEnv):
    """Full marks for the right number, and up to 0.9 for sheer length."""

    rubric = Rubric(
        correct=lambda response, reference: (
            1.0 if reply(response).strip() == reference else min(len(response) / 50_000, 0.9)
        )
    )

    def make_task(self, rng: random.Random) -> Task:
        return _sum_task(rng)


@rlhub.environment("tests/letter-anywhere", version="0.1.0")
class LetterAnywhere(rlhub.SingleTurnEnv):
    """A multiple-choice question whose verifier accepts the right letter anywhere after `Answer:`."""

    response_kind = "choice"
    rubric = Rubric(correct=lambda response, reference: reference in re.findall(r"[A-D]", after_answer(response)))

    def make_task(self, rng: random.Random) -> Task:
        a = rng.randint(1, 50)
        options = [a + 1, a, a + 2, a - 1]
        rng.shuffle(options)
        letter = "ABCD"[options.index(a + 1)]
        listed = " ".join(f"{x}) {o}" for x, o in zip("ABCD", options, strict=True))
        return Task(prompt=f"Which is {a} + 1? {listed}", answer=letter)

    def choices(self, task: Task) -> list[str]:
        return list("ABCD")

    def oracle(self, task: Task, messages: Any) -> Message:
        return Message.assistant(f"Answer: {task.answer}")

    def wrong_responses(self, task: Task) -> list[str]:
        return ["", *(f"Answer: {c}" for c in "ABCD" if c != task.answer)]


@rlhub.environment("tests/first-letter", version="0.1.0")
class FirstLetter(LetterAnywhere):
    """Reads the first letter after `Answer:`: a hedge that names the right one first pays."""

    rubric = Rubric(correct=lambda response, reference: re.findall(r"[A-D]", after_answer(response))[:1] == [reference])


@rlhub.environment("tests/pays-per-call", version="0.1.0")
class PaysPerCall(rlhub.ToolEnv):
    """A process reward gone wrong: a tenth of a point per tool call, up to a full point."""

    max_turns = 3
    rubric = Rubric(
        correct=lambda response, reference, messages: (
            1.0 if response.strip() == reference else min(sum(len(m.tool_calls) for m in messages) / 10, 1.0)
        )
    )

    def make_task(self, rng: random.Random) -> Task:
        return Task(prompt="What is the secret number? Ask the `secret` tool.", answer=str(rng.randint(100, 999)))

    def tools(self, state: rlhub.State) -> list:
        def secret() -> str:
            """The secret number."""
            return str(state.task.answer)

        return [secret]

    def oracle(self, task: Task, messages: list[Message]) -> Message:
        if messages[-1].role == "tool":
            return Message.assistant(messages[-1].content)
        return Message.assistant('<tool_call>{"name": "secret", "arguments": {}}</tool_call>')

    def wrong_responses(self, task: Task) -> list[str]:
        return ["", "I don't know."]


def run_tests(response: str, reference: dict[str, Any], judge: str) -> float:
    """A naive harness: the tests import the candidate from the same directory and run in one process."""
    blocks = re.findall(r"```python\n(.*?)```", reply(response), flags=re.DOTALL)
    with tempfile.TemporaryDirectory() as scratch:
        Path(scratch, "solution.py").write_text(blocks[-1] if blocks else "")
        tests = "\n".join(f"assert double({x}) == {y}" for x, y in reference["cases"])
        Path(scratch, "test_solution.py").write_text(f"from solution import *\n{tests}\nprint('All tests passed')\n")
        run = subprocess.run(
            [sys.executable, "test_solution.py"], cwd=scratch, capture_output=True, text=True, timeout=10, check=False
        )
    if judge == "stdout":
        return float("All tests passed" in run.stdout)
    return float(run.returncode == 0)


@rlhub.environment("tests/naive-code", version="0.1.0")
class NaiveCode(rlhub.SingleTurnEnv):
    """Write `double(x)`; graded by a harness that trusts the exit code (or, with judge=stdout, what is printed)."""

    judge: str = "exit"
    response_kind = "code"
    rubric = Rubric(passed=lambda response, reference, task: run_tests(response, reference, task.info["judge"]))

    def make_task(self, rng: random.Random) -> Task:
        xs = rng.sample(range(-50, 50), 3)
        return Task(prompt="Write `double(x)`.", answer={"cases": [[x, 2 * x] for x in xs]}, info={"judge": self.judge})

    def oracle(self, task: Task, messages: Any) -> Message:
        return Message.assistant("```python\ndef double(x):\n    return 2 * x\n```")

    def wrong_responses(self, task: Task) -> list[str]:
        return ["", "```python\ndef double(x):\n    return x\n```"]
