import asyncio
import json
from typing import Literal

from rlhub import Message, ToolCall
from rlhub.core.tools import ToolBox, parse_tool_calls, tool_spec


def lookup(table: str, key: int, mode: Literal["exact", "near"] = "exact", tags: list[str] | None = None) -> str:
    """Look a key up in a table.

    Args:
        table: which table
        key: the row id
    """
    return f"{table}:{key}:{mode}"


def test_tool_spec_from_type_hints_and_docstring() -> None:
    spec = tool_spec(lookup)
    assert spec.name == "lookup" and spec.description == "Look a key up in a table."
    props = spec.parameters["properties"]
    assert props["table"] == {"type": "string", "description": "which table"}
    assert props["key"]["type"] == "integer"
    assert props["mode"]["enum"] == ["exact", "near"] and props["mode"]["default"] == "exact"
    assert spec.parameters["required"] == ["table", "key"]
    assert spec.to_openai()["function"]["name"] == "lookup"


def test_parses_openai_tool_calls_first() -> None:
    call = ToolCall(id="a", name="lookup", arguments='{"table": "t", "key": 1}')
    message = Message.assistant("<tool_call>{}</tool_call>", tool_calls=(call,))
    assert parse_tool_calls(message) == ([call], [])


def test_parses_hermes_blocks_and_bare_json() -> None:
    text = (
        'thinking\n<tool_call>\n{"name": "a", "arguments": {"x": 1}}\n</tool_call><tool_call>{"name": "b"}</tool_call>'
    )
    calls, errors = parse_tool_calls(Message.assistant(text))
    assert [c.name for c in calls] == ["a", "b"] and not errors
    assert json.loads(calls[0].arguments) == {"x": 1}
    calls, _ = parse_tool_calls(Message.assistant('{"name": "c", "parameters": {"y": 2}}'))
    assert calls[0].name == "c" and json.loads(calls[0].arguments) == {"y": 2}


def test_plain_text_has_no_calls() -> None:
    assert parse_tool_calls(Message.assistant("The answer is {42}.")) == ([], [])


def test_malformed_calls_are_errors_not_exceptions() -> None:
    _, errors = parse_tool_calls(Message.assistant("<tool_call>{bad json</tool_call><tool_call>[1]</tool_call>"))
    assert len(errors) == 2 and "not valid JSON" in errors[0].message and '"name"' in errors[1].message


def test_toolbox_validates_and_coerces_arguments() -> None:
    box = ToolBox([lookup])
    ok = asyncio.run(box.call(ToolCall(id="1", name="lookup", arguments='{"table": "t", "key": "7"}')))
    assert ok.content == "t:7:exact" and ok.tool_call_id == "1" and ok.role == "tool"
    bad = asyncio.run(box.call(ToolCall(id="2", name="lookup", arguments='{"table": "t", "key": "x"}')))
    assert bad.content.startswith("error: bad arguments for lookup")
    extra = asyncio.run(box.call(ToolCall(id="3", name="lookup", arguments='{"table": "t", "key": 1, "z": 0}')))
    assert "unexpected argument" in extra.content


def test_toolbox_reports_tool_exceptions_and_awaits_async_tools() -> None:
    def boom() -> str:
        raise RuntimeError("disk on fire")

    async def later(x: int) -> dict[str, int]:
        return {"x": x}

    box = ToolBox([boom, later])
    assert asyncio.run(box.call(ToolCall(id="1", name="boom"))).content == "error: RuntimeError: disk on fire"
    assert json.loads(asyncio.run(box.call(ToolCall(id="2", name="later", arguments='{"x": 3}'))).content) == {"x": 3}
