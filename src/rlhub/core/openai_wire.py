"""The OpenAI chat-completions wire format, both ways: the one module that knows its JSON.

Clients build request bodies (`request_body`) and read responses (`parse_completions`,
`error_message`); servers (`rlhub serve-model`, the test stub, the bench stub) validate requests
(`parse_chat`) and build responses (`choice_json`, `completion_json`, `completion_body`,
`stream_chunks`, `sse`). Plain functions over dicts: `parse_completions` runs once per model call on
the rollout hot path.

A server understands a request completely or refuses it with an OpenAI-shaped error
(`{"error": {"message", "type", "param", "code"}}`, `ApiError`), which the official SDK raises as
`BadRequestError` / `NotFoundError`: a parameter it cannot honour (`logit_bias`, a forced
`tool_choice`, penalties) is refused, never silently ignored.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rlhub.core.tools import parse_tool_calls
from rlhub.core.types import Completion, Message, Sampling, ToolCall, ToolSpec, Usage

MAX_N = 128
MAX_STOP = 4
ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant", "tool": "tool"}
SUPPORTED = {
    "model",
    "messages",
    "temperature",
    "top_p",
    "n",
    "max_tokens",
    "max_completion_tokens",
    "stop",
    "seed",
    "stream",
    "stream_options",
    "tools",
    "tool_choice",
    "logprobs",
    "user",
    "metadata",
    "store",
    "parallel_tool_calls",
}
NEUTRAL: dict[str, tuple[Any, ...]] = {
    "presence_penalty": (0, 0.0),
    "frequency_penalty": (0, 0.0),
    "top_logprobs": (0,),
    "logit_bias": ({},),
    "response_format": ({"type": "text"},),
    "service_tier": ("auto", "default"),
}
"""Parameters accepted only at the value that changes nothing."""


def request_body(
    model: str, messages: Sequence[Message], tools: Sequence[ToolSpec], sampling: Sampling
) -> dict[str, Any]:
    """The body a client POSTs to `/chat/completions`; fields left at the server's default are not sent.
    (Plain `if`s: twice as fast as a filtered table, and this runs once per model call.)"""
    body: dict[str, Any] = {
        "model": model,
        "messages": [m.to_openai() for m in messages],
        "temperature": sampling.temperature,
    }
    if sampling.n != 1:
        body["n"] = sampling.n
    if sampling.top_p is not None:
        body["top_p"] = sampling.top_p
    if sampling.max_tokens is not None:
        body["max_tokens"] = sampling.max_tokens
    if sampling.seed is not None:
        body["seed"] = sampling.seed
    if sampling.stop:
        body["stop"] = list(sampling.stop)
    if sampling.logprobs:
        body["logprobs"] = True
    if tools:
        body["tools"] = [t.to_openai() for t in tools]
    return body


class ApiError(Exception):
    """An error answered to the client in OpenAI's shape."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        param: str | None = None,
        code: str | None = None,
        type: str = "invalid_request_error",
    ):
        super().__init__(message)
        self.message, self.status, self.param, self.code, self.type = message, status, param, code, type

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def model_not_found(name: str) -> ApiError:
    return ApiError(
        f"The model `{name}` does not exist: this server serves one model.",
        status=404,
        param="model",
        code="model_not_found",
    )


@dataclass(frozen=True)
class ChatRequest:
    """A validated chat-completions request."""

    messages: list[Message]
    tools: list[ToolSpec]
    sampling: Sampling
    stream: bool
    include_usage: bool
    parse_tools: bool


