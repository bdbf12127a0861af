"""What `/openapi.json` promises: the auth schemes and every error status an operation can answer.

Operations declare their credentials through `Authenticated` / `MaybeAuthenticated` (FastAPI security
dependencies that only document; `auth.py` does the checking) and their errors with `errors(...)`, so
the document lists the real 400/401/403/404/409/413/422 answers, each an `ErrorResponse`.
"""

from __future__ import annotations

from typing import Any

from fastapi import Security
from fastapi.security import HTTPBasic, HTTPBearer

from rlhub.hub.schema import ErrorResponse

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token: `Authorization: Bearer rlhub_...`.",
)
basic = HTTPBasic(
    auto_error=False,
    scheme_name="basic",
    description="`__token__` and an API token as the password (twine, uv publish); "
    "`POST /api/v1/tokens` also takes `<username>:<password>`.",
)

Authenticated = [Security(bearer), Security(basic)]
"""`dependencies=` of an operation that needs a token (either scheme)."""

OPTIONAL_AUTH: dict[str, Any] = {"security": [{}]}
"""`openapi_extra=` of an operation that also answers anonymous callers (adds the empty requirement)."""

_DESCRIPTIONS = {
    400: "Malformed request: a body that is not JSON; a bad name, filename, archive, metadata or log",
    401: "No token, or an unknown or revoked one",
    403: "The token's scope or owners do not cover this",
    404: "No such owner, environment, version, result or token (private ones included)",
    409: "Already exists: published files and versions never change",
    413: "Over the upload or log size limit",
    422: "The body or a parameter does not fit the schema; for results also `tampered` or `unknown_version`",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for an operation that can answer these error statuses."""
    return {code: {"model": ErrorResponse, "description": _DESCRIPTIONS[code]} for code in codes}


__all__ = ["OPTIONAL_AUTH", "Authenticated", "basic", "bearer", "errors"]
