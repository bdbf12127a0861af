"""Tool-call match: did the model call the right functions with the right arguments?

Arguments are compared as parsed JSON values, not text: `{"n": 1}` matches `{ "n" : 1.0 }`, key order
never matters, booleans are not numbers. Calls come from the assistant messages' `tool_calls`, or are
parsed from the text (Hermes `<tool_call>` blocks, bare JSON) with `rlhub.core.tools.parse_tool_calls`.

The reference is a list of expected calls, each `{"name": ..., "arguments": {...}}` (one dict is a list
of one). Options, bound with `functools.partial` for a Rubric:
- `ordered=False`: parallel calls, any order (matched one to one);
- `partial=True`: credit per call (name right: half; each expected argument right: its share of the
  other half), divided by the larger of the expected and actual call counts, so extra calls cost.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rlhub.core.tools import parse_tool_calls
from rlhub.core.types import Message, Score, ScoreStatus, ToolCall
from rlhub.verify.structured import same_value

Call = tuple[str, dict[str, Any] | None]  # name, parsed arguments (None: not a JSON object)


def _actual(response: str, messages: Sequence[Message] | None) -> list[Call]:
    source = [m for m in messages or () if m.role == "assistant"] or [Message.assistant(response)]
    calls: list[ToolCall] = []
    for message in source:
        calls.extend(parse_tool_calls(message)[0])
    out: list[Call] = []
    for call in calls:
        try:
            arguments: dict[str, Any] | None = call.parsed_arguments()
        except ValueError:
            arguments = None
        out.append((call.name, arguments))
    return out


def _expected(reference: object) -> list[Call]:
    if isinstance(reference, str):
        reference = json.loads(reference)
    items = [reference] if isinstance(reference, dict) else list(reference)  # type: ignore[call-overload]
    out: list[Call] = []
    for item in items:
        if isinstance(item, ToolCall):
            out.append((item.name, item.parsed_arguments()))
        else:
            arguments = item.get("arguments", {})
            out.append((item["name"], json.loads(arguments) if isinstance(arguments, str) else arguments))
    return out


def similarity(actual: Call, expected: Call) -> float:
    """1.0 for the same call; with the right name, 0.5 plus half the share of right arguments."""
    (name, args), (want_name, want_args) = actual, expected
    if name != want_name:
        return 0.0
    want_args = want_args or {}
    if args is not None and same_value(args, want_args):
        return 1.0
    if args is None or not want_args:
        return 0.5
    right = sum(1 for key, value in want_args.items() if key in args and same_value(args[key], value))
    extra = len(set(args) - set(want_args))
    return 0.5 + 0.5 * right / (len(want_args) + extra)


def score(
    response: str,
    reference: object,
    messages: Sequence[Message] | None = None,
    *,
    ordered: bool = True,
    partial: bool = False,
) -> Score:
    """Compare the episode's tool calls with the expected ones (see the module docstring)."""
    actual, expected = _actual(response, messages), _expected(reference)
    extracted = json.dumps([{"name": n, "arguments": a} for n, a in actual])[:500]
    if not actual and expected:
        return Score(value=0.0, status=ScoreStatus.unparseable, extracted=extracted, detail="no tool calls")
    pairs = [similarity(a, e) for a, e in zip(actual, expected, strict=False)] if ordered else _assign(actual, expected)
    total = max(len(actual), len(expected)) or 1
    exact = sum(1 for p in pairs if p == 1.0) == len(expected) == len(actual)
    value = sum(pairs) / total if partial else float(exact)
    detail = None if exact else f"{sum(1 for p in pairs if p == 1.0)}/{len(expected)} expected calls matched"
    return Score(
        value=value, status=ScoreStatus.correct if exact else ScoreStatus.incorrect, extracted=extracted, detail=detail
    )


def _assign(actual: list[Call], expected: list[Call]) -> list[float]:
    """One-to-one matching, best pairs first (exact matches are always taken)."""
    scored = sorted(
        ((similarity(a, e), i, j) for i, a in enumerate(actual) for j, e in enumerate(expected)), reverse=True
    )
    used_a: set[int] = set()
    used_e: set[int] = set()
    values: list[float] = []
    for value, i, j in scored:
        if value > 0 and i not in used_a and j not in used_e:
            used_a.add(i)
            used_e.add(j)
            values.append(value)
    return values


__all__ = ["score", "similarity"]
