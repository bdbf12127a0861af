"""The standard tools of a workspace environment: `bash`, `read_file`, `write_file`, `str_replace`, `run_tests`.

Each is an async typed function (so `ToolBox` builds its schema and a slow command never blocks the
event loop) bound to one `Session`. Every result is text for the model, cut to `max_output_chars` with a
note saying so; refusals and failures come back as `error: ...` text, never as exceptions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from rlhub.verify.sandbox import ExecResult
from rlhub.verify.workspace import Session, WorkspaceError


def shell_tools(
    session: Session,
    *,
    test_command: str = "python -m pytest -q -p no:cacheprovider",
    timeout_s: float = 30.0,
    max_output_chars: int = 8000,
) -> list[Callable[..., Any]]:
    """The five tools over `session`; `run_tests` runs `test_command` (the tests the model may see)."""

    def cut(text: str) -> str:
        if len(text) <= max_output_chars:
            return text
        dropped = len(text) - max_output_chars
        return f"{text[:max_output_chars]}\n[... output cut: {dropped} more characters]"

    def shown(result: ExecResult) -> str:
        status = {"timeout": f"timed out after {timeout_s:g} s", "output_limit": "output limit reached"}
        head = (
            f"exit code {result.exit_code}"
            if result.exit_code is not None
            else status.get(result.status, result.status)
        )
        return f"[{head}]\n" + cut(result.stdout + result.stderr)

    async def bash(command: str) -> str:
        """Run a bash command in the workspace (no network) and return its exit code and output.

        Args:
            command: the command line, run with `bash -c` in /workspace.
        """
        return shown(await asyncio.to_thread(session.bash, command, timeout_s=timeout_s))

    async def read_file(path: str) -> str:
        """Return the text of a file in the workspace.

        Args:
            path: relative to /workspace.
        """
        try:
            data = await asyncio.to_thread(session.read, path)
        except WorkspaceError as exc:
            return f"error: {exc}"
        return cut(data.decode("utf-8", "replace"))

    async def write_file(path: str, content: str) -> str:
        """Create or overwrite a file in the workspace with `content`.

        Args:
            path: relative to /workspace; missing directories are created.
            content: the complete new text of the file.
        """
        try:
            await asyncio.to_thread(session.write, path, content)
        except WorkspaceError as exc:
            return f"error: {exc}"
        return f"wrote {len(content.encode())} bytes to {path}"

    async def str_replace(path: str, old: str, new: str) -> str:
        """Replace the one occurrence of `old` in a file with `new`.

        Args:
            path: relative to /workspace.
            old: text that occurs exactly once in the file.
            new: its replacement.
        """
        try:
            text = (await asyncio.to_thread(session.read, path)).decode("utf-8")
            count = text.count(old) if old else 0
            if count != 1:
                return f"error: `old` occurs {count} times in {path}; it must occur exactly once"
            await asyncio.to_thread(session.write, path, text.replace(old, new, 1))
        except (WorkspaceError, UnicodeDecodeError) as exc:
            return f"error: {exc}"
        return f"replaced 1 occurrence in {path}"

    async def run_tests() -> str:
        """Run the project's visible tests in the workspace and return their output."""
        return shown(await asyncio.to_thread(session.bash, test_command, timeout_s=timeout_s))

    return [bash, read_file, write_file, str_replace, run_tests]


__all__ = ["shell_tools"]
