"""Numeric answers: the last number in a response compared with a reference number.

The cheap verifier for generated arithmetic and word problems, where the answer is one number:
`\\boxed{}` wins if present, else "the answer is ...", else the last number in the text.
Thousands separators, a leading `$` and a trailing `%` are tolerated; `<think>` blocks are ignored.
For anything symbolic (fractions in LaTeX, expressions, sets) use `rlhub.verify.math`.
"""

from __future__ import annotations

import math
import re

from rlhub.core.types import Score, ScoreStatus

_THINK_RE = re.compile(r"<think>.*?(</think>|$)", re.DOTALL)
_NUMBER = r"-?\$?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_NUMBER_RE = re.compile(_NUMBER)
_BOXED_RE = re.compile(r"\\boxed\{\s*(" + _NUMBER + r")\s*\}")
_HEDGE_BEFORE = re.compile(r"\d\W{0,3}\bor\b\W{0,3}(?:\\boxed\{)?$", re.IGNORECASE)
_HEDGE_AFTER = re.compile(r"\W{0,3}\bor\b\W{0,3}(?:\\boxed\{)?\s?-?\$?\d", re.IGNORECASE)
_ANSWER_IS_RE = re.compile(r"answer\s*(?:is|:)\s*\**\s*(" + _NUMBER + ")", re.IGNORECASE)


def extract_number(response: str) -> float | None:
    """The number a response commits to, or None when it has none or hedges ("12 or 13")."""
    text = _THINK_RE.sub("", response[-10_000:])
    for pattern in (_BOXED_RE, _ANSWER_IS_RE):
        found = list(pattern.finditer(text))
        if found:
            return None if _hedged(text, found[-1].span(1)) else _to_float(found[-1].group(1))
    numbers = list(_NUMBER_RE.finditer(text))
    if not numbers or _hedged(text, numbers[-1].span()):
        return None
    return _to_float(numbers[-1].group())


def _hedged(text: str, span: tuple[int, int]) -> bool:
    """Whether the number at `span` is one side of an "A or B" between numbers."""
    return bool(_HEDGE_BEFORE.search(text[: span[0]]) or _HEDGE_AFTER.match(text[span[1] :]))


def _to_float(token: str) -> float:
    return float(token.replace(",", "").replace("$", "").replace(" ", ""))


def score(response: str, reference: object, rel_tol: float = 1e-6) -> Score:
    """1.0 when the response's number equals `reference` (relative tolerance `rel_tol`), else 0.0."""
    expected = float(str(reference).replace(",", ""))
    got = extract_number(response)
    if got is None:
        return Score(value=0.0, status=ScoreStatus.unparseable, detail="no single number in the response")
    ok = math.isclose(got, expected, rel_tol=rel_tol, abs_tol=1e-9)
    return Score.of(ok, extracted=f"{got:g}")


__all__ = ["extract_number", "score"]
