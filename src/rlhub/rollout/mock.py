"""Offline models: `MockClient` plays an environment's oracle on a fixed share of its tasks and a wrong
answer on the rest; `ScriptedClient` replays responses you give it. Both need no network and no keys.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections.abc import Callable, Iterable, Sequence

from rlhub.core.env import Environment
from rlhub.core.errors import ModelError
from rlhub.core.types import Completion, Message, Sampling, Task, ToolSpec, Usage

Reply = str | Message | Completion | Exception


def _completion(reply: Reply, messages: Sequence[Message]) -> Completion:
    if isinstance(reply, Exception):
        raise reply
    if isinstance(reply, Completion):
        return reply
    message = Message.assistant(reply) if isinstance(reply, str) else reply
    usage = Usage(
        prompt_tokens=sum(len(m.content.split()) for m in messages), completion_tokens=len(message.content.split())
    )
    return Completion(message=message, finish_reason="stop", usage=usage)


class ScriptedClient:
    """Replies from a list (in order, then `ModelError`), or from `policy(messages)`.

    An `Exception` in place of a reply is raised instead, so tests can script server failures.
    """

    def __init__(self, replies: Iterable[Reply] | Callable[[Sequence[Message]], Reply], *, name: str = "scripted"):
        self.name = name
        self._policy = replies if callable(replies) else None
        self._replies = iter(()) if callable(replies) else iter(replies)
        self.calls: list[tuple[Message, ...]] = []

    async def complete(
        self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] = (), sampling: Sampling = Sampling()
    ) -> list[Completion]:
        self.calls.append(tuple(messages))
        out = []
        for _ in range(sampling.n):
            if self._policy is not None:
                reply = self._policy(messages)
            else:
                try:
                    reply = next(self._replies)
                except StopIteration:
                    raise ModelError("scripted client ran out of replies") from None
            out.append(_completion(reply, messages))
        return out


class MockClient:
    """A model that is right on `accuracy` of the given tasks (that share of distinct prompts, by hash).

    On its tasks it says what `env.oracle` says (tool calls included); on the others it gives one of
    the environment's non-empty `wrong_responses` (chosen by task hash). The conversation is matched back to its
    task by the prompt messages, so the same client serves any number of concurrent episodes.
    `delay_s` simulates model latency.
    """

    def __init__(
        self, env: Environment, tasks: Sequence[Task], accuracy: float = 0.6, *, seed: int = 0, delay_s: float = 0.0
    ):
        if not 0.0 <= accuracy <= 1.0:
            raise ValueError("accuracy must be within [0, 1]")
        self.name = "mock"
        self.settings = {"mock_accuracy": accuracy, "mock_seed": seed}
        """Part of a run log's identity: another accuracy or seed gives other results."""
        self.env = env
        self.delay_s = delay_s
        distinct = {_key(t.prompt): t for t in tasks}.values()  # equal prompts must get the same verdict
        ranked = sorted(distinct, key=lambda t: hashlib.sha256(f"{seed}:{t.content_hash()}".encode()).digest())
        right = round(accuracy * len(ranked))
        self._tasks = {_key(t.prompt): (t, i < right) for i, t in enumerate(ranked)}
        self._lengths = sorted({len(t.prompt) for t in tasks})

    def is_right(self, task: Task) -> bool:
        return self._tasks[_key(task.prompt)][1]

    def _find(self, messages: Sequence[Message]) -> tuple[Task, bool]:
        body = list(itertools.dropwhile(lambda m: m.role == "system", messages))
        for length in self._lengths:
            found = self._tasks.get(_key(body[:length]))
            if found is not None:
                return found
        raise ModelError("mock model: the conversation matches none of its tasks")

    async def complete(
        self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] = (), sampling: Sampling = Sampling()
    ) -> list[Completion]:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        task, right = self._find(messages)
        if right:
            reply: Reply = self.env.oracle(task, messages)
        else:
            wrong = [w for w in self.env.wrong_responses(task) if w.strip()] or [""]
            reply = wrong[int(task.content_hash(), 16) % len(wrong)]
        return [_completion(reply, messages) for _ in range(sampling.n)]


def _key(prompt: Sequence[Message]) -> tuple[tuple[str, str], ...]:
    return tuple((m.role, m.content) for m in prompt)


__all__ = ["MockClient", "Reply", "ScriptedClient"]
