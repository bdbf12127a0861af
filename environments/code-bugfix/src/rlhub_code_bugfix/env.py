"""Multi-turn bug fixing: a function with one injected bug, a `run_tests` tool, hidden tests.

The bugs are single mutations (a flipped comparison, `+`/`-`, `and`/`or`, `//`/`%`, a constant off
by one) of reference solutions of original problems, kept only when the mutant fails some of the
problem's tests but not all (`bugs.jsonl`, two per problem at most). The model may run code against
the tests as often as its turns allow: it sees each visible test's outcome and only a pass count for
the hidden ones. Its final message (no tool call) holds the fixed function; the reward is the share of
all tests that function passes, re-run in the sandbox from the message alone.

Splits are by problem (hash of its id), so both bugs of a problem are on the same side. Task `i` of a
split is the `i`-th bug of that split in a seed-dependent order, wrapping around.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from functools import cache
from importlib.resources import files
from typing import Any

import rlhub
from rlhub.core.env import SPLITS
from rlhub.verify import sandbox
from rlhub_code_bugfix.harness import extract_code, outcomes, prepare, score_code

DIFFICULTIES = ("easy", "medium", "hard")

INSTRUCTIONS = (
    "The Python function below should meet the specification, but it has a bug. You may call the tool "
    "`run_tests` with a complete version of the code to see the visible tests' results and how many "
    "hidden tests pass. When you are done, reply WITHOUT a tool call, giving the complete fixed function "
    "in one ```python code block."
)


@cache
def bugs() -> tuple[dict[str, Any], ...]:
    text = files("rlhub_code_bugfix").joinpath("bugs.jsonl").read_text()
    return tuple(json.loads(line) for line in text.splitlines() if line.strip())


def _bucket(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % 10_000


def _entry(signature: str) -> str:
    return signature.removeprefix("def ").split("(")[0]


def _call_text(entry: str, args: Sequence[Any]) -> str:
    return f"{entry}({', '.join(json.dumps(a) if isinstance(a, str) else repr(a) for a in args)})"


def report_tests(code: str, entry: str, tests: Sequence[dict[str, Any]], visible: int, timeout_s: float) -> str:
    """What `run_tests` shows: each visible test's outcome, then the hidden tests' pass count."""
    prepared = prepare(code, entry, tests, timeout_s, 512)
    failures = outcomes(prepared, sandbox.run_batch([prepared.job])[0])
    lines = ["Visible tests:"]
    for test, why in zip(tests[:visible], failures[:visible], strict=True):
        call = _call_text(entry, test["args"])
        lines.append(f"  PASS {call}" if not why else f"  FAIL {call}: {why}")
    hidden = failures[visible:]
    lines.append(f"Hidden tests: {hidden.count('')}/{len(hidden)} passed")
    return "\n".join(lines)


def score(response: str, reference: object, task: rlhub.Task) -> rlhub.Score:
    """Share of all tests (visible and hidden) the final message's function passes."""
    return score_code(response, task.info["entry"], task.info["tests"], timeout_s=task.info["timeout_s"])


@rlhub.environment("rlhub/code-bugfix", version="0.1.0")
class CodeBugfix(rlhub.ToolEnv):
    """Fix a buggy Python function with a test-running tool; reward = fraction of tests passed."""

    difficulties: tuple[str, ...] = DIFFICULTIES
    """Which problems the bugs come from: any of easy, medium, hard."""
    hint: bool = False
    """Say on which line the bug is (an easier curriculum step)."""
    timeout_s: float = 10.0
    """Wall-clock limit for one run of all tests in the sandbox."""

    max_turns = 6
    test_fraction = 0.2
    rubric = rlhub.Rubric(tests_passed=score)

    def __init__(self, **config: object):
        super().__init__(**config)
        if not self.difficulties or set(self.difficulties) - set(DIFFICULTIES):
            raise rlhub.ConfigError(f"difficulties must be a non-empty subset of {DIFFICULTIES}")
        if not 0 < self.timeout_s <= 60:
            raise rlhub.ConfigError("timeout_s must be in (0, 60]")

    def split_bugs(self, split: str, seed: int = 0) -> list[dict[str, Any]]:
        chosen = [
            b
            for b in bugs()
            if b["difficulty"] in self.difficulties
            and ("test" if _bucket(b["problem"]) < self.test_fraction * 10_000 else "train") == split
        ]
        return sorted(chosen, key=lambda b: _bucket(f"{seed}:{b['id']}"))

    def task(self, index: int, split: str = "train", seed: int = 0) -> rlhub.Task:
        if split not in SPLITS:
            raise rlhub.ConfigError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
        pool = self.split_bugs(split, seed)
        if not pool:
            raise rlhub.ConfigError(f"{self.spec}: no {split} bugs with difficulties {self.difficulties}")
        return self._finish(self.bug_task(pool[index % len(pool)]), split, seed, index)

    def bug_task(self, bug: dict[str, Any]) -> rlhub.Task:
        entry = _entry(bug["signature"])
        visible = bug["tests"][: bug["examples"]]
        parts = [INSTRUCTIONS, "", f"Specification of `{bug['signature']}`:", bug["spec"], ""]
        parts += ["Visible tests:", *(f"    {_call_text(entry, t['args'])} == {t['expected']!r}" for t in visible)]
        parts += ["", f"Hidden tests: {len(bug['tests']) - len(visible)} more.", ""]
        if self.hint:
            parts += [f"Hint: the bug is on {bug['bug'].split(':')[0]}.", ""]
        parts += ["Buggy code:", f"```python\n{bug['buggy']}```"]
        info = {
            "bug": bug["id"],
            "entry": entry,
            "buggy": bug["buggy"],
            "tests": bug["tests"],
            "visible": bug["examples"],
            "timeout_s": self.timeout_s,
        }
        tags = (f"difficulty:{bug['difficulty']}",)
        return rlhub.Task(prompt="\n".join(parts), answer=bug["solution"], info=info, tags=tags)

    def tools(self, state: rlhub.State) -> list[Callable[..., Any]]:
        info = state.task.info
        state.info["test_runs"] = 0

        def run_tests(code: str = "") -> str:
            """Run a complete version of the code against the tests and report the results.

            Args:
                code: the full Python source to test; empty runs the original buggy code.
            """
            state.info["test_runs"] += 1
            source = extract_code(code) or code or info["buggy"]
            return report_tests(source, info["entry"], info["tests"], info["visible"], info["timeout_s"])

        return [run_tests]

    def oracle(self, task: rlhub.Task, messages: Sequence[rlhub.Message]) -> rlhub.Message:
        """Run the tests on the reference once, then answer with it."""
        if not any(m.role == "assistant" for m in messages):
            call = rlhub.ToolCall(id="call_0", name="run_tests", arguments=json.dumps({"code": task.answer}))
            return rlhub.Message.assistant("Let me check a fix against the tests.", tool_calls=(call,))
        return rlhub.Message.assistant(f"The fix passes the tests:\n```python\n{task.answer}```")

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        return ["", "I don't know.", f"```python\n{task.info['buggy']}```"]
