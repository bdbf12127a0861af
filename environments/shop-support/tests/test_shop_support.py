import asyncio
import json

from rlhub_shop_support import ShopSupport, backend

import rlhub
from rlhub.core.model import PolicyClient


def test_check_env_passes() -> None:
    report = rlhub.check_env(ShopSupport(), n=20)
    assert report.ok, report.failures()


def _run(env: ShopSupport, task: rlhub.Task, replies: list[rlhub.Message]) -> float:
    script = iter(replies)
    episode = asyncio.run(env.rollout(task, PolicyClient(lambda m: next(script))))
    return env.score(task, episode.messages).value


def _call(name: str, **arguments: str) -> rlhub.Message:
    return rlhub.Message.assistant(f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>")


def test_policy_violations_are_caught_by_the_final_state() -> None:
    env = ShopSupport()
    task = next(t for t in env.tasks(50) if len(env.wrong_responses(t)) == 3)
    solution = [_call(n, **a) for n, a in task.info["solution"]]
    violation = [_call(n, **a) for n, a in task.info["refused"]]
    assert _run(env, task, [*solution, rlhub.Message.assistant("done")]) == 1.0
    assert _run(env, task, [*solution, *violation, rlhub.Message.assistant("done")]) == 0.0


def test_reads_and_failed_writes_do_not_change_the_reward() -> None:
    env = ShopSupport()
    task = env.task(3)
    email = task.prompt[0].content.split("(")[1].split(")")[0]
    replies = [
        _call("find_user", email=email),
        _call("cancel_order", order_id="W0000"),  # no such order: an error message, no change
        *[_call(n, **a) for n, a in task.info["solution"]],
        rlhub.Message.assistant("done"),
    ]
    assert _run(env, task, replies) == 1.0


def test_tool_errors_are_reported_to_the_agent() -> None:
    env = ShopSupport()
    task = env.task(0)
    script = iter([_call("get_order", order_id="nope"), rlhub.Message.assistant("sorry")])
    episode = asyncio.run(env.rollout(task, PolicyClient(lambda m: next(script))))
    assert episode.messages[1].content == "error: ShopError: no order nope"


def test_exchange_moves_stock() -> None:
    import random

    db = backend.generate(random.Random(1))
    order_id, order = next(iter(db["orders"].items()))
    item = order["items"][0]
    variants = db["products"][item["product_id"]]["variants"]
    target = next(v for v in variants if v != item["variant_id"] and variants[v]["stock"] > 0)
    before = variants[target]["stock"]
    after = backend.apply(
        db, [("exchange_item", {"order_id": order_id, "item_id": item["item_id"], "new_variant_id": target})]
    )
    assert after["products"][item["product_id"]]["variants"][target]["stock"] == before - 1
    assert db["products"][item["product_id"]]["variants"][target]["stock"] == before  # apply copies
