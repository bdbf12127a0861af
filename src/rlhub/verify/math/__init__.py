"""Math answers: extract what a response commits to and decide whether it equals the reference.

    from rlhub.verify import math
    math.score("... so the answer is $\\frac{1}{2}$.", "0.5")   # Score(value=1.0, status=correct, ...)

Layers, cheapest first: normalised strings; exact rationals (`Fraction`, with caps on exponent and
factorial sizes); numeric identity testing at fixed points for expressions, equations, intervals,
sets, tuples and matrices; and only when those cannot decide, sympy in a warm worker process that is
killed at the wall-clock budget (`timeout_s`) and restarted on the next call. No signals, so it works
from any thread or process. `Score.status` is correct / incorrect / unparseable (no answer found, or
not math we can read) / timeout (the symbolic budget ran out).
"""

from __future__ import annotations

from functools import lru_cache

from rlhub.core.types import Score, ScoreStatus
from rlhub.verify.math._equal import Symbolic, equal
from rlhub.verify.math._extract import candidates, choice_letter, extract_choice, strip_think
from rlhub.verify.math._parse import Node, ParseError, normalise, parse
from rlhub.verify.math._worker import SymbolicWorker, WorkerTimeout, shared_worker

DEFAULT_TIMEOUT_S = 3.0


@lru_cache(maxsize=4096)
def _parse_reference(reference: str) -> Node:
    try:
        return parse(reference)
    except (ParseError, RecursionError):
        return ("text", reference)


def _parse_answer(candidates_: list[str]) -> tuple[Node, str] | None:
    """The first candidate that parses as math (text answers only when nothing else parses)."""
    text_answer: tuple[Node, str] | None = None
    for candidate in candidates_:
        try:
            node = parse(candidate)
        except (ParseError, RecursionError):
            continue
        if node[0] != "text":
            return node, candidate
        text_answer = text_answer or (node, candidate)
    return text_answer


def equivalent(answer: str, reference: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> bool | None:
    """Whether two bare answers are equal; None when undecided. Raises WorkerTimeout past the budget."""
    try:
        r, g = parse(answer), _parse_reference(reference)
    except (ParseError, RecursionError):
        return None
    return equal(r, g, _symbolic_hook(timeout_s))


def _symbolic_hook(timeout_s: float, worker: SymbolicWorker | None = None) -> Symbolic:
    def hook(a: Node, b: Node, mode: str) -> bool | None:
        result: bool | None = (worker or shared_worker()).call((a, b, mode), timeout_s)
        return result

    return hook


def warm_up() -> None:
    """Start this process's symbolic worker ahead of time (e.g. in a scoring pool's initializer)."""
    shared_worker().start()


def score(response: str, reference: object, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> Score:
    """Score a model response against a reference answer (a string, number or anything with str())."""
    ref = str(reference).strip()
    letter = choice_letter(ref)
    if letter is not None:
        picked = extract_choice(response)
        if picked is None:
            return Score(value=0.0, status=ScoreStatus.unparseable, detail="no option letter found")
        return Score.of(picked == letter, extracted=picked)
    found = candidates(response)
    if not found:
        status = ScoreStatus.unparseable
        return Score(value=0.0, status=status, detail="no answer found in the response")
    if normalise(found[0]).replace(" ", "") == normalise(ref).replace(" ", ""):
        return Score.of(True, extracted=found[0])
    parsed = _parse_answer(found)
    if parsed is None:
        return Score(value=0.0, status=ScoreStatus.unparseable, extracted=found[0], detail="answer is not math")
    node, extracted = parsed
    try:
        verdict = equal(node, _parse_reference(ref), _symbolic_hook(timeout_s))
    except WorkerTimeout as exc:
        return Score(value=0.0, status=ScoreStatus.timeout, extracted=extracted, detail=str(exc))
    except RecursionError:
        return Score(value=0.0, status=ScoreStatus.unparseable, extracted=extracted, detail="nested too deeply")
    if verdict is None:
        return Score(value=0.0, status=ScoreStatus.incorrect, extracted=extracted, detail="equivalence undecided")
    return Score.of(verdict, extracted=extracted)


__all__ = [
    "DEFAULT_TIMEOUT_S",
    "Node",
    "ParseError",
    "SymbolicWorker",
    "WorkerTimeout",
    "candidates",
    "choice_letter",
    "equivalent",
    "extract_choice",
    "parse",
    "score",
    "shared_worker",
    "strip_think",
    "warm_up",
]
