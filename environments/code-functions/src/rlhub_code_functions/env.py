"""Python function synthesis against hidden unit tests, over 102 original problems shipped as JSONL.

Each problem has a spec, a signature, a reference solution and 5-10 tests (the prompt shows the first
one or two as examples; all of them are hidden tests). The tests become `assert f(args) == expected`
lines, the task's answer is `{"tests": [...], "timeout_s": ...}`, and `rlhub.verify.code` runs them in
the sandbox and compares the values outside it. A problem belongs to train or test by the hash of its
id, so the splits never share a problem. Task `i` of a split is the `i`-th problem of that split in a
seed-dependent order, wrapping around (`i` modulo the number of problems).
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files
from typing import Any

import rlhub
from rlhub.core.dataset import FromRecords
from rlhub.verify import code

DIFFICULTIES = ("easy", "medium", "hard")

_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)
"""Reasoning, closed or cut off: never the answer, so code written inside it is not run."""

INSTRUCTIONS = (
    "Write a Python function that meets the specification below. Reply with the complete function "
    "(and any imports or helpers it needs) in one ```python code block. Do not read input or print."
)


@cache
def problems() -> tuple[dict[str, Any], ...]:
    """The shipped problems, in file order."""
    text = files("rlhub_code_functions").joinpath("problems.jsonl").read_text()
    return tuple(json.loads(line) for line in text.splitlines() if line.strip())


def _arg_text(value: Any) -> str:
    return repr(value) if not isinstance(value, str) else json.dumps(value)


def entry_name(problem: dict[str, Any]) -> str:
    return str(problem["signature"].removeprefix("def ").split("(")[0])


def example_lines(problem: dict[str, Any]) -> list[str]:
    entry = entry_name(problem)
    lines = []
    for test in problem["tests"][: problem["examples"]]:
        args = ", ".join(_arg_text(a) for a in test["args"])
        lines.append(f"{entry}({args}) == {_arg_text(test['expected'])}")
    return lines


def asserts(problem: dict[str, Any]) -> list[str]:
    """The problem's tests as `assert entry(args) == expected` lines."""
    entry = entry_name(problem)
    return [f"assert {entry}({', '.join(map(repr, t['args']))}) == {t['expected']!r}" for t in problem["tests"]]


def tests_passed(response: str, reference: dict[str, Any]) -> rlhub.Score:
    """Share of the hidden tests the reply's code passes (`rlhub.verify.code`), reasoning left out."""
    return code.score(_THINK.sub("", response), reference)


@rlhub.environment("rlhub/code-functions", version="0.2.0")
class CodeFunctions(FromRecords, rlhub.SingleTurnEnv):
    """Write a Python function from a spec; reward = fraction of hidden unit tests passed."""

    difficulties: tuple[str, ...] = DIFFICULTIES
    """Which problems to draw from: any of easy, medium, hard (a curriculum widens this)."""
    show_examples: bool = True
    """Show the problem's worked examples (its first one or two tests) in the prompt."""
    timeout_s: float = 10.0
    """Wall-clock limit for running all of a problem's tests in the sandbox."""

    test_fraction = 0.2
    response_kind = "code"
    rubric = rlhub.Rubric(tests_passed=tests_passed)

    def __init__(self, **config: object):
        super().__init__(**config)
        if not self.difficulties or set(self.difficulties) - set(DIFFICULTIES):
            raise rlhub.ConfigError(f"difficulties must be a non-empty subset of {DIFFICULTIES}")
        if not 0 < self.timeout_s <= 60:
            raise rlhub.ConfigError("timeout_s must be in (0, 60]")

    def records(self) -> list[dict[str, Any]]:
        return [p for p in problems() if p["difficulty"] in self.difficulties]

    def split_key(self, record: dict[str, Any]) -> str:
        return str(record["id"])

    def record_task(self, record: dict[str, Any]) -> rlhub.Task:
        return self.problem_task(record)

    def problem_task(self, problem: dict[str, Any]) -> rlhub.Task:
        parts = [INSTRUCTIONS, "", f"```python\n{problem['signature']}:\n    ...\n```", "", problem["spec"]]
        if self.show_examples:
            parts += ["", "Examples:", *(f"    {line}" for line in example_lines(problem))]
        answer = {"tests": asserts(problem), "timeout_s": self.timeout_s}
        info = {"problem": problem["id"], "entry": entry_name(problem), "solution": problem["solution"]}
        tags = (f"difficulty:{problem['difficulty']}",)
        return rlhub.Task(prompt="\n".join(parts), answer=answer, info=info, tags=tags)

    def oracle(self, task: rlhub.Task, messages: object) -> rlhub.Message:
        return rlhub.Message.assistant(f"```python\n{task.info['solution']}```")

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        entry = task.info["entry"]
        return [
            "",
            "I don't know.",
            f"```python\ndef {entry}(*args):\n    raise NotImplementedError\n```",
            f"```python\ndef {entry}(*args):\n    return None\n```",
        ]
