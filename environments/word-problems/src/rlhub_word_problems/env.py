"""Multi-step word problems with one numeric answer, generated from templates.

Each template draws names, items and quantities from the task's rng and computes the answer with the
same numbers, so the answer is exact by construction. `steps` is the difficulty knob: templates are
grouped by how many arithmetic steps they need.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from fractions import Fraction

import rlhub
from rlhub.verify import numeric

NAMES = ["Ada", "Bola", "Chen", "Dana", "Emil", "Farah", "Goran", "Hana", "Ivan", "Jia", "Kofi", "Lena"]
ITEMS = [("apple", "apples"), ("pencil", "pencils"), ("notebook", "notebooks"), ("ticket", "tickets"), ("mug", "mugs")]

Problem = tuple[str, Fraction]
Template = Callable[[random.Random], Problem]


def _shopping(rng: random.Random) -> Problem:
    name = rng.choice(NAMES)
    item, items = rng.choice(ITEMS)
    count, price, paid = rng.randint(2, 12), rng.randint(2, 40), 0
    total = count * price
    paid = (total // 50 + 1) * 50
    text = (
        f"{name} buys {count} {items} at ${price} per {item} and pays with ${paid} in $50 notes. "
        f"How many dollars of change does {name} get?"
    )
    return text, Fraction(paid - total)


def _speed(rng: random.Random) -> Problem:
    name = rng.choice(NAMES)
    speed, hours, extra = rng.randint(30, 90), rng.randint(2, 6), rng.randint(10, 60)
    text = (
        f"{name} drives at {speed} km/h for {hours} hours, then another {extra} km. "
        "How many kilometres does the trip cover in total?"
    )
    return text, Fraction(speed * hours + extra)


def _sharing(rng: random.Random) -> Problem:
    a, b = rng.sample(NAMES, 2)
    _, items = rng.choice(ITEMS)
    per_box, boxes, people = rng.randint(3, 12), rng.randint(2, 9), rng.choice([2, 3, 4, 6])
    total = per_box * boxes
    total -= total % people
    boxes_text = f"{total} {items}" if total != per_box * boxes else f"{boxes} boxes of {per_box} {items}"
    text = (
        f"{a} and {b} collect {boxes_text} and share them equally among {people} friends. "
        f"How many {items} does each friend get?"
    )
    return text, Fraction(total, people)


def _ages(rng: random.Random) -> Problem:
    a, b = rng.sample(NAMES, 2)
    younger, gap, years = rng.randint(3, 30), rng.randint(2, 25), rng.randint(2, 15)
    text = (
        f"{a} is {gap} years older than {b}. {b} is {younger} years old now. "
        f"What will the sum of their ages be in {years} years?"
    )
    return text, Fraction(2 * younger + gap + 2 * years)


def _discount(rng: random.Random) -> Problem:
    name = rng.choice(NAMES)
    _, items = rng.choice(ITEMS)
    price, count, percent = rng.randint(4, 60) * 5, rng.randint(2, 6), rng.choice([10, 20, 25, 50])
    text = (
        f"A shop sells {items} for ${price} each. {name} buys {count} {items} with a {percent}% discount on the "
        f"whole purchase, then pays a $3 delivery fee. How many dollars does {name} pay in total?"
    )
    return text, Fraction(price * count) * Fraction(100 - percent, 100) + 3


def _work(rng: random.Random) -> Problem:
    a, b = rng.sample(NAMES, 2)
    rate_a, rate_b, hours, target = rng.randint(2, 9), rng.randint(2, 9), rng.randint(2, 5), 0
    done = (rate_a + rate_b) * hours
    target = done + rng.randint(1, 4) * rate_a
    text = (
        f"{a} packs {rate_a} parcels an hour and {b} packs {rate_b}. They work together for {hours} hours; "
        f"then {a} finishes the rest of an order of {target} parcels alone. How many hours does {a} work in total?"
    )
    return text, Fraction(hours) + Fraction(target - done, rate_a)


TEMPLATES: dict[int, list[Template]] = {1: [_speed, _sharing], 2: [_shopping, _ages], 3: [_discount, _work]}


@rlhub.environment("rlhub/word-problems", version="0.1.0")
class WordProblems(rlhub.SingleTurnEnv):
    """Everyday word problems (shopping, travel, sharing, ages, discounts, work rates)."""

    steps: int = 3
    """Highest template difficulty to draw from (1-3 arithmetic steps)."""

    system_prompt = "Solve the problem. End your reply with 'The answer is N.' where N is a number."
    rubric = rlhub.Rubric(correct=numeric.score)

    def make_task(self, rng: random.Random) -> rlhub.Task:
        if not 1 <= self.steps <= 3:
            raise rlhub.ConfigError("steps must be 1, 2 or 3")
        level = rng.randint(1, self.steps)
        template = rng.choice(TEMPLATES[level])
        text, answer = template(rng)
        value = str(answer.numerator) if answer.denominator == 1 else f"{float(answer):g}"
        return rlhub.Task(prompt=text, answer=value, tags=(f"steps:{level}", f"template:{template.__name__[1:]}"))

    def oracle(self, task: rlhub.Task, messages: object) -> rlhub.Message:
        return rlhub.Message.assistant(f"The answer is {task.answer}.")
