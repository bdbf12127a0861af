"""The tutorial's environment end to end: a tiny repo with a bug, shell tools, hidden tests, re-scoring."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

import rlhub
from rlhub.agentic import HiddenTests, shell_tools
from rlhub.core.model import PolicyClient
from rlhub.verify.workspace import Session

RUNTIME = rlhub.Runtime(["pytest"])
BUGGY = "def mean(xs):\n    return sum(xs) / (len(xs) + {k})\n"
FIXED = "def mean(xs):\n    return sum(xs) / len(xs)\n"
VISIBLE = "from stats import mean\n\ndef test_two():\n    assert mean([2, 2]) == 2\n"
HIDDEN = (
    "from stats import mean\n\ndef test_mean():\n    assert mean([1, 2, 3]) == 2\n\n"
    "def test_one():\n    assert mean([4]) == 4\n"
)


@rlhub.environment("tutorial/fix-mean", version="0.1.0")
class FixMean(rlhub.WorkspaceEnv):
    runtime = RUNTIME
    rubric = rlhub.Rubric(tests=HiddenTests(RUNTIME))
    max_turns = 6

    def make_task(self, rng: random.Random) -> rlhub.Task:
        k = rng.randint(1, 99)
        buggy = BUGGY.format(k=k)
        return rlhub.Task(
            prompt=f"`stats.mean([2, 2])` gives {4 / (2 + k):.4g}, not 2. Fix `stats.py` in /workspace.",
            info={"files": {"stats.py": buggy, "tests/test_visible.py": VISIBLE}},
            answer={
                "hidden_tests": {"tests/test_hidden.py": HIDDEN},
                "tests": ["tests/test_hidden.py::test_mean", "tests/test_hidden.py::test_one"],
                "solution": {"stats.py": FIXED},
            },
        )


def call(name: str, **arguments: str) -> rlhub.Message:
    return rlhub.Message.assistant(
        "", tool_calls=(rlhub.ToolCall(id=name, name=name, arguments=json.dumps(arguments)),)
    )


def scripted(*turns: rlhub.Message) -> Callable[[Sequence[rlhub.Message]], rlhub.Message]:
    replies: Iterator[rlhub.Message] = iter(turns)
    return lambda messages: next(replies, rlhub.Message.assistant("done"))


def play(*turns: rlhub.Message) -> tuple[rlhub.Score, list[rlhub.Message], dict[str, object]]:
    env = FixMean()
    task = env.task(0)
    episode = asyncio.run(env.rollout(task, PolicyClient(scripted(*turns))))
    return env.score(task, episode.messages, episode.info), episode.messages, episode.info


@pytest.fixture(autouse=True)
def _pytest_runtime(runtime_home: Path) -> None:
    """Runtimes built once per session, from a loopback index (conftest.py)."""


def test_a_fix_made_with_the_tools_passes_the_hidden_tests_and_rescores_from_the_log() -> None:
    score, messages, info = play(
        call("bash", command="cat stats.py"),
        call("bash", command="sed -i 's|(len(xs) + [0-9]*)|len(xs)|' stats.py"),
        call("run_tests"),
    )
    tool_texts = [m.content for m in messages if m.role == "tool"]
    assert "len(xs) + " in tool_texts[0] and tool_texts[1] == "[exit code 0]\n"
    assert "[exit code 0]" in tool_texts[2]  # the visible tests ran
    assert score.value == 1.0 and info["workspace"] == {"changed": {"stats.py": FIXED}, "binary": {}, "deleted": []}
    again = FixMean().score(FixMean().task(0), messages, json.loads(json.dumps(info)))  # from the log alone
    assert again.value == 1.0


def test_a_model_that_reads_or_rewrites_the_hidden_tests_gains_nothing() -> None:
    score, messages, _ = play(
        call("read_file", path="tests/test_hidden.py"),
        call(
            "write_file", path="tests/test_hidden.py", content="def test_mean():\n    pass\ndef test_one():\n    pass\n"
        ),
        call("write_file", path="conftest.py", content="import pytest\ndef pytest_runtest_call(item):\n    pass\n"),
    )
    assert messages[1].content.startswith("error: FileNotFoundError")  # not there during the episode
    assert score.value == 0.0 and "test_mean: failed" in score.detail  # the buggy code still fails both


def test_tool_limits_reach_the_model_as_text() -> None:
    with Session({"a.txt": "x" * 20}) as session:
        bash, read_file, write_file, str_replace, _ = shell_tools(session, timeout_s=1.0, max_output_chars=10)
        assert asyncio.run(bash(command="sleep 5")).startswith("[timed out after 1 s]")
        assert asyncio.run(read_file(path="a.txt")) == "x" * 10 + "\n[... output cut: 10 more characters]"
        assert asyncio.run(read_file(path="../../etc/passwd")).startswith("error: ")
        assert asyncio.run(write_file(path="/etc/x", content="")).startswith("error: ")
        assert asyncio.run(str_replace(path="a.txt", old="x", new="y")).startswith("error: `old` occurs 20 times")


def test_check_env_passes_with_the_oracle_at_one() -> None:
    report = rlhub.check_env(FixMean(), n=2)
    assert report.ok, report.failures()