def parse_chat(body: object, model: str) -> ChatRequest:
    """Validate a request body for the model named `model`; raises `ApiError`."""
    if not isinstance(body, dict):
        raise ApiError("The request body must be a JSON object.", code="invalid_json")
    body = {k: v for k, v in body.items() if v is not None}
    for key, value in body.items():
        if key in NEUTRAL:
            if value not in NEUTRAL[key]:
                raise ApiError(f"This server does not support `{key}`.", param=key, code="unsupported_parameter")
        elif key not in SUPPORTED:
            raise ApiError(f"Unrecognized request argument supplied: {key}", param=key, code="unknown_parameter")
    if "model" not in body:
        raise ApiError("You must provide a model parameter.", param="model", code="missing_required_parameter")
    if body["model"] != model:
        raise model_not_found(str(body["model"]))
    messages = _messages(body.get("messages"))
    tools = _tools(body.get("tools", []))
    parse_tools = _tool_choice(body.get("tool_choice", "auto")) and bool(tools)
    stop = body.get("stop", [])
    stop = [stop] if isinstance(stop, str) else stop
    if not isinstance(stop, list) or len(stop) > MAX_STOP or not all(isinstance(s, str) and s for s in stop):
        raise ApiError(f"`stop` must be a string or up to {MAX_STOP} non-empty strings.", param="stop")
    stream_options = body.get("stream_options", {})
    if not isinstance(stream_options, dict):
        raise ApiError("`stream_options` must be an object.", param="stream_options", code="invalid_type")
    stream = _boolean(body, "stream")
    if stream_options and not stream:
        raise ApiError("`stream_options` is only allowed with `stream: true`.", param="stream_options")
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    sampling = Sampling(
        temperature=_number(body, "temperature", 1.0, 0.0, 2.0),
        top_p=_number(body, "top_p", None, 0.0, 1.0),
        max_tokens=None if max_tokens is None else _integer({"max_tokens": max_tokens}, "max_tokens", 1, None),
        n=_integer(body, "n", 1, MAX_N) if "n" in body else 1,
        seed=_integer(body, "seed", None, None) if "seed" in body else None,
        stop=tuple(stop),
        logprobs=_boolean(body, "logprobs"),
    )
    return ChatRequest(messages, tools, sampling, stream, _boolean(stream_options, "include_usage"), parse_tools)


def _boolean(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise ApiError(f"`{key}` must be a boolean.", param=key, code="invalid_type")
    return value


def _number(body: dict[str, Any], key: str, default: float | None, low: float, high: float) -> Any:
    value = body.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiError(f"`{key}` must be a number.", param=key, code="invalid_type")
    if not low <= value <= high:
        raise ApiError(f"`{key}` must be between {low:g} and {high:g}, not {value}.", param=key, code="invalid_value")
    return float(value)


def _integer(body: dict[str, Any], key: str, low: int | None, high: int | None) -> int:
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(f"`{key}` must be an integer.", param=key, code="invalid_type")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"at least {low}" if high is None else f"between {low} and {high}"
        raise ApiError(f"`{key}` must be {bounds}, not {value}.", param=key, code="invalid_value")
    return value


def _messages(raw: object) -> list[Message]:
    if raw is None:
        raise ApiError("You must provide `messages`.", param="messages", code="missing_required_parameter")
    if not isinstance(raw, list):
        raise ApiError("`messages` must be an array.", param="messages", code="invalid_type")
    if not raw:
        raise ApiError("`messages` must contain at least one message.", param="messages", code="empty_array")
    return [_message(m, f"messages[{i}]") for i, m in enumerate(raw)]


def _message(raw: object, where: str) -> Message:
    if not isinstance(raw, dict):
        raise ApiError(f"`{where}` must be an object.", param=where, code="invalid_type")
    role = ROLES.get(raw.get("role"))  # type: ignore[arg-type]
    if role is None:
        allowed = ", ".join(ROLES)
        raise ApiError(
            f"`{where}.role` must be one of {allowed}, not {raw.get('role')!r}.",
            param=f"{where}.role",
            code="invalid_value",
        )
    content = raw.get("content")
    if isinstance(content, list):
        if not all(isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str) for p in content):
            raise ApiError(
                f"`{where}.content`: this server reads text parts only.", param=f"{where}.content", code="invalid_value"
            )
        content = "".join(p["text"] for p in content)
    tool_calls = _message_tool_calls(raw.get("tool_calls"), where) if role == "assistant" else ()
    if content is None and not tool_calls:
        raise ApiError(f"`{where}.content` is required.", param=f"{where}.content", code="missing_required_parameter")
    if content is not None and not isinstance(content, str):
        raise ApiError(f"`{where}.content` must be a string or text parts.", param=f"{where}.content")
    tool_call_id = raw.get("tool_call_id")
    if role == "tool" and not isinstance(tool_call_id, str):
        raise ApiError(
            f"`{where}.tool_call_id` is required for a tool message.",
            param=f"{where}.tool_call_id",
            code="missing_required_parameter",
        )
    name = raw.get("name")
    if name is not None and not isinstance(name, str):
        raise ApiError(f"`{where}.name` must be a string.", param=f"{where}.name", code="invalid_type")
    return Message(
        role=role,
        content=content or "",
        tool_calls=tool_calls,
        tool_call_id=tool_call_id if role == "tool" else None,
        name=name,
    )


