"""The reverse of `MCPTools`: serve the tools of one rlhub task over MCP, so that an outside agent
harness (an IDE agent, another framework's runner) can play an rlhub tool environment.

One server process is one episode of one task: the environment's `episode` resources (a temporary
repository, upstream MCP servers...) are opened before the first request and released when the
client hangs up. The task's prompt is the server's `instructions`; tool calls go through the same
`ToolBox` as in a rollout, so a failing call is a tool result with `isError` set, never a crash. The
verdict stays with rlhub: nothing served reveals the reference answer.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rlhub.core.env import Environment, State, ToolEnv
from rlhub.core.errors import ConfigError
from rlhub.core.tools import ToolBox
from rlhub.core.types import Task, ToolCall

if TYPE_CHECKING:
    from mcp.server.context import ServerRequestContext
    from mcp.server.lowlevel import Server
    from mcp.types import CallToolRequestParams, CallToolResult, ListToolsResult, PaginatedRequestParams


def instructions(env: Environment, task: Task) -> str:
    """What the agent is asked: the environment's system prompt, then the task's messages."""
    prompt = env.prompt_messages(task)
    return "\n\n".join(m.content for m in prompt if m.content)


def tool_server(env: Environment, task: Task, toolbox: ToolBox) -> Server[Any]:
    """An MCP server (official SDK, low level) offering `toolbox`'s tools with their JSON schemas."""
    from mcp.server.lowlevel import Server
    from mcp.types import CallToolResult, ListToolsResult, TextContent, Tool

    calls = 0

    async def list_tools(ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None) -> ListToolsResult:
        tools = [Tool(name=s.name, description=s.description, input_schema=s.parameters) for s in toolbox.specs]
        return ListToolsResult(tools=tools)

    async def call_tool(ctx: ServerRequestContext[Any], params: CallToolRequestParams) -> CallToolResult:
        nonlocal calls
        calls += 1
        call = ToolCall(id=f"mcp_{calls}", name=params.name, arguments=json.dumps(params.arguments or {}))
        reply = await toolbox.call(call)
        return CallToolResult(
            content=[TextContent(type="text", text=reply.content)], is_error=reply.content.startswith("error:")
        )

    return Server(
        f"rlhub:{env.spec}",
        version=env.version,
        instructions=instructions(env, task),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def serve_stdio(env: Environment, task: Task) -> None:
    """Serve one episode of `task` over stdin/stdout until the client closes the connection."""
    if not isinstance(env, ToolEnv):
        raise ConfigError(f"{env.spec} is not a tool environment (a ToolEnv); it has no tools to serve")
    from mcp.server.stdio import stdio_server

    state = State(task=task)
    async with env.episode(state):
        env.setup(state)
        env.tool_specs(state)
        server = tool_server(env, task, state.toolbox)
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())


__all__ = ["instructions", "serve_stdio", "tool_server"]
