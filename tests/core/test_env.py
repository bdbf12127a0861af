import asyncio

import pytest
from tests.core import examples

import rlhub
from rlhub import Message, Task
from rlhub.core.model import PolicyClient


def test_tasks_are_random_access_and_stable() -> None:
    env = examples.Add()
    forward = env.tasks(20, "train", seed=3)
    assert [env.task(i, "train", 3) for i in reversed(range(20))] == list(reversed(forward))
    assert forward[5].id == "train-3-5" and forward[5].env == "tests/add@1.0.0" and forward[5].seed == 3


def test_seed_config_and_split_change_the_tasks() -> None:
    base = examples.Add().task(0)
    assert examples.Add().task(0, seed=1) != base
    assert examples.Add(digits=4).task(0) != base
    assert examples.Add().task(0, "test").content_hash() != base.content_hash()


def test_task_independent_config_keeps_the_tasks() -> None:
    class Rendered(examples.Add):
        style: str = "plain"
        task_independent = ("style",)

    assert Rendered(style="fancy").task(3) == Rendered().task(3)
    assert Rendered(digits=3).task(3) != Rendered().task(3)


def test_splits_are_disjoint_by_content() -> None:
    env = examples.Add(digits=1)  # a tiny task space: 121 sums
    train = {t.content_hash() for t in env.tasks(300, "train")}
    test = {t.content_hash() for t in env.tasks(100, "test")}
    assert train and test and not train & test


def test_config_is_validated() -> None:
    with pytest.raises(rlhub.ConfigError, match="unknown config key"):
        examples.Add(digit=3)
    with pytest.raises(rlhub.ConfigError, match="digits"):
        examples.Add(digits="many")
    assert examples.Add(digits="4").digits == 4
    assert examples.Add().config == {"digits": 2}


def test_unknown_split_is_an_error() -> None:
    with pytest.raises(rlhub.ConfigError, match="split"):
        examples.Add().task(0, "validation")


def test_string_prompt_becomes_a_user_message() -> None:
    task = Task(prompt="hi", answer=1)
    assert task.prompt == (Message.user("hi"),)


def test_tool_episode_runs_tools_and_stops_on_a_plain_answer() -> None:
    env = examples.EchoTools()
    task = env.task(0)
    episode = asyncio.run(env.rollout(task, PolicyClient(lambda m: env.oracle(task, m))))
    assert [m.role for m in episode.messages] == ["assistant", "tool", "assistant"]
    assert episode.messages[1].content == task.answer and episode.turns == 2


def test_turn_budget_ends_a_looping_model() -> None:
    env = examples.EchoTools()
    call = Message.assistant('<tool_call>{"name": "secret", "arguments": {"upper": true}}</tool_call>')
    episode = asyncio.run(env.rollout(env.task(0), PolicyClient(lambda m: call)))
    assert episode.turns == env.max_turns
    assert episode.messages[1].content == env.task(0).answer.upper()


def test_malformed_tool_calls_become_messages_not_exceptions() -> None:
    env = examples.EchoTools()
    replies = iter(
        [
            Message.assistant('<tool_call>{"name": "secret", "arguments": {"upper": "loud"}}</tool_call>'),
            Message.assistant('<tool_call>{"name": "nope"}</tool_call>'),
            Message.assistant("<tool_call>{oops</tool_call>"),
            Message.assistant("giving up"),
        ]
    )
    episode = asyncio.run(env.rollout(env.task(0), PolicyClient(lambda m: next(replies))))
    tool_texts = [m.content for m in episode.messages if m.role == "tool"]
    assert tool_texts[0].startswith("error: bad arguments for secret")
    assert tool_texts[1].startswith("error: unknown tool 'nope'")
    assert "not valid JSON" in tool_texts[2]
    assert episode.messages[-1].content == "giving up"


def test_system_prompt_is_prepended() -> None:
    class WithSystem(examples.Add):
        system_prompt = "Be brief."

    env = WithSystem()
    assert env.prompt_messages(env.task(0))[0] == Message.system("Be brief.")
