"""A deliberately minimal OpenAI-compatible stub for benchmarks: raw asyncio protocol, canned bytes.

Every request to any path gets a fixed-length chat completion after `--delay` seconds (a timer, no
coroutine per request). When the request offers tools and carries fewer than `--tool-turns` tool
results, the answer is a tool call instead, so a tool episode lasts tool-turns + 1 model calls.
HTTP/1.1 keep-alive, Content-Length bodies only; the OpenAI SDK, aiohttp and httpx all speak that.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket

from rlhub.core.openai_wire import choice_json, completion_json, usage_json
from rlhub.core.types import ToolCall


def _response(body: dict) -> bytes:
    data = json.dumps(body).encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    return head.encode() + data


def _canned(tokens: int) -> tuple[bytes, bytes]:
    usage = usage_json(20, tokens)
    answer = choice_json(0, " ".join(["ok"] * tokens))
    tool = choice_json(0, None, [ToolCall(id="call_1", name="lookup", arguments='{"key": "a"}')], "tool_calls")
    return _response(completion_json("stub", [answer], usage)), _response(completion_json("stub", [tool], usage))


class StubProtocol(asyncio.Protocol):
    def __init__(self, loop: asyncio.AbstractEventLoop, delay: float, answer: bytes, tool: bytes, tool_turns: int):
        self.loop, self.delay, self.answer, self.tool, self.tool_turns = loop, delay, answer, tool, tool_turns
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            at = head.find(b"content-length:")
            length = 0
            if at >= 0:
                stop = head.find(b"\r\n", at)
                length = int(head[at + 15 : stop if stop >= 0 else len(head)])
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            wants_tool = b'"tools"' in body and body.count(b'"tool"') < self.tool_turns
            reply = self.tool if wants_tool else self.answer
            if self.delay:
                self.loop.call_later(self.delay, self._send, reply)
            else:
                self._send(reply)

    def _send(self, reply: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(port: int, delay: float, tokens: int, tool_turns: int) -> None:
    loop = asyncio.get_running_loop()
    answer, tool = _canned(tokens)
    server = await loop.create_server(
        lambda: StubProtocol(loop, delay, answer, tool, tool_turns), "127.0.0.1", port, backlog=4096, reuse_address=True
    )
    sock = server.sockets[0]
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}/v1", flush=True)
    await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--tool-turns", type=int, default=3)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.run(serve(args.port, args.delay, args.tokens, args.tool_turns))
    except ImportError:
        asyncio.run(serve(args.port, args.delay, args.tokens, args.tool_turns))


if __name__ == "__main__":
    main()
