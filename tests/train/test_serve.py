"""serve-model: a real HTTP server on 127.0.0.1 that the rollout engine's OpenAI client can evaluate."""

import asyncio

import aiohttp
import pytest
import torch
from aiohttp import web

from rlhub.core.types import Message, Sampling
from rlhub.rollout.client import OpenAIClient
from rlhub.train.client import LocalModelClient
from rlhub.train.modeling import load_policy
from rlhub.train.serve import make_app


@pytest.fixture
async def server(tiny_path):
    client = LocalModelClient(load_policy(tiny_path, "cpu"), name="tiny", max_tokens=4)
    client.generator = torch.Generator().manual_seed(0)
    runner = web.AppRunner(make_app(client))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/v1", client
    await runner.cleanup()


async def test_openai_client_gets_completions(server):
    url, local = server
    calls = []
    original = local._run
    local._run = lambda requests, t, m: (calls.append(len(requests)), original(requests, t, m))[1]
    async with OpenAIClient("tiny", url) as client:
        await client.ping()
        results = await asyncio.gather(
            *(client.complete([Message.user(f"{i}+2=")], sampling=Sampling(temperature=0.0, n=2)) for i in range(6))
        )
    assert all(len(r) == 2 and r[0].message.content == r[1].message.content for r in results)  # greedy
    assert max(calls) > 1  # concurrent requests shared a generation batch


async def test_bad_requests_get_400(server):
    url, _ = server
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/chat/completions", json={"model": "tiny"}) as response:
            assert response.status == 400
            assert "bad request" in (await response.json())["error"]["message"]
        async with session.post(
            f"{url}/chat/completions",
            json={"messages": [{"role": "user", "content": "1+1="}], "max_tokens": 3, "logprobs": True},
        ) as response:
            body = await response.json()
    choice = body["choices"][0]
    assert body["object"] == "chat.completion" and choice["finish_reason"] in {"stop", "length"}
    assert len(choice["logprobs"]["content"]) == body["usage"]["completion_tokens"] <= 3
