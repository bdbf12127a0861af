"""Programs that read stdin and write stdout, judged on generated test cases run in the sandbox.

34 original problems (`problems.py`), each with an input generator and a reference solver. A task is
one problem plus a case seed: the hidden inputs are regenerated from that seed when scoring, and the
expected outputs come from the reference solver on the host, so a task stays small in logs and can be
re-scored anywhere. Problems are split into train and test by the hash of their id; task `i` of a split
is the `i`-th problem of that split in a seed-dependent order (wrapping around), with its own cases.
`rlhub.verify.code` runs each case in the sandbox and compares the outputs outside it.
"""

from __future__ import annotations

import hashlib
import inspect
import random
import re
from functools import cache

import rlhub
from rlhub.core.dataset import FromRecords
from rlhub.verify import code
from rlhub_code_stdio.problems import PROBLEMS, Problem

DIFFICULTIES = ("easy", "medium", "hard")
BY_ID = {p.id: p for p in PROBLEMS}

INSTRUCTIONS = (
    "Write a complete Python 3 program for the problem below. It reads from standard input and writes "
    "to standard output exactly what is asked, nothing else. Reply with the program in one ```python "
    "code block."
)


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")


@cache
def reference_program(problem: Problem) -> str:
    """The solver's source (decorator dropped) wrapped in a stdin/stdout main."""
    source = inspect.getsource(problem.solve)
    source = source[source.index("def ") :]
    name = problem.solve.__name__
    return f"import sys\n\n\n{source}\n\nsys.stdout.write({name}(sys.stdin.read()))\n"


def cases(problem: Problem, case_seed: int, count: int, big: bool) -> list[tuple[str, str]]:
    """(input, expected output) pairs: a pure function of the problem and the seed."""
    rng = random.Random(case_seed)
    out = []
    for _ in range(count):
        text = problem.generate(rng, big)
        out.append((text, problem.solve(text)))
    return out


@cache
def sample(problem: Problem) -> tuple[str, str]:
    """A worked example for the statement (the longest short one of 30 draws), fixed per problem."""
    rng = random.Random(_hash(f"sample:{problem.id}"))
    candidates = sorted((problem.generate(rng, False) for _ in range(30)), key=len)
    text = max((c for c in candidates if len(c) <= 160), key=len, default=candidates[0])
    return text, problem.solve(text)


_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)
"""Reasoning, closed or cut off: never the answer, so code written inside it is not run."""


def score(response: str, reference: object, task: rlhub.Task) -> rlhub.Score:
    """Share of the hidden cases on which the program's output matches the reference's."""
    info = task.info
    pairs = cases(BY_ID[info["problem"]], info["case_seed"], info["cases"], info["big"])
    return code.score(
        _THINK.sub("", response),
        {"cases": [{"input": i, "output": o} for i, o in pairs], "timeout_s": info["timeout_s"]},
    )


@rlhub.environment("rlhub/code-stdio", version="0.2.0")
class CodeStdio(FromRecords, rlhub.SingleTurnEnv):
    """Write a stdin/stdout program; reward = fraction of generated hidden cases answered exactly."""

    difficulties: tuple[str, ...] = DIFFICULTIES
    """Which problems to draw from: any of easy, medium, hard."""
    cases: int = 5
    """Hidden test cases per task (1-20)."""
    big: bool = False
    """Large inputs (up to 10^5 numbers, 300x300 grids) so that only efficient programs pass."""
    timeout_s: float = 5.0
    """Wall-clock limit per test case."""

    test_fraction = 0.2
    response_kind = "code"
    rubric = rlhub.Rubric(cases_passed=score)

    def __init__(self, **config: object):
        super().__init__(**config)
        if not self.difficulties or set(self.difficulties) - set(DIFFICULTIES):
            raise rlhub.ConfigError(f"difficulties must be a non-empty subset of {DIFFICULTIES}")
        if not 1 <= self.cases <= 20 or not 0 < self.timeout_s <= 60:
            raise rlhub.ConfigError("cases must be 1-20 and timeout_s in (0, 60]")

    def records(self) -> list[Problem]:
        return [p for p in PROBLEMS if p.difficulty in self.difficulties]

    def split_key(self, record: Problem) -> str:
        return record.id

    def task(self, index: int, split: str = "train", seed: int = 0) -> rlhub.Task:
        pool = self.split_records(split, seed)  # hidden cases depend on the index, so no record_task
        if not pool:
            raise rlhub.ConfigError(f"{self.spec}: no {split} problems with difficulties {self.difficulties}")
        problem = pool[index % len(pool)]
        example_in, example_out = sample(problem)
        prompt = (
            f"{INSTRUCTIONS}\n\n{problem.statement}\n\nExample input:\n```\n{example_in}```\n"
            f"Example output:\n```\n{example_out}```"
        )
        info = {
            "problem": problem.id,
            "case_seed": self._seed_material(split, seed, index),
            "cases": self.cases,
            "big": self.big,
            "timeout_s": self.timeout_s,
        }
        task = rlhub.Task(
            prompt=prompt, answer=reference_program(problem), info=info, tags=(f"difficulty:{problem.difficulty}",)
        )
        return self._finish(task, split, seed, index)

    def oracle(self, task: rlhub.Task, messages: object) -> rlhub.Message:
        return rlhub.Message.assistant(f"```python\n{task.answer}```")

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        return [
            "",
            "I don't know.",
            "```python\nprint()\n```",
            "```python\nimport sys\nsys.stdout.write(sys.stdin.read())\n```",
        ]
