"""The PEP 503 (HTML) / PEP 691 (JSON) simple index, rendered once and served from memory.

Rendered pages are cached per process and dropped whenever the stamp file changes; every publish,
yank or visibility change touches it, so all workers of `rlhub serve --workers N` see the change on
their next request (one `stat` per request, no database round trip on a hit). Hosts that share one
database but not the stamp file notice changes through the database's index generation, polled
once a second. Anonymous GETs are
answered by `SimpleFastPath`, a raw ASGI layer in front of FastAPI, because the index is the hot
path pip hammers. Requests carrying credentials go through the app and may see private projects.

What pip and uv rely on: PEP 691 negotiation (with the `latest` aliases; 406 when nothing offered is
acceptable), PEP 658/714 core metadata on every wheel link, ETags with 304 for `If-None-Match` (weak
or strong), HEAD, and gzip when the client accepts it (compressed once per rendered page). The
project `rlhub` is the framework's own wheel (`framework.py`), listed next to the environments.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from functools import cached_property
from html import escape
from pathlib import Path
from typing import Any

import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from rlhub.hub.schema import FILES_PATH, PEP691_HTML, PEP691_JSON, SIMPLE_PATH
from rlhub.hub.server.coremeta import CoreMetadata
from rlhub.hub.server.db import Database
from rlhub.hub.server.framework import NAME as FRAMEWORK_NAME
from rlhub.hub.server.framework import Framework
from rlhub.hub.server.models import Owner, Project, Version
from rlhub.hub.server.names import normalize
from rlhub.hub.server.services.accounts import Principal
from rlhub.hub.server.services.catalog import sorted_versions, visible

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


_HEAD = '<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.1">'
_JSON_TYPES = frozenset((PEP691_JSON, "application/vnd.pypi.simple.latest+json"))
_HTML_TYPES = frozenset((PEP691_HTML, "application/vnd.pypi.simple.latest+html", "text/html", "text/*", "*/*"))
NOT_ACCEPTABLE = (
    f"406 Not Acceptable: this index serves {PEP691_JSON}, {PEP691_HTML} or text/html "
    "(the PEP 691 `latest` aliases too)\n"
).encode()


@dataclass(frozen=True)
class Page:
    status: int
    body: bytes
    content_type: str
    etag: str
    location: str | None = None

    @cached_property
    def gzipped(self) -> bytes:
        """The body gzip-compressed, once per rendered page (mtime 0: same bytes in every worker)."""
        return gzip.compress(self.body, compresslevel=6, mtime=0)

    @property
    def gzip_etag(self) -> str:
        """The compressed representation's own strong ETag."""
        return self.etag[:-1] + '-gz"' if self.etag else ""

    def encode(self, use_gzip: bool) -> tuple[bytes, str]:
        """(body, etag) of the representation sent."""
        return (self.gzipped, self.gzip_etag) if use_gzip and self.body else (self.body, self.etag)

    @cached_property
    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """ASGI headers of the identity representation, built once per rendered page."""
        return [*page_headers(self), (b"content-length", str(len(self.body)).encode())]

    @cached_property
    def raw_headers_gzip(self) -> list[tuple[bytes, bytes]]:
        """ASGI headers of the gzip representation, built once per rendered page."""
        if not self.body:
            return self.raw_headers
        return [
            *page_headers(self, use_gzip=True),
            (b"content-encoding", b"gzip"),
            (b"content-length", str(len(self.gzipped)).encode()),
        ]


def _params(part: str) -> tuple[str, float]:
    media, *params = (p.strip() for p in part.split(";"))
    q = 1.0
    for param in params:
        key, _, value = param.partition("=")
        if key.strip() == "q":
            try:
                q = float(value)
            except ValueError:
                q = 0.0
    return media.lower(), q


def negotiate(accept: str) -> bool | None:
    """PEP 691 content negotiation by the Accept header's q-values: True for JSON, False for HTML,
    None when nothing acceptable is offered (answered 406). No Accept header means HTML."""
    if not accept.strip():
        return False
    best_json = best_html = 0.0
    for part in accept.split(","):
        media, q = _params(part)
        if media in _JSON_TYPES:
            best_json = max(best_json, q)
        elif media in _HTML_TYPES:
            best_html = max(best_html, q)
    if best_json <= 0 and best_html <= 0:
        return None
    return best_json >= best_html


def wants_json(accept: str) -> bool:
    """JSON or HTML, for callers that answer something whatever the Accept header says."""
    return bool(negotiate(accept))


def accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.split(","):
        coding, q = _params(part)
        if coding in ("gzip", "x-gzip", "*") and q > 0:
            return True
    return False


def etag_matches(if_none_match: str, etag: str) -> bool:
    """`If-None-Match` by the weak comparison RFC 9110 prescribes for it (`W/"x"` matches `"x"`)."""
    if not etag or not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in if_none_match.split(","))


def touch(stamp: Path) -> None:
    """Tell every worker the index changed."""
    stamp.parent.mkdir(parents=True, exist_ok=True)
    with stamp.open("a") as out:
        out.write(".")


def _page(body: str | bytes, json_: bool, status: int = 200) -> Page:
    data = body.encode() if isinstance(body, str) else body
    return Page(status, data, PEP691_JSON if json_ else PEP691_HTML, '"' + hashlib.sha256(data).hexdigest()[:32] + '"')


@dataclass(frozen=True)
class _Link:
    """One file of a project page, whether from the database or the framework's wheels."""

    filename: str
    sha256: str
    size: int
    requires_python: str | None
    yanked: str | bool
    upload_time: str
    metadata_sha256: str | None


class SimpleIndex:
    def __init__(self, db: Database, stamp: Path, metadata: CoreMetadata, framework: Framework):
        self.db = db
        self.stamp = stamp
        self.metadata = metadata
        self.framework = framework
        self._cache: dict[tuple[str, bool], Page] = {}
        self._seen: tuple[int, int, int] | None = None
        self.generation = 0
        """The database's index generation, refreshed every second by the hub's housekeeping thread."""
        self._lock = threading.Lock()

    def _check_stamp(self) -> None:
        try:
            st = os.stat(self.stamp)
            seen = (st.st_mtime_ns, st.st_size, self.generation)
        except FileNotFoundError:
            seen = (0, 0, self.generation)
        if seen != self._seen:
            self._cache.clear()
            self._seen = seen

    def cached(self, path: str, json_: bool) -> Page | None:
        self._check_stamp()
        return self._cache.get((path, json_))

    def render(self, path: str, json_: bool, principal: Principal | None = None) -> Page:
        """Render `/simple/` or `/simple/<name>/`; anonymous results are cached."""
        stamp_before = self._seen
        rest = path[len(SIMPLE_PATH) :]
        if not rest:
            page = self._root(json_, principal)
        else:
            name = rest.rstrip("/")
            canonical = normalize(name)
            if name != canonical or not rest.endswith("/") or "/" in name:
                return Page(301, b"", "text/plain", "", location=f"{SIMPLE_PATH}{canonical.split('/')[0]}/")
            page = self._project(canonical, json_, principal)
        if principal is None:
            with self._lock:
                if self._seen == stamp_before:
                    self._cache[(path, json_)] = page
        return page

    def _root(self, json_: bool, principal: Principal | None) -> Page:
        with self.db.read() as session:
            rows = session.execute(select(Project.normalized, Project.private, Owner.name).join(Owner)).all()
        names = sorted(n for n, private, owner in rows if not private or (principal and principal.can_read(owner)))
        if self.framework.files():
            names = sorted([FRAMEWORK_NAME, *names])
        if json_:
            return _page(json.dumps({"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in names]}), True)
        links = "\n".join(f'<a href="{SIMPLE_PATH}{n}/">{n}</a><br/>' for n in names)
        return _page(f"{_HEAD}<title>Simple index</title></head>\n<body>\n{links}\n</body></html>\n", False)

    def _links(self, name: str, principal: Principal | None) -> tuple[list[str], list[_Link]] | None:
        """(versions, files) of a project, newest first; None when absent or not visible."""
        if name == FRAMEWORK_NAME:
            wheels = self.framework.files()
            return [w.version for w in wheels], [
                _Link(
                    w.filename,
                    w.sha256,
                    w.size,
                    w.requires_python,
                    False,
                    w.uploaded_at,
                    self._core(w.filename, w.sha256),
                )
                for w in wheels
            ]
        with self.db.read() as session:
            project = session.scalar(
                select(Project)
                .where(Project.normalized == name)
                .options(selectinload(Project.owner), selectinload(Project.versions).selectinload(Version.files))
            )
            if project is None or not visible(project, principal):
                return None
            versions = list(reversed(sorted_versions(project)))
            return [v.version for v in versions], [
                _Link(
                    f.filename,
                    f.sha256,
                    f.size,
                    f.requires_python,
                    (v.yanked_reason or True) if v.yanked else False,
                    f.uploaded_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    self._core(f.filename, f.sha256),
                )
                for v in versions
                for f in v.files
            ]

    def _core(self, filename: str, sha256: str) -> str | None:
        return self.metadata.digest(sha256) if filename.endswith(".whl") else None

    def _project(self, name: str, json_: bool, principal: Principal | None) -> Page:
        found = self._links(name, principal)
        if found is None:
            return _page(
                json.dumps({"error": {"code": "not_found", "message": f"no project {name}"}})
                if json_
                else "Not Found\n",
                json_,
                404,
            )
        versions, files = found
        if json_:
            body = {
                "meta": {"api-version": "1.1"},
                "name": name,
                "versions": versions,
                "files": [
                    {
                        "filename": f.filename,
                        "url": f"{FILES_PATH}{f.sha256}/{f.filename}",
                        "hashes": {"sha256": f.sha256},
                        "requires-python": f.requires_python,
                        "yanked": f.yanked,
                        "size": f.size,
                        "upload-time": f.upload_time,
                        **(
                            {
                                "core-metadata": {"sha256": f.metadata_sha256},
                                "dist-info-metadata": {"sha256": f.metadata_sha256},
                            }
                            if f.metadata_sha256
                            else {}
                        ),
                    }
                    for f in files
                ],
            }
            return _page(json.dumps(body), True)
        links = []
        for f in files:
            attrs = f' data-requires-python="{escape(f.requires_python)}"' if f.requires_python else ""
            if f.yanked:
                attrs += f' data-yanked="{escape(f.yanked if isinstance(f.yanked, str) else "")}"'
            if f.metadata_sha256:
                attrs += f' data-dist-info-metadata="sha256={f.metadata_sha256}"'
                attrs += f' data-core-metadata="sha256={f.metadata_sha256}"'
            href = f"{FILES_PATH}{f.sha256}/{escape(f.filename)}#sha256={f.sha256}"
            links.append(f'<a href="{href}"{attrs}>{escape(f.filename)}</a><br/>')
        body_html = "\n".join(links)
        return _page(
            f"{_HEAD}<title>Links for {name}</title></head>\n<body>\n<h1>Links for {name}</h1>\n"
            f"{body_html}\n</body></html>\n",
            False,
        )


def page_headers(page: Page, use_gzip: bool = False) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-type", page.content_type.encode()),
        (b"vary", b"Accept, Accept-Encoding"),
        (b"cache-control", b"max-age=0, must-revalidate"),
    ]
    etag = page.gzip_etag if use_gzip else page.etag
    if etag:
        headers.append((b"etag", etag.encode()))
    if page.location:
        headers.append((b"location", page.location.encode()))
    return headers


async def send_not_acceptable(send: Callable[[Any], Awaitable[None]], head: bool) -> None:
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"vary", b"Accept, Accept-Encoding"),
        (b"content-length", str(len(NOT_ACCEPTABLE)).encode()),
    ]
    await send({"type": "http.response.start", "status": 406, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else NOT_ACCEPTABLE})


