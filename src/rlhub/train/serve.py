"""An OpenAI-compatible chat-completions server for a local model (aiohttp).

`POST /v1/chat/completions`, `GET /v1/models` and `GET /v1/models/{id}`, checked with the official
`openai` SDK. Requests that arrive together are generated in one batch by `LocalModelClient`, so
`rlhub eval -c 64` against it runs 64 rollouts per forward pass. `seed` makes a request generate
alone from its own generator (same seed, same completion), `top_p` is nucleus sampling. With
`tools`, the tools are rendered by the model's chat template and calls the model writes as text
(Hermes `<tool_call>` JSON) come back as `tool_calls`. `stream: true` answers Server-Sent Events
ending with `data: [DONE]`, one chunk per token; the chunks are sent once the batch has generated
(tokens are not pushed while they are sampled). Every refusal is an OpenAI-shaped error (see
`rlhub.core.openai_wire`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from rlhub.core.model import ModelClient
from rlhub.core.openai_wire import ApiError, completion_body, model_not_found, parse_chat, sse, stream_chunks
from rlhub.core.types import Completion
from rlhub.train.client import LocalModelClient
from rlhub.train.modeling import Policy, load_policy

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_app(client: ModelClient, policy: Policy | None = None) -> web.Application:
    """The server for `client` under the name `client.name`; `policy` (the local model's tokenizer)
    gives streamed chunks per token and `logprobs` their token text."""
    created = int(time.time())
    card = {"id": client.name, "object": "model", "created": created, "owned_by": "rlhub"}

    async def models(request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [card]})

    async def model(request: web.Request) -> web.Response:
        if request.match_info["name"] != client.name:
            raise model_not_found(request.match_info["name"])
        return web.json_response(card)

    async def chat(request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            raise ApiError("We could not parse the JSON body of your request.", code="invalid_json") from None
        chat_request = parse_chat(body, client.name)
        completions = await client.complete(
            chat_request.messages, tools=chat_request.tools, sampling=chat_request.sampling
        )
        if not chat_request.stream:
            token_text = None if policy is None else (lambda t: policy.tokenizer.decode([t]))
            return web.json_response(completion_body(client.name, chat_request, completions, token_text))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        for chunk in stream_chunks(client.name, chat_request, completions, lambda c: _pieces(c, policy)):
            await response.write(sse(chunk))
        await response.write(sse("[DONE]"))
        await response.write_eof()
        return response

    app = web.Application(middlewares=[_openai_errors])
    app.router.add_get("/v1/models", models)
    app.router.add_get("/v1/models/{name}", model)
    app.router.add_post("/v1/chat/completions", chat)
    return app


@web.middleware
async def _openai_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves in OpenAI's shape: refusals as raised, unknown routes as 404/405, crashes as 500."""
    try:
        return await handler(request)
    except ApiError as exc:
        return web.json_response(exc.body(), status=exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        kind = "not_found_error" if exc.status == 404 else "invalid_request_error"
        error = ApiError(f"{request.method} {request.path}: {exc.reason}", status=exc.status, type=kind)
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return web.json_response(error.body(), status=exc.status, headers=allow)
    except Exception as exc:  # the traceback goes to the server's log, the client gets the shape
        request.app.logger.exception("chat completion failed")
        error = ApiError(f"the model failed: {type(exc).__name__}: {exc}", status=500, type="server_error")
        return web.json_response(error.body(), status=500)


def _pieces(completion: Completion, policy: Policy | None) -> list[str]:
    """The completion's text cut at token boundaries (whole, without a tokenizer)."""
    text = completion.message.content
    if policy is None or not completion.token_ids:
        return [text]
    pieces, done = [], 0
    ids = list(completion.token_ids)
    for k in range(1, len(ids) + 1):
        end = min(len(policy.decode(ids[:k])), len(text))
        if end > done:
            pieces.append(text[done:end])
            done = end
    if done < len(text):
        pieces.append(text[done:])
    return pieces


def serve(path: Path, host: str, port: int, name: str, device: str = "auto", max_tokens: int = 256) -> None:
    policy = load_policy(path, device)
    client = LocalModelClient(policy, name=name, max_tokens=max_tokens)
    web.run_app(make_app(client, policy), host=host, port=port, print=None)


__all__ = ["make_app", "serve"]
