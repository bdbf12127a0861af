"""An OpenAI-compatible chat-completions server for a local model (aiohttp).

`POST /v1/chat/completions` and `GET /v1/models`. Requests that arrive together are generated in one
batch by `LocalModelClient`, so `rlhub eval -c 64` against it runs 64 rollouts per forward pass.
Tools are rendered by the model's chat template; tool calls come back as text in `content`
(environments parse Hermes-style calls from text). Not covered: streaming, top_p, logit bias.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from aiohttp import web

from rlhub.core.types import Message, Sampling, ToolSpec
from rlhub.train.client import LocalModelClient
from rlhub.train.modeling import load_policy


def make_app(client: LocalModelClient) -> web.Application:
    async def models(request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": client.name, "object": "model"}]})

    async def chat(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            messages = [Message.model_validate(_message(m)) for m in body["messages"]]
            tools = [ToolSpec.model_validate(t["function"]) for t in body.get("tools") or ()]
            sampling = Sampling(
                temperature=float(body.get("temperature", 1.0)),
                max_tokens=body.get("max_tokens") or body.get("max_completion_tokens"),
                n=int(body.get("n", 1)),
                stop=tuple([body["stop"]] if isinstance(body.get("stop"), str) else body.get("stop") or ()),
            )
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response(
                {"error": {"message": f"bad request: {exc}", "type": "invalid_request"}}, status=400
            )
        completions = await client.complete(messages, tools=tools, sampling=sampling)
        choices: list[dict[str, Any]] = []
        for i, c in enumerate(completions):
            choice: dict[str, Any] = {
                "index": i,
                "message": {"role": "assistant", "content": c.message.content},
                "finish_reason": c.finish_reason,
            }
            if body.get("logprobs") and c.logprobs is not None and c.token_ids is not None:
                tokens = [client.policy.tokenizer.decode([t]) for t in c.token_ids]
                choice["logprobs"] = {
                    "content": [{"token": t, "logprob": lp} for t, lp in zip(tokens, c.logprobs, strict=True)]
                }
            choices.append(choice)
        usage = {
            "prompt_tokens": completions[0].usage.prompt_tokens,
            "completion_tokens": sum(c.usage.completion_tokens for c in completions),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return web.json_response(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": client.name,
                "choices": choices,
                "usage": usage,
            }
        )

    app = web.Application()
    app.router.add_get("/v1/models", models)
    app.router.add_post("/v1/chat/completions", chat)
    return app


def _message(raw: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI message dict reduced to what `Message` holds (tool calls are text for local models)."""
    content = raw.get("content") or ""
    if isinstance(content, list):
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return {"role": raw["role"], "content": content, "tool_call_id": raw.get("tool_call_id"), "name": raw.get("name")}


def serve(path: Path, host: str, port: int, name: str, device: str = "auto", max_tokens: int = 256) -> None:
    client = LocalModelClient(load_policy(path, device), name=name, max_tokens=max_tokens)
    web.run_app(make_app(client), host=host, port=port, print=None)


__all__ = ["make_app", "serve"]