class SimpleFastPath:
    """ASGI middleware answering anonymous GET/HEAD on `/simple/...` straight from the cache."""

    def __init__(self, app: ASGIApp, index: SimpleIndex):
        self.app = app
        self.index = index

    async def __call__(
        self, scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]
    ) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(SIMPLE_PATH) or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        accept = if_none_match = accept_encoding = ""
        for key, value in scope["headers"]:
            if key == b"authorization":
                await self.app(scope, receive, send)
                return
            if key == b"accept":
                accept = value.decode("latin-1")
            elif key == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif key == b"accept-encoding":
                accept_encoding = value.decode("latin-1")
        head = scope["method"] == "HEAD"
        json_ = negotiate(accept)
        if json_ is None:
            await send_not_acceptable(send, head)
            return
        page = self.index.cached(path, json_)
        if page is None:
            page = await anyio.to_thread.run_sync(self.index.render, path, json_)
        use_gzip = accepts_gzip(accept_encoding)
        body, etag = page.encode(use_gzip)
        if page.status == 200 and etag_matches(if_none_match, etag):
            headers = [(b"etag", etag.encode()), (b"vary", b"Accept, Accept-Encoding")]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = page.raw_headers_gzip if use_gzip else page.raw_headers
        await send({"type": "http.response.start", "status": page.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else body})


__all__ = [
    "NOT_ACCEPTABLE",
    "Page",
    "SimpleFastPath",
    "SimpleIndex",
    "accepts_gzip",
    "etag_matches",
    "negotiate",
    "page_headers",
    "send_not_acceptable",
    "touch",
    "wants_json",
]
