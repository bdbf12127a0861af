"""rlhub.verify.structured: JSON extraction, schema validation, field comparison."""

from __future__ import annotations

import time

import pytest

from rlhub.core.rubric import Rubric
from rlhub.core.types import Message, ScoreStatus, Task
from rlhub.verify import structured

SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}},
    "required": ["name", "qty"],
}


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('Sure:\n```json\n{"a": 1}\n```\nDone.', {"a": 1}),
        ("```\n[1, 2]\n```", [1, 2]),
        ('first {"a": 1} then the final {"a": 2}', {"a": 2}),
        ('<think>{"a": 0}</think> {"a": 3}', {"a": 3}),
        ('Result: {"a": {"b": [1, {"c": null}]}}.', {"a": {"b": [1, {"c": None}]}}),
    ],
)
def test_extract_json(response: str, expected: object) -> None:
    assert structured.extract_json(response) == expected


@pytest.mark.parametrize("response", ["no json here", "{broken", "[" * 100_000, "{" * 10_000 + "x"])
def test_extract_json_fails_cleanly_and_fast(response: str) -> None:
    start = time.monotonic()
    with pytest.raises(ValueError):
        structured.extract_json(response)
    assert time.monotonic() - start < 1.0


def test_schema_valid() -> None:
    check = structured.schema_valid(SCHEMA)
    assert check('{"name": "bolt", "qty": 3}', None).status is ScoreStatus.correct
    bad = check('{"name": "bolt", "qty": 0}', None)
    assert bad.status is ScoreStatus.incorrect and bad.detail is not None and "qty" in bad.detail
    assert check("nothing", None).status is ScoreStatus.unparseable


def test_json_match_fields() -> None:
    reference = {"name": "bolt", "qty": 3, "tags": ["m4", "steel"], "ok": True}
    assert (
        structured.json_match('{"qty": 3.0, "name": "bolt", "tags": ["m4", "steel"], "ok": true}', reference).value
        == 1.0
    )
    partial = structured.json_match('{"name": "bolt", "qty": 4, "tags": ["m4", "brass"], "ok": 1}', reference)
    assert partial.value == 2 / 5 and partial.status is ScoreStatus.incorrect
    assert partial.detail is not None and "qty" in partial.detail and "tags.1" in partial.detail


def test_json_match_reference_as_text_and_schema_gate() -> None:
    assert structured.json_match('{"name": "bolt", "qty": 3}', '{"name": "bolt", "qty": 3}').value == 1.0
    gated = structured.json_match('{"name": "bolt", "qty": 0}', {"name": "bolt", "qty": 0}, schema=SCHEMA)
    assert gated.value == 0.0


def test_same_value() -> None:
    assert structured.same_value(1, 1.0)
    assert not structured.same_value(True, 1)
    assert not structured.same_value("1", 1)
    assert structured.same_value({"a": [1, 2.0]}, {"a": [1.0, 2]})


def test_in_a_rubric() -> None:
    rubric = Rubric(valid=(structured.schema_valid(SCHEMA), 0.5), fields=structured.json_match)
    task = Task(prompt="Give the order as JSON", answer={"name": "bolt", "qty": 3})
    score = rubric.score(task, [Message.assistant('```json\n{"name": "bolt", "qty": 3}\n```')])
    assert score.value == 1.5
