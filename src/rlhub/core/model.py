"""The model boundary. Environments drive episodes through this protocol; `rlhub.rollout` implements it
(OpenAI-compatible HTTP, scripted mock) and `rlhub.train` adds a local model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from rlhub.core.types import Completion, Message, Sampling, ToolSpec


@runtime_checkable
class ModelClient(Protocol):
    """Anything that turns a conversation into `sampling.n` completions."""

    name: str

    async def complete(
        self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] = (), sampling: Sampling = Sampling()
    ) -> list[Completion]: ...


__all__ = ["ModelClient"]
