"""The package-manager protocols: PyPI's upload API at `/legacy/` and the simple index (files: `files.py`)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from rlhub.hub.schema import SIMPLE_PATH, UPLOAD_PATH, ErrorCode, UploadResponse
from rlhub.hub.server import auth
from rlhub.hub.server.errors import HubError
from rlhub.hub.server.hub import Hub
from rlhub.hub.server.services.publish import Upload, publish
from rlhub.hub.server.simple import NOT_ACCEPTABLE, accepts_gzip, etag_matches, negotiate, page_headers

router = APIRouter()
_FORM_SLACK = 1024 * 1024


@router.post(UPLOAD_PATH)
@router.post(UPLOAD_PATH.rstrip("/"), include_in_schema=False)
async def upload(request: Request) -> UploadResponse:
    """PyPI's legacy upload protocol (twine, `uv publish`, `rlhub push`)."""
    hub: Hub = request.app.state.hub
    who = await run_in_threadpool(auth.required, request)
    limit = hub.config.limits.max_upload_bytes
    length = request.headers.get("content-length")
    if length is None:
        raise HubError(ErrorCode.invalid, "uploads need a Content-Length header")
    if int(length) > limit + _FORM_SLACK:
        raise HubError(ErrorCode.too_large, f"upload of {length} bytes is over the limit of {limit} bytes")
    form = await request.form(max_files=1, max_fields=100)
    action = form.get(":action")
    if action != "file_upload":
        raise HubError(ErrorCode.invalid, f"unsupported :action {action!r}; only file_upload is accepted")
    content = form.get("content")
    if not isinstance(content, UploadFile) or not content.filename:
        raise HubError(ErrorCode.invalid, "the form has no `content` file")

    def field(key: str) -> str:
        value = form.get(key)
        return value if isinstance(value, str) else ""

    data = await content.read()
    item = Upload(
        name=field("name"),
        version=field("version"),
        filetype=field("filetype"),
        filename=content.filename.rsplit("/", 1)[-1],
        content=data,
        sha256_digest=field("sha256_digest") or None,
        private=field("private").lower() in ("1", "true", "yes"),
    )
    answer = await run_in_threadpool(publish, hub.db, hub.store, who, item, hub.config.limits)
    hub.changed()
    if hub.checker is not None:
        hub.checker.wake.set()
    return answer


@router.api_route(SIMPLE_PATH, methods=["GET", "HEAD"], include_in_schema=False)
@router.api_route(SIMPLE_PATH + "{project:path}", methods=["GET", "HEAD"], include_in_schema=False)
def simple(request: Request, project: str = "") -> Response:
    """Authenticated index requests (anonymous ones are served by `SimpleFastPath`, the same way)."""
    hub: Hub = request.app.state.hub
    json_ = negotiate(request.headers.get("accept", ""))
    if json_ is None:
        return Response(NOT_ACCEPTABLE, status_code=406, media_type="text/plain", headers={"vary": "Accept"})
    page = hub.index.render(request.url.path, json_, auth.optional(request))
    use_gzip = accepts_gzip(request.headers.get("accept-encoding", ""))
    body, etag = page.encode(use_gzip)
    headers = {k.decode(): v.decode() for k, v in page_headers(page, use_gzip)}
    if page.status == 200 and etag_matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers={"etag": etag, "vary": headers["vary"]})
    if use_gzip and body:
        headers["content-encoding"] = "gzip"
    return Response(body, status_code=page.status, headers=headers)


__all__ = ["router"]
