"""serve-model: a real HTTP server on 127.0.0.1, spoken to by the official `openai` SDK and by the
rollout engine's own client. The model is the tiny from-scratch one, except where a test needs a
reply the untrained model cannot write (a tool call): there a scripted model stands in."""

import asyncio
import json
from collections.abc import Sequence

import aiohttp
import openai
import pytest
import torch
from aiohttp import web

from rlhub.core.types import Completion, Message, Sampling, ToolSpec
from rlhub.rollout.client import OpenAIClient
from rlhub.train.client import LocalModelClient
from rlhub.train.modeling import load_policy
from rlhub.train.serve import make_app

PROMPT = [{"role": "user", "content": "12+7="}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


async def start(app: web.Application):
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}/v1"


@pytest.fixture
async def server(tiny_path):
    policy = load_policy(tiny_path, "cpu")
    client = LocalModelClient(policy, name="tiny", max_tokens=8)
    client.generator = torch.Generator().manual_seed(0)
    runner, url = await start(make_app(client, policy))
    yield url, client
    await runner.cleanup()


@pytest.fixture
async def sdk(server):
    url, _ = server
    async with openai.AsyncOpenAI(base_url=url, api_key="unused", max_retries=0) as client:
        yield client


class Scripted:
    """A model that writes a fixed reply (what a trained tool-calling model would write)."""

    name = "scripted"

    def __init__(self, reply: str):
        self.reply = reply
        self.tools: Sequence[ToolSpec] = ()

    async def complete(self, messages, *, tools=(), sampling=Sampling()):
        self.tools = tools
        return [Completion(message=Message.assistant(self.reply), finish_reason="stop")] * sampling.n


@pytest.fixture
async def scripted():
    model = Scripted("")
    runner, url = await start(make_app(model))
    async with openai.AsyncOpenAI(base_url=url, api_key="unused", max_retries=0) as client:
        yield client, model
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


async def test_sdk_completion_with_logprobs(sdk):
    reply = await sdk.chat.completions.create(model="tiny", messages=PROMPT, max_tokens=3, logprobs=True, n=2)
    assert reply.object == "chat.completion" and len(reply.choices) == 2
    choice = reply.choices[0]
    assert choice.finish_reason in {"stop", "length"} and choice.message.role == "assistant"
    assert 1 <= len(choice.logprobs.content) <= 3
    assert reply.usage.completion_tokens == sum(len(c.logprobs.content) for c in reply.choices)
    assert [m.id for m in (await sdk.models.list()).data] == ["tiny"]
    assert (await sdk.models.retrieve("tiny")).id == "tiny"


async def test_stream_yields_chunks_then_done(server, sdk):
    stream = await sdk.chat.completions.create(
        model="tiny", messages=PROMPT, max_tokens=6, seed=3, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    whole = await sdk.chat.completions.create(model="tiny", messages=PROMPT, max_tokens=6, seed=3)
    assert "".join(pieces) == whole.choices[0].message.content
    assert len(pieces) > 1  # one chunk per token, not the whole text at once
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-2].choices[0].finish_reason == whole.choices[0].finish_reason
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
    url, _ = server
    async with aiohttp.ClientSession() as session:
        body = {"model": "tiny", "messages": PROMPT, "max_tokens": 2, "stream": True}
        async with session.post(f"{url}/chat/completions", json=body) as response:
            assert response.headers["Content-Type"].startswith("text/event-stream")
            events = (await response.text()).strip().split("\n\n")
    assert events[-1] == "data: [DONE]" and all(e.startswith("data: {") for e in events[:-1])


async def test_seed_gives_the_same_output_and_top_p_is_honoured(sdk):
    async def reply(**kw):
        result = await sdk.chat.completions.create(model="tiny", messages=PROMPT, max_tokens=8, **kw)
        return result.choices[0].message.content

    same = await asyncio.gather(*(reply(seed=7) for _ in range(3)), reply(seed=8), reply())  # one batch
    assert same[0] == same[1] == same[2]
    others = {await reply(seed=s) for s in range(8)}
    assert len(others) > 1  # the seed matters: sampling is not secretly greedy
    greedy = await reply(temperature=0.0)
    assert {await reply(seed=s, top_p=0.0) for s in range(4)} == {greedy}  # the nucleus is the top token


