"""A `ModelClient` over a local model: concurrent requests are batched into one generation.

Environments drive episodes through it exactly as through an HTTP model, so single-turn, multi-turn
and tool environments all train and evaluate the same way. Requests made in the same event-loop turn
(e.g. 256 rollouts started with `asyncio.gather`) become one batch; while a batch generates in a
worker thread, new requests queue for the next one. Requests batch together when they share
temperature, token limit and `top_p`; a request with a `seed` generates alone from a generator seeded
with it, so the same seed gives the same completions whatever else is in flight.

Every completion carries what the model saw and produced in tokens (prompt ids, completion ids and
their sampling logprobs): the runner keeps them on each rollout, and GRPO trains on them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from rlhub.core.types import Completion, Message, Sampling, ToolSpec, Usage
from rlhub.train.generate import sample
from rlhub.train.modeling import Policy


@dataclass
class _Request:
    prompt_ids: list[int]
    sampling: Sampling
    future: asyncio.Future[list[Completion]]


class LocalModelClient:
    """Batched in-process generation for a `Policy`. `max_tokens` applies when the request has none."""

    def __init__(
        self,
        policy: Policy,
        name: str = "local",
        max_tokens: int = 64,
        max_batch: int = 1024,
        generator: torch.Generator | None = None,
    ):
        self.policy = policy
        self.name = name
        self.max_tokens = max_tokens
        self.max_batch = max_batch
        self.generator = generator
        self._pending: list[_Request] = []
        self._worker: asyncio.Task[None] | None = None
        self._prompt_cache: dict[tuple[tuple[Message, ...], str], list[int]] = {}

    async def complete(
        self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] = (), sampling: Sampling = Sampling()
    ) -> list[Completion]:
        prompt_ids = self._encode(messages, tools)
        future: asyncio.Future[list[Completion]] = asyncio.get_running_loop().create_future()
        self._pending.append(_Request(prompt_ids, sampling, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.ensure_future(self._drain())
        return await future

    def _encode(self, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> list[int]:
        key = (tuple(messages), json.dumps([t.model_dump() for t in tools]))
        ids = self._prompt_cache.get(key)
        if ids is None:
            if len(self._prompt_cache) > 50_000:
                self._prompt_cache.clear()
            ids = self._prompt_cache[key] = self.policy.encode_prompt(messages, tools)
        return ids

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # let every request started in this loop turn join the batch
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            groups: dict[tuple[float, int, float | None, int | None], list[_Request]] = {}
            for request in batch:
                s = request.sampling
                alone = None if s.seed is None else id(request)  # a seeded request draws from its own generator
                groups.setdefault((s.temperature, s.max_tokens or self.max_tokens, s.top_p, alone), []).append(request)
            for (temperature, max_tokens, _, _), requests in groups.items():
                try:
                    await asyncio.to_thread(self._run, requests, temperature, max_tokens)
                except Exception as exc:  # fail the callers, not the worker
                    for request in requests:
                        if not request.future.done():
                            request.future.set_exception(exc)

    def _run(self, requests: list[_Request], temperature: float, max_tokens: int) -> None:
        prompts = [r.prompt_ids for r in requests for _ in range(r.sampling.n)]
        seed, top_p = requests[0].sampling.seed, requests[0].sampling.top_p
        generator = self.generator
        if seed is not None:
            generator = torch.Generator(self.policy.device).manual_seed(seed)
        generated = iter(sample(self.policy, prompts, max_tokens, temperature, generator, top_p))
        loop = requests[0].future.get_loop()
        for request in requests:
            choices = []
            for _ in range(request.sampling.n):
                g = next(generated)
                text = self.policy.decode(g.ids)
                for stop in request.sampling.stop:
                    text = text.split(stop, 1)[0]
                choices.append(
                    Completion(
                        message=Message.assistant(text),
                        finish_reason="stop" if g.stopped else "length",
                        usage=Usage(prompt_tokens=len(request.prompt_ids), completion_tokens=len(g.ids)),
                        logprobs=tuple(g.logprobs),
                        token_ids=tuple(g.ids),
                        prompt_token_ids=tuple(request.prompt_ids),
                    )
                )
            loop.call_soon_threadsafe(_resolve, request.future, choices)


def _resolve(future: asyncio.Future[list[Completion]], choices: list[Completion]) -> None:
    if not future.done():
        future.set_result(choices)


__all__ = ["LocalModelClient"]
