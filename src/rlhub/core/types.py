"""Frozen wire types: everything here crosses a process, disk or HTTP boundary.

All models are immutable pydantic models that forbid unknown fields, so a typo in a log or an API
payload is an error rather than silently dropped data. `SCHEMA_VERSION` is written into every log
header and bumped whenever a field changes meaning.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = 1

JSON = Any
"""Any JSON-serialisable value (reference answers, tool results, info dicts)."""


class Frozen(BaseModel):
    """Base for wire types: immutable, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ToolCall(Frozen):
    """One function call requested by the model. `arguments` is the raw JSON text, as on the wire."""

    id: str
    name: str
    arguments: str = "{}"

    def parsed_arguments(self) -> dict[str, Any]:
        """Arguments as a dict; raises ValueError when they are not a JSON object."""
        value = json.loads(self.arguments or "{}")
        if not isinstance(value, dict):
            raise ValueError("tool arguments must be a JSON object")
        return value

    def to_openai(self) -> dict[str, Any]:
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


Role = Literal["system", "user", "assistant", "tool"]


class Message(Frozen):
    """A chat message in OpenAI's shape (tool results carry the id of the call they answer)."""

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None

    @classmethod
    def system(cls, content: str) -> Message:
        return cls(role="system", content=content)

    @classmethod
    def user(cls, content: str) -> Message:
        return cls(role="user", content=content)

    @classmethod
    def assistant(cls, content: str = "", tool_calls: tuple[ToolCall, ...] = ()) -> Message:
        return cls(role="assistant", content=content, tool_calls=tool_calls)

    @classmethod
    def tool(cls, content: str, tool_call_id: str, name: str | None = None) -> Message:
        return cls(role="tool", content=content, tool_call_id=tool_call_id, name=name)

    def to_openai(self) -> dict[str, Any]:
        """The dict an OpenAI-compatible chat-completions endpoint expects."""
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = [c.to_openai() for c in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            out["name"] = self.name
        return out


class ToolSpec(Frozen):
    """A tool offered to the model: name, description and a JSON schema of its parameters."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})

    def to_openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


class Sampling(Frozen):
    """Sampling parameters sent to the model. `None` means the server's default."""

    temperature: float = 1.0
    top_p: float | None = None
    max_tokens: int | None = None
    n: int = 1
    seed: int | None = None
    stop: tuple[str, ...] = ()
    logprobs: bool = False


class Usage(Frozen):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Completion(Frozen):
    """One choice returned by a model. Token ids (of the prompt as the model read it and of the
    completion) and the completion's logprobs are filled when the client has them: training needs them."""

    message: Message
    finish_reason: str | None = None
    usage: Usage = Usage()
    logprobs: tuple[float, ...] | None = None
    token_ids: tuple[int, ...] | None = None
    prompt_token_ids: tuple[int, ...] | None = None


def _as_messages(value: Any) -> Any:
    if isinstance(value, str):
        return (Message.user(value),)
    return value


class Task(Frozen):
    """One task: a pure function of (environment version, config, split, seed, index).

    Environments build it with just `prompt` and `answer`; the environment fills in where it came from.
    A `str` prompt becomes a single user message.
    """

    prompt: tuple[Message, ...]
    answer: JSON = None
    id: str = ""
    env: str = ""
    split: str = "train"
    seed: int = 0
    index: int = 0
    info: dict[str, JSON] = Field(default_factory=dict)
    tags: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _coerce_prompt(cls, data: Any) -> Any:
        if isinstance(data, dict) and "prompt" in data:
            data = {**data, "prompt": _as_messages(data["prompt"])}
        return data

    def content_hash(self) -> str:
        """Hash of what the model sees and what is expected: equal content, equal hash."""
        payload = json.dumps(
            {"prompt": [m.model_dump() for m in self.prompt], "answer": self.answer}, sort_keys=True, default=str
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


class ScoreStatus(StrEnum):
    """Why a score is what it is: a wrong answer and an unreadable one are different failures."""

    correct = "correct"
    incorrect = "incorrect"
    unparseable = "unparseable"
    timeout = "timeout"
    error = "error"


class Score(Frozen):
    """A verdict: the reward `value`, its `status`, per-function `breakdown`, and what was extracted."""

    value: float
    status: ScoreStatus = ScoreStatus.incorrect
    breakdown: dict[str, float] = Field(default_factory=dict)
    extracted: str | None = None
    detail: str | None = None

    @classmethod
    def of(cls, ok: bool, extracted: str | None = None, detail: str | None = None) -> Score:
        status = ScoreStatus.correct if ok else ScoreStatus.incorrect
        return cls(value=1.0 if ok else 0.0, status=status, extracted=extracted, detail=detail)


RolloutStatus = Literal["ok", "error", "timeout"]


class Rollout(Frozen):
    """One episode of one task: the conversation after the prompt, its score and how it went.

    `status` is about the episode (did the model answer at all); `score.status` about the answer.
    `info` holds what the environment recorded during the episode (JSON) so scoring can be redone
    from the log alone.
    """

    task: Task
    sample: int = 0
    messages: tuple[Message, ...] = ()
    info: dict[str, JSON] = Field(default_factory=dict)
    score: Score | None = None
    status: RolloutStatus = "ok"
    error: str | None = None
    turns: int = 0
    usage: Usage = Usage()
    duration_s: float = 0.0
    attempts: int = 1
    completions: tuple[Completion, ...] = Field(default=(), exclude=True)
    """The episode's model calls, with token ids and logprobs when the client has them: what a trainer
    learns from. Held in memory only; a log keeps the messages, which is all that scoring reads."""

    @property
    def key(self) -> tuple[str, int]:
        """Identity within a run: task id and sample number."""
        return (self.task.id, self.sample)

    @property
    def reward(self) -> float:
        return self.score.value if self.score is not None else 0.0

    @property
    def response(self) -> str:
        """Text of the last assistant message: what answer-based verifiers look at."""
        for message in reversed(self.messages):
            if message.role == "assistant":
                return message.content
        return ""


__all__ = [
    "JSON",
    "SCHEMA_VERSION",
    "Completion",
    "Frozen",
    "Message",
    "Role",
    "Rollout",
    "RolloutStatus",
    "Sampling",
    "Score",
    "ScoreStatus",
    "Task",
    "ToolCall",
    "ToolSpec",
    "Usage",
]
