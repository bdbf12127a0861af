"""What can go wrong talking to a hub, as `RlhubError`s the CLI prints without a traceback.

RlhubError
└── HubError                 the hub answered with an error, or an install could not proceed
    ├── HubUnreachable       no answer: server down, wrong URL, offline, timeout
    ├── HubAuthError         401 (no/unknown token) or 403 (token does not cover this owner)
    ├── HubNotFound          404: no such environment, version or file
    ├── HubConflict          409: that version or file is already published
    └── InstallError         hash mismatch, dependency conflicts, or pip failed
"""

from __future__ import annotations

from rlhub.core.errors import RlhubError


class HubError(RlhubError):
    """An error reported by the hub; `code` is its `error.code` (or the HTTP status as text)."""

    def __init__(self, message: str, code: str = "", status: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class HubUnreachable(HubError):
    pass


class HubAuthError(HubError):
    pass


class HubNotFound(HubError):
    pass


class HubConflict(HubError):
    pass


class InstallError(HubError):
    pass


__all__ = ["HubAuthError", "HubConflict", "HubError", "HubNotFound", "HubUnreachable", "InstallError"]