def _message_tool_calls(raw: object, where: str) -> tuple[ToolCall, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ApiError(f"`{where}.tool_calls` must be an array.", param=f"{where}.tool_calls", code="invalid_type")
    calls = []
    for i, call in enumerate(raw):
        function = call.get("function") if isinstance(call, dict) else None
        if (
            not isinstance(function, dict)
            or not isinstance(call.get("id"), str)
            or not isinstance(function.get("name"), str)
            or not isinstance(function.get("arguments", "{}"), str)
        ):
            param = f"{where}.tool_calls[{i}]"
            raise ApiError(f"`{param}` must be {{id, type, function: {{name, arguments}}}}.", param=param)
        calls.append(ToolCall(id=call["id"], name=function["name"], arguments=function.get("arguments", "{}")))
    return tuple(calls)


def _tools(raw: object) -> list[ToolSpec]:
    if not isinstance(raw, list):
        raise ApiError("`tools` must be an array.", param="tools", code="invalid_type")
    tools = []
    for i, tool in enumerate(raw):
        function = tool.get("function") if isinstance(tool, dict) else None
        if (
            not isinstance(tool, dict)
            or tool.get("type", "function") != "function"
            or not isinstance(function, dict)
            or not isinstance(function.get("name"), str)
            or not isinstance(function.get("description", ""), str)
            or not isinstance(function.get("parameters", {}), dict)
        ):
            raise ApiError(
                f"`tools[{i}]` must be {{type: function, function: {{name, description, parameters}}}}.",
                param=f"tools[{i}]",
            )
        tools.append(
            ToolSpec(
                name=function["name"],
                description=function.get("description", ""),
                parameters=function.get("parameters") or {"type": "object", "properties": {}},
            )
        )
    return tools


def _tool_choice(raw: object) -> bool:
    """Whether the model's tool calls are parsed: `auto`; `none` leaves them as text. A forced call
    (`required`, a named function) cannot be guaranteed by sampling, so it is refused."""
    if raw in ("auto", "none"):
        return raw == "auto"
    raise ApiError(
        "This server supports `tool_choice` `auto` and `none` only.", param="tool_choice", code="unsupported_value"
    )


def choice_message(completion: Completion, parse_tools: bool) -> tuple[str | None, list[ToolCall], str | None]:
    """(content, tool calls, finish reason) of a choice. With tools offered, calls written as text
    (Hermes `<tool_call>` JSON, a bare JSON call) become `tool_calls`; the text before them stays."""
    message, finish = completion.message, completion.finish_reason
    calls = list(message.tool_calls)
    content: str | None = message.content
    if parse_tools and not calls:
        calls, errors = parse_tool_calls(message)
        if errors:  # a malformed call is not guessed at: the text goes back as it was written
            calls = []
        elif calls:
            content = message.content.split("<tool_call>", 1)[0].strip() if "<tool_call>" in message.content else ""
    if calls:
        calls = [call.model_copy(update={"id": f"call_{uuid.uuid4().hex[:24]}"}) for call in calls]
        return content or None, calls, "tool_calls"
    return content, [], finish


def choice_json(
    index: int,
    content: str | None,
    calls: Sequence[ToolCall] = (),
    finish_reason: str | None = "stop",
    logprobs: Sequence[tuple[str, float]] | None = None,
) -> dict[str, Any]:
    """One choice of a `chat.completion`; `logprobs` are (token text, log-probability) pairs."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = [c.to_openai() for c in calls]
    tokens = None if logprobs is None else [{"token": t, "logprob": lp, "top_logprobs": []} for t, lp in logprobs]
    return {
        "index": index,
        "message": message,
        "finish_reason": finish_reason,
        "logprobs": None if tokens is None else {"content": tokens},
    }


def usage_json(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def completion_json(model: str, choices: list[dict[str, Any]], usage: dict[str, int]) -> dict[str, Any]:
    """The `chat.completion` object around `choices` (from `choice_json`)."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": usage,
    }


def _usage(completions: Sequence[Completion]) -> dict[str, int]:
    prompt = completions[0].usage.prompt_tokens if completions else 0
    return usage_json(prompt, sum(c.usage.completion_tokens for c in completions))


