"""Rubric: a weighted sum of named reward functions.

A reward function takes `(response, reference)` — the final assistant text and the task's answer —
and may also ask for `task`, `messages` or `info` by naming them as keyword parameters. It returns a
`Score`, a float or a bool. The rubric's `Score.value` is the weighted sum; its status is the status
of the first function (the primary verdict); `breakdown` holds each function's unweighted value.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from rlhub.core.types import Message, Score, ScoreStatus, Task

RewardFn = Callable[..., Any]
_OPTIONAL = ("task", "messages", "info")


class Rubric:
    def __init__(self, **functions: RewardFn | tuple[RewardFn, float]):
        if not functions:
            raise ValueError("a Rubric needs at least one reward function")
        self.functions: dict[str, tuple[RewardFn, float, frozenset[str]]] = {}
        for name, entry in functions.items():
            fn, weight = entry if isinstance(entry, tuple) else (entry, 1.0)
            params = inspect.signature(fn).parameters
            accepts = frozenset(p for p in _OPTIONAL if p in params)
            self.functions[name] = (fn, float(weight), accepts)

    @property
    def reward_range(self) -> tuple[float, float]:
        """Range of the weighted sum when every function returns a value in [0, 1]."""
        weights = [w for _, w, _ in self.functions.values()]
        return (sum(w for w in weights if w < 0), sum(w for w in weights if w > 0))

    def score(
        self, task: Task, messages: Sequence[Message], info: dict[str, Any] | None = None, response: str | None = None
    ) -> Score:
        if response is None:
            response = next((m.content for m in reversed(messages) if m.role == "assistant"), "")
        context = {"task": task, "messages": list(messages), "info": info or {}}
        total = 0.0
        breakdown: dict[str, float] = {}
        primary: Score | None = None
        for name, (fn, weight, accepts) in self.functions.items():
            try:
                raw = fn(response, task.answer, **{k: context[k] for k in accepts})
                part = _as_score(raw)
            except Exception as exc:  # a crashing verifier is a scored error, never a dead rollout
                part = Score(value=0.0, status=ScoreStatus.error, detail=f"{name}: {type(exc).__name__}: {exc}")
            breakdown[name] = part.value
            total += weight * part.value
            if primary is None:
                primary = part
        assert primary is not None
        return Score(
            value=total, status=primary.status, breakdown=breakdown, extracted=primary.extracted, detail=primary.detail
        )


def _as_score(raw: Any) -> Score:
    if isinstance(raw, Score):
        return raw
    if isinstance(raw, bool):
        return Score.of(raw)
    value = float(raw)
    return Score(value=value, status=ScoreStatus.correct if value >= 1.0 else ScoreStatus.incorrect)


__all__ = ["RewardFn", "Rubric"]
