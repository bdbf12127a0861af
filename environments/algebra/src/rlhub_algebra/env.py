"""Algebra with symbolic answers: linear equations, 2x2 systems, expanding, factoring and simplifying.

Everything is built from exact integer and `Fraction` arithmetic, so every reference answer is exact.
Answers are compared by `rlhub.verify.math` (equivalence, not string match). For rewriting tasks the
question itself is an equivalent expression, so equivalence alone would pay for copying it: those
tasks also check the *form* of the answer (expanded, factored, free of the denominator, like terms
combined) on the verifier's parse tree, and an equivalent answer in the wrong form earns half.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from fractions import Fraction
from typing import Any

import rlhub
from rlhub import Score, ScoreStatus
from rlhub.verify import math
from rlhub.verify.math import parse

KINDS = ("linear", "system", "expand", "factor", "simplify", "combine")
BOXED = "Put your final answer in \\boxed{}."
Node = tuple[Any, ...]


# --- rendering ---------------------------------------------------------------------------------


def number(value: Fraction | int) -> str:
    """An exact number in LaTeX: `3`, `-\\frac{3}{2}`."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


def terms(pairs: Sequence[tuple[Fraction | int, str]]) -> str:
    """`coefficient * monomial` pairs as a signed sum, zero terms dropped: `2x^2 - x + 3`."""
    out = ""
    for coefficient, monomial in pairs:
        c = Fraction(coefficient)
        if c == 0:
            continue
        magnitude = number(abs(c)) if (abs(c) != 1 or not monomial) else ""
        sign = ("-" if c < 0 else "") if not out else (" - " if c < 0 else " + ")
        out += f"{sign}{magnitude}{monomial}"
    return out or "0"


def poly(coefficients: Sequence[Fraction | int]) -> str:
    """A polynomial in x from coefficients, highest power first."""
    degree = len(coefficients) - 1
    return terms(
        [(c, "x" if degree - i == 1 else f"x^{degree - i}" if degree - i else "") for i, c in enumerate(coefficients)]
    )


def linear_factor(root: int) -> str:
    """`(x - r)`."""
    return f"(x {'-' if root > 0 else '+'} {abs(root)})" if root else "x"


def multiply(p: Sequence[int], q: Sequence[int]) -> list[int]:
    out = [0] * (len(p) + len(q) - 1)
    for i, a in enumerate(p):
        for j, b in enumerate(q):
            out[i + j] += a * b
    return out


# --- form checks on the verifier's parse tree ---------------------------------------------------


def _walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node[1:]:
        if isinstance(child, tuple) and child and isinstance(child[0], str):
            yield from _walk(child)
        elif isinstance(child, tuple):
            for item in child:
                if isinstance(item, tuple) and item and isinstance(item[0], str):
                    yield from _walk(item)


def _has_variable(node: Node) -> bool:
    return any(n[0] == "sym" for n in _walk(node))


def _factors(node: Node) -> list[Node]:
    if node[0] == "mul":
        return _factors(node[1]) + _factors(node[2])
    if node[0] == "neg":
        return _factors(node[1])
    return [node]


def expanded(node: Node) -> bool:
    """No sum is multiplied, raised to a power or negated, and no variable sits in a denominator."""
    for n in _walk(node):
        if n[0] in ("mul", "pow") and any(isinstance(c, tuple) and c[0] == "add" for c in n[1:]):
            return False
        if (n[0] == "neg" and n[1][0] == "add") or (n[0] == "div" and _has_variable(n[2])):
            return False
    return True


def factored(node: Node) -> bool:
    """A product of at least two non-constant factors (or a power of one), none of them a sum with a
    squared term."""
    factors = [f for f in _factors(node) if _has_variable(f)]
    if len(factors) == 1 and factors[0][0] == "pow":
        factors = [factors[0][1]]
    elif len(factors) < 2:
        return False
    return all(not any(n[0] == "pow" for n in _walk(f)) for f in factors if f[0] == "add")


