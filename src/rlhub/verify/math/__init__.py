"""Math answers: extract what a response commits to and decide whether it equals the reference.

    from rlhub.verify import math
    math.score("... so the answer is $\\frac{1}{2}$.", "0.5")   # Score(value=1.0, status=correct, ...)

Layers, cheapest first: normalised strings; exact rationals (`Fraction`, with caps on exponent and
factorial sizes); numeric identity testing at fixed points for expressions, equations, intervals,
sets, tuples and matrices, with magnitude reasoning for numbers too big to compute (power towers,
huge factorials); and only when those cannot decide, sympy in a warm worker process that is killed at
the wall-clock budget (`timeout_s`) and restarted. Conventions that graders choose differently
(decimal comma, numeric precision, inequality versus interval) are `MathOptions`. No signals, so it works
from any thread or process. `Score.status` is correct / incorrect / unparseable (no answer found, or
not math we can read) / timeout (the symbolic budget ran out).
"""

from __future__ import annotations

from functools import lru_cache

from rlhub.core.types import Score, ScoreStatus
from rlhub.verify.math._equal import Context, Symbolic, equal
from rlhub.verify.math._extract import candidates, choice_letter, extract_choice, strip_think, unescape
from rlhub.verify.math._options import DEFAULT_OPTIONS, MathOptions
from rlhub.verify.math._parse import Node, ParseError, normalise, parse
from rlhub.verify.math._worker import SymbolicWorker, WorkerTimeout, shared_worker

DEFAULT_TIMEOUT_S = 0.5


def _parse_first(readings: list[str], decimal_comma: bool) -> tuple[Node, str] | None:
    """The first reading that parses as math (a text answer only when nothing else parses)."""
    text_answer: tuple[Node, str] | None = None
    for reading in readings:
        try:
            node = parse(reading, decimal_comma=decimal_comma)
        except (ParseError, RecursionError):
            continue
        if node[0] != "text":
            return node, reading
        text_answer = text_answer or (node, reading)
    return text_answer


@lru_cache(maxsize=4096)
def _reference_answer(reference: str, decimal_comma: bool) -> tuple[Node, str]:
    """A reference is read like a response when it is one (a boxed answer, a whole MATH solution)."""
    reference = unescape(reference)
    if "\\boxed" not in reference and "\\fbox" not in reference:
        parsed = _parse_first([reference], decimal_comma)
        if parsed is not None and parsed[0][0] != "text":
            return parsed
    found = _parse_first(candidates(reference), decimal_comma) or _parse_first([reference], decimal_comma)
    return found or (("text", reference), reference)


def equivalent(
    answer: str, reference: str, *, options: MathOptions = DEFAULT_OPTIONS, timeout_s: float = DEFAULT_TIMEOUT_S
) -> bool | None:
    """Whether two bare answers are equal; None when undecided. Raises WorkerTimeout past the budget."""
    try:
        r = parse(answer, decimal_comma=options.decimal_comma)
    except (ParseError, RecursionError):
        return None
    return equal(r, _reference_answer(reference, options.decimal_comma)[0], Context(_symbolic_hook(timeout_s), options))


def _symbolic_hook(timeout_s: float, worker: SymbolicWorker | None = None) -> Symbolic:
    def hook(a: Node, b: Node, mode: str) -> bool | None:
        result: bool | None = (worker or shared_worker()).call((a, b, mode), timeout_s)
        return result

    return hook


def warm_up() -> None:
    """Start this process's symbolic worker ahead of time (e.g. in a scoring pool's initializer)."""
    shared_worker().start()


def score(
    response: str, reference: object, *, options: MathOptions = DEFAULT_OPTIONS, timeout_s: float = DEFAULT_TIMEOUT_S
) -> Score:
    """Score a model response against a reference answer (a bare answer, a boxed answer or a whole
    solution; a string, number or anything with str()). `options` holds the conventions (MathOptions)."""
    ref = str(reference).strip()
    letter = choice_letter(unescape(ref))
    if letter is not None:
        picked = extract_choice(response)
        if picked is None:
            return Score(value=0.0, status=ScoreStatus.unparseable, detail="no single option letter found")
        return Score.of(picked == letter, extracted=picked)
    found = candidates(response)
    if not found:
        status = ScoreStatus.unparseable
        return Score(value=0.0, status=status, detail="no answer found in the response")
    if normalise(found[0]).replace(" ", "") == normalise(unescape(ref)).replace(" ", ""):
        return Score.of(True, extracted=found[0])
    parsed = _parse_first(found, options.decimal_comma)
    if parsed is None:
        return Score(value=0.0, status=ScoreStatus.unparseable, extracted=found[0], detail="answer is not math")
    node, extracted = parsed
    try:
        verdict = equal(
            node, _reference_answer(ref, options.decimal_comma)[0], Context(_symbolic_hook(timeout_s), options)
        )
    except WorkerTimeout as exc:
        return Score(value=0.0, status=ScoreStatus.timeout, extracted=extracted, detail=str(exc))
    except RecursionError:
        return Score(value=0.0, status=ScoreStatus.unparseable, extracted=extracted, detail="nested too deeply")
    if verdict is None:
        return Score(value=0.0, status=ScoreStatus.incorrect, extracted=extracted, detail="equivalence undecided")
    return Score.of(verdict, extracted=extracted)


__all__ = [
    "DEFAULT_TIMEOUT_S",
    "MathOptions",
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
