"""`rlhub mcp-serve`: one task's tools over MCP (stdio), for agent harnesses outside rlhub."""

from __future__ import annotations

from typing import Annotated

import typer

from rlhub.cli._options import parse_config

ConfigOption = Annotated[list[str] | None, typer.Option("--config", "-C", help="Environment config as key=value.")]


def register(app: typer.Typer) -> None:
    app.command("mcp-serve")(mcp_serve)


def mcp_serve(
    target: Annotated[str, typer.Argument(help="An environment id, package directory or .py file.")],
    seed: Annotated[int, typer.Option("--seed", help="Task seed.")] = 0,
    index: Annotated[int, typer.Option("--index", min=0, help="Task index.")] = 0,
    split: Annotated[str, typer.Option("--split", help="train or test.")] = "test",
    config: ConfigOption = None,
) -> None:
    """Serve one task's tools over MCP on stdin/stdout until the client hangs up. The task's prompt is
    the server's instructions; the reference answer is never served. The episode's resources (a
    temporary repository, upstream MCP servers) live as long as the connection."""
    import anyio

    from rlhub.core.mcp_serve import serve_stdio
    from rlhub.core.registry import load

    env = load(target, **parse_config(config))
    anyio.run(serve_stdio, env, env.task(index, split, seed))
