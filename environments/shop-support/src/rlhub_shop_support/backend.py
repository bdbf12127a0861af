"""The simulated shop: a JSON database and the operations the support agent's tools perform on it.

Operations check only what a real back end would (the order and item exist, the new variant belongs
to the same product and is in stock). Business policy — which orders may be cancelled, the return
window — is the agent's job, as in tau-bench: a careless agent can break it, and the reward sees that.
"""

from __future__ import annotations

import contextlib
import copy
import random
from collections.abc import Callable
from typing import Any

DB = dict[str, Any]
COLORS = ["black", "white", "red", "blue", "green"]
SIZES = ["S", "M", "L", "XL"]
PRODUCTS = ["t-shirt", "hoodie", "sneakers", "backpack", "rain jacket", "cap"]
FIRST = ["ana", "ben", "chloe", "dev", "elif", "femi", "gus", "hiro", "ines", "jon"]
STREETS = ["Elm St", "Oak Ave", "Pine Rd", "Maple Ln", "Cedar Ct"]
RETURN_WINDOW_DAYS = 30


class ShopError(Exception):
    """A back-end refusal; its message goes back to the agent."""


def generate(rng: random.Random) -> DB:
    products: dict[str, dict[str, Any]] = {}
    for p, name in enumerate(rng.sample(PRODUCTS, 4)):
        variants = {}
        for v, (color, size) in enumerate(rng.sample([(c, s) for c in COLORS for s in SIZES], 4)):
            variants[f"V{p}{v}"] = {"color": color, "size": size, "stock": rng.choice([0, 2, 5])}
        products[f"P{p}"] = {"name": name, "price": rng.randint(10, 120), "variants": variants}
    users: dict[str, dict[str, Any]] = {}
    orders: dict[str, dict[str, Any]] = {}
    for u, first in enumerate(rng.sample(FIRST, 3)):
        user_id = f"U{u}"
        users[user_id] = {"name": first.title(), "email": f"{first}{rng.randint(1, 99)}@example.com", "orders": []}
        for _ in range(2):
            order_id = f"W{rng.randint(1000, 9999)}"
            while order_id in orders:
                order_id = f"W{rng.randint(1000, 9999)}"
            status = rng.choice(["pending", "shipped", "delivered"])
            items = []
            for i, product_id in enumerate(rng.sample(sorted(products), 2)):
                variant_id = rng.choice(sorted(products[product_id]["variants"]))
                items.append({"item_id": f"{order_id}-{i}", "product_id": product_id, "variant_id": variant_id,
                              "price": products[product_id]["price"], "returned": False})  # fmt: skip
            orders[order_id] = {
                "user_id": user_id,
                "status": status,
                "address": f"{rng.randint(1, 99)} {rng.choice(STREETS)}",
                "delivered_days_ago": rng.choice([3, 12, 25, 40, 75]) if status == "delivered" else None,
                "items": items,
                "refunded": 0,
            }
            users[user_id]["orders"].append(order_id)
    return {"users": users, "products": products, "orders": orders}


def _order(db: DB, order_id: str) -> dict[str, Any]:
    if order_id not in db["orders"]:
        raise ShopError(f"no order {order_id}")
    return db["orders"][order_id]


def _item(order: dict[str, Any], item_id: str) -> dict[str, Any]:
    for item in order["items"]:
        if item["item_id"] == item_id:
            return item
    raise ShopError(f"no item {item_id} in this order")


def find_user(db: DB, email: str) -> dict[str, Any]:
    for user_id, user in db["users"].items():
        if user["email"] == email.strip().lower():
            return {"user_id": user_id, **user}
    raise ShopError(f"no customer with email {email}")


def get_order(db: DB, order_id: str) -> dict[str, Any]:
    return {"order_id": order_id, **_order(db, order_id)}


def get_product(db: DB, product_id: str) -> dict[str, Any]:
    if product_id not in db["products"]:
        raise ShopError(f"no product {product_id}")
    return {"product_id": product_id, **db["products"][product_id]}


def cancel_order(db: DB, order_id: str) -> str:
    order = _order(db, order_id)
    order["status"] = "cancelled"
    return f"order {order_id} cancelled"


def update_address(db: DB, order_id: str, address: str) -> str:
    _order(db, order_id)["address"] = address.strip()
    return f"shipping address of {order_id} set to {address.strip()}"


def return_item(db: DB, order_id: str, item_id: str) -> str:
    order = _order(db, order_id)
    item = _item(order, item_id)
    if item["returned"]:
        raise ShopError(f"item {item_id} was already returned")
    item["returned"] = True
    order["refunded"] += item["price"]
    return f"item {item_id} returned; refund ${item['price']}"


def exchange_item(db: DB, order_id: str, item_id: str, new_variant_id: str) -> str:
    order = _order(db, order_id)
    item = _item(order, item_id)
    variants = db["products"][item["product_id"]]["variants"]
    if new_variant_id not in variants:
        raise ShopError(f"variant {new_variant_id} is not a variant of {item['product_id']}")
    if variants[new_variant_id]["stock"] <= 0:
        raise ShopError(f"variant {new_variant_id} is out of stock")
    variants[new_variant_id]["stock"] -= 1
    variants[item["variant_id"]]["stock"] += 1
    item["variant_id"] = new_variant_id
    return f"item {item_id} exchanged for {new_variant_id}"


READS: dict[str, Callable[..., dict[str, Any]]] = {
    "find_user": find_user,
    "get_order": get_order,
    "get_product": get_product,
}
WRITES: dict[str, Callable[..., str]] = {
    "cancel_order": cancel_order,
    "update_address": update_address,
    "return_item": return_item,
    "exchange_item": exchange_item,
}
OPERATIONS = {**READS, **WRITES}


def apply(db: DB, actions: list[tuple[str, dict[str, Any]]]) -> DB:
    """A copy of `db` after the write actions that succeed; failing ones change nothing."""
    state = copy.deepcopy(db)
    for name, arguments in actions:
        if name in WRITES:
            with contextlib.suppress(ShopError, TypeError):
                WRITES[name](state, **arguments)
    return state
