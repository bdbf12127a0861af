"""The one exception services raise for the client to see; the app turns it into a JSON error body."""

from __future__ import annotations

from rlhub.hub.schema import ErrorCode

_STATUS = {
    ErrorCode.invalid: 400,
    ErrorCode.unauthorized: 401,
    ErrorCode.forbidden: 403,
    ErrorCode.not_found: 404,
    ErrorCode.conflict: 409,
    ErrorCode.too_large: 413,
    ErrorCode.bad_name: 400,
    ErrorCode.confusable_name: 400,
    ErrorCode.unsafe_archive: 400,
    ErrorCode.bad_metadata: 400,
    ErrorCode.tampered: 422,
    ErrorCode.unknown_version: 422,
}


class HubError(Exception):
    def __init__(self, code: ErrorCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        return _STATUS[self.code]


__all__ = ["HubError"]
