"""Customer support for a simulated shop, tau-bench style: the agent reads the database and changes it
through tools, following the shop's policy. The reward is the final database state: 1.0 when it equals
the state that the customer's valid requests (and only those) produce, else 0.0.

Scoring replays the tool calls in the conversation on a fresh copy of the task's database, so a reward
depends on what the agent did, never on what it claims, and any log can be re-scored.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from typing import Any

import rlhub
from rlhub.core.tools import parse_tool_calls
from rlhub_shop_support import backend

POLICY = f"""You are a support agent for an online shop. Use the tools to look up and change orders.
Policy:
- Identify the customer by their email (find_user) and act only on orders that belong to them.
- Only pending orders can be cancelled or have their shipping address changed.
- Items of delivered orders can be returned within {backend.RETURN_WINDOW_DAYS} days of delivery; the refund
  is automatic.
- An item can be exchanged for another variant (colour/size) of the same product if that variant is in
  stock, while the order is pending, or delivered within {backend.RETURN_WINDOW_DAYS} days.
- Refuse requests the policy does not allow, and explain why. Never do anything the customer did not ask.
When you are done, reply to the customer without calling a tool."""


def _variant_text(product: dict[str, Any], variant_id: str) -> str:
    variant = product["variants"][variant_id]
    return f"{variant['color']}, size {variant['size']}"


def _request(rng: random.Random, db: backend.DB, order_id: str) -> tuple[str, tuple[str, dict[str, Any]], bool]:
    """One request about an order: its text, the action that fulfils it, and whether policy allows it."""
    order = db["orders"][order_id]
    status, days = order["status"], order["delivered_days_ago"]
    in_window = status == "delivered" and days <= backend.RETURN_WINDOW_DAYS
    item = rng.choice(order["items"])
    product = db["products"][item["product_id"]]
    kinds = ["cancel", "address", "exchange"] + (["return", "return"] if status == "delivered" else [])
    kind = rng.choice(kinds)
    if kind == "cancel":
        return f"Please cancel order {order_id}.", ("cancel_order", {"order_id": order_id}), status == "pending"
    if kind == "address":
        address = f"{rng.randint(100, 999)} {rng.choice(backend.STREETS)}"
        action = ("update_address", {"order_id": order_id, "address": address})
        return f"Please ship order {order_id} to {address} instead.", action, status == "pending"
    current = _variant_text(product, item["variant_id"])
    if kind == "return":
        text = f"I want to return the {product['name']} ({current}) from order {order_id}."
        return text, ("return_item", {"order_id": order_id, "item_id": item["item_id"]}), in_window
    others = [v for v in sorted(product["variants"]) if v != item["variant_id"]]
    new = rng.choice(others)
    text = (
        f"In order {order_id}, please exchange my {product['name']} ({current}) for the one in "
        f"{_variant_text(product, new)}."
    )
    allowed = product["variants"][new]["stock"] > 0 and (status == "pending" or in_window)
    action = ("exchange_item", {"order_id": order_id, "item_id": item["item_id"], "new_variant_id": new})
    return text, action, allowed


def replay(db: backend.DB, messages: Sequence[rlhub.Message]) -> backend.DB:
    """The database after every write the agent made in `messages`."""
    actions = []
    for message in messages:
        if message.role != "assistant":
            continue
        for call in parse_tool_calls(message)[0]:
            try:
                actions.append((call.name, call.parsed_arguments()))
            except ValueError:
                continue
    return backend.apply(db, actions)


def final_state(response: str, reference: object, task: rlhub.Task, messages: Sequence[rlhub.Message]) -> rlhub.Score:
    actual = replay(task.info["db"], messages)
    ok = actual == backend.apply(task.info["db"], [tuple(a) for a in task.info["solution"]])
    wrong = [] if ok else [o for o in actual["orders"] if actual["orders"][o] != task.info["db"]["orders"][o]]
    return rlhub.Score.of(ok, detail=None if ok else f"orders changed: {wrong}")


@rlhub.environment("rlhub/shop-support", version="0.1.0")
class ShopSupport(rlhub.ToolEnv):
    """Handle a customer's requests with the shop's tools, following its policy."""

    requests: int = 2
    """Requests per customer message (1-2); at least one is allowed by the policy."""

    max_turns = 10
    system_prompt = POLICY
    rubric = rlhub.Rubric(state=final_state)

    def make_task(self, rng: random.Random) -> rlhub.Task:
        if not 1 <= self.requests <= 2:
            raise rlhub.ConfigError("requests must be 1 or 2")
        while True:  # redraw until the customer asks for at least one thing the policy allows
            db = backend.generate(rng)
            user = db["users"][rng.choice(sorted(db["users"]))]
            made = [_request(rng, db, order_id) for order_id in rng.sample(user["orders"], self.requests)]
            if any(allowed for _, _, allowed in made):
                break
        message = f"Hi, this is {user['name']} ({user['email']}). " + " ".join(t for t, _, _ in made) + " Thanks!"
        solution = [list(action) for _, action, allowed in made if allowed]
        refused = [list(action) for _, action, allowed in made if not allowed]
        kinds = sorted({action[0] for _, action, _ in made})
        return rlhub.Task(
            prompt=message,
            answer=json.dumps(solution),
            info={"db": db, "solution": solution, "refused": refused},
            tags=(f"requests:{self.requests}", *kinds, "has-refusal" if refused else "all-allowed"),
        )

    def setup(self, state: rlhub.State) -> None:
        state.db = json.loads(json.dumps(state.task.info["db"]))

    def tools(self, state: rlhub.State) -> list[Callable[..., Any]]:
        def find_user(email: str) -> dict[str, Any]:
            """The customer with this email, with their order ids."""
            return backend.find_user(state.db, email)

        def get_order(order_id: str) -> dict[str, Any]:
            """An order: status, items (with item ids and variant ids), address, days since delivery."""
            return backend.get_order(state.db, order_id)

        def get_product(product_id: str) -> dict[str, Any]:
            """A product with its variants (colour, size, stock)."""
            return backend.get_product(state.db, product_id)

        def cancel_order(order_id: str) -> str:
            """Cancel an order."""
            return backend.cancel_order(state.db, order_id)

        def update_address(order_id: str, address: str) -> str:
            """Change the shipping address of an order."""
            return backend.update_address(state.db, order_id, address)

        def return_item(order_id: str, item_id: str) -> str:
            """Return one item of an order and refund it."""
            return backend.return_item(state.db, order_id, item_id)

        def exchange_item(order_id: str, item_id: str, new_variant_id: str) -> str:
            """Exchange an item for another variant of the same product."""
            return backend.exchange_item(state.db, order_id, item_id, new_variant_id)

        return [find_user, get_order, get_product, cancel_order, update_address, return_item, exchange_item]

    def oracle(self, task: rlhub.Task, messages: Sequence[rlhub.Message]) -> rlhub.Message:
        """Look the customer up, make exactly the allowed changes in one turn, then reply."""
        turns = sum(1 for m in messages if m.role == "assistant")
        email = task.prompt[0].content.split("(")[1].split(")")[0]
        if turns == 0:
            call = rlhub.ToolCall(id="u", name="find_user", arguments=json.dumps({"email": email}))
            return rlhub.Message.assistant(tool_calls=(call,))
        if turns == 1:
            calls = tuple(
                rlhub.ToolCall(id=f"a{i}", name=name, arguments=json.dumps(arguments))
                for i, (name, arguments) in enumerate(task.info["solution"])
            )
            return rlhub.Message.assistant(tool_calls=calls)
        refused = " Some of your requests are not allowed by our policy." if task.info["refused"] else ""
        return rlhub.Message.assistant(f"All done.{refused}")

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        """Doing nothing, and doing everything asked when the back end would let a policy breach through."""
        wrong = ["", "Sorry, I cannot help with that."]
        everything = task.info["solution"] + task.info["refused"]
        db = task.info["db"]
        if backend.apply(db, [tuple(a) for a in everything]) != backend.apply(
            db, [tuple(a) for a in task.info["solution"]]
        ):
            wrong.append(
                "".join(f"<tool_call>{json.dumps({'name': n, 'arguments': a})}</tool_call>" for n, a in everything)
            )
        return wrong
