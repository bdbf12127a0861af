import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from rlhub.core.errors import ModelError, RetryableModelError
from rlhub.core.types import Message, Sampling, ToolSpec
from rlhub.rollout.client import OpenAIClient
from rlhub.rollout.stub_server import FAULTS, StubPolicy, serve_stub, solve

MUL = ToolSpec(
    name="mul",
    parameters={"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}},
)


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Serve the aiohttp `app` on a free loopback port; yields its OpenAI base URL (`.../v1`)."""
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_stub_solves_arithmetic() -> None:
    assert solve("What is 12 + 30?") == "42"
    assert solve("What is 7 * (3 - 1)? Answer with just the number.") == "14"
    assert solve("no numbers here") is None


async def test_chat_completion_with_n_logprobs_and_usage() -> None:
    async with serve_stub() as url, OpenAIClient("stub", url) as client:
        completions = await client.complete([Message.user("What is 2 + 3?")], sampling=Sampling(n=3, logprobs=True))
    assert [c.message.content for c in completions] == ["5"] * 3
    assert completions[0].logprobs == (-0.1,)
    assert completions[0].finish_reason == "stop"
    assert completions[0].usage.prompt_tokens == 5 and completions[0].usage.completion_tokens == 1


async def test_tool_calls_are_parsed() -> None:
    async with serve_stub() as url, OpenAIClient("stub", url) as client:
        [first] = await client.complete([Message.user("6 * 7")], tools=[MUL])
        call = first.message.tool_calls[0]
        assert (call.name, call.parsed_arguments()) == ("mul", {"a": 6, "b": 7})
        reply = Message.tool("42", call.id, "mul")
        [second] = await client.complete([Message.user("6 * 7"), first.message, reply], tools=[MUL])
    assert second.message.content == "42" and not second.message.tool_calls


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_overload_and_server_errors_are_retryable(status: int) -> None:
    async with serve_stub(StubPolicy(fail_first=1, fail_status=status)) as url, OpenAIClient("stub", url) as client:
        with pytest.raises(RetryableModelError, match=f"HTTP {status}: stub: failing on purpose"):
            await client.complete([Message.user("1 + 1")])
        [ok] = await client.complete([Message.user("1 + 1")])
    assert ok.message.content == "2"


async def test_client_errors_carry_the_server_message() -> None:
    seen = {}

    async def reject(request: web.Request) -> web.Response:
        seen["auth"] = request.headers.get("Authorization")
        return web.json_response({"error": {"message": "model 'x' does not exist"}}, status=404)

    async def locked(request: web.Request) -> web.Response:
        return web.json_response({"error": {"message": "bad key"}}, status=401)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", reject)
    app.router.add_get("/v1/models", locked)
    async with serving(app) as url:
        async with OpenAIClient("x", url, api_key="sk-test") as client:
            with pytest.raises(ModelError, match="does not exist") as info:
                await client.complete([Message.user("hi")])
            with pytest.raises(ModelError, match=r"refused the API key \(HTTP 401\): bad key"):
                await client.ping()
        assert not isinstance(info.value, RetryableModelError)
        assert seen["auth"] == "Bearer sk-test"


async def test_unreachable_server() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    async with OpenAIClient("x", url) as client:
        with pytest.raises(RetryableModelError, match="connection failed"):
            await client.complete([Message.user("hi")])
        with pytest.raises(ModelError, match=f"cannot reach the model server at {url}"):
            await client.ping()


async def test_slow_server_times_out_as_retryable() -> None:
    async with serve_stub(StubPolicy(delay_s=0.5)) as url, OpenAIClient("x", url, request_timeout_s=0.1) as client:
        with pytest.raises(RetryableModelError, match="timed out"):
            await client.complete([Message.user("1 + 1")])


@pytest.mark.slow
async def test_a_thousand_requests_in_flight() -> None:
    async with (
        serve_stub(StubPolicy(delay_s=0.5)) as url,
        OpenAIClient("stub", url, max_connections=1000) as client,
    ):
        results = await asyncio.gather(*(client.complete([Message.user(f"{i} + 1")]) for i in range(1000)))
    assert [r[0].message.content for r in results] == [str(i + 1) for i in range(1000)]


@pytest.mark.parametrize(
    "body",
    [b'{"id": "x", "choices": [{"message": {"role": "assis', b'{"id": "x"}', b'{"choices": []}', b"null", b"[]"],
)
async def test_a_body_that_is_no_chat_completion_is_a_retryable_fault(body: bytes) -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/chat/completions", broken)
    async with serving(app) as url, OpenAIClient("x", url) as client:
        with pytest.raises(RetryableModelError, match="not a chat completion"):
            await client.complete([Message.user("hi")])


async def test_every_injected_fault_fails_its_request_and_only_valid_answers_pass() -> None:
    policy = StubPolicy(fault_pct=100, hang_s=0.3)
    outcomes: dict[str, int] = {}
    async with serve_stub(policy) as url, OpenAIClient("x", url, request_timeout_s=0.1) as client:
        for i in range(60):
            try:
                await client.complete([Message.user(f"{i} + 1")])
                outcomes["ok"] = outcomes.get("ok", 0) + 1
            except RetryableModelError:
                outcomes["retryable"] = outcomes.get("retryable", 0) + 1
    assert set(policy.faults) == set(FAULTS) and policy.answered == 0
    assert outcomes == {"retryable": 60}


@pytest.mark.parametrize("fault", ["reset", "hang", "503", "malformed"])
async def test_ping_passes_a_server_that_answers_badly(fault: str) -> None:
    """Only a server nobody can connect to (or one refusing the key) stops a run before it starts;
    a reset, a hang or a 5xx on `/models` is the kind of fault the run's retries are for."""

    async def models(request: web.Request) -> web.StreamResponse:
        if fault == "hang":
            await asyncio.sleep(1)
        if fault in ("reset", "hang"):
            assert request.transport is not None
            request.transport.abort()
        if fault == "503":
            return web.json_response({"error": {"message": "loading"}}, status=503)
        return web.Response(body=b'{"data": [', content_type="application/json")

    app = web.Application()
    app.router.add_get("/v1/models", models)
    async with serving(app) as url, OpenAIClient("x", url) as client:
        await asyncio.wait_for(client.ping(timeout_s=0.3), 3)
