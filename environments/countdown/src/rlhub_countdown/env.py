"""Countdown numbers game: combine the given numbers with + - * / and parentheses to hit a target.

Every task is solvable by construction: the target is the value of a random expression over the
numbers. The verifier parses the model's expression with `ast` (no `eval`), allows only non-negative
integer literals, the four binary operators and parentheses, evaluates it exactly with fractions and
checks that no number is used more often than it was given.
"""

from __future__ import annotations

import ast
import random
import re
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import rlhub
from rlhub import Score, ScoreStatus

SMALL = tuple(range(1, 11))
LARGE = (25, 50, 75, 100)
_OPS: dict[type[ast.operator], str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_THINK_RE = re.compile(r"<think>.*?(</think>|$)", re.DOTALL)
_BOXED_RE = re.compile(r"\\boxed\{([^{}]*)\}")
_ANSWER_RE = re.compile(r"answer\s*(?:is|:)\s*(.+)", re.IGNORECASE)
_SYMBOLS = str.maketrans({"×": "*", "·": "*", "∗": "*", "÷": "/", "−": "-", "`": " ", "$": " "})
_MAX_CHARS = 200


def evaluate(expression: str, numbers: list[int]) -> Fraction:
    """The exact value of `expression`; ValueError when it is not a valid answer over `numbers`."""
    if len(expression) > _MAX_CHARS:
        raise ValueError(f"expression longer than {_MAX_CHARS} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        raise ValueError(f"not an arithmetic expression: {expression.strip()!r}") from None
    used: list[int] = []
    value = _value(tree.body, used)
    extra = Counter(used) - Counter(numbers)
    if extra:
        raise ValueError(f"uses {', '.join(map(str, sorted(extra.elements())))} more often than given")
    return value


def _value(node: ast.expr, used: list[int]) -> Fraction:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        used.append(node.value)
        return Fraction(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _value(node.left, used), _value(node.right, used)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if right == 0:
            raise ValueError("division by zero")
        return left / right
    raise ValueError(f"only integers, + - * / and parentheses are allowed, not {ast.unparse(node)!r}")


def extract_expression(response: str, target: int) -> str | None:
    """The expression a response commits to: `\\boxed{}`, else 'answer: ...', else its last line.
    A trailing or leading `= target` is dropped."""
    text = _THINK_RE.sub("", response[-5_000:]).translate(_SYMBOLS)
    boxed = _BOXED_RE.findall(text)
    answer = _ANSWER_RE.findall(text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    candidate = boxed[-1] if boxed else answer[-1] if answer else lines[-1] if lines else ""
    parts = [p.strip().rstrip(".") for p in candidate.split("=")]
    parts = [p for p in parts if p and p != str(target)]
    return parts[0] if parts else None


def reached(response: str, reference: dict[str, Any], task: rlhub.Task) -> Score:
    """1 for an exact hit; 0.5 x (1 - distance / tolerance) for a valid expression that comes close."""
    target, numbers, tolerance = reference["target"], reference["numbers"], task.info["tolerance"]
    expression = extract_expression(response, target)
    if expression is None:
        return Score(value=0.0, status=ScoreStatus.unparseable, detail="no expression found")
    try:
        value = evaluate(expression, numbers)
    except ValueError as exc:
        status = ScoreStatus.incorrect if "more often" in str(exc) else ScoreStatus.unparseable
        return Score(value=0.0, status=status, extracted=expression, detail=str(exc))
    if value == target:
        return Score.of(True, extracted=expression)
    distance = abs(value - target)
    partial = 0.5 * float(1 - distance / tolerance) if distance < tolerance else 0.0
    return Score(value=partial, extracted=expression, detail=f"value {value}, target {target}")


@rlhub.environment("rlhub/countdown", version="0.1.0")
class Countdown(rlhub.SingleTurnEnv):
    """Using 25, 4, 3 and 7 at most once each with + - * /, make 97."""

    numbers: int = 4
    """How many numbers are given (3-6)."""
    max_large: int = 1
    """At most this many of the given numbers come from {25, 50, 75, 100}; the rest are 1-10."""
    use_all: bool = False
    """Whether the construction uses every number (the answer may still use fewer)."""
    min_target: int = 10
    max_target: int = 999
    tolerance: int = 10
    """A valid expression within this distance of the target earns partial credit (0 disables it)."""

    rubric = rlhub.Rubric(reached=reached)

    def __init__(self, **config: object):
        super().__init__(**config)
        if not 3 <= self.numbers <= 6 or not 0 <= self.max_large <= min(4, self.numbers):
            raise rlhub.ConfigError("numbers must be 3-6 and max_large 0-min(4, numbers)")
        if not 1 <= self.min_target <= self.max_target or self.tolerance < 0:
            raise rlhub.ConfigError("need 1 <= min_target <= max_target and tolerance >= 0")

    def make_task(self, rng: random.Random) -> rlhub.Task:
        while True:
            large = rng.randint(0, self.max_large)
            pool = rng.sample(LARGE, large) + rng.sample(SMALL * 2, self.numbers - large)
            rng.shuffle(pool)
            k = self.numbers if self.use_all else rng.randint(2, self.numbers)
            target, solution = _construct(rng, pool[:k])
            if self.min_target <= target <= self.max_target and target not in pool:
                break
        listed = ", ".join(map(str, pool))
        prompt = (
            f"Using the numbers {listed}, make {target}. You may use +, -, *, / and parentheses. "
            "Each number may be used at most once (a number listed twice may be used twice); you do not have "
            "to use them all. Write your final answer as a single expression on the last line, "
            "for example: (8 + 2) * 5"
        )
        answer = {"target": target, "numbers": pool, "solution": solution}
        info = {"tolerance": self.tolerance}
        return rlhub.Task(prompt=prompt, answer=answer, info=info, tags=(f"numbers:{self.numbers}", f"used:{k}"))

    def oracle(self, task: rlhub.Task, messages: Sequence[rlhub.Message]) -> rlhub.Message:
        return rlhub.Message.assistant(f"{task.answer['solution']} = {task.answer['target']}")

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        numbers, target = task.answer["numbers"], task.answer["target"]
        doubled = f"{numbers[0]} + {numbers[0]} + " + " + ".join(map(str, numbers))
        wrong = ["", "I don't know.", str(target), doubled, f"{task.answer['solution']} + 99"]
        total = " + ".join(map(str, numbers))
        if sum(numbers) != target:
            wrong.append(total)
        return wrong


def _construct(rng: random.Random, picked: list[int]) -> tuple[int, str]:
    """Combine all of `picked` into one expression with positive integer intermediate values."""
    items: list[tuple[int, str]] = [(n, str(n)) for n in picked]
    while len(items) > 1:
        i, j = rng.sample(range(len(items)), 2)
        (a, ea), (b, eb) = items[i], items[j]
        if a < b:
            (a, ea), (b, eb) = (b, eb), (a, ea)
        options = ["+", "*"] + (["-"] if a > b else []) + (["/"] if b > 1 and a % b == 0 else [])
        op = rng.choice(options)
        value = {"+": a + b, "*": a * b, "-": a - b, "/": a // b}[op]
        items = [x for k, x in enumerate(items) if k not in (i, j)] + [(value, f"({ea} {op} {eb})")]
    value, expression = items[0]
    return value, expression[1:-1]