def denominator_free(node: Node) -> bool:
    """No variable in any denominator."""
    return not any(n[0] == "div" and _has_variable(n[2]) for n in _walk(node))


def combined(node: Node) -> bool:
    """Expanded, with each variable written once."""
    names = [n[1] for n in _walk(node) if n[0] == "sym"]
    return expanded(node) and len(names) == len(set(names))


FORMS = {"expanded": expanded, "factored": factored, "denominator-free": denominator_free, "combined": combined}


def correct(response: str, reference: str, task: rlhub.Task) -> Score:
    """`rlhub.verify.math` equivalence; when the task asks for a form, an equivalent answer in another
    form scores 0.5."""
    verdict = math.score(response, reference)
    form = task.info.get("form")
    if verdict.value < 1.0 or form is None or verdict.extracted is None:
        return verdict
    node = parse(verdict.extracted)
    if node[0] == "rel":  # `y = ...`: judge the right-hand side
        node = node[2][-1]
    if FORMS[form](node):
        return verdict
    return Score(value=0.5, status=ScoreStatus.incorrect, extracted=verdict.extracted, detail=f"equivalent, not {form}")


# --- the environment -------------------------------------------------------------------------


@rlhub.environment("rlhub/algebra", version="0.1.0")
class Algebra(rlhub.SingleTurnEnv):
    """Solve and rewrite: linear equations, 2x2 systems, expand, factor, simplify, combine like terms."""

    kinds: str = ",".join(KINDS)
    """Comma-separated task kinds to draw from (see `KINDS`)."""
    max_coef: int = 9
    """Largest coefficient, root or constant magnitude (2-50)."""
    fractions: bool = False
    """Allow fractional solutions for equations and systems (else they are integers)."""
    max_lead: int = 1
    """Largest leading coefficient in factor tasks (1 = monic quadratics)."""

    rubric = rlhub.Rubric(correct=correct)

    def __init__(self, **config: object):
        super().__init__(**config)
        self._kinds = tuple(k.strip() for k in self.kinds.split(","))
        if not self._kinds or set(self._kinds) - set(KINDS):
            raise rlhub.ConfigError(f"kinds must be a comma-separated subset of {', '.join(KINDS)}")
        if not 2 <= self.max_coef <= 50 or not 1 <= self.max_lead <= 5:
            raise rlhub.ConfigError("max_coef must be 2-50 and max_lead 1-5")

    def make_task(self, rng: random.Random) -> rlhub.Task:
        kind = rng.choice(self._kinds)
        prompt, answer, form = getattr(self, f"_{kind}")(rng)
        info = {"kind": kind, "form": form}
        return rlhub.Task(prompt=f"{prompt} {BOXED}", answer=answer, info=info, tags=(f"kind:{kind}",))

    def _int(self, rng: random.Random, nonzero: bool = True) -> int:
        while True:
            value = rng.randint(-self.max_coef, self.max_coef)
            if value or not nonzero:
                return value

    def _linear(self, rng: random.Random) -> tuple[str, str, None]:
        while True:
            a, c = self._int(rng), self._int(rng)
            b, d = self._int(rng, nonzero=False), self._int(rng, nonzero=False)
            if a != c and (self.fractions or (d - b) % (a - c) == 0):
                break
        x = Fraction(d - b, a - c)
        if rng.random() < 0.5 and b % a == 0 and b:  # a(x + b/a) form
            left = f"{number(a) if abs(a) != 1 else '-' if a < 0 else ''}{linear_factor(-b // a)}"
        else:
            left = terms([(a, "x"), (b, "")])
        prompt = (
            f"Solve for $x$: ${left} = {terms([(c, 'x'), (d, '')])}$. Give $x$ as an integer or a reduced fraction."
        )
        return prompt, number(x), None

    def _system(self, rng: random.Random) -> tuple[str, str, None]:
        while True:
            a1, b1, a2, b2 = (self._int(rng) for _ in range(4))
            det = a1 * b2 - a2 * b1
            if not det:
                continue
            if self.fractions:
                c1, c2 = self._int(rng, nonzero=False), self._int(rng, nonzero=False)
                x, y = Fraction(c1 * b2 - c2 * b1, det), Fraction(a1 * c2 - a2 * c1, det)
            else:
                x, y = Fraction(self._int(rng, nonzero=False)), Fraction(self._int(rng, nonzero=False))
                c1, c2 = int(a1 * x + b1 * y), int(a2 * x + b2 * y)
            break
        first, second = terms([(a1, "x"), (b1, "y")]), terms([(a2, "x"), (b2, "y")])
        prompt = (
            f"Solve the system of equations ${first} = {c1}$ and ${second} = {c2}$. "
            "Give the solution as an ordered pair $(x, y)$."
        )
        return prompt, f"({number(x)}, {number(y)})", None

    def _expand(self, rng: random.Random) -> tuple[str, str, str]:
        a, c = rng.choice([1, 1, 2, 3, -1, -2]), rng.choice([1, 1, 2, -1])
        b, d = self._int(rng), self._int(rng)
        p, q = [a, b], [c, d]
        if rng.random() < 0.25:
            question, q = f"({poly(p)})^2", p
        else:
            question = f"({poly(p)})({poly(q)})"
        prompt = f"Expand and simplify ${question}$. Write the result as a polynomial in $x$ with like terms combined."
        return prompt, poly(multiply(p, q)), "expanded"

    def _factor(self, rng: random.Random) -> tuple[str, str, str]:
        lead = rng.randint(1, self.max_lead)
        r, s = sorted((self._int(rng), self._int(rng)))
        coefficients = [lead * k for k in multiply([1, -r], [1, -s])]
        factors = f"{linear_factor(r)}^2" if r == s else f"{linear_factor(r)}{linear_factor(s)}"
        answer = f"{lead if lead > 1 else ''}{factors}"
        prompt = f"Factor completely over the integers: ${poly(coefficients)}$."
        return prompt, answer, "factored"

    def _simplify(self, rng: random.Random) -> tuple[str, str, str]:
        r, s = self._int(rng), self._int(rng)
        top = multiply([1, -r], [1, -s])
        prompt = (
            f"Simplify $\\frac{{{poly(top)}}}{{{poly([1, -r])}}}$ for $x \\neq {r}$. "
            "Write the result as a polynomial in $x$."
        )
        return prompt, poly([1, -s]), "denominator-free"

    def _combine(self, rng: random.Random) -> tuple[str, str, str]:
        names = ["x", "y", "z"][: rng.randint(2, 3)]
        parts = [(self._int(rng), name) for name in names for _ in range(2)] + [(self._int(rng), "")]
        rng.shuffle(parts)
        totals = [(sum(c for c, n in parts if n == name), name) for name in [*names, ""]]
        prompt = f"Simplify ${terms(parts)}$ by combining like terms."
        return prompt, terms(totals), "combined"

    def oracle(self, task: rlhub.Task, messages: Sequence[rlhub.Message]) -> rlhub.Message:
        return rlhub.Message.assistant(f"\\boxed{{{task.answer}}}")

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        wrong = ["", "I don't know.", f"\\boxed{{{task.answer} + 1}}"]
        if task.info["kind"] == "system":
            x, _, y = task.answer[1:-1].partition(", ")
            wrong.append(f"\\boxed{{({y}, {x})}}" if x != y else f"\\boxed{{({x}, {y} + 1)}}")
        if task.info["form"] is not None:  # the question's own expression: equivalent, wrong form
            question = task.prompt[0].content.split("$")[1]
            wrong.append(f"\\boxed{{{question}}}")
        return wrong
