import pytest
from pydantic import ValidationError

from rlhub import Message, Rollout, Score, ScoreStatus, Task, ToolCall


def test_wire_types_are_frozen_and_strict() -> None:
    task = Task(prompt="q", answer=1)
    with pytest.raises(ValidationError):
        task.answer = 2  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Task(prompt="q", answer=1, surprise=True)  # type: ignore[call-arg]


def test_rollout_round_trips_through_json() -> None:
    call = ToolCall(id="c1", name="f", arguments='{"a": 1}')
    rollout = Rollout(
        task=Task(prompt="q", answer={"x": [1, 2]}, tags=("t",)),
        sample=2,
        messages=(Message.assistant(tool_calls=(call,)), Message.tool("3", "c1", "f"), Message.assistant("3")),
        score=Score(value=1.0, status=ScoreStatus.correct, breakdown={"c": 1.0}),
    )
    assert Rollout.model_validate_json(rollout.model_dump_json()) == rollout
    assert rollout.response == "3" and rollout.reward == 1.0 and rollout.key == ("", 2)


def test_openai_shapes() -> None:
    call = ToolCall(id="c1", name="f", arguments="{}")
    assert Message.assistant(tool_calls=(call,)).to_openai()["tool_calls"][0]["function"]["name"] == "f"
    assert Message.tool("x", "c1").to_openai() == {"role": "tool", "content": "x", "tool_call_id": "c1"}


def test_tool_call_arguments_must_be_an_object() -> None:
    with pytest.raises(ValueError):
        ToolCall(id="1", name="f", arguments="[1]").parsed_arguments()


def test_content_hash_ignores_where_a_task_came_from() -> None:
    a = Task(prompt="q", answer=1, id="train-0-1", seed=0)
    b = Task(prompt="q", answer=1, id="test-9-9", seed=9)
    assert a.content_hash() == b.content_hash() != Task(prompt="q", answer=2).content_hash()
