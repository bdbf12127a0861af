"""File downloads: `/files/<sha256>/<filename>` and its PEP 658 core metadata `<filename>.metadata`.

A file's bytes never change, so its strong ETag is its sha256 and it may be cached forever; a
conditional request (`If-None-Match`, strong or weak) is answered 304 without touching the blob.
HEAD answers the headers only (uv probes wheels with it). Only full GETs of a file count as downloads.
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from sqlalchemy import select

from rlhub.hub.schema import FILES_PATH, ErrorCode
from rlhub.hub.server import auth
from rlhub.hub.server.errors import HubError
from rlhub.hub.server.hub import Hub
from rlhub.hub.server.models import File, Project, Version
from rlhub.hub.server.services.catalog import visible
from rlhub.hub.server.simple import etag_matches

router = APIRouter()
_IMMUTABLE = "public, max-age=31536000, immutable"
METADATA_SUFFIX = ".metadata"


def _project_of(hub: Hub, request: Request, sha256: str, filename: str) -> int | None:
    """The id of the project the file belongs to (None for the framework's own wheel); 404 if there is
    no such file or the caller may not see it."""
    missing = HubError(ErrorCode.not_found, f"no file {filename} with sha256 {sha256}")
    with hub.db.read() as session:
        row = session.execute(
            select(File, Project)
            .join(Version, File.version_id == Version.id)
            .join(Project, Version.project_id == Project.id)
            .where(File.sha256 == sha256, File.filename == filename)
        ).first()
        if row is None:
            if hub.framework.find(sha256, filename) is None:
                raise missing
            return None
        project = row[1]
        if project.private and not visible(project, auth.optional(request)):
            raise missing
        return project.id


def _not_modified(request: Request, etag: str) -> Response | None:
    if etag_matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers={"etag": etag, "cache-control": _IMMUTABLE})
    return None


@router.api_route(FILES_PATH + "{sha256}/{filename}", methods=["GET", "HEAD"], include_in_schema=False)
def download(request: Request, sha256: str, filename: str) -> Response:
    hub: Hub = request.app.state.hub
    wheel = filename.removesuffix(METADATA_SUFFIX)
    if wheel != filename and wheel.endswith(".whl"):
        return _core_metadata(hub, request, sha256, wheel)
    project_id = _project_of(hub, request, sha256, filename)
    etag = f'"{sha256}"'
    if (answer := _not_modified(request, etag)) is not None:
        return answer
    path = hub.store.path(sha256)
    if path is None:
        raise HubError(ErrorCode.not_found, f"the blob of {filename} is missing from storage")
    if request.method == "GET" and project_id is not None:
        hub.downloads.add(project_id)
    return FileResponse(
        path,
        media_type="application/octet-stream",
        filename=filename,
        headers={"cache-control": _IMMUTABLE, "etag": etag},
    )


def _core_metadata(hub: Hub, request: Request, sha256: str, wheel: str) -> Response:
    _project_of(hub, request, sha256, wheel)
    data = hub.core_metadata.get(sha256)
    if data is None:
        raise HubError(ErrorCode.not_found, f"{wheel} has no core metadata to serve")
    etag = f'"{hashlib.sha256(data).hexdigest()}"'
    if (answer := _not_modified(request, etag)) is not None:
        return answer
    return Response(data, media_type="text/plain; charset=utf-8", headers={"cache-control": _IMMUTABLE, "etag": etag})


__all__ = ["METADATA_SUFFIX", "router"]