def completion_body(
    model: str,
    request: ChatRequest,
    completions: Sequence[Completion],
    token_text: Callable[[int], str] | None,
) -> dict[str, Any]:
    """The `chat.completion` answering `request` with a model's `completions`; `token_text` renders
    token ids for `logprobs`."""
    choices = []
    for i, completion in enumerate(completions):
        content, calls, finish = choice_message(completion, request.parse_tools)
        logprobs = _logprobs(completion, token_text) if request.sampling.logprobs else None
        choices.append(choice_json(i, content, calls, finish, logprobs))
    return completion_json(model, choices, _usage(completions))


def _logprobs(completion: Completion, token_text: Callable[[int], str] | None) -> list[tuple[str, float]]:
    if completion.logprobs is None or completion.token_ids is None or token_text is None:
        raise ApiError("This model does not return log-probabilities.", param="logprobs", code="unsupported_value")
    return [(token_text(t), lp) for t, lp in zip(completion.token_ids, completion.logprobs, strict=True)]


def stream_chunks(
    model: str,
    request: ChatRequest,
    completions: Sequence[Completion],
    pieces: Callable[[Completion], list[str]],
) -> list[dict[str, Any]]:
    """The `chat.completion.chunk` objects of a streamed reply: per choice a role chunk, the content
    in `pieces` (one per token where the model has tokens), tool calls, then the finish reason."""
    base = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion.chunk", "created": int(time.time())}
    base["model"] = model

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": index, "delta": delta, "finish_reason": finish, "logprobs": None}]}

    chunks = []
    for i, completion in enumerate(completions):
        content, calls, finish = choice_message(completion, request.parse_tools)
        chunks.append(chunk(i, {"role": "assistant", "content": ""}))
        if content and calls:
            chunks.append(chunk(i, {"content": content}))
        elif content:
            chunks += [chunk(i, {"content": piece}) for piece in pieces(completion) if piece]
        if calls:
            chunks.append(chunk(i, {"tool_calls": [{"index": k, **c.to_openai()} for k, c in enumerate(calls)]}))
        chunks.append(chunk(i, {}, finish))
    if request.include_usage:
        chunks.append({**base, "choices": [], "usage": _usage(completions)})
    return chunks


def sse(data: dict[str, Any] | str) -> bytes:
    """One Server-Sent Event carrying a JSON object (or the literal `[DONE]`)."""
    return f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode()


def parse_completions(body: dict[str, Any]) -> list[Completion]:
    """The choices of a chat-completion response as `Completion`s (usage is split evenly across choices).

    Raises `ValueError` (or `KeyError`, `TypeError`...) when `body` is not a chat completion.
    """
    choices = body["choices"]
    if not isinstance(choices, list) or not choices:
        raise ValueError(f"'choices' must be a non-empty list, not {choices!r:.80}")
    usage = body.get("usage") or {}
    share = max(len(choices), 1)
    prompt_tokens = usage.get("prompt_tokens") or 0
    completion_tokens = (usage.get("completion_tokens") or 0) // share
    out = []
    for choice in choices:
        message = choice["message"]
        calls = tuple(
            ToolCall(id=c.get("id") or f"call_{i}", name=c["function"]["name"], arguments=c["function"]["arguments"])
            for i, c in enumerate(message.get("tool_calls") or ())
        )
        logprobs = choice.get("logprobs")
        out.append(
            Completion(
                message=Message(role="assistant", content=message.get("content") or "", tool_calls=calls),
                finish_reason=choice.get("finish_reason"),
                usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens),
                logprobs=tuple(t["logprob"] for t in logprobs["content"])
                if logprobs and logprobs.get("content")
                else None,
            )
        )
    return out


def error_message(raw: bytes) -> str:
    """The message of an error response, whatever its shape (OpenAI's, a bare object, text)."""
    try:
        body = json.loads(raw)
        error = body.get("error", body) if isinstance(body, dict) else body
        message = error.get("message") if isinstance(error, dict) else error
        return str(message or body)[:500]
    except ValueError:
        return raw[:500].decode(errors="replace") or "(empty body)"


__all__ = [
    "ApiError",
    "ChatRequest",
    "choice_json",
    "completion_body",
    "completion_json",
    "error_message",
    "model_not_found",
    "parse_chat",
    "parse_completions",
    "request_body",
    "sse",
    "stream_chunks",
    "usage_json",
]
