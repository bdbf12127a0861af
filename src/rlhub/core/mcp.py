"""MCP servers as tools: `MCPTools(command=[...])` offers the tools of any stdio MCP server to the model.

A `ToolEnv` lists the servers of an episode in `mcp_servers(state)`; their tools join `tools(state)`.

- The model sees each tool's own JSON schema; the server checks the arguments.
- Every call is bounded in time (`timeout_s`) and in what the model sees (`max_output_chars`). A
  failure of any kind (the server's error, a timeout, a dead server) is the text of the tool message.
- A server runs for one episode at most, in its own process group, and its whole process tree is
  stopped when the episode ends, however it ends. Starting one costs an interpreter and its imports, so
  the tool list is read once per command line and environment (the first episode starts its server to
  read it) and later episodes start their server at their first tool call: an episode that never calls
  a tool costs no process.

The `mcp` SDK is imported on first use (`pip install 'rlhub[mcp]'`), so `import rlhub` stays light.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rlhub.core.errors import RlhubError
from rlhub.core.types import ToolSpec

if TYPE_CHECKING:
    import anyio.abc
    from mcp import ClientSession
    from mcp.types import CallToolResult


class MCPServerError(RlhubError):
    """An MCP server could not be started or listed: an error of the environment, not of the model."""


@dataclass(frozen=True)
class MCPTools:
    """How to start one stdio MCP server and which of its tools to offer.

    `env` is added to the small environment the SDK passes on (HOME, PATH, USER...), never the whole
    parent environment; `include` keeps only the named tools (for example the read-only ones), in that
    order; `startup_timeout_s` bounds the handshake and the listing.
    """

    command: Sequence[str]
    env: Mapping[str, str] | None = None
    cwd: str | None = None
    timeout_s: float = 30.0
    max_output_chars: int = 20_000
    include: Sequence[str] | None = None
    startup_timeout_s: float = 60.0

    def __post_init__(self) -> None:
        if not self.command:
            raise MCPServerError("MCPTools needs a command, e.g. ['python', '-m', 'mcp_server_time']")
        object.__setattr__(self, "command", tuple(self.command))
        if self.include is not None:
            object.__setattr__(self, "include", tuple(self.include))

    @property
    def listing_key(self) -> tuple[Any, ...]:
        """What the tool list depends on: the command line, its environment and the selection."""
        return (self.command, tuple(sorted((self.env or {}).items())), self.include)


_RECORD_PID_AND_EXEC = 'echo $$ > "$0"; exec "$@"'
"""The server's pid is its process group (the SDK starts it in a new session): `/bin/sh` writes it down,
then becomes the server. The SDK stops the tree only when the server outlives its stdin; a server that
exits on time leaves its children behind, so `_kill_group` ends them."""

_LISTINGS: dict[tuple[Any, ...], list[ToolSpec]] = {}
"""Tool lists already read in this process, by `MCPTools.listing_key`."""


@dataclass
class MCPTool:
    """One tool of a running (or not yet started) server; a `rlhub.core.tools.Tool`."""

    spec: ToolSpec
    server: _Server = field(repr=False)

    async def run(self, arguments: dict[str, Any]) -> str:
        return await self.server.call(self.spec.name, arguments)


class _Server:
    """One server process for one episode. Its connection lives in a task of the episode's task group,
    so a call from any task may start it and the episode's exit always stops it."""

    def __init__(self, config: MCPTools, group: anyio.abc.TaskGroup):
        import anyio

        self.config = config
        self.group = group
        self.session: ClientSession | None = None
        self.failure: str | None = None
        self.lock = anyio.Lock()
        self.stop = anyio.Event()

    async def start(self) -> list[ToolSpec]:
        """Start the server and read its tools; MCPServerError, with its stderr, when it cannot."""
        async with self.lock:
            if self.failure:
                raise MCPServerError(self.failure)
            try:
                session, specs = await self.group.start(self._connect)
            except MCPServerError as exc:
                self.failure = str(exc)
                raise
            self.session = session
            return specs

    async def _connect(self, *, task_status: anyio.abc.TaskStatus[tuple[ClientSession, list[ToolSpec]]]) -> None:
        from mcp import ClientSession, StdioServerParameters, stdio_client

        started = False
        with tempfile.TemporaryDirectory(prefix="rlhub-mcp-") as scratch:
            pidfile = os.path.join(scratch, "pid")
            errlog_path = os.path.join(scratch, "stderr")
            params = StdioServerParameters(
                command="/bin/sh",
                args=["-c", _RECORD_PID_AND_EXEC, pidfile, *self.config.command],
                env=dict(self.config.env or {}),
                cwd=self.config.cwd,
            )
            try:
                with open(errlog_path, "w", encoding="utf-8") as errlog:
                    async with (
                        stdio_client(params, errlog=errlog) as (read, write),
                        ClientSession(read, write, read_timeout_seconds=self.config.startup_timeout_s) as session,
                    ):
                        await session.initialize()
                        specs = await _list(session, self.config.include)
                        task_status.started((session, specs))
                        started = True
                        await self.stop.wait()
            except Exception as exc:
                if started:  # died mid-episode: its calls answer with the failure, the episode goes on
                    self.session, self.failure = None, f"MCP server {_shown(self.config.command)} died: {_leaf(exc)}"
                    return
                with open(errlog_path, encoding="utf-8", errors="replace") as errlog:
                    tail = errlog.read()[-2000:].strip()
                why = f"MCP server {_shown(self.config.command)} did not start: {_leaf(exc)}"
                raise MCPServerError(why + (f"; its stderr ends: {tail}" if tail else "")) from None
            finally:
                _kill_group(pidfile)

    async def call(self, name: str, arguments: dict[str, Any]) -> str:
        """The tool's output as the model sees it; never raises for the server's or the call's failures."""
        if self.session is None:
            try:
                specs = await self.start()
            except MCPServerError as exc:
                return f"error: {exc}"
            if specs != _LISTINGS.get(self.config.listing_key, specs):
                return f"error: MCP server {_shown(self.config.command)} offers other tools than it listed before"
        assert self.session is not None
        limit = self.config.timeout_s
        try:
            result = await self.session.call_tool(name, arguments, read_timeout_seconds=limit)
        except Exception as exc:
            return f"error: {name} {_call_failure(exc, limit)}"
        return _bounded(_text(result), self.config.max_output_chars)


