"""rlhub.verify.toolcall: names and parsed arguments, order, partial credit, text-format calls."""

from __future__ import annotations

from functools import partial

from rlhub.core.rubric import Rubric
from rlhub.core.types import Message, ScoreStatus, Task, ToolCall
from rlhub.verify import toolcall

WEATHER = {"name": "weather", "arguments": {"city": "Paris", "days": 3}}
TIME = {"name": "time", "arguments": {"tz": "UTC"}}


def calls(*items: tuple[str, str]) -> list[Message]:
    return [
        Message.user("q"),
        Message.assistant(
            tool_calls=tuple(ToolCall(id=f"c{i}", name=n, arguments=a) for i, (n, a) in enumerate(items))
        ),
    ]


def test_arguments_compare_as_values() -> None:
    messages = calls(("weather", '{ "days": 3.0, "city": "Paris" }'))
    assert toolcall.score("", [WEATHER], messages).status is ScoreStatus.correct
    wrong = calls(("weather", '{"days": "3", "city": "Paris"}'))
    assert toolcall.score("", [WEATHER], wrong).value == 0.0


def test_order_matters_unless_told_otherwise() -> None:
    messages = calls(("time", '{"tz": "UTC"}'), ("weather", '{"city": "Paris", "days": 3}'))
    assert toolcall.score("", [WEATHER, TIME], messages).value == 0.0
    assert toolcall.score("", [WEATHER, TIME], messages, ordered=False).value == 1.0


def test_partial_credit() -> None:
    messages = calls(("weather", '{"city": "Paris", "days": 5}'))
    result = toolcall.score("", [WEATHER, TIME], messages, partial=True)
    assert result.value == (0.5 + 0.5 * 1 / 2) / 2
    assert result.status is ScoreStatus.incorrect


def test_extra_calls_cost() -> None:
    messages = calls(("weather", '{"city": "Paris", "days": 3}'), ("weather", '{"city": "Rome", "days": 3}'))
    assert toolcall.score("", [WEATHER], messages).value == 0.0
    assert toolcall.score("", [WEATHER], messages, partial=True).value == 0.5


def test_calls_parsed_from_text() -> None:
    response = '<tool_call>{"name": "weather", "arguments": {"city": "Paris", "days": 3}}</tool_call>'
    assert toolcall.score(response, WEATHER).value == 1.0
    assert toolcall.score("I will not call anything.", WEATHER).status is ScoreStatus.unparseable
    assert toolcall.score('<tool_call>{"name": "weather", "arguments": "oops"}</tool_call>', WEATHER).value == 0.0


def test_reference_as_json_text_and_toolcalls() -> None:
    messages = calls(("time", '{"tz": "UTC"}'))
    assert toolcall.score("", '[{"name": "time", "arguments": {"tz": "UTC"}}]', messages).value == 1.0
    assert toolcall.score("", [ToolCall(id="x", name="time", arguments='{"tz": "UTC"}')], messages).value == 1.0


def test_in_a_rubric_with_options() -> None:
    rubric = Rubric(calls=partial(toolcall.score, ordered=False))
    task = Task(prompt="weather and time", answer=[WEATHER, TIME])
    messages = calls(("time", '{"tz": "UTC"}'), ("weather", '{"city": "Paris", "days": 3}'))
    assert rubric.score(task, messages).value == 1.0
