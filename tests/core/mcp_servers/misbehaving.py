"""An MCP server that misbehaves on request, to test the bounds `MCPTools` puts on calls.

Run as `python misbehaving.py PIDFILE`: it writes its own pid and, from `spawn`, its child's pid there.
"""

import asyncio
import os
import subprocess
import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer("misbehaving")
PIDFILE = sys.argv[1]


def _record(pid: int) -> None:
    with open(PIDFILE, "a") as f:
        f.write(f"{pid}\n")


@server.tool()
async def sleep(seconds: float) -> str:
    """Answer after `seconds`."""
    await asyncio.sleep(seconds)
    return "awake"


@server.tool()
def big(chars: int) -> str:
    """A reply of `chars` characters."""
    return "x" * chars


@server.tool()
def crash() -> str:
    """Exit the whole server at once."""
    os._exit(1)


@server.tool()
def spawn() -> str:
    """Start a long-lived child process (a grandchild of the client)."""
    child = subprocess.Popen(["sleep", "300"])
    _record(child.pid)
    return f"spawned {child.pid}"


if __name__ == "__main__":
    _record(os.getpid())
    server.run()
