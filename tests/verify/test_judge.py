"""rlhub.verify.judge: grade parsing, caching (memory and SQLite), sync use inside and outside loops."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from rlhub.core.rubric import Rubric
from rlhub.core.types import Message, ScoreStatus, Task
from rlhub.rollout.mock import ScriptedClient
from rlhub.verify.judge import Judge, parse_grade


@pytest.mark.parametrize(
    ("reply", "grade"),
    [
        ("The answer matches.\nGRADE: A", 1.0),
        ("grade: b", 0.5),
        ("**GRADE:** C", 0.0),
        ("At first GRADE: C, but on reflection GRADE: A", 1.0),
        ("SCORE: 7/10", 0.7),
        ("Score: 8 out of 10", 0.8),
        ("SCORE: 0.25", 0.25),
        ("The answer is INCORRECT.", 0.0),
        ("Looks CORRECT to me", 1.0),
        ("I am not sure.", None),
    ],
)
def test_parse_grade(reply: str, grade: float | None) -> None:
    assert parse_grade(reply) == grade


def grader(messages: Sequence[Message]) -> str:
    prompt = messages[-1].content
    return "GRADE: A" if "Answer to grade:\nParis" in prompt else "GRADE: C"


async def test_ascore_and_memory_cache() -> None:
    client = ScriptedClient(grader, name="judge-model")
    judge = Judge(client)
    assert (await judge.ascore("Paris", "Paris", question="Capital of France?")).status is ScoreStatus.correct
    assert (await judge.ascore("Paris", "Paris", question="Capital of France?")).detail == "cached"
    assert (await judge.ascore("Lyon", "Paris")).value == 0.0
    assert len(client.calls) == 2


async def test_unparseable_replies_are_not_cached() -> None:
    client = ScriptedClient(["hmm", "GRADE: B"])
    judge = Judge(client)
    assert (await judge.ascore("x", "y")).status is ScoreStatus.unparseable
    assert (await judge.ascore("x", "y")).value == 0.5


async def test_timeout() -> None:
    class Slow:
        name = "slow"

        async def complete(self, messages, *, tools=(), sampling=None):  # type: ignore[no-untyped-def]
            await asyncio.sleep(10)

    result = await Judge(Slow(), timeout_s=0.05).ascore("x", "y")
    assert result.status is ScoreStatus.timeout


def test_sqlite_cache_is_shared(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "judge.sqlite"
    first = ScriptedClient(grader, name="m")
    assert Judge(first, cache_path=path)("Paris", "Paris").value == 1.0
    second = ScriptedClient([], name="m")  # would fail if asked
    assert Judge(second, cache_path=path)("Paris", "Paris").detail == "cached"


def test_sync_call_in_a_rubric_passes_the_question() -> None:
    seen: list[str] = []

    def policy(messages: Sequence[Message]) -> str:
        seen.append(messages[-1].content)
        return "GRADE: A"

    rubric = Rubric(judge=Judge(ScriptedClient(policy)))
    task = Task(prompt="Name the capital of France.", answer="Paris")
    assert rubric.score(task, [Message.assistant("Paris")]).value == 1.0
    assert "Name the capital of France." in seen[0]


async def test_sync_call_from_inside_a_running_loop() -> None:
    judge = Judge(ScriptedClient(grader))
    assert judge("Paris", "Paris").value == 1.0


async def test_an_unreachable_judge_is_an_error_not_a_low_grade() -> None:
    from rlhub.core.errors import RetryableModelError

    class Down:
        name = "judge"

        async def complete(self, messages, *, tools=(), sampling=None):  # type: ignore[no-untyped-def]
            raise RetryableModelError("http://127.0.0.1:9/v1/chat/completions: connection failed")

    score = await Judge(Down()).ascore("Lyon", "Paris")
    assert score.status == ScoreStatus.error and score.value == 0.0
    assert score.detail == "judge model 'judge' failed: http://127.0.0.1:9/v1/chat/completions: connection failed"
