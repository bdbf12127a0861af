"""The hub wire schema: frozen, strict, and round-trips through JSON."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

import rlhub.hub.schema as schema
from rlhub.hub.schema import CheckInfo, CheckStatus, EnvSummary, ErrorResponse, TokenCreate, TokenScope, VersionInfo


def test_exports_are_complete() -> None:
    assert sorted(schema.__all__) == sorted(
        n for n in dir(schema) if not n.startswith("_") and n not in {"constants", "models"}
    )


def test_models_are_frozen_and_strict() -> None:
    token = TokenCreate(name="ci")
    assert token.scope is TokenScope.publish
    with pytest.raises(ValidationError):
        token.name = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        TokenCreate.model_validate({"name": "ci", "unknown": 1})


def test_responses_ignore_fields_a_newer_server_adds() -> None:
    body = {"error": {"code": "not_found", "message": "no such env", "hint": "new in a later version"}}
    assert ErrorResponse.model_validate(body).error.message == "no such env"


def test_round_trip() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    version = VersionInfo(version="0.1.0", created_at=now, check=CheckInfo(status=CheckStatus.passed))
    assert VersionInfo.model_validate_json(version.model_dump_json()) == version
    summary = EnvSummary(owner="acme", name="demo", distribution="acme-demo", updated_at=now)
    assert EnvSummary.model_validate_json(summary.model_dump_json()) == summary
    error = ErrorResponse.model_validate({"error": {"code": "conflict", "message": "exists"}})
    assert error.error.code is schema.ErrorCode.conflict


def test_constants() -> None:
    assert schema.API_PREFIX == "/api/v1" and schema.SIMPLE_PATH == "/simple/"
    assert schema.PEP691_JSON == "application/vnd.pypi.simple.v1+json"
