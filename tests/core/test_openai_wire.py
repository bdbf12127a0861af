"""The OpenAI wire format: what the client sends, the server accepts; what a server sends, the client reads.

Hand-written bodies in OpenAI's documented shape check each side against the format itself, not just
against the other side."""

import json

import pytest

from rlhub.core.openai_wire import (
    ApiError,
    choice_json,
    completion_json,
    error_message,
    parse_chat,
    parse_completions,
    request_body,
    usage_json,
)
from rlhub.core.types import Message, Sampling, ToolCall, ToolSpec

LOOKUP = ToolSpec(name="lookup", description="find", parameters={"type": "object", "properties": {"k": {}}})


def test_a_request_the_client_builds_is_one_the_server_reads_back() -> None:
    call = ToolCall(id="c1", name="lookup", arguments='{"k": 1}')
    messages = [
        Message.system("be brief"),
        Message.user("2 + 2?"),
        Message.assistant(tool_calls=(call,)),
        Message.tool("4", "c1", "lookup"),
    ]
    sampling = Sampling(temperature=0.5, top_p=0.9, max_tokens=7, n=3, seed=11, stop=("\n",), logprobs=True)
    body = json.loads(json.dumps(request_body("m", messages, [LOOKUP], sampling)))
    request = parse_chat(body, "m")
    assert request.messages == messages and request.tools == [LOOKUP] and request.sampling == sampling
    assert request.parse_tools and not request.stream


def test_defaults_are_left_to_the_server() -> None:
    body = request_body("m", [Message.user("hi")], [], Sampling())
    assert body == {"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 1.0}


def test_parse_openai_response_shape() -> None:
    body = {
        "choices": [
            {
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "c9", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
                },
                "finish_reason": "tool_calls",
                "logprobs": {"content": [{"token": "a", "logprob": -0.5}]},
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 3},
    }
    [c] = parse_completions(body)
    assert c.message.content == "" and c.message.tool_calls[0].id == "c9"
    assert c.logprobs == (-0.5,) and c.usage.completion_tokens == 3


def test_a_response_a_server_builds_is_one_the_client_reads_back() -> None:
    call = ToolCall(id="c1", name="lookup", arguments='{"k": 1}')
    choices = [
        choice_json(0, "four", logprobs=[("four", -0.25)]),
        choice_json(1, None, [call], "tool_calls"),
    ]
    body = json.loads(json.dumps(completion_json("m", choices, usage_json(5, 8))))
    assert body["usage"]["total_tokens"] == 13 and body["object"] == "chat.completion"
    answer, tool = parse_completions(body)
    assert (answer.message.content, answer.finish_reason, answer.logprobs) == ("four", "stop", (-0.25,))
    assert tool.message.tool_calls == (call,) and tool.finish_reason == "tool_calls" and tool.logprobs is None
    assert answer.usage.prompt_tokens == 5 and answer.usage.completion_tokens == tool.usage.completion_tokens == 4


@pytest.mark.parametrize(
    "body",
    [{}, {"choices": []}, {"choices": None}, {"choices": [{}]}, {"choices": [{"message": {"tool_calls": [{}]}}]}],
)
def test_a_body_that_is_not_a_chat_completion_raises(body: dict) -> None:
    with pytest.raises((ValueError, KeyError, TypeError)):
        parse_completions(body)


def test_error_message_reads_any_error_shape() -> None:
    api = ApiError("no such model", status=404, param="model", code="model_not_found")
    assert error_message(json.dumps(api.body()).encode()) == "no such model"
    assert error_message(b'{"detail": "x"}') == "{'detail': 'x'}"
    assert error_message(b"Bad Gateway") == "Bad Gateway"
    assert error_message(b"") == "(empty body)"
