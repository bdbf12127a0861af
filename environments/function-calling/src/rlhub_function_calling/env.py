"""Function-call accuracy: given tool schemas and a user request, make the right calls with exactly the
right arguments in one reply, several in parallel when the request asks for several things, and none
when no offered function fits (then answer in text).

Reward (`calls`): with calls expected, `rlhub.verify.toolcall.score` with `ordered=False` (parallel
calls in any order) and `partial=True`: per expected call, 0.5 for the right function plus 0.5 × the
share of right arguments, divided by the larger of the expected and made call counts, so a missing or
an extra call costs its share. Optional arguments left out count as their schema default. With no call
expected: 1.0 for a text reply without tool calls, else 0.0.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any

import rlhub
from rlhub.core.tools import parse_tool_calls
from rlhub.verify import toolcall
from rlhub_function_calling.catalogue import CATALOGUE, defaults, no_tool_request

SYSTEM_PROMPT = (
    "You are an assistant that can call functions. Reply to the user's request in one message: call "
    "every function the request needs (several calls at once when it asks for several things), with "
    "argument values exactly as the user gives them, in the format each parameter's description asks "
    "for. If none of the available functions can serve the request, answer in text without calling any."
)


def _complete(call: rlhub.ToolCall) -> rlhub.ToolCall:
    """The call with omitted optional arguments set to their defaults."""
    try:
        arguments = call.parsed_arguments()
    except ValueError:
        return call
    return call.model_copy(update={"arguments": json.dumps({**defaults(call.name), **arguments})})


def calls(response: str, reference: list[dict[str, Any]], messages: Sequence[rlhub.Message]) -> rlhub.Score:
    """The reward described in the module docstring."""
    replies = [m for m in messages if m.role == "assistant"] or [rlhub.Message.assistant(response)]
    made = [parse_tool_calls(m) for m in replies]
    if not reference:
        attempted = any(found or errors for found, errors in made)
        ok = not attempted and bool(response.strip())
        return rlhub.Score.of(ok, extracted=response[:200], detail=None if ok else "expected a text reply, no call")
    completed = [rlhub.Message.assistant(tool_calls=tuple(_complete(c) for c in found)) for found, _ in made]
    return toolcall.score(response, reference, completed, ordered=False, partial=True)


@rlhub.environment("rlhub/function-calling", version="0.1.0")
class FunctionCalling(rlhub.MultiTurnEnv):
    """Call the right functions with the right arguments, in parallel when needed, or none at all."""

    distractors: int = 4
    """Functions offered besides the needed ones (0-20); related functions are offered first."""
    parallel: bool = True
    """Allow requests that need 2-3 calls (sometimes to the same function)."""
    no_call_share: float = 0.15
    """Share of tasks whose right answer is text, because no offered function fits."""

    max_turns = 1
    system_prompt = SYSTEM_PROMPT
    rubric = rlhub.Rubric(calls=calls)

    def __init__(self, **config: Any):
        super().__init__(**config)
        if not 0 <= self.distractors <= 20:
            raise rlhub.ConfigError("distractors must be 0-20")
        if not 0.0 <= self.no_call_share <= 1.0:
            raise rlhub.ConfigError("no_call_share must be in [0, 1]")

    def make_task(self, rng: random.Random) -> rlhub.Task:
        if rng.random() < self.no_call_share:
            return self._no_call_task(rng)
        count = rng.choice([1, 1, 2, 2, 3]) if self.parallel else 1
        names = sorted(CATALOGUE)
        chosen: list[str] = []
        for _ in range(count):
            repeat = chosen and rng.random() < 0.3
            chosen.append(chosen[-1] if repeat else rng.choice([n for n in names if n not in chosen]))
        sentences: list[str] = []
        expected: list[dict[str, Any]] = []
        for name in chosen:
            text, arguments = CATALOGUE[name].request(rng)
            while {"name": name, "arguments": arguments} in expected:
                text, arguments = CATALOGUE[name].request(rng)
            sentences.append(text)
            expected.append({"name": name, "arguments": arguments})
        tools = self._offer(rng, sorted(set(chosen)))
        kind = "parallel" if count > 1 else "single"
        return rlhub.Task(
            prompt=" ".join([sentences[0], *(f"Also, {s[0].lower()}{s[1:]}" for s in sentences[1:])]),
            answer=expected,
            info={"tools": tools, "kind": kind},
            tags=(f"kind:{kind}", f"calls:{count}", f"tools:{len(tools)}"),
        )

    def _offer(self, rng: random.Random, needed: list[str]) -> list[str]:
        """The needed functions plus distractors, related ones (same group) first, in random order."""
        groups = {CATALOGUE[n].group for n in needed}
        related = [n for n in sorted(CATALOGUE) if n not in needed and CATALOGUE[n].group in groups]
        others = [n for n in sorted(CATALOGUE) if n not in needed and CATALOGUE[n].group not in groups]
        rng.shuffle(related)
        rng.shuffle(others)
        tools = needed + (related + others)[: self.distractors]
        rng.shuffle(tools)
        return tools

    def _no_call_task(self, rng: random.Random) -> rlhub.Task:
        """Chit-chat, or a request for a function whose whole group is left out of the offered tools."""
        if rng.random() < 0.5:
            text, excluded = no_tool_request(rng), {"general"}
        else:
            name = rng.choice(sorted(n for n in CATALOGUE if CATALOGUE[n].group != "general"))
            text, _ = CATALOGUE[name].request(rng)
            excluded = {"general", CATALOGUE[name].group}
        allowed = sorted(n for n in CATALOGUE if CATALOGUE[n].group not in excluded)
        tools = rng.sample(allowed, min(len(allowed), max(1, self.distractors)))
        return rlhub.Task(prompt=text, answer=[], info={"tools": tools, "kind": "none"}, tags=("kind:none", "calls:0"))

    def tool_specs(self, state: rlhub.State) -> list[rlhub.ToolSpec]:
        return [CATALOGUE[name].spec for name in state.task.info["tools"]]

    def oracle(self, task: rlhub.Task, messages: Sequence[rlhub.Message]) -> rlhub.Message:
        """The expected calls as OpenAI `tool_calls`, or a short text reply when none fits."""
        if not task.answer:
            return rlhub.Message.assistant("None of the available functions can do that, so here is my answer in text.")
        return rlhub.Message.assistant(
            tool_calls=tuple(
                rlhub.ToolCall(id=f"call_{i}", name=c["name"], arguments=json.dumps(c["arguments"]))
                for i, c in enumerate(task.answer)
            )
        )

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        """No reply; for call tasks also a wrong argument, a missing call and a wrong function; for
        no-call tasks, calling an offered function anyway."""
        if not task.answer:
            return ["", _hermes([{"name": task.info["tools"][0], "arguments": {}}])]
        expected: list[dict[str, Any]] = task.answer
        first = expected[0]
        key = sorted(first["arguments"])[0]
        value = first["arguments"][key]
        changed = value + 1 if isinstance(value, int | float) else f"{value} x"
        wrong = [
            "",
            "I don't know.",
            _hermes([{**first, "arguments": {**first["arguments"], key: changed}}, *expected[1:]]),
        ]
        if len(expected) > 1:
            wrong.append(_hermes(expected[:-1]))
        other = next((n for n in task.info["tools"] if n != first["name"]), None)
        if other is not None:
            wrong.append(_hermes([{**first, "name": other}, *expected[1:]]))
        return wrong


def _hermes(calls: list[dict[str, Any]]) -> str:
    return "".join(f"<tool_call>{json.dumps(c)}</tool_call>" for c in calls)


__all__ = ["FunctionCalling", "calls"]
