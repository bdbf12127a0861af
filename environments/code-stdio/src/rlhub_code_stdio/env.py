"""Programs that read stdin and write stdout, judged on generated test cases run in the sandbox.

34 original problems (`problems.py`), each with an input generator and a reference solver. A task is
one problem plus a case seed: the hidden inputs are regenerated from that seed when scoring, and the
expected outputs come from the reference solver on the host, so a task stays small in logs and can be
re-scored anywhere. Problems are split into train and test by the hash of their id; task `i` of a split
is the `i`-th problem of that split in a seed-dependent order (wrapping around), with its own cases.
"""

from __future__ import annotations

import hashlib
import inspect
import random
import re
from collections.abc import Sequence
from functools import cache

import rlhub
from rlhub.core.env import SPLITS
from rlhub.verify import sandbox
from rlhub_code_stdio.problems import PROBLEMS, Problem

DIFFICULTIES = ("easy", "medium", "hard")
BY_ID = {p.id: p for p in PROBLEMS}
_FENCE_RE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)
_THINK_RE = re.compile(r"<think>.*?(</think>|$)", re.DOTALL)

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


def normalise(output: str) -> list[str]:
    """Lines without trailing spaces, without trailing empty lines."""
    lines = [line.rstrip() for line in output.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def judge(results: Sequence[sandbox.ExecResult], expected: Sequence[str]) -> rlhub.Score:
    """Reward = share of cases whose output matches; computed here, from the outputs alone."""
    passed = 0
    first = ""
    for i, (result, want) in enumerate(zip(results, expected, strict=True)):
        if result.status == "ok" and normalise(result.stdout) == normalise(want):
            passed += 1
        elif not first:
            tail = (result.stderr.strip().splitlines() or [""])[-1][:200]
            what = "wrong output" if result.ok else result.status + (f" ({tail})" if tail else "")
            first = f"case {i}: {what}"
    total = len(expected)
    if passed == total:
        return rlhub.Score(value=1.0, status=rlhub.ScoreStatus.correct, extracted=f"{passed}/{total}")
    timed_out = any(r.status == "timeout" for r in results)
    status = rlhub.ScoreStatus.timeout if timed_out else rlhub.ScoreStatus.incorrect
    return rlhub.Score(value=passed / total, status=status, extracted=f"{passed}/{total}", detail=first)


def run_cases(code: str, pairs: Sequence[tuple[str, str]], timeout_s: float) -> rlhub.Score:
    limits = sandbox.Limits(timeout_s=timeout_s, memory_mb=512)
    results = sandbox.run_batch([sandbox.Job(code, stdin, limits) for stdin, _ in pairs])
    return judge(results, [want for _, want in pairs])


def score(response: str, reference: object, task: rlhub.Task) -> rlhub.Score:
    """Share of the hidden cases on which the program's output matches the reference's."""
    code = extract_code(response)
    if code is None:
        return rlhub.Score(value=0.0, status=rlhub.ScoreStatus.unparseable, detail="no ```python code block")
    info = task.info
    pairs = cases(BY_ID[info["problem"]], info["case_seed"], info["cases"], info["big"])
    return run_cases(code, pairs, info["timeout_s"])


def extract_code(response: str) -> str | None:
    """The last ```python (or bare ```) block of the response, outside any <think> block."""
    blocks = _FENCE_RE.findall(_THINK_RE.sub("", response))
    return str(blocks[-1]) if blocks else None


@rlhub.environment("rlhub/code-stdio", version="0.1.0")
class CodeStdio(rlhub.SingleTurnEnv):
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
    rubric = rlhub.Rubric(cases_passed=score)

    def __init__(self, **config: object):
        super().__init__(**config)
        if not self.difficulties or set(self.difficulties) - set(DIFFICULTIES):
            raise rlhub.ConfigError(f"difficulties must be a non-empty subset of {DIFFICULTIES}")
        if not 1 <= self.cases <= 20 or not 0 < self.timeout_s <= 60:
            raise rlhub.ConfigError("cases must be 1-20 and timeout_s in (0, 60]")

    def split_problems(self, split: str, seed: int = 0) -> list[Problem]:
        chosen = [
            p
            for p in PROBLEMS
            if p.difficulty in self.difficulties
            and ("test" if _hash(p.id) % 10_000 < self.test_fraction * 10_000 else "train") == split
        ]
        return sorted(chosen, key=lambda p: _hash(f"{seed}:{p.id}"))

    def task(self, index: int, split: str = "train", seed: int = 0) -> rlhub.Task:
        if split not in SPLITS:
            raise rlhub.ConfigError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
        pool = self.split_problems(split, seed)
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
