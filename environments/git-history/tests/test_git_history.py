import asyncio
import json
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from rlhub_git_history import GitHistory
from rlhub_git_history.history import build_repository

import rlhub
from rlhub.core.model import PolicyClient

# `check_env` with the exploit battery runs on this environment in tests/test_catalogue.py (every tool
# episode starts an MCP server, so it is played once per suite, not twice).


def _call(call_id: str, name: str, **arguments: object) -> rlhub.ToolCall:
    return rlhub.ToolCall(id=call_id, name=name, arguments=json.dumps(arguments))


def detective(task: rlhub.Task, messages: Sequence[rlhub.Message]) -> rlhub.Message:
    """Answers from what the git tools print and nothing else: read the log, show every commit, then
    compute the answer from the shown diffs (the oracle, by contrast, knows the answer)."""
    tools = [m for m in messages if m.role == "tool"]
    if not tools:
        return rlhub.Message.assistant(tool_calls=(_call("log", "git_log", repo_path=".", max_count=100),))
    hashes = re.findall(r"^Commit: ([0-9a-f]{40})$", tools[0].content, flags=re.MULTILINE)[::-1]
    if len(tools) == 1:
        calls = tuple(_call(f"s{i}", "git_show", repo_path=".", revision=h) for i, h in enumerate(hashes))
        return rlhub.Message.assistant(tool_calls=calls)
    path, kind = task.info["path"], task.info["kind"]
    shown = [m.content for m in tools[1:]]  # oldest first
    touching = [s for s in shown if f"+++ b/{path}\n" in s]
    if kind == "touch_count":
        found = str(len(touching))
    elif kind == "last_author":
        found = re.search(r"^Author: (.+) <", touching[-1], flags=re.MULTILINE).group(1)  # type: ignore[union-attr]
    else:
        adding = next(s for s in shown if f"--- /dev/null\n+++ b/{path}\n" in s)
        found = adding.split("\n\n")[1].strip()
    return rlhub.Message.assistant(f"From the history I read:\nAnswer: {found}")


def test_the_truth_computed_in_python_is_what_the_git_server_reports() -> None:
    env = GitHistory()
    tasks = [env.task(i, "test") for i in range(6)]
    assert {t.info["kind"] for t in tasks} == {"last_author", "added_subject", "touch_count"}
    for task in tasks:
        episode = asyncio.run(env.rollout(task, PolicyClient(lambda m, task=task: detective(task, m))))
        assert env.score(task, episode.messages).value == 1.0, (task.prompt[-1].content, episode.messages[-1])


def test_the_repository_is_the_same_in_every_episode(tmp_path: Path) -> None:
    history = GitHistory().task(3).info["history"]
    heads = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        build_repository(history, tmp_path / name)
        heads.append(subprocess.run(["git", "-C", str(tmp_path / name), "rev-parse", "main"], capture_output=True))
    assert heads[0].stdout == heads[1].stdout and len(heads[0].stdout.strip()) == 40
    count = subprocess.run(["git", "-C", str(tmp_path / "a"), "rev-list", "--count", "main"], capture_output=True)
    assert int(count.stdout) == len(history["commits"]) == 8


def test_wrong_and_hedged_answers_score_zero() -> None:
    env = GitHistory()
    task = env.task(0)
    score = lambda reply: env.score(task, [rlhub.Message.assistant(reply)]).value  # noqa: E731
    assert score(f"Answer: {task.answer}") == 1.0
    assert score(f"answer: {task.answer.upper()}.") == 1.0
    assert score(f"Answer: {task.info['decoy']}") == 0.0
    assert score(f"Answer: {task.answer} or {task.info['decoy']}") == 0.0
    assert score(f"Answer: {task.answer}\nAnswer: {task.info['decoy']}") == 0.0
    assert score(f"<think>Answer: {task.answer}</think>") == 0.0


def test_only_read_only_tools_inside_the_repository() -> None:
    env = GitHistory()
    task = env.task(1)
    script = iter(
        [
            rlhub.Message.assistant(
                tool_calls=(
                    _call("a", "git_log", repo_path="/"),
                    _call("b", "git_commit", repo_path=".", message="rewrite history"),
                    _call("c", "git_status", repo_path="."),
                )
            ),
            rlhub.Message.assistant("Answer: nobody"),
        ]
    )
    client = PolicyClient(lambda m: next(script))
    episode = asyncio.run(env.rollout(task, client))
    assert [t.name for t in client.tools] == ["git_log", "git_show", "git_status", "git_branch"]
    outside, commit, status = [m.content for m in episode.messages if m.role == "tool"]
    assert outside.startswith("error:") and "outside the allowed repository" in outside
    assert commit.startswith("error: unknown tool 'git_commit'")
    assert "working tree clean" in status


def test_config_is_checked() -> None:
    with pytest.raises(rlhub.ConfigError, match="commits must be 4-30"):
        GitHistory(commits=2)
