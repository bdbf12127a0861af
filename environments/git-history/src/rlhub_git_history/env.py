"""Questions about a generated git history, answered through a real MCP server (`mcp-server-git`).

Each task draws a small history (authors, dates, messages, file contents) from its seed; each episode
writes it as a real repository in a temporary directory and starts `mcp-server-git`, confined to it,
with its read-only tools. Answers are computed from the drawn history, so a model is graded against
the truth, not against what a tool printed.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import rlhub
from rlhub.verify import text
from rlhub.verify.text import final_answer
from rlhub_git_history.history import build_repository, make_history, touching

READ_ONLY_TOOLS = ["git_log", "git_show", "git_status", "git_branch"]
SYSTEM_PROMPT = (
    "You answer questions about the history of a git repository with the git tools. The repository is "
    'the current directory of the tools: pass repo_path "." to every tool. git_log lists commits '
    "(raise max_count to see them all); git_show <revision> shows a commit with the files it changed. "
    "When you know the answer, reply without a tool call and end with a line 'Answer: <answer>'."
)
QUESTIONS = {
    "last_author": "Who is the author of the most recent commit that changed `{path}`? Give the author's name.",
    "added_subject": "What is the subject line (the first line of the message) of the commit that added `{path}`?",
    "touch_count": "How many commits changed `{path}`, counting the one that added it? Give a number.",
}


def answer(response: str, reference: str) -> rlhub.Score:
    """Normalised exact match (case, punctuation, articles, spacing ignored) of the final answer."""
    return text.normalized(final_answer(response), reference)


@rlhub.environment("rlhub/git-history", version="0.1.0")
class GitHistory(rlhub.ToolEnv):
    """Answer questions about a generated git history through the tools of mcp-server-git."""

    commits: int = 8
    """Commits in each generated history (4-30)."""

    max_turns = 24
    system_prompt = SYSTEM_PROMPT
    rubric = rlhub.Rubric(correct=answer)

    def __init__(self, **config: Any):
        super().__init__(**config)
        if not 4 <= self.commits <= 30:
            raise rlhub.ConfigError("commits must be 4-30")

    def make_task(self, rng: random.Random) -> rlhub.Task:
        history = make_history(rng, self.commits)
        kind = rng.choice(sorted(QUESTIONS))
        paths = sorted({p for c in history["commits"] for p in c["files"]})
        if kind != "added_subject":  # prefer files with some history
            paths = [p for p in paths if len(touching(history, p)) > 1] or paths
        path = rng.choice(paths)
        commits = touching(history, path)
        truth = {
            "last_author": commits[-1]["author"],
            "added_subject": commits[0]["subject"],
            "touch_count": str(len(commits)),
        }[kind]
        decoys = {
            "last_author": sorted({c["author"] for c in history["commits"]} - {truth}),
            "added_subject": sorted({c["subject"] for c in history["commits"]} - {truth}),
            "touch_count": [str(len(commits) + 1)],
        }[kind]
        question = QUESTIONS[kind].format(path=path)
        return rlhub.Task(
            prompt=f"In the repository of the project {history['project']}: {question}",
            answer=truth,
            info={"history": history, "kind": kind, "path": path, "decoy": rng.choice(decoys)},
            tags=(f"question:{kind}", f"commits:{self.commits}"),
        )

    # --- episodes ------------------------------------------------------------------------------

    @asynccontextmanager
    async def episode(self, state: rlhub.State) -> AsyncIterator[None]:
        with tempfile.TemporaryDirectory(prefix="rlhub-git-history-") as scratch:
            await asyncio.to_thread(build_repository, state.task.info["history"], Path(scratch))
            state.repository = scratch
            async with super().episode(state):
                yield

    def mcp_servers(self, state: rlhub.State) -> list[rlhub.MCPTools]:
        return [
            rlhub.MCPTools(
                command=[sys.executable, "-m", "mcp_server_git", "--repository", "."],
                cwd=state.repository,
                include=READ_ONLY_TOOLS,
                timeout_s=20,
                max_output_chars=20_000,
            )
        ]

    # --- reference behaviour -------------------------------------------------------------------

    def oracle(self, task: rlhub.Task, messages: Sequence[rlhub.Message]) -> rlhub.Message:
        """Read the whole log, show the commits that touch the file, then answer."""
        turns = sum(1 for m in messages if m.role == "assistant")
        commits = task.info["history"]["commits"]
        if turns == 0:
            arguments = {"repo_path": ".", "max_count": len(commits)}
            return rlhub.Message.assistant(tool_calls=(_call("log", "git_log", arguments),))
        if turns == 1:
            hashes = _hashes(messages)
            touched = [i for i, c in enumerate(commits) if task.info["path"] in c["files"]]
            calls = tuple(
                _call(f"show{i}", "git_show", {"repo_path": ".", "revision": hashes[i]})
                for i in touched
                if i < len(hashes)
            )
            if calls:
                return rlhub.Message.assistant(tool_calls=calls)
        return rlhub.Message.assistant(f"Answer: {task.answer}")

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        return [*super().wrong_responses(task), f"Answer: {task.info['decoy']}"]


def _call(call_id: str, name: str, arguments: dict[str, Any]) -> rlhub.ToolCall:
    return rlhub.ToolCall(id=call_id, name=name, arguments=json.dumps(arguments))


def _hashes(messages: Sequence[rlhub.Message]) -> list[str]:
    """Commit hashes of the git_log reply, oldest first."""
    log = next((m.content for m in messages if m.role == "tool" and m.name == "git_log"), "")
    return list(reversed(re.findall(r"^Commit: ([0-9a-f]{40})$", log, flags=re.MULTILINE)))


__all__ = ["GitHistory", "answer", "final_answer"]
