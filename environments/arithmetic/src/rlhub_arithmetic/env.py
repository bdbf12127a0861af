"""Integer arithmetic: `a + b`, `a - b`, `a * b` and longer chains, with difficulty knobs.

The curriculum is `level`: each level adds a digit or a term (see `LEVELS`); explicit knobs override it.
The reward is 1 when the last number in the answer equals the exact result.
"""

from __future__ import annotations

import random

import rlhub
from rlhub.verify import numeric

LEVELS = {
    1: (1, 2, "+"),
    2: (2, 2, "+-"),
    3: (3, 2, "+-"),
    4: (2, 2, "+-*"),
    5: (3, 3, "+-*"),
    6: (4, 3, "+-*"),
}
"""level -> (digits, terms, operators)."""


@rlhub.environment("rlhub/arithmetic", version="0.1.0")
class Arithmetic(rlhub.SingleTurnEnv):
    """What is 123 + 456? Exact integer answers, standard operator precedence."""

    level: int | None = None
    """Curriculum level 1-6; sets digits, terms and operators unless given explicitly."""
    digits: int = 3
    """Digits per operand (1-9)."""
    terms: int = 2
    """Operands per expression (2-6)."""
    operators: str = "+"
    """Operators to draw from, any of '+-*'."""
    instruction: bool = True
    """Append 'Answer with just the number.' to the prompt."""
    style: str = "question"
    """Prompt wording: 'question' ("What is 73 + 58?") or 'equation' ("73+58=", a third of the tokens,
    for small models trained on CPU)."""

    rubric = rlhub.Rubric(correct=numeric.score)

    def __init__(self, **config: object):
        super().__init__(**config)
        if self.level is not None:
            if self.level not in LEVELS:
                raise rlhub.ConfigError(f"level must be one of {sorted(LEVELS)}")
            level_digits, level_terms, level_ops = LEVELS[self.level]
            self.digits = config.get("digits", level_digits)  # type: ignore[assignment]
            self.terms = config.get("terms", level_terms)  # type: ignore[assignment]
            self.operators = config.get("operators", level_ops)  # type: ignore[assignment]
        if not 1 <= self.digits <= 9 or not 2 <= self.terms <= 6:
            raise rlhub.ConfigError("digits must be 1-9 and terms 2-6")
        if not self.operators or set(self.operators) - set("+-*"):
            raise rlhub.ConfigError("operators must be a non-empty subset of '+-*'")
        if self.style not in ("question", "equation"):
            raise rlhub.ConfigError("style must be 'question' or 'equation'")

    def make_task(self, rng: random.Random) -> rlhub.Task:
        numbers = [rng.randint(0, 10**self.digits - 1) for _ in range(self.terms)]
        ops = [rng.choice(self.operators) for _ in range(self.terms - 1)]
        expression = str(numbers[0]) + "".join(f" {op} {n}" for op, n in zip(ops, numbers[1:], strict=True))
        answer = eval(expression, {"__builtins__": {}})  # digits and + - * only, built above
        suffix = " Answer with just the number." if self.instruction else ""
        prompt = f"{expression.replace(' ', '')}=" if self.style == "equation" else f"What is {expression}?"
        tags = (f"terms:{self.terms}", f"digits:{self.digits}", *sorted(f"op:{o}" for o in set(ops)))
        return rlhub.Task(prompt=prompt + suffix, answer=str(answer), tags=tags)