@contextlib.asynccontextmanager
async def serving(configs: Sequence[MCPTools]) -> AsyncIterator[list[MCPTool]]:
    """The tools of `configs` for one episode; every server started inside is stopped on exit.

    A server whose tool list this process has not read yet is started now (MCPServerError when it
    cannot be); the others start at their first call.
    """
    if not configs:
        yield []
        return
    import anyio

    servers: list[_Server] = []
    try:
        async with anyio.create_task_group() as group:
            try:
                tools: list[MCPTool] = []
                for config in configs:
                    server = _Server(config, group)
                    servers.append(server)
                    specs = _LISTINGS.get(config.listing_key)
                    if specs is None:
                        specs = _LISTINGS[config.listing_key] = await server.start()
                    tools += [MCPTool(spec, server) for spec in specs]
                yield tools
            finally:
                for server in servers:
                    server.stop.set()
    except BaseExceptionGroup as group_error:
        raise _leaf_exception(group_error) from None


async def _list(session: ClientSession, include: Sequence[str] | None) -> list[ToolSpec]:
    from mcp.types import PaginatedRequestParams

    page = await session.list_tools()
    tools = list(page.tools)
    while page.next_cursor:
        page = await session.list_tools(params=PaginatedRequestParams(cursor=page.next_cursor))
        tools += page.tools
    specs = {t.name: ToolSpec(name=t.name, description=t.description or "", parameters=t.input_schema) for t in tools}
    if include is None:
        return list(specs.values())
    missing = [name for name in include if name not in specs]
    if missing:
        raise MCPServerError(f"the server has no tool(s) {', '.join(missing)}; it has {', '.join(sorted(specs))}")
    return [specs[name] for name in include]


def _text(result: CallToolResult) -> str:
    parts: list[str] = []
    for block in result.content:
        if block.type == "text":
            parts.append(block.text)
        elif block.type == "resource" and isinstance(getattr(block.resource, "text", None), str):
            parts.append(block.resource.text)  # type: ignore[union-attr]
        else:
            parts.append(f"[{block.type} content not shown]")
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content))
    text = "\n".join(parts)
    return f"error: {text}" if result.is_error else text


def _bounded(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n[output cut: {limit} of {len(text)} characters shown]"


def _call_failure(exc: BaseException, limit: float) -> str:
    from mcp.shared.exceptions import MCPError
    from mcp.types import REQUEST_TIMEOUT

    if isinstance(exc, TimeoutError) or (isinstance(exc, MCPError) and exc.error.code == REQUEST_TIMEOUT):
        return f"took longer than {limit:g} s and was abandoned"
    if isinstance(exc, MCPError):
        return f"failed: {exc.error.message}"
    return f"failed: the MCP server is gone ({_leaf(exc)})"


def _kill_group(pidfile: str) -> None:
    """SIGKILL what is left of the server's process group. Linux does not reuse a pid while a process
    group of that id has members, so this never reaches another group."""
    try:
        with open(pidfile) as f:
            pgid = int(f.read())
    except (OSError, ValueError):
        return  # the shell never ran: nothing was started
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _leaf_exception(exc: BaseException) -> BaseException:
    """The one exception inside nested exception groups (anyio wraps what crosses a task group)."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _leaf(exc: BaseException) -> str:
    leaf = _leaf_exception(exc)
    return f"{type(leaf).__name__}: {leaf}" if str(leaf) else type(leaf).__name__


def _shown(command: Sequence[str]) -> str:
    return " ".join(command)


__all__ = ["MCPServerError", "MCPTool", "MCPTools", "serving"]
