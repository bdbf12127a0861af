import asyncio
import json

import pytest
from rlhub_calculator import Calculator
from rlhub_calculator.env import evaluate

import rlhub
from rlhub.core.model import PolicyClient


def test_check_env_passes() -> None:
    report = rlhub.check_env(Calculator(), n=20)
    assert report.ok, report.failures()


def test_oracle_episode_uses_tools_and_gets_full_reward() -> None:
    env = Calculator(items=4)
    task = env.task(0)
    episode = asyncio.run(env.rollout(task, PolicyClient(lambda m: env.oracle(task, m))))
    roles = [m.role for m in episode.messages]
    assert roles.count("tool") == 5 and episode.turns == 3
    assert env.score(task, episode.messages).value == 1.0


def test_tool_errors_go_back_to_the_model() -> None:
    env = Calculator()
    task = env.task(1)
    script = iter(
        [
            rlhub.Message.assistant('<tool_call>{"name": "price", "arguments": {"product": "caviar"}}</tool_call>'),
            rlhub.Message.assistant("<tool_call>{not json}</tool_call>"),
            rlhub.Message.assistant('<tool_call>{"name": "calculate", "arguments": {"expression": "__import__(1)"}}'),
            rlhub.Message.assistant("The answer is 0."),
        ]
    )
    episode = asyncio.run(env.rollout(task, PolicyClient(lambda m: next(script))))
    errors = [m.content for m in episode.messages if m.role == "tool"]
    assert len(errors) == 3 and all(e.startswith("error:") for e in errors)
    assert "no product 'caviar'" in errors[0] and "not valid JSON" in errors[1]


@pytest.mark.parametrize("bad", ["__import__('os')", "2 ** 100", "a + 1", "1; 2", "x" * 300])
def test_calculator_rejects_anything_but_arithmetic(bad: str) -> None:
    with pytest.raises(ValueError):
        evaluate(bad)


def test_calculator_arithmetic() -> None:
    assert evaluate("3 * 1.25 + (2 - 0.5) / 3") == pytest.approx(4.25)


def test_prices_are_per_task() -> None:
    env = Calculator()
    first, second = env.task(0).info["prices"], env.task(1).info["prices"]
    assert first != second
    assert json.loads(json.dumps(first)) == first
