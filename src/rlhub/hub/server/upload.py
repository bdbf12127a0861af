"""`POST /legacy/`: PyPI's upload protocol (twine, `uv publish`, `rlhub push`); the checks are in
`services/publish.py`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from rlhub.hub.schema import UPLOAD_PATH, ErrorCode, UploadResponse
from rlhub.hub.server import auth
from rlhub.hub.server.errors import HubError
from rlhub.hub.server.hub import Hub
from rlhub.hub.server.openapi import Authenticated, errors
from rlhub.hub.server.services.publish import FILETYPES, Upload, publish

router = APIRouter()
_FORM_SLACK = 1024 * 1024

UPLOAD_FORM: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": [":action", "name", "version", "filetype", "content"],
                "properties": {
                    ":action": {"type": "string", "enum": ["file_upload"]},
                    "name": {"type": "string", "description": "`owner-name`"},
                    "version": {"type": "string"},
                    "filetype": {"type": "string", "enum": list(FILETYPES)},
                    "content": {"type": "string", "format": "binary", "description": "the wheel or sdist"},
                    "sha256_digest": {"type": "string"},
                    "private": {"type": "string", "enum": ["true", "false"], "description": "first upload only"},
                },
            }
        }
    },
}
"""The form, for the OpenAPI document (the handler reads it by hand: twine sends many more fields)."""


@router.post(
    UPLOAD_PATH,
    dependencies=Authenticated,
    responses=errors(400, 401, 403, 409, 413),
    openapi_extra={"requestBody": UPLOAD_FORM},
)
@router.post(UPLOAD_PATH.rstrip("/"), include_in_schema=False)
async def upload(request: Request) -> UploadResponse:
    """Publish one wheel or sdist."""
    hub: Hub = request.app.state.hub
    who = await run_in_threadpool(auth.required, request)
    limit = hub.config.limits.max_upload_bytes
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        raise HubError(ErrorCode.invalid, "uploads need a Content-Length header")
    if int(length) > limit + _FORM_SLACK:
        raise HubError(ErrorCode.too_large, f"upload of {length} bytes is over the limit of {limit} bytes")
    async with request.form(max_files=1, max_fields=100) as form:
        item = await _read(form)
    answer = await run_in_threadpool(publish, hub.db, hub.store, who, item, hub.config.limits)
    hub.changed()
    if hub.checker is not None:
        hub.checker.wake.set()
    return answer


async def _read(form: FormData) -> Upload:
    action = form.get(":action")
    if action != "file_upload":
        raise HubError(ErrorCode.invalid, f"unsupported :action {action!r}; only file_upload is accepted")
    content = form.get("content")
    if not isinstance(content, UploadFile) or not content.filename:
        raise HubError(ErrorCode.invalid, "the form has no `content` file")

    def field(key: str) -> str:
        value = form.get(key)
        return value if isinstance(value, str) else ""

    return Upload(
        name=field("name"),
        version=field("version"),
        filetype=field("filetype"),
        filename=content.filename.rsplit("/", 1)[-1],
        content=await content.read(),
        sha256_digest=field("sha256_digest") or None,
        private=field("private").lower() in ("1", "true", "yes"),
    )


__all__ = ["UPLOAD_FORM", "router"]
