"""The simple index for package managers (uploads: `upload.py`; files: `files.py`)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from rlhub.hub.schema import SIMPLE_PATH
from rlhub.hub.server import auth
from rlhub.hub.server.hub import Hub
from rlhub.hub.server.simple import NOT_ACCEPTABLE, accepts_gzip, etag_matches, negotiate, page_headers

router = APIRouter()


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
