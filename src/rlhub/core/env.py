"""Environments: make tasks, run episodes against a model, score them.

An environment is a class. Annotated class attributes are its *config* (difficulty knobs); they are
validated on construction and recorded in logs. Three bases cover most needs:

- `SingleTurnEnv`: one model call per episode; implement `make_task` and set `rubric`.
- `MultiTurnEnv`: a loop of model call → `env_response` until `is_done` or `max_turns`.
- `ToolEnv`: a multi-turn loop where the environment's response is running the model's tool calls.

Task `i` of `(split, seed)` is a pure function of the environment id, version and config: its RNG is
derived by hashing those, so tasks can be fetched in any order, on any machine, in any process.
Train and test never overlap: each generated task belongs to the split its content hash says, and
generation re-draws until it does.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import random
import typing
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import ValidationError, create_model

from rlhub.core.errors import ConfigError, ModelError
from rlhub.core.mcp import MCPTools, serving
from rlhub.core.model import ModelClient
from rlhub.core.rubric import Rubric
from rlhub.core.tools import Tool, ToolBox, parse_tool_calls
from rlhub.core.types import Completion, Message, Sampling, Score, Task, ToolSpec, Usage

if TYPE_CHECKING:
    from rlhub.core.exploits import Exploit

SPLITS = ("train", "test")
_MAX_DRAWS = 10_000


@dataclass
class State:
    """Per-episode scratch space. `info` is JSON the environment wants logged and scored from."""

    task: Task
    turn: int = 0
    info: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["extra"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name in {"task", "turn", "info", "extra"}:
            object.__setattr__(self, name, value)
        else:
            self.extra[name] = value


@dataclass
class Episode:
    """What one episode produced: the messages after the prompt, recorded info, turns, token usage."""

    messages: list[Message]
    info: dict[str, Any]
    turns: int
    usage: Usage
    completions: list[Completion] = field(default_factory=list)


class Environment:
    """Base of all environments. Subclass one of the three bases below rather than this one."""

    id: ClassVar[str] = ""
    version: ClassVar[str] = "0.0.0"
    rubric: ClassVar[Rubric]
    system_prompt: ClassVar[str | None] = None
    test_fraction: ClassVar[float] = 0.1
    """Share of the task space that belongs to the test split (by content hash)."""
    task_independent: ClassVar[tuple[str, ...]] = ()
    """Config keys that do not change the tasks (a backend, a display option): left out of task seeds,
    so switching them keeps task `i` the same."""
    response_kind: ClassVar[Literal["answer", "choice", "code"]] = "answer"
    """What a reply is, so `check_env` plays the right exploits: a final answer (numbers, expressions,
    text), one of `choices(task)`, or a program run against tests."""

    def __init__(self, **config: Any):
        fields = self.config_fields()
        unknown = set(config) - set(fields)
        if unknown:
            known = ", ".join(sorted(fields)) or "none"
            raise ConfigError(f"{self.spec}: unknown config key(s) {', '.join(sorted(unknown))}; known: {known}")
        model = create_model(f"{type(self).__name__}Config", **fields)  # type: ignore[call-overload]
        try:
            validated = model(**config)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"{self.spec}: bad config: {problems}") from None
        self.config: dict[str, Any] = validated.model_dump()
        for name, value in self.config.items():
            setattr(self, name, value)

    @classmethod
    def config_fields(cls) -> dict[str, tuple[Any, Any]]:
        """Annotated, non-ClassVar attributes of subclasses: name -> (type, default)."""
        fields: dict[str, tuple[Any, Any]] = {}
        for klass in reversed(cls.__mro__):
            if (
                klass in (object, Environment, SingleTurnEnv, MultiTurnEnv, ToolEnv)
                or klass.__module__ == "rlhub.core.dataset"
            ):
                continue
            hints = typing.get_type_hints(klass)
            for name in inspect.get_annotations(klass):
                hint = hints[name]
                if name.startswith("_") or typing.get_origin(hint) is ClassVar:
                    continue
                fields[name] = (hint, klass.__dict__.get(name, ...))
        return fields

    @property
    def spec(self) -> str:
        return f"{self.id or type(self).__name__}@{self.version}"

    # --- tasks ---------------------------------------------------------------------------------

    def make_task(self, rng: random.Random) -> Task:
        """Generate one task from `rng`. Override this (or `task` for data-backed environments)."""
        raise NotImplementedError(f"{type(self).__name__} must implement make_task(rng)")

    def task(self, index: int, split: str = "train", seed: int = 0) -> Task:
        """Task `index` of `split` under `seed`; the same on every machine and in every process."""
        if split not in SPLITS:
            raise ConfigError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
        rng = random.Random(self._seed_material(split, seed, index))
        for _ in range(_MAX_DRAWS):
            task = self.make_task(rng)
            if self.split_of(task) == split:
                return self._finish(task, split, seed, index)
        raise ConfigError(f"{self.spec}: could not draw a {split} task in {_MAX_DRAWS} tries; task space too small")

    def tasks(self, n: int, split: str = "train", seed: int = 0, start: int = 0) -> list[Task]:
        return [self.task(i, split, seed) for i in range(start, start + n)]

    def split_of(self, task: Task) -> str:
        """The split a task's content belongs to; stable, so no task is ever in both."""
        bucket = int(task.content_hash(), 16) % 10_000
        return "test" if bucket < self.test_fraction * 10_000 else "train"

    def _seed_material(self, split: str, seed: int, index: int) -> int:
        config = {k: v for k, v in self.config.items() if k not in self.task_independent}
        key = json.dumps([self.id, self.version, config, split, seed, index], sort_keys=True, default=str)
        return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")

    def _finish(self, task: Task, split: str, seed: int, index: int) -> Task:
        return task.model_copy(
            update={
                "id": f"{split}-{seed}-{index}",
                "env": self.spec,
                "split": split,
                "seed": seed,
                "index": index,
            }
        )

    # --- episodes ------------------------------------------------------------------------------

    def prompt_messages(self, task: Task) -> list[Message]:
        prefix = [Message.system(self.system_prompt)] if self.system_prompt else []
        return prefix + list(task.prompt)

    async def rollout(self, task: Task, model: ModelClient, sampling: Sampling = Sampling()) -> Episode:
        raise NotImplementedError

    # --- scoring -------------------------------------------------------------------------------

    @property
    def reward_range(self) -> tuple[float, float]:
        return self.rubric.reward_range

    def score(self, task: Task, messages: Sequence[Message], info: dict[str, Any] | None = None) -> Score:
        """Score an episode from its messages and recorded info alone (so logs can be re-scored)."""
        return self.rubric.score(task, messages, info)

    # --- reference behaviour, used by check_env and the mock model ------------------------------

    def oracle(self, task: Task, messages: Sequence[Message]) -> Message:
        """What a perfect model says next. Default: the reference answer as text."""
        return Message.assistant(str(task.answer))

    def choices(self, task: Task) -> list[str]:
        """The options of a choice task, written as a reply gives them (`response_kind = "choice"`)."""
        return []

    def exploits(self, task: Task) -> list[Exploit]:
        """This environment's own exploits, played by `check_env` after the standard battery."""
        return []

    def wrong_responses(self, task: Task) -> list[str]:
        """Answers that must score below the maximum; the best of them is the ceiling no exploit may pass."""
        wrong = ["", "I don't know."]
        answer = task.answer
        if isinstance(answer, bool):
            wrong.append(str(not answer))
        elif isinstance(answer, int | float):
            wrong.append(str(answer + 1))
        elif isinstance(answer, str) and _is_number(answer):
            wrong.append(str(float(answer) + 1))
        return wrong


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _one(completions: list[Completion]) -> Completion:
    if not completions:
        raise ModelError("the model returned no choices")
    return completions[0]


