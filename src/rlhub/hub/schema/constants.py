"""Where things live on a hub and how a client authenticates.

Auth: every authenticated request carries an API token, either as `Authorization: Bearer <token>`
or as HTTP Basic with user `__token__` and the token as password (what twine and `uv publish` send).
`POST /api/v1/tokens` also accepts HTTP Basic `<username>:<password>`, so a client can log in.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

DEFAULT_HUB_URL = "http://127.0.0.1:8787"


def rlhub_home() -> Path:
    """Where rlhub keeps its data on this machine: `$RLHUB_HOME`, else `~/.rlhub` (hub data, saved tokens)."""
    return Path(os.environ.get("RLHUB_HOME") or Path.home() / ".rlhub")


API_PREFIX = "/api/v1"
UPLOAD_PATH = "/legacy/"
"""PyPI's upload protocol (multipart form, `:action=file_upload`); `rlhub push` uses it too."""
SIMPLE_PATH = "/simple/"
"""PEP 503 / PEP 691 index: `/simple/` and `/simple/<normalized-name>/`."""
FILES_PATH = "/files/"
"""Distribution files: `/files/<sha256>/<filename>`."""

PEP691_JSON = "application/vnd.pypi.simple.v1+json"
PEP691_HTML = "application/vnd.pypi.simple.v1+html"

TOKEN_PREFIX = "rlhub_"
"""Every API token starts with this, so secret scanners and humans recognise it."""
TOKEN_USERNAME = "__token__"


class ErrorCode(StrEnum):
    """The `error.code` of a JSON error body; the HTTP status is given for each."""

    invalid = "invalid"  # 400/422: malformed request or metadata
    unauthorized = "unauthorized"  # 401: no token, or an unknown/revoked one
    forbidden = "forbidden"  # 403: the token's scope does not cover this owner/action
    not_found = "not_found"  # 404
    conflict = "conflict"  # 409: file/version already published, name taken
    too_large = "too_large"  # 413: upload or archive over the size limits
    bad_name = "bad_name"  # 400: breaks the owner-name grammar or PEP 503 rules
    confusable_name = "confusable_name"  # 400: looks like an existing name (0/o, 1/l/i, rn/m, -/_)
    unsafe_archive = "unsafe_archive"  # 400: traversal, absolute paths, links, decompression bomb
    bad_metadata = "bad_metadata"  # 400: METADATA/PKG-INFO missing or inconsistent with the form
    tampered = "tampered"  # 422: a result log whose rewards do not re-score as claimed
    unknown_version = "unknown_version"  # 422: a result log for a version the hub never published


__all__ = [
    "API_PREFIX",
    "DEFAULT_HUB_URL",
    "FILES_PATH",
    "PEP691_HTML",
    "PEP691_JSON",
    "SIMPLE_PATH",
    "TOKEN_PREFIX",
    "TOKEN_USERNAME",
    "UPLOAD_PATH",
    "ErrorCode",
    "rlhub_home",
]
