"""Request and response bodies of `/api/v1`. All frozen; requests refuse unknown fields and take
booleans only as JSON `true`/`false`. Every timestamp is timezone-aware (RFC 3339 on the wire)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, ConfigDict, Field, StrictBool

from rlhub.core.check import CheckResult
from rlhub.core.types import Frozen
from rlhub.hub.schema.constants import ErrorCode


class Reply(Frozen):
    """A response body. Requests forbid unknown fields (a typo is an error); responses ignore them, so a
    newer server that adds a field does not break older clients."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class ErrorBody(Reply):
    code: ErrorCode
    message: str


class ErrorResponse(Reply):
    """Every 4xx/5xx answer of the hub (including `/legacy/`): `{"error": {"code", "message"}}`."""

    error: ErrorBody


class Health(Reply):
    status: Literal["ok"] = "ok"
    version: str


class TokenScope(StrEnum):
    publish = "publish"
    """Upload, yank, set visibility for the token's owners; also push results and star."""
    read = "read"
    """Read-only: download and see the token's owners' private environments."""


class WhoAmI(Reply):
    username: str
    scope: TokenScope
    owners: tuple[str, ...]
    """Owners (the user and/or organisations) the token acts for."""


class TokenCreate(Frozen):
    name: str = Field(min_length=1, max_length=100)
    scope: TokenScope = TokenScope.publish
    owners: tuple[str, ...] = ()
    """Owners the token is limited to; empty means the user and every organisation they belong to."""


class TokenInfo(Reply):
    id: int
    name: str
    scope: TokenScope
    owners: tuple[str, ...]
    created_at: AwareDatetime
    last_used_at: AwareDatetime | None = None
    prefix: str
    """The first characters of the token, to tell tokens apart; the secret is never stored."""


class TokenCreated(Reply):
    info: TokenInfo
    token: str
    """The secret, shown once."""


class TokenList(Reply):
    tokens: tuple[TokenInfo, ...]


class OrgCreate(Frozen):
    name: str = Field(pattern=r"^[a-z0-9]{1,39}$")
    """1-39 lowercase letters or digits, like a user name."""


class OwnerInfo(Reply):
    name: str
    kind: Literal["user", "org"]
    members: tuple[str, ...] = ()
    envs: tuple[EnvSummary, ...] = ()


class CheckStatus(StrEnum):
    pending = "pending"
    running = "running"
    passed = "passed"
    failed = "failed"
    error = "error"
    """The check could not run (install failed, timeout): see `report`."""
    not_checked = "not_checked"
    """The hub runs no uploaded code without a sandbox and has none: see `report`."""


class CheckInfo(Reply):
    status: CheckStatus
    results: tuple[CheckResult, ...] = ()
    report: str = ""
    """Human-readable output of the check (or why it could not run)."""
    finished_at: AwareDatetime | None = None


class FileInfo(Reply):
    filename: str
    filetype: Literal["bdist_wheel", "sdist"]
    size: int
    sha256: str
    url: str
    """Absolute path on the hub: `/files/<sha256>/<filename>`."""
    uploaded_at: AwareDatetime
    requires_python: str | None = None


class VersionInfo(Reply):
    version: str
    summary: str = ""
    license: str | None = None
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    tags: tuple[str, ...] = ()
    env_ids: tuple[str, ...] = ()
    """`owner/name` ids from the wheel's `rlhub.environments` entry points."""
    yanked: bool = False
    yanked_reason: str = ""
    created_at: AwareDatetime
    check: CheckInfo
    files: tuple[FileInfo, ...] = ()


class EnvSummary(Reply):
    owner: str
    name: str
    distribution: str
    """The PEP 503 normalised project name: `owner-name`."""
    summary: str = ""
    tags: tuple[str, ...] = ()
    latest_version: str | None = None
    """Newest non-yanked version."""
    downloads: int = 0
    stars: int = 0
    private: bool = False
    updated_at: AwareDatetime


class EnvInfo(Reply):
    summary: EnvSummary
    readme: str = ""
    """Long description (markdown, unsanitised) of the latest version."""
    readme_content_type: str = "text/markdown"
    versions: tuple[VersionInfo, ...] = ()
    """Newest first."""


class EnvUpdate(Frozen):
    private: StrictBool | None = None


class SortOrder(StrEnum):
    relevance = "relevance"
    downloads = "downloads"
    recent = "recent"
    stars = "stars"


class SearchResponse(Reply):
    query: str = ""
    tag: str | None = None
    sort: SortOrder = SortOrder.relevance
    total: int
    results: tuple[EnvSummary, ...]


class YankRequest(Frozen):
    reason: str = Field(default="", max_length=512)


class StarState(Reply):
    starred: bool
    stars: int


class UploadResponse(Reply):
    """The answer to a successful `POST /legacy/` (twine ignores the body; `rlhub push` prints it)."""

    owner: str
    name: str
    version: str
    filename: str
    sha256: str
    size: int
    url: str
    new_version: bool
    """True when this upload created the version (its first file)."""
    check: CheckStatus


class ResultUpload(Frozen):
    """`POST /api/v1/results`: a rollout log (JSONL text written by `rlhub.rollout`)."""

    log: str
    model: str | None = None
    """Display name on the leaderboard; defaults to the model named in the log header."""


class ResultInfo(Reply):
    id: int
    owner: str
    name: str
    version: str
    model: str
    score: float
    """Mean reward as re-scored by the hub (never the client's number, unless `verified` is false)."""
    stderr: float
    n: int
    submitter: str
    created_at: AwareDatetime
    verified: bool = True
    """False when the hub could not re-score the log (it has no sandbox): `score` is then the log's own
    claim, `note` says why, and the result is kept off the leaderboard."""
    note: str = ""


class LeaderboardEntry(Reply):
    rank: int
    result: ResultInfo


class Leaderboard(Reply):
    owner: str
    name: str
    version: str | None = None
    """The version filtered on, or None for all versions."""
    entries: tuple[LeaderboardEntry, ...]


OwnerInfo.model_rebuild()

__all__ = [
    "CheckInfo",
    "CheckStatus",
    "EnvInfo",
    "EnvSummary",
    "EnvUpdate",
    "ErrorBody",
    "ErrorResponse",
    "FileInfo",
    "Health",
    "Leaderboard",
    "LeaderboardEntry",
    "OrgCreate",
    "OwnerInfo",
    "ResultInfo",
    "ResultUpload",
    "SearchResponse",
    "SortOrder",
    "StarState",
    "TokenCreate",
    "TokenCreated",
    "TokenInfo",
    "TokenList",
    "TokenScope",
    "UploadResponse",
    "VersionInfo",
    "WhoAmI",
    "YankRequest",
]