class SingleTurnEnv(Environment):
    """One model call per episode."""

    async def rollout(self, task: Task, model: ModelClient, sampling: Sampling = Sampling()) -> Episode:
        completion = _one(
            await model.complete(self.prompt_messages(task), sampling=sampling.model_copy(update={"n": 1}))
        )
        return Episode([completion.message], {}, 1, completion.usage, [completion])


class MultiTurnEnv(Environment):
    """A loop: model call, then `env_response`, until `is_done` or `max_turns` model calls."""

    max_turns: ClassVar[int] = 8

    @asynccontextmanager
    async def episode(self, state: State) -> AsyncIterator[None]:
        """What lives for one episode and must be released however it ends (a temporary directory, a
        server process): entered before `setup`, left after the last turn, also when the episode raises.
        Override with `async with super().episode(state): yield` inside your own resources."""
        yield

    def setup(self, state: State) -> None:
        """Prepare per-episode state (a fresh database, a game board...)."""

    def tool_specs(self, state: State) -> list[ToolSpec]:
        return []

    def is_done(self, state: State, message: Message) -> bool:
        return False

    async def env_response(self, state: State, message: Message) -> list[Message]:
        """The environment's reply to the model's last message; an empty list ends the episode."""
        return []

    async def rollout(self, task: Task, model: ModelClient, sampling: Sampling = Sampling()) -> Episode:
        state = State(task=task)
        produced: list[Message] = []
        completions: list[Completion] = []
        async with self.episode(state):
            self.setup(state)
            tools = self.tool_specs(state)
            conversation = self.prompt_messages(task)
            one = sampling.model_copy(update={"n": 1})
            while state.turn < self.max_turns:
                completion = _one(await model.complete(conversation, tools=tools, sampling=one))
                completions.append(completion)
                conversation.append(completion.message)
                produced.append(completion.message)
                state.turn += 1
                if self.is_done(state, completion.message) or state.turn >= self.max_turns:
                    break
                reply = await self.env_response(state, completion.message)
                if not reply:
                    break
                conversation.extend(reply)
                produced.extend(reply)
        prompt_tokens = sum(c.usage.prompt_tokens for c in completions)
        completion_tokens = sum(c.usage.completion_tokens for c in completions)
        usage = Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
        return Episode(produced, state.info, state.turn, usage, completions)


