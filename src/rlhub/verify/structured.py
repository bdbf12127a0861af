"""Structured outputs: find the JSON in a response, validate it with a JSON schema, compare fields.

    rubric = Rubric(
        valid=(structured.schema_valid(INVOICE_SCHEMA), 0.2),
        fields=(structured.json_match, 0.8),      # reference: the expected JSON object
    )

JSON is found in the last ```json fenced block, else the whole response, else the last decodable
object or array in the text. Field comparison flattens both values to leaf paths (`items.0.price`):
numbers compare by value (1 == 1.0, but true is not 1), strings exactly, lists by position; the score
is the fraction of the reference's leaves the response gets right. Fields the reference does not have
are ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import jsonschema

from rlhub.core.types import Score, ScoreStatus
from rlhub.verify.math import strip_think

MAX_JSON_CHARS = 200_000
MAX_DECODE_ATTEMPTS = 64
_FENCE_RE = re.compile(r"```(?:json|JSON)?\s*\n(.*?)```", re.DOTALL)
_MISSING = object()


def extract_json(response: str) -> Any:
    """The JSON value a response gives; raises ValueError when there is none."""
    text = strip_think(response)
    if len(text) > MAX_JSON_CHARS:
        raise ValueError("response too large for JSON extraction")
    fences = _FENCE_RE.findall(text)
    for candidate in ([fences[-1]] if fences else []) + [text]:
        try:
            return json.loads(candidate)
        except (json.JSONDecodeError, RecursionError):
            pass
    decoder = json.JSONDecoder()
    found: Any = _MISSING
    pos = 0
    for _ in range(MAX_DECODE_ATTEMPTS):  # the last top-level object or array that decodes
        starts = [i for i in (text.find("{", pos), text.find("[", pos)) if i >= 0]
        if not starts:
            break
        start = min(starts)
        try:
            found, pos = decoder.raw_decode(text, start)
        except (json.JSONDecodeError, RecursionError):
            pos = start + 1
    if found is _MISSING:
        raise ValueError("no JSON found in the response")
    return found


def _as_json(reference: object) -> Any:
    if isinstance(reference, str):
        try:
            return json.loads(reference)
        except json.JSONDecodeError:
            return reference
    return reference


def schema_valid(schema: dict[str, Any]) -> Callable[..., Score]:
    """A reward function: 1.0 when the response's JSON validates against `schema`."""
    validator = jsonschema.Draft202012Validator(schema)

    def score(response: str, reference: object = None) -> Score:
        try:
            value = extract_json(response)
        except ValueError as exc:
            return Score(value=0.0, status=ScoreStatus.unparseable, detail=str(exc))
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        detail = None if error is None else f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        return Score.of(error is None, extracted=json.dumps(value)[:500], detail=detail)

    return score


def leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """{path: leaf} for a JSON value; empty containers are leaves themselves."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(leaves(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, item in enumerate(value):
            out.update(leaves(item, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return {prefix: value}


def same_value(a: Any, b: Any) -> bool:
    """JSON equality with numbers by value: 1 == 1.0, but booleans are not numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def json_match(response: str, reference: object, *, schema: dict[str, Any] | None = None) -> Score:
    """Fraction of the reference's fields the response's JSON gets right (0 if it fails `schema`)."""
    try:
        value = extract_json(response)
    except ValueError as exc:
        return Score(value=0.0, status=ScoreStatus.unparseable, detail=str(exc))
    extracted = json.dumps(value)[:500]
    if schema is not None:
        error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(value))
        if error is not None:
            return Score(value=0.0, status=ScoreStatus.incorrect, extracted=extracted, detail=error.message)
    expected = leaves(_as_json(reference))
    got = leaves(value)
    wrong = sorted(path for path, leaf in expected.items() if not same_value(got.get(path, _MISSING), leaf))
    fraction = 1 - len(wrong) / len(expected)
    status = ScoreStatus.correct if not wrong else ScoreStatus.incorrect
    detail = f"wrong or missing: {', '.join(wrong[:10])}" if wrong else None
    return Score(value=fraction, status=status, extracted=extracted, detail=detail)


__all__ = ["extract_json", "json_match", "leaves", "same_value", "schema_valid"]
