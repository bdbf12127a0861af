"""`rlhub mcp-serve`: an outside MCP client (the official SDK's stdio client) plays an rlhub task's tools."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client

import rlhub

RLHUB = [sys.executable, "-m", "rlhub.cli.main"]


def played(args: list[str], play: Callable[[ClientSession, Any], Awaitable[Any]]) -> Any:
    """Start `rlhub mcp-serve ARGS` as a subprocess, connect with the SDK's client, run `play`."""

    async def run() -> Any:
        command, *rest = [*RLHUB, "mcp-serve", *args]
        with open("/dev/null", "w") as quiet:
            async with (
                stdio_client(StdioServerParameters(command=command, args=rest), errlog=quiet) as (read, write),
                ClientSession(read, write, read_timeout_seconds=60) as session,
            ):
                init = await session.initialize()
                return await play(session, init)

    return anyio.run(run)


def test_an_outside_client_lists_and_calls_the_tools_of_a_task() -> None:
    task = rlhub.load("rlhub/calculator").task(2, "test", 5)
    product, price = next(iter(task.info["prices"].items()))

    async def play(session: ClientSession, init: Any) -> tuple[Any, ...]:
        tools = await session.list_tools()
        good = await session.call_tool("price", {"product": product})
        unknown = await session.call_tool("price", {"product": "caviar"})
        bad = await session.call_tool("calculate", {"expression": "__import__('os')"})
        return init.instructions, tools.tools, good, unknown, bad

    instructions, tools, good, unknown, bad = played(["rlhub/calculator", "--seed", "5", "--index", "2"], play)
    assert task.prompt[-1].content in instructions and "shopping assistant" in instructions
    assert [t.name for t in tools] == ["price", "calculate"]
    assert tools[0].input_schema["required"] == ["product"]
    assert not good.is_error and good.content[0].text == f"{price:.2f}"
    assert unknown.is_error and "no product 'caviar'" in unknown.content[0].text
    assert bad.is_error and "only numbers" in bad.content[0].text
    assert str(task.answer) not in instructions


def test_an_mcp_backed_environment_is_served_through_to_its_own_server() -> None:
    task = rlhub.load("rlhub/git-history").task(0, "test", 0)

    async def play(session: ClientSession, init: Any) -> tuple[Any, ...]:
        tools = await session.list_tools()
        log = await session.call_tool("git_log", {"repo_path": ".", "max_count": 50})
        return init.instructions, [t.name for t in tools.tools], log

    instructions, names, log = played(["rlhub/git-history"], play)
    assert task.prompt[-1].content in instructions
    assert names == ["git_log", "git_show", "git_status", "git_branch"]
    subjects = [c["subject"] for c in task.info["history"]["commits"]]
    assert all(f"Message: {s}" in log.content[0].text for s in subjects)


def test_an_environment_without_tools_is_refused_in_one_line() -> None:
    done = subprocess.run(
        [*RLHUB, "mcp-serve", "rlhub/arithmetic"], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 1
    assert "is not a tool environment" in done.stderr and "Traceback" not in done.stderr
