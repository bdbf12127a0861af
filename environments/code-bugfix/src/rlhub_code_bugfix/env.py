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

import json
import re
from collections.abc import Callable, Sequence
from functools import cache
from importlib.resources import files
from typing import Any

import rlhub
from rlhub.core.dataset import FromRecords
from rlhub.verify import code as verify_code

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


def _entry(signature: str) -> str:
    return signature.removeprefix("def ").split("(")[0]


def _call_text(entry: str, args: Sequence[Any]) -> str:
    return f"{entry}({', '.join(json.dumps(a) if isinstance(a, str) else repr(a) for a in args)})"


def asserts(bug: dict[str, Any]) -> list[str]:
    """The problem's tests as `assert entry(args) == expected` lines."""
    entry = _entry(bug["signature"])
    return [f"assert {entry}({', '.join(map(repr, t['args']))}) == {t['expected']!r}" for t in bug["tests"]]


def report_tests(source: str, tests: Sequence[str], visible: int, timeout_s: float) -> str:
    """What `run_tests` shows: the visible tests' result and failures, and only a count for the hidden ones."""
    candidate = f"```python\n{source}\n```"
    parts = [list(tests[:visible]), list(tests[visible:])]
    shown, *hidden = verify_code.score_many([(candidate, {"tests": p, "timeout_s": timeout_s}) for p in parts if p])
    lines = [f"Visible tests: {shown.detail or shown.status.value}"]
    if hidden:
        lines.append(f"Hidden tests: {round(hidden[0].value * len(parts[1]))}/{len(parts[1])} passed")
    return "\n".join(lines)


MAX_TEST_RUNS = 8
"""Runs of `run_tests` per episode: a flood of calls costs the sandbox nothing beyond this."""

_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)
"""Reasoning, closed or cut off: never the answer, so code written inside it is not run."""


def tests_passed(response: str, reference: dict[str, Any]) -> rlhub.Score:
    """Share of the tests the reply's final code passes (`rlhub.verify.code`), reasoning left out."""
    return verify_code.score(_THINK.sub("", response), reference)


@rlhub.environment("rlhub/code-bugfix", version="0.2.0")
class CodeBugfix(FromRecords, rlhub.ToolEnv):
    """Fix a buggy Python function with a test-running tool; reward = fraction of tests passed."""

    difficulties: tuple[str, ...] = DIFFICULTIES
    """Which problems the bugs come from: any of easy, medium, hard."""
    hint: bool = False
    """Say on which line the bug is (an easier curriculum step)."""
    timeout_s: float = 10.0
    """Wall-clock limit for one run of all tests in the sandbox."""

    max_turns = 6
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
        return [b for b in bugs() if b["difficulty"] in self.difficulties]

    def split_key(self, record: dict[str, Any]) -> str:
        return str(record["problem"])  # every bug of a problem in the same split

    def order_key(self, record: dict[str, Any]) -> str:
        return str(record["id"])

    def record_task(self, record: dict[str, Any]) -> rlhub.Task:
        return self.bug_task(record)

    def bug_task(self, bug: dict[str, Any]) -> rlhub.Task:
        entry = _entry(bug["signature"])
        visible = bug["tests"][: bug["examples"]]
        parts = [INSTRUCTIONS, "", f"Specification of `{bug['signature']}`:", bug["spec"], ""]
        parts += ["Visible tests:", *(f"    {_call_text(entry, t['args'])} == {t['expected']!r}" for t in visible)]
        parts += ["", f"Hidden tests: {len(bug['tests']) - len(visible)} more.", ""]
        if self.hint:
            parts += [f"Hint: the bug is on {bug['bug'].split(':')[0]}.", ""]
        parts += ["Buggy code:", f"```python\n{bug['buggy']}```"]
        answer = {"tests": asserts(bug), "timeout_s": self.timeout_s}
        info = {"bug": bug["id"], "buggy": bug["buggy"], "visible": bug["examples"], "solution": bug["solution"]}
        tags = (f"difficulty:{bug['difficulty']}",)
        return rlhub.Task(prompt="\n".join(parts), answer=answer, info=info, tags=tags)

    def tools(self, state: rlhub.State) -> list[Callable[..., Any]]:
        info = state.task.info
        state.info["test_runs"] = 0

        def run_tests(code: str = "") -> str:
            """Run a complete version of the code against the tests and report the results.

            Args:
                code: the full Python source to test; empty runs the original buggy code.
            """
            if state.info["test_runs"] >= MAX_TEST_RUNS:
                return f"Test-run budget spent ({MAX_TEST_RUNS} runs per episode): answer with your fix."
            state.info["test_runs"] += 1
            source = verify_code.extract_code(code) or info["buggy"]
            return report_tests(source, state.task.answer["tests"], info["visible"], state.task.answer["timeout_s"])

        return [run_tests]

    def oracle(self, task: rlhub.Task, messages: Sequence[rlhub.Message]) -> rlhub.Message:
        """Run the tests on the reference once, then answer with it."""
        if not any(m.role == "assistant" for m in messages):
            call = rlhub.ToolCall(id="call_0", name="run_tests", arguments=json.dumps({"code": task.info["solution"]}))
            return rlhub.Message.assistant("Let me check a fix against the tests.", tool_calls=(call,))
        return rlhub.Message.assistant(f"The fix passes the tests:\n```python\n{task.info['solution']}```")

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        return ["", "I don't know.", f"```python\n{task.info['buggy']}```"]
