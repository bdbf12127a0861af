"""The package-manager protocols: PyPI's upload API at `/legacy/`, the simple index and file downloads."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from rlhub.hub.schema import FILES_PATH, SIMPLE_PATH, UPLOAD_PATH, ErrorCode, UploadResponse
from rlhub.hub.server import auth
from rlhub.hub.server.errors import HubError
from rlhub.hub.server.hub import Hub
from rlhub.hub.server.models import File, Project, Version
from rlhub.hub.server.services.catalog import visible
from rlhub.hub.server.services.publish import Upload, publish
from rlhub.hub.server.simple import page_headers, wants_json

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


@router.get(SIMPLE_PATH, include_in_schema=False)
@router.get(SIMPLE_PATH + "{project:path}", include_in_schema=False)
def simple(request: Request, project: str = "") -> Response:
    """Authenticated index requests (anonymous ones are served by `SimpleFastPath`)."""
    hub: Hub = request.app.state.hub
    who = auth.optional(request)
    page = hub.index.render(request.url.path, wants_json(request.headers.get("accept", "")), who)
    return Response(page.body, status_code=page.status, headers={k.decode(): v.decode() for k, v in page_headers(page)})


@router.get(FILES_PATH + "{sha256}/{filename}", include_in_schema=False)
def download(request: Request, sha256: str, filename: str) -> FileResponse:
    hub: Hub = request.app.state.hub
    with hub.db.read() as session:
        row = session.execute(
            select(File, Project)
            .join(Version, File.version_id == Version.id)
            .join(Project, Version.project_id == Project.id)
            .where(File.sha256 == sha256, File.filename == filename)
        ).first()
        if row is None:
            raise HubError(ErrorCode.not_found, f"no file {filename} with sha256 {sha256}")
        project = row[1]
        if project.private and not visible(project, auth.optional(request)):
            raise HubError(ErrorCode.not_found, f"no file {filename} with sha256 {sha256}")
        project_id = project.id
    path = hub.store.path(sha256)
    if path is None:
        raise HubError(ErrorCode.not_found, f"the blob of {filename} is missing from storage")
    hub.downloads.add(project_id)
    return FileResponse(
        path,
        media_type="application/octet-stream",
        filename=filename,
        headers={"cache-control": "public, max-age=31536000, immutable"},
    )


__all__ = ["router"]
