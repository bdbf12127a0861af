import pytest

from rlhub import Message, Rubric, Score, ScoreStatus, Task

TASK = Task(prompt="q", answer="42", info={"bonus": 1})


def test_weighted_sum_with_breakdown_and_primary_status() -> None:
    rubric = Rubric(
        correct=(lambda r, ref: Score(value=1.0, status=ScoreStatus.correct, extracted=r), 1.0),
        brief=(lambda r, ref: len(r) < 5, 0.5),
        penalty=(lambda r, ref: 1.0, -0.25),
    )
    score = rubric.score(TASK, [Message.assistant("42")])
    assert score.value == pytest.approx(1.25)
    assert score.breakdown == {"correct": 1.0, "brief": 1.0, "penalty": 1.0}
    assert score.status == ScoreStatus.correct and score.extracted == "42"
    assert rubric.reward_range == (-0.25, 1.5)


def test_functions_receive_only_the_context_they_ask_for() -> None:
    seen = {}

    def uses_all(response, reference, *, task, messages, info):  # type: ignore[no-untyped-def]
        seen.update(task=task, messages=messages, info=info)
        return 0.5

    score = Rubric(x=uses_all).score(TASK, [Message.assistant("hi")], info={"k": 1})
    assert score.value == 0.5 and seen["task"] is TASK and seen["info"] == {"k": 1}


def test_a_crashing_function_scores_error_not_exception() -> None:
    score = Rubric(x=lambda r, ref: 1 / 0).score(TASK, [Message.assistant("hi")])
    assert score.status == ScoreStatus.error and score.value == 0.0 and "ZeroDivisionError" in (score.detail or "")


def test_response_is_the_last_assistant_message() -> None:
    rubric = Rubric(x=lambda r, ref: r == ref)
    messages = [Message.assistant("1"), Message.tool("x", "c"), Message.assistant("42")]
    assert rubric.score(TASK, messages).value == 1.0


def test_empty_rubric_is_rejected() -> None:
    with pytest.raises(ValueError):
        Rubric()
