"""The model boundary. Environments drive episodes through this protocol; `rlhub.rollout` implements it
(OpenAI-compatible HTTP, scripted mock) and `rlhub.train` adds a local model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from rlhub.core.types import Completion, Message, Sampling, ToolSpec


@runtime_checkable
class ModelClient(Protocol):
    """Anything that turns a conversation into `sampling.n` completions."""

    name: str

    async def complete(
        self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] = (), sampling: Sampling = Sampling()
    ) -> list[Completion]: ...


class PolicyClient:
    """A model whose next message is `policy(messages)`: the oracle, a fixed reply, a test script.
    The tools offered on the last call are kept in `tools` (what an exported chat should list)."""

    name = "policy"

    def __init__(self, policy: Callable[[Sequence[Message]], Message]):
        self.policy = policy
        self.tools: Sequence[ToolSpec] = ()

    async def complete(
        self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] = (), sampling: Sampling = Sampling()
    ) -> list[Completion]:
        self.tools = tools
        return [Completion(message=self.policy(messages))]


__all__ = ["ModelClient", "PolicyClient"]
