"""Competition-style problems with exact LaTeX answers: fractions, radicals, pi, complex numbers,
intervals and sets.

Each problem comes from a template (see `KINDS`) with random parameters; the reference answer is
computed exactly with sympy and written with `sympy.latex`, and answers are compared by
`rlhub.verify.math`. Each template also records typical mistakes (`info.distractors`: the other root,
the complement, open instead of closed endpoints...), checked to differ from the answer, which serve
as the wrong answers in tests. sympy is imported at the first task, not with the module.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from itertools import product
from math import comb, isqrt
from typing import Any

import rlhub
from rlhub.verify import math

KINDS = (
    "quadratic-root",
    "vieta",
    "dice",
    "sector",
    "distance",
    "inequality",
    "integer-set",
    "modular",
    "geometric-series",
    "complex",
    "binomial",
)
EXACT = "Give an exact answer (fractions, radicals and \\pi as needed, no decimals) in \\boxed{}."
Problem = tuple[str, Any, list[Any]]
"""(prompt, sympy answer, sympy distractors)."""


def _latex(sp: Any, value: Any) -> str:
    """LaTeX of a sympy value; a tuple is a sum written term by term (sympy's Add printer is slow)."""
    if not isinstance(value, tuple):
        return str(sp.latex(value))
    out = ""
    for term in value:
        if term == 0:
            continue
        text = str(sp.latex(term))
        if not out:
            out = text
        else:
            out += f" - {text[1:].lstrip()}" if text.startswith("-") else f" + {text}"
    return out or "0"


def _poly(*coefficients: int) -> str:
    """`2x^2 - 6x + 1` from integer coefficients, highest power first."""
    degree, out = len(coefficients) - 1, ""
    for i, c in enumerate(coefficients):
        power = degree - i
        if not c:
            continue
        monomial = "x" if power == 1 else f"x^{power}" if power else ""
        magnitude = "" if abs(c) == 1 and monomial else str(abs(c))
        sign = ("-" if c < 0 else "") if not out else (" - " if c < 0 else " + ")
        out += f"{sign}{magnitude}{monomial}"
    return out or "0"


def _nonzero(rng: random.Random, bound: int) -> int:
    return rng.choice([v for v in range(-bound, bound + 1) if v])


def quadratic_root(sp: Any, rng: random.Random, level: int) -> Problem:
    while True:
        a, b, c = rng.randint(1, level + 1), _nonzero(rng, 4 * level), _nonzero(rng, 4 * level)
        disc = b * b - 4 * a * c
        if disc > 0 and isqrt(disc) ** 2 != disc:
            break
    middle, spread = sp.Rational(-b, 2 * a), sp.sqrt(disc) / (2 * a)
    prompt = f"What is the larger of the two roots of ${_poly(a, b, c)} = 0$? {EXACT}"
    return prompt, (middle, spread), [(middle, -spread), (-middle, spread)]


def vieta(sp: Any, rng: random.Random, level: int) -> Problem:
    a, b, c = rng.randint(1, level + 1), _nonzero(rng, 3 * level), _nonzero(rng, 3 * level)
    equation = f"${_poly(a, b, c)} = 0$"
    if rng.random() < 0.5:
        prompt = f"Let $r$ and $s$ be the roots of {equation}. Compute $\\frac{{1}}{{r}} + \\frac{{1}}{{s}}$. {EXACT}"
        return prompt, sp.Rational(-b, c), [sp.Rational(b, c), sp.Rational(-c, b)]
    prompt = f"Let $r$ and $s$ be the roots of {equation}. Compute $r^2 + s^2$. {EXACT}"
    return (
        prompt,
        sp.Rational(b * b - 2 * a * c, a * a),
        [sp.Rational(b * b + 2 * a * c, a * a), sp.Rational(b * b, a * a)],
    )


def dice(sp: Any, rng: random.Random, level: int) -> Problem:
    count = 2 if level < 3 else 3
    sums = [sum(roll) for roll in product(range(1, 7), repeat=count)]
    event, test = rng.choice(
        [
            ("at least", lambda s, k: s >= k),
            ("at most", lambda s, k: s <= k),
            ("exactly", lambda s, k: s == k),
        ]
    )
    k = rng.randint(count + 1, 6 * count - 1)
    hits = sum(1 for s in sums if test(s, k))
    p = sp.Rational(hits, len(sums))
    prompt = (
        f"{'Two' if count == 2 else 'Three'} fair six-sided dice are rolled. What is the probability that "
        f"the sum of the numbers shown is {event} {k}? {EXACT}"
    )
    return prompt, p, [1 - p, sp.Rational(hits, 6 * count), p + sp.Rational(1, len(sums))]


def sector(sp: Any, rng: random.Random, level: int) -> Problem:
    r, angle = rng.randint(2, 4 * level + 4), 15 * rng.randint(1, 23)
    area, arc = sp.Rational(angle, 360) * sp.pi * r**2, sp.Rational(angle, 360) * 2 * sp.pi * r
    if rng.random() < 0.5:
        prompt = (
            f"A sector of a circle of radius {r} has a central angle of ${angle}^\\circ$. What is its area? {EXACT}"
        )
        return prompt, area, [arc, sp.Rational(angle, 360) * sp.pi * (2 * r) ** 2]
    prompt = f"A sector of a circle of radius {r} has a central angle of ${angle}^\\circ$. How long is its arc? {EXACT}"
    return prompt, arc, [area, sp.Rational(angle, 360) * sp.pi * r]


def distance(sp: Any, rng: random.Random, level: int) -> Problem:
    bound = 4 * level + 2
    while True:
        p, q = [(rng.randint(-bound, bound), rng.randint(-bound, bound)) for _ in range(2)]
        d2 = (p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2
        if d2 and isqrt(d2) ** 2 != d2:
            break
    prompt = f"What is the distance between the points $({p[0]}, {p[1]})$ and $({q[0]}, {q[1]})$? {EXACT}"
    taxicab = abs(p[0] - q[0]) + abs(p[1] - q[1])
    return prompt, sp.sqrt(d2), [sp.Integer(d2), sp.Integer(taxicab)]


def inequality(sp: Any, rng: random.Random, level: int) -> Problem:
    r, s = sorted(rng.sample(range(-3 * level - 2, 3 * level + 3), 2))
    lead = rng.choice([1, -1]) if level >= 3 else 1
    op = rng.choice(["<", "\\le", ">", "\\ge"])
    opposite = {"<": "\\ge", "\\le": ">", ">": "\\le", "\\ge": "<"}
    flipped = {"<": "\\le", "\\le": "<", ">": "\\ge", "\\ge": ">"}

    def solve(symbol: str) -> Any:
        """Where lead (x - r)(x - s) `symbol` 0: between the roots when that sign is negative, else outside."""
        strict = symbol in ("<", ">")
        if (symbol in ("<", "\\le")) == (lead > 0):
            return sp.Interval(r, s, strict, strict)
        return sp.Union(sp.Interval(-sp.oo, r, True, strict), sp.Interval(s, sp.oo, strict, True))

    prompt = (
        f"Solve ${_poly(lead, -lead * (r + s), lead * r * s)} {op} 0$. "
        "Write the solution set in interval notation in \\boxed{}."
    )
    return prompt, solve(op), [solve(flipped[op]), solve(opposite[op])]


def integer_set(sp: Any, rng: random.Random, level: int) -> Problem:
    while True:
        a, b, c = rng.randint(1, level + 1), rng.randint(-6, 6), rng.randint(1, 3 * level + 2)
        strict = rng.random() < 0.5
        members = [n for n in range(-50, 51) if (abs(a * n - b) < c if strict else abs(a * n - b) <= c)]
        if 1 < len(members) <= 12:
            break
    symbol = "<" if strict else "\\le"
    inner = f"{'' if a == 1 else a}n {'-' if b > 0 else '+'} {abs(b)}" if b else f"{'' if a == 1 else a}n"
    prompt = (
        f"Find all integers $n$ such that $|{inner}| {symbol} {c}$. "
        "Write them as a set in braces, for example $\\{1, 2, 3\\}$, in \\boxed{}."
    )
    answer = sp.FiniteSet(*members)
    return prompt, answer, [sp.FiniteSet(*members[:-1]), sp.FiniteSet(*members, members[-1] + 1)]


def modular(sp: Any, rng: random.Random, level: int) -> Problem:
    base, exponent, modulus = rng.randint(2, 12), rng.randint(10, 100 * level), rng.randint(5, 20)
    remainder = pow(base, exponent, modulus)
    prompt = f"What is the remainder when ${base}^{{{exponent}}}$ is divided by ${modulus}$? Put it in \\boxed{{}}."
    return prompt, sp.Integer(remainder), [sp.Integer((remainder + 1) % modulus)]


def geometric_series(sp: Any, rng: random.Random, level: int) -> Problem:
    first = rng.randint(1, 6 * level) * rng.choice([1, 1, -1])
    q = rng.randint(2, 3 + level)
    ratio = sp.Rational(rng.choice([v for v in range(-(q - 1), q) if v]), q)
    shown = _latex(sp, tuple(first * ratio**k for k in range(3)))
    prompt = f"Compute the sum of the infinite geometric series ${shown} + \\cdots$. {EXACT}"
    return prompt, first / (1 - ratio), [first / (1 + ratio), first * ratio / (1 - ratio)]


def complex_product(sp: Any, rng: random.Random, level: int) -> Problem:
    a, b, c, d = (_nonzero(rng, 3 * level) for _ in range(4))
    u, v = a + b * sp.I, c + d * sp.I
    if level >= 2 and rng.random() < 0.5:
        prompt = f"Write $\\frac{{{_latex(sp, u)}}}{{{_latex(sp, v)}}}$ in the form $a + bi$. {EXACT}"
        norm = c * c + d * d
        re, im = sp.Rational(a * c + b * d, norm), sp.Rational(b * c - a * d, norm)
        return prompt, (re, im * sp.I), [(re, -im * sp.I), (sp.Rational(a * c - b * d, norm), im * sp.I)]
    prompt = f"Write $({_latex(sp, u)})({_latex(sp, v)})$ in the form $a + bi$. {EXACT}"
    re, im = sp.Integer(a * c - b * d), sp.Integer(a * d + b * c)
    return prompt, (re, im * sp.I), [(re, -im * sp.I), (sp.Integer(a * c + b * d), im * sp.I)]


def binomial(sp: Any, rng: random.Random, level: int) -> Problem:
    n = rng.randint(3, 4 + 2 * level)
    k = rng.randint(1, n - 1)
    a, b = rng.randint(1, 3), _nonzero(rng, 3)
    coefficient = sp.Integer(comb(n, k) * a**k * b ** (n - k))
    prompt = (
        f"What is the coefficient of $x^{{{k}}}$ in the expansion of $({_poly(a, b)})^{{{n}}}$? Put it in \\boxed{{}}."
    )
    swapped = sp.Integer(comb(n, k) * a ** (n - k) * b**k)
    return prompt, coefficient, [sp.Integer(comb(n, k)), swapped]


TEMPLATES: dict[str, Callable[[Any, random.Random, int], Problem]] = dict(
    zip(
        KINDS,
        (
            quadratic_root,
            vieta,
            dice,
            sector,
            distance,
            inequality,
            integer_set,
            modular,
            geometric_series,
            complex_product,
            binomial,
        ),
        strict=True,
    )
)


@rlhub.environment("rlhub/competition-math", version="0.1.0")
class CompetitionMath(rlhub.SingleTurnEnv):
    """Competition-style problems whose exact answers are fractions, radicals, multiples of pi, complex
    numbers, intervals or sets."""

    kinds: str = ",".join(KINDS)
    """Comma-separated templates to draw from (see `KINDS`)."""
    level: int = 2
    """Difficulty 1-3: larger numbers; at 3 also three dice, negative leading coefficients, quotients."""

    rubric = rlhub.Rubric(correct=math.score)

    def __init__(self, **config: object):
        super().__init__(**config)
        self._kinds = tuple(k.strip() for k in self.kinds.split(","))
        if not self._kinds or set(self._kinds) - set(KINDS):
            raise rlhub.ConfigError(f"kinds must be a comma-separated subset of {', '.join(KINDS)}")
        if not 1 <= self.level <= 3:
            raise rlhub.ConfigError("level must be 1-3")

    def make_task(self, rng: random.Random) -> rlhub.Task:
        import sympy

        kind = rng.choice(self._kinds)
        prompt, answer, mistakes = TEMPLATES[kind](sympy, rng, self.level)
        distractors = [_latex(sympy, m) for m in mistakes if _differs(sympy, m, answer)]
        info = {"kind": kind, "distractors": distractors}
        return rlhub.Task(
            prompt=prompt, answer=_latex(sympy, answer), info=info, tags=(f"kind:{kind}", f"level:{self.level}")
        )

    def oracle(self, task: rlhub.Task, messages: Sequence[rlhub.Message]) -> rlhub.Message:
        return rlhub.Message.assistant(f"The answer is $\\boxed{{{task.answer}}}$.")

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        return ["", "I don't know.", *(f"\\boxed{{{d}}}" for d in task.info["distractors"])]


def _differs(sp: Any, mistake: Any, answer: Any) -> bool:
    """Structural comparison: every template builds values in sympy's canonical form."""

    def value(v: Any) -> Any:
        return sp.Add(*v) if isinstance(v, tuple) else v

    return bool(value(mistake) != value(answer))