async def test_tools_yield_tool_calls(scripted):
    sdk, model = scripted
    model.reply = 'Let me check.\n<tool_call>{"name": "weather", "arguments": {"city": "Paris"}}</tool_call>'
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    reply = await sdk.chat.completions.create(model="scripted", messages=messages, tools=[WEATHER])
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content == "Let me check."
    (call,) = choice.message.tool_calls
    assert call.type == "function" and call.function.name == "weather" and call.id.startswith("call_")
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert [t.name for t in model.tools] == ["weather"]  # the tools reached the model

    stream = await sdk.chat.completions.create(model="scripted", messages=messages, tools=[WEATHER], stream=True)
    deltas = [c.choices[0] async for c in stream]
    streamed = [d.delta.tool_calls for d in deltas if d.delta.tool_calls]
    assert streamed[0][0].function.name == "weather" and deltas[-1].finish_reason == "tool_calls"

    # the conversation continues with the call and its result, as the SDK sends them back
    model.reply = "Sunny."
    follow = [
        *messages,
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    assert (await sdk.chat.completions.create(model="scripted", messages=follow, tools=[WEATHER])).choices[
        0
    ].message.content == "Sunny."
    model.reply = '<tool_call>{"name": "weather", "arguments": {"city": "Paris"}}</tool_call>'
    unparsed = await sdk.chat.completions.create(
        model="scripted", messages=messages, tools=[WEATHER], tool_choice="none"
    )
    assert unparsed.choices[0].message.tool_calls is None and "<tool_call>" in unparsed.choices[0].message.content
    model.reply = '<tool_call>{"name": weather}</tool_call>'  # malformed: left as text, not guessed
    broken = await sdk.chat.completions.create(model="scripted", messages=messages, tools=[WEATHER])
    assert broken.choices[0].message.tool_calls is None and broken.choices[0].finish_reason == "stop"


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"n": 0}, "n"),
        ({"n": 1000}, "n"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role"),
        ({"messages": [{"role": "user"}]}, "messages[0].content"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id"),
        ({"temperature": 3}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"logit_bias": {"5": 10}}, "logit_bias"),
        ({"presence_penalty": 1.0}, "presence_penalty"),
        ({"tools": [WEATHER], "tool_choice": "required"}, "tool_choice"),
        ({"tools": [{"type": "function"}]}, "tools[0]"),
        ({"extra_body": {"frobnicate": 1}}, "frobnicate"),
    ],
)
async def test_bad_requests_are_openai_400s(sdk, kwargs, param):
    request = {"model": "tiny", "messages": PROMPT, "max_tokens": 2, **kwargs}
    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.chat.completions.create(**request)
    error = caught.value.body
    assert caught.value.status_code == 400 and error["param"] == param
    assert set(error) == {"message", "type", "param", "code"} and error["type"] == "invalid_request_error"


async def test_unknown_model_is_404_not_another_model(server, sdk):
    with pytest.raises(openai.NotFoundError) as caught:
        await sdk.chat.completions.create(model="gpt-4o", messages=PROMPT)
    assert caught.value.body["code"] == "model_not_found" and "gpt-4o" in caught.value.body["message"]
    with pytest.raises(openai.NotFoundError):
        await sdk.models.retrieve("gpt-4o")
    url, _ = server
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/chat/completions", data=b"{not json") as response:
            assert response.status == 400 and (await response.json())["error"]["code"] == "invalid_json"
        async with session.post(f"{url}/chat/completions", json={"messages": PROMPT}) as response:
            assert response.status == 400 and (await response.json())["error"]["param"] == "model"
        async with session.get(f"{url}/chat/completions") as response:
            assert response.status == 405 and "POST" in response.headers["Allow"]
            assert (await response.json())["error"]["type"] == "invalid_request_error"
