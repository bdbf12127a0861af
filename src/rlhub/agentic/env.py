"""`WorkspaceEnv`: a tool environment whose tasks are directory trees, graded by tests the model never sees.

A task carries its starting tree in `info["files"]` (or the environment overrides `workspace_files`) and
its reference in `answer`: `{"hidden_tests": {path: text}, "tests": [pytest node ids], "solution":
{path: text}}`. Each episode gets one `Session`; the model works in it with `shell_tools`. After its last
turn the workspace's changes are recorded in `info["workspace"]`, and `HiddenTests` grades them in a
fresh session with the hidden tests written over, so a rollout is re-scored from its log alone and
nothing the model did during the episode can see or touch the hidden tests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, ClassVar

from rlhub.agentic.tools import shell_tools
from rlhub.core.env import State, ToolEnv
from rlhub.core.types import Message, Score, ScoreStatus, Task, ToolCall
from rlhub.verify.runtime import Runtime
from rlhub.verify.workspace import SESSION_LIMITS, Session, run_tests

FilesOf = Callable[[Task], Mapping[str, str]]


def task_files(task: Task) -> Mapping[str, str]:
    """The default starting tree: `task.info["files"]`."""
    files: Mapping[str, str] = task.info["files"]
    return files


def files_from_dir(root: Traversable | Path) -> dict[str, str]:
    """Every file under `root` (a directory, or package data from `importlib.resources.files`) as text."""
    found: dict[str, str] = {}

    def walk(node: Traversable | Path, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.name != "__pycache__" and not child.name.endswith(".pyc"):
                found[f"{prefix}{child.name}"] = child.read_text(encoding="utf-8")

    walk(root, "")
    return found


class HiddenTests:
    """A reward function: the share of `answer["tests"]` that pass on the task's files plus the changes
    recorded in `info["workspace"]`, with `answer["hidden_tests"]` written over them (`run_tests`)."""

    def __init__(self, runtime: Runtime, *, files: FilesOf = task_files, timeout_s: float = 120.0):
        self.runtime, self.files, self.timeout_s = runtime, files, timeout_s

    def __call__(self, response: str, reference: dict[str, Any], task: Task, info: dict[str, Any]) -> Score:
        if "workspace" not in info:
            return Score(value=0.0, status=ScoreStatus.error, detail="no workspace changes recorded in info")
        report = run_tests(
            self.files(task),
            info["workspace"],
            hidden=reference["hidden_tests"],
            tests=reference["tests"],
            runtime=self.runtime,
            limits=replace(SESSION_LIMITS, timeout_s=self.timeout_s),
        )
        failing = [f"{test}: {outcome}" for test, outcome in report.outcomes.items() if outcome != "passed"]
        status = ScoreStatus.correct if report.share == 1.0 else ScoreStatus.incorrect
        if report.status == "timeout":
            status = ScoreStatus.timeout
        detail = "; ".join(failing[:5]) or "all hidden tests passed"
        return Score(value=report.share, status=status, detail=detail)


class WorkspaceEnv(ToolEnv):
    """Work on a directory tree with shell tools; graded by hidden tests. Set `runtime` and
    `rubric = Rubric(tests=HiddenTests(runtime))`; see the module doc for the task layout."""

    runtime: ClassVar[Runtime] = Runtime()
    test_command: ClassVar[str] = "python -m pytest -q -p no:cacheprovider"
    """What `run_tests` runs in the workspace: the tests the model may see."""
    command_timeout_s: ClassVar[float] = 30.0
    max_output_chars: ClassVar[int] = 8000
    workspace_mb: ClassVar[int] = 64
    max_turns = 20

    def workspace_files(self, task: Task) -> Mapping[str, str]:
        return task_files(task)

    @asynccontextmanager
    async def episode(self, state: State) -> AsyncIterator[None]:
        async with super().episode(state):
            files = self.workspace_files(state.task)
            session = await asyncio.to_thread(Session, files, runtime=self.runtime, workspace_mb=self.workspace_mb)
            state.session = session
            try:
                yield
                state.info["workspace"] = await asyncio.to_thread(session.changes)  # after the last turn
            finally:
                await asyncio.to_thread(session.close)

    def tools(self, state: State) -> Sequence[Callable[..., Any]]:
        return shell_tools(
            state.session,
            test_command=self.test_command,
            timeout_s=self.command_timeout_s,
            max_output_chars=self.max_output_chars,
        )

    def oracle(self, task: Task, messages: Sequence[Message]) -> Message:
        """Write `answer["solution"]`'s files, then stop."""
        if any(m.role == "assistant" for m in messages):
            return Message.assistant("Done: the fix is in place.")
        calls = tuple(
            ToolCall(id=f"call_{i}", name="write_file", arguments=json.dumps({"path": path, "content": text}))
            for i, (path, text) in enumerate(task.answer["solution"].items())
        )
        return Message.assistant("Writing the fix.", tool_calls=calls)


__all__ = ["HiddenTests", "WorkspaceEnv", "files_from_dir", "task_files"]