class ToolEnv(MultiTurnEnv):
    """Multi-turn with tools: the episode ends when the model answers without calling a tool."""

    def tools(self, state: State) -> Sequence[Callable[..., Any] | Tool]:
        """Plain typed functions the model may call; closures over `state` share episode state."""
        return []

    def mcp_servers(self, state: State) -> list[MCPTools]:
        """MCP servers whose tools join `tools(state)` in this episode; each runs for one episode at most."""
        return []

    @asynccontextmanager
    async def episode(self, state: State) -> AsyncIterator[None]:
        async with super().episode(state), serving(self.mcp_servers(state)) as served:
            state.mcp_tools = served
            yield

    def tool_specs(self, state: State) -> list[ToolSpec]:
        state.toolbox = ToolBox([*self.tools(state), *state.extra.get("mcp_tools", [])])
        return list(state.toolbox.specs)

    def is_done(self, state: State, message: Message) -> bool:
        calls, errors = parse_tool_calls(message)
        return not calls and not errors

    async def env_response(self, state: State, message: Message) -> list[Message]:
        calls, errors = parse_tool_calls(message)
        replies = [Message.tool(f"error: {e.message}", e.call_id) for e in errors]
        for call in calls:
            replies.append(await state.toolbox.call(call))
        return replies


__all__ = ["SPLITS", "Environment", "Episode", "MultiTurnEnv", "SingleTurnEnv", "State", "ToolEnv"]
