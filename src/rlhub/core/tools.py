"""Tools: plain typed Python functions become JSON-schema tool specs; model output becomes tool calls.

Tool calls arrive either as OpenAI `tool_calls` or as text (Hermes `<tool_call>{...}</tool_call>`
blocks, or a bare JSON object with `name` and `arguments`). Malformed calls never raise: they come
back as `ToolCallError`s, which the environment turns into an error message for the model.
"""

from __future__ import annotations

import inspect
import json
import re
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pydantic import TypeAdapter, ValidationError

from rlhub.core.types import Message, ToolCall, ToolSpec

_HERMES_RE = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)


def tool_spec(fn: Callable[..., Any]) -> ToolSpec:
    """The ToolSpec of a function: its name, the first docstring paragraph, a schema of its parameters.

    Parameters are documented from `Args:` lines of the docstring when present (`name: text`).
    """
    hints = typing.get_type_hints(fn)
    signature = inspect.signature(fn)
    doc = inspect.getdoc(fn) or ""
    described = _arg_docs(doc)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, param in signature.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        schema = TypeAdapter(hints.get(name, Any)).json_schema()
        schema.pop("title", None)
        if name in described:
            schema["description"] = described[name]
        if param.default is inspect.Parameter.empty:
            required.append(name)
        else:
            schema["default"] = param.default
        properties[name] = schema
    parameters: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
    summary = doc.split("\n\n")[0].strip()
    return ToolSpec(name=fn.__name__, description=summary, parameters=parameters)


def _arg_docs(doc: str) -> dict[str, str]:
    _, _, args = doc.partition("Args:")
    found = {}
    for line in args.splitlines():
        match = re.match(r"\s*(\w+)(?:\s*\([^)]*\))?:\s*(.+)", line)
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


@dataclass(frozen=True)
class ToolCallError:
    """A call the model tried to make but got wrong; `message` is shown to the model."""

    call_id: str
    message: str


def parse_tool_calls(message: Message) -> tuple[list[ToolCall], list[ToolCallError]]:
    """The tool calls in an assistant message: structured `tool_calls` if any, else text formats."""
    if message.tool_calls:
        return list(message.tool_calls), []
    calls: list[ToolCall] = []
    errors: list[ToolCallError] = []
    blocks = _HERMES_RE.findall(message.content)
    if not blocks:
        stripped = message.content.strip()
        if stripped.startswith("{") and '"name"' in stripped:
            blocks = [stripped]
    for i, block in enumerate(blocks):
        call_id = f"call_{i}"
        try:
            data = json.loads(block)
        except json.JSONDecodeError as exc:
            errors.append(ToolCallError(call_id, f"tool call is not valid JSON: {exc.msg} at char {exc.pos}"))
            continue
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            errors.append(ToolCallError(call_id, 'tool call must be a JSON object with a string "name"'))
            continue
        arguments = data.get("arguments", data.get("parameters", {}))
        arguments_text = arguments if isinstance(arguments, str) else json.dumps(arguments)
        calls.append(ToolCall(id=call_id, name=data["name"], arguments=arguments_text))
    return calls, errors


@runtime_checkable
class Tool(Protocol):
    """A tool that describes itself instead of being a typed function (one served by an MCP server):
    its `spec`, and `run`, which takes the raw JSON arguments and checks them itself."""

    spec: ToolSpec

    async def run(self, arguments: dict[str, Any]) -> str: ...


class ToolBox:
    """The tools of one episode, by name: validates arguments against type hints and calls them.

    Any failure (unknown tool, bad arguments, an exception inside the tool) becomes the text of the
    tool message, so the model can correct itself and the rollout goes on. Two tools of one name are
    an error of the environment, raised here rather than one silently hiding the other.
    """

    def __init__(self, functions: Sequence[Callable[..., Any] | Tool]):
        self.specs = [fn.spec if isinstance(fn, Tool) else tool_spec(fn) for fn in functions]
        self.functions = {spec.name: fn for spec, fn in zip(self.specs, functions, strict=True)}
        if len(self.functions) < len(self.specs):
            names = [spec.name for spec in self.specs]
            raise ValueError(f"two tools share a name: {sorted({n for n in names if names.count(n) > 1})}")

    async def call(self, call: ToolCall) -> Message:
        fn = self.functions.get(call.name)
        if fn is None:
            known = ", ".join(sorted(self.functions)) or "none"
            return Message.tool(f"error: unknown tool {call.name!r}; available: {known}", call.id, call.name)
        try:
            arguments = call.parsed_arguments()
            if isinstance(fn, Tool):
                result: Any = await fn.run(arguments)
            else:
                result = fn(**_validated(fn, arguments))
            if inspect.isawaitable(result):
                result = await result
        except (ValueError, TypeError, ValidationError) as exc:
            return Message.tool(f"error: bad arguments for {call.name}: {_short(exc)}", call.id, call.name)
        except Exception as exc:  # a tool's own failure is reported to the model, not raised
            return Message.tool(f"error: {type(exc).__name__}: {exc}", call.id, call.name)
        text = result if isinstance(result, str) else json.dumps(result, default=str)
        return Message.tool(text, call.id, call.name)


def _validated(fn: Callable[..., Any], arguments: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(fn)
    signature = inspect.signature(fn)
    unknown = set(arguments) - set(signature.parameters)
    if unknown:
        raise ValueError(f"unexpected argument(s) {', '.join(sorted(unknown))}")
    bound = signature.bind(**arguments)
    return {name: TypeAdapter(hints.get(name, Any)).validate_python(value) for name, value in bound.arguments.items()}


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{e['msg']}" for e in exc.errors())
    return str(exc)


__all__ = ["Tool", "ToolBox", "ToolCallError", "parse_tool_calls", "tool_spec"]
