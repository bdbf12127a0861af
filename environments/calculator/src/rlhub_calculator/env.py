"""Multi-turn tool use: prices live in a lookup table the model can only reach through a tool, and
arithmetic is done with a calculator tool. The task is the cost of a basket of items.

The price table is a pure function of the task (part of `task.info`), so a fresh table exists for every
episode and the model cannot memorise prices across tasks.
"""

from __future__ import annotations

import ast
import json
import operator
import random
from collections.abc import Callable, Sequence
from typing import Any

import rlhub
from rlhub.verify import numeric

PRODUCTS = [
    "apple", "banana", "bread", "butter", "cheese", "coffee", "eggs", "flour", "honey", "jam",
    "lemon", "milk", "onion", "pasta", "pepper", "rice", "salt", "sugar", "tea", "tomato",
]  # fmt: skip

_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def evaluate(expression: str) -> float:
    """Evaluate + - * / over numbers and parentheses; anything else is a ValueError."""
    if len(expression) > 200:
        raise ValueError("expression longer than 200 characters")

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](walk(node.left), walk(node.right))
        raise ValueError("only numbers, parentheses and + - * / are allowed")

    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"cannot parse {expression!r}") from exc
    return walk(tree)


@rlhub.environment("rlhub/calculator", version="0.1.0")
class Calculator(rlhub.ToolEnv):
    """What does a basket cost? Look prices up, multiply by quantities, add them up."""

    items: int = 3
    """Distinct products in the basket (1-6)."""
    max_quantity: int = 9
    """Largest quantity of one product."""

    max_turns = 12
    system_prompt = (
        "You are a shopping assistant. Prices are only available through the `price` tool; use the "
        "`calculate` tool for arithmetic. When you know the total, reply with 'The answer is N.' in dollars."
    )
    rubric = rlhub.Rubric(correct=numeric.score)

    def make_task(self, rng: random.Random) -> rlhub.Task:
        if not 1 <= self.items <= 6:
            raise rlhub.ConfigError("items must be 1-6")
        prices = {p: rng.randint(50, 2000) / 100 for p in rng.sample(PRODUCTS, 10)}
        basket = {p: rng.randint(1, self.max_quantity) for p in rng.sample(sorted(prices), self.items)}
        total = round(sum(q * prices[p] for p, q in basket.items()), 2)
        listing = ", ".join(f"{q} {p}" for p, q in basket.items())
        return rlhub.Task(
            prompt=f"How much do {listing} cost in total?",
            answer=f"{total:.2f}",
            info={"prices": prices, "basket": basket},
            tags=(f"items:{self.items}",),
        )

    def tools(self, state: rlhub.State) -> list[Callable[..., Any]]:
        prices: dict[str, float] = state.task.info["prices"]

        def price(product: str) -> str:
            """Unit price of a product in dollars.

            Args:
                product: the product name, e.g. "milk"
            """
            key = product.strip().lower()
            if key not in prices:
                raise KeyError(f"no product {product!r}; known: {', '.join(sorted(prices))}")
            return f"{prices[key]:.2f}"

        def calculate(expression: str) -> str:
            """Evaluate an arithmetic expression with + - * / and parentheses.

            Args:
                expression: e.g. "3 * 1.25 + 2 * 0.5"
            """
            return f"{evaluate(expression):.6g}"

        return [price, calculate]

    def oracle(self, task: rlhub.Task, messages: Sequence[rlhub.Message]) -> rlhub.Message:
        """Look up every price in one turn (parallel calls), calculate, then answer."""
        basket: dict[str, int] = task.info["basket"]
        prices: dict[str, float] = task.info["prices"]
        tool_turns = sum(1 for m in messages if m.role == "assistant")
        if tool_turns == 0:
            calls = tuple(
                rlhub.ToolCall(id=f"p{i}", name="price", arguments=json.dumps({"product": p}))
                for i, p in enumerate(basket)
            )
            return rlhub.Message.assistant(tool_calls=calls)
        if tool_turns == 1:
            expression = " + ".join(f"{q} * {prices[p]:.2f}" for p, q in basket.items())
            call = rlhub.ToolCall(id="c0", name="calculate", arguments=json.dumps({"expression": expression}))
            return rlhub.Message.assistant(tool_calls=(call,))
        return rlhub.Message.assistant(f"The answer is {task.answer}.")
