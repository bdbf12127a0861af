import pytest
from tests.rollout.envs import Add, Mul

from rlhub.core.errors import ModelError, RetryableModelError
from rlhub.core.types import Message, Sampling
from rlhub.rollout.mock import MockClient, ScriptedClient


@pytest.mark.parametrize("accuracy", [0.0, 0.3, 0.6, 1.0])
async def test_mock_is_right_on_exactly_its_share(accuracy: float) -> None:
    env = Add(digits=4)
    tasks = env.tasks(50, "test")
    assert len({t.prompt for t in tasks}) == 50
    client = MockClient(env, tasks, accuracy)
    rewards = []
    for task in tasks:
        episode = await env.rollout(task, client)
        rewards.append(env.score(task, episode.messages, episode.info).value)
        assert (rewards[-1] == 1.0) == client.is_right(task)
    assert sum(rewards) == round(accuracy * 50)


async def test_mock_plays_the_oracle_through_tools() -> None:
    env = Mul()
    tasks = env.tasks(6, "test")
    client = MockClient(env, tasks, 1.0)
    for task in tasks:
        episode = await env.rollout(task, client)
        assert episode.turns == 2 and episode.messages[1].role == "tool"
        assert env.score(task, episode.messages, episode.info).value == 1.0


async def test_mock_is_deterministic_and_rejects_strangers() -> None:
    env = Add()
    tasks = env.tasks(20, "test")
    a, b = MockClient(env, tasks, 0.5), MockClient(env, list(reversed(tasks)), 0.5)
    assert [a.is_right(t) for t in tasks] == [b.is_right(t) for t in tasks]
    with pytest.raises(ModelError, match="matches none"):
        await a.complete([Message.user("not a task")])


async def test_scripted_client_replays_then_runs_out() -> None:
    client = ScriptedClient(["one", RetryableModelError("busy"), Message.assistant("three")])
    assert (await client.complete([Message.user("q")]))[0].message.content == "one"
    with pytest.raises(RetryableModelError):
        await client.complete([Message.user("q")])
    assert (await client.complete([Message.user("q")]))[0].message.content == "three"
    with pytest.raises(ModelError, match="ran out"):
        await client.complete([Message.user("q")])
    echo = ScriptedClient(lambda messages: messages[-1].content.upper())
    assert [c.message.content for c in await echo.complete([Message.user("hi")], sampling=Sampling(n=2))] == ["HI"] * 2
