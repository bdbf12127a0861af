"""A small OpenAI-compatible chat-completions server for tests and demos, on loopback.

Its "model" solves the arithmetic in the last user message (digits, + - * / and parentheses), wrong
on purpose on a set share of prompts (`wrong_pct`, chosen by prompt hash). When tools are offered it
first calls the first tool with the numbers of the prompt as arguments, then answers with what the
tool returned. It can fail its first requests (`fail_first`, HTTP `fail_status`) to exercise retries,
and inject faults into a share of chat requests (`fault_pct`, drawn from `fault_seed`), each one of
`FAULTS`: 429, a 5xx, a hang (`hang_s` seconds, then a reset), a connection reset, a truncated JSON
body, a 200 body without `choices`. `/models` never fails. It counts what it sent, so tests can check
that every rollout a client calls `ok` came from a valid answer.

    python -m rlhub.rollout.stub_server --port 8000 --wrong-pct 30
    python -m rlhub.rollout.stub_server --port 0 --fault-pct 20 --hang 5
    rlhub eval demo/add --model stub --base-url http://127.0.0.1:8000/v1
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import hashlib
import json
import operator
import random
import re
import socket
import struct
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from rlhub.core.openai_wire import ApiError, choice_json, completion_json, usage_json
from rlhub.core.types import ToolCall

_EXPRESSION = re.compile(r"[-\d(][\d\s+\-*/().]*\d\)*")
_OPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_evaluate(node.operand)
    raise ValueError("not arithmetic")


def solve(text: str) -> str | None:
    """The value of the last arithmetic expression (with at least one operator) in `text`."""
    for candidate in reversed(_EXPRESSION.findall(text)):
        if not re.search(r"\d\s*[-+*/]\s*[-(\d]", candidate):
            continue
        try:
            value = _evaluate(ast.parse(candidate.strip(), mode="eval").body)
        except (SyntaxError, ValueError, ZeroDivisionError):
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(round(value, 6) if isinstance(value, float) else value)
    return None


__all__ = ["FAULTS", "StubPolicy", "make_app", "serve_stub", "solve"]

FAULTS = ("429", "5xx", "hang", "reset", "malformed", "no_choices")


@dataclass
class StubPolicy:
    wrong_pct: int = 0
    delay_s: float = 0.0
    fail_first: int = 0
    fail_status: int = 503
    fault_pct: float = 0.0
    hang_s: float = 30.0
    fault_seed: int = 0
    requests: int = 0
    answered: int = 0
    """Valid completions sent."""
    faults: Counter[str] = field(default_factory=Counter)
    """Faults injected, by kind."""

    def __post_init__(self) -> None:
        self._rng = random.Random(self.fault_seed)

    def fault(self) -> str | None:
        """The fault to inject into the next chat request, if any."""
        if self._rng.random() * 100 >= self.fault_pct:
            return None
        kind = self._rng.choice(FAULTS)
        self.faults[kind] += 1
        return kind

    def reply(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = body["messages"]
        user = next((m.get("content") or "" for m in reversed(messages) if m["role"] == "user"), "")
        tool_results = [m for m in messages if m["role"] == "tool"]
        tools = body.get("tools") or []
        calls: tuple[ToolCall, ...] = ()
        if tools and not tool_results:
            function = tools[0]["function"]
            names = list(function.get("parameters", {}).get("properties", {}))
            numbers = [int(x) for x in re.findall(r"\d+", user)]
            arguments = json.dumps(dict(zip(names, numbers, strict=False)))
            calls = (ToolCall(id="call_0", name=function["name"], arguments=arguments),)
            answer = ""
        else:
            answer = tool_results[-1].get("content", "") if tool_results else solve(user) or "I don't know."
            if int(hashlib.sha256(user.encode()).hexdigest(), 16) % 100 < self.wrong_pct:
                answer = f"{answer}1"
        words = (answer or "x").split()
        logprobs = [(word, -0.1) for word in words] if body.get("logprobs") else None
        finish = "tool_calls" if calls else "stop"
        choices = [choice_json(i, answer, calls, finish, logprobs) for i in range(body.get("n") or 1)]
        prompt_tokens = sum(len(str(m.get("content") or "").split()) for m in messages)
        return completion_json(body.get("model", "stub"), choices, usage_json(prompt_tokens, len(words) * len(choices)))


def make_app(policy: StubPolicy | None = None) -> web.Application:
    policy = policy or StubPolicy()

    async def chat(request: web.Request) -> web.StreamResponse:
        policy.requests += 1
        if policy.requests <= policy.fail_first:
            return _error("stub: failing on purpose", policy.fail_status)
        try:
            body = await request.json()
            messages = body["messages"]
            assert isinstance(messages, list)
        except (ValueError, KeyError, AssertionError):
            return _error("body must be JSON with a 'messages' list", 400)
        if policy.delay_s:
            await asyncio.sleep(policy.delay_s)
        fault = policy.fault()
        if fault == "hang":  # then hang up: a client that waits that long gets no answer either
            await asyncio.sleep(policy.hang_s)
            return _reset(request)
        if fault == "reset":
            return _reset(request)
        if fault in ("429", "5xx"):
            status = 429 if fault == "429" else (500, 502, 503)[policy.requests % 3]
            return _error(f"stub: injected {status}", status)
        reply = policy.reply(body)
        if fault == "malformed":
            data = json.dumps(reply).encode()
            return web.Response(body=data[: len(data) // 2], content_type="application/json")
        if fault == "no_choices":
            return web.json_response({k: v for k, v in reply.items() if k != "choices"})
        policy.answered += 1
        return web.json_response(reply)

    async def models(request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "stub", "object": "model"}]})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/chat/completions", chat)
    app.router.add_get("/v1/models", models)
    app.router.add_get("/models", models)
    return app


def _error(message: str, status: int) -> web.Response:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return web.json_response(ApiError(message, status=status, type=kind).body(), status=status)


def _reset(request: web.Request) -> web.StreamResponse:
    """Drop the connection with a TCP reset: the client sees "connection reset by peer", no answer."""
    transport = request.transport
    if transport is not None:  # None: the client hung up first
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    return web.Response()  # never sent


@asynccontextmanager
async def serve_stub(policy: StubPolicy | None = None, port: int = 0) -> AsyncIterator[str]:
    """Serve the stub on 127.0.0.1 (a free port by default) in this event loop; yields the base URL."""
    runner = web.AppRunner(make_app(policy), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=4096)
    await site.start()
    bound = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{bound}/v1"
    finally:
        await runner.cleanup()


async def _serve_forever(policy: StubPolicy, port: int) -> None:
    async with serve_stub(policy, port) as url:
        print(f"listening on {url}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rlhub.rollout.stub_server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port (printed on start)")
    parser.add_argument("--wrong-pct", type=int, default=0, help="share of prompts answered wrongly, in percent")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--fail-first", type=int, default=0, help="answer the first N requests with --fail-status")
    parser.add_argument("--fail-status", type=int, default=503)
    parser.add_argument("--fault-pct", type=float, default=0.0, help=f"share of chat requests given a fault: {FAULTS}")
    parser.add_argument("--hang", type=float, default=30.0, help="seconds a 'hang' fault waits before answering")
    parser.add_argument("--fault-seed", type=int, default=0)
    args = parser.parse_args(argv)
    policy = StubPolicy(
        wrong_pct=args.wrong_pct,
        delay_s=args.delay,
        fail_first=args.fail_first,
        fail_status=args.fail_status,
        fault_pct=args.fault_pct,
        hang_s=args.hang,
        fault_seed=args.fault_seed,
    )
    with suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(policy, args.port))


if __name__ == "__main__":
    main()
