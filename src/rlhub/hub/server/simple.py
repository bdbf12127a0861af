"""The PEP 503 (HTML) / PEP 691 (JSON) simple index, rendered once and served from memory.

Rendered pages are cached per process and dropped whenever the stamp file changes; every publish,
yank or visibility change touches it, so all workers of `rlhub serve --workers N` see the change on
their next request (one `stat` per request, no database round trip on a hit). Hosts that share one
database but not the stamp file notice changes through the database's index generation, polled
once a second. Anonymous GETs are
answered by `SimpleFastPath`, a raw ASGI layer in front of FastAPI, because the index is the hot
path pip hammers. Requests carrying credentials go through the app and may see private projects.
"""

from __future__ import annotations

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
from rlhub.hub.server.db import Database
from rlhub.hub.server.models import Owner, Project, Version
from rlhub.hub.server.names import normalize
from rlhub.hub.server.services.accounts import Principal
from rlhub.hub.server.services.catalog import sorted_versions, visible

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


_HEAD = '<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.1">'


@dataclass(frozen=True)
class Page:
    status: int
    body: bytes
    content_type: str
    etag: str
    location: str | None = None

    @cached_property
    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """ASGI headers, built once per rendered page."""
        return [*page_headers(self), (b"content-length", str(len(self.body)).encode())]


def wants_json(accept: str) -> bool:
    """Content negotiation between PEP 691 JSON and HTML by the Accept header's q-values."""
    best_json = best_html = -1.0
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media == PEP691_JSON:
            best_json = max(best_json, q)
        elif media in (PEP691_HTML, "text/html", "*/*"):
            best_html = max(best_html, q)
    return best_json > 0 and best_json >= best_html


def touch(stamp: Path) -> None:
    """Tell every worker the index changed."""
    stamp.parent.mkdir(parents=True, exist_ok=True)
    with stamp.open("a") as out:
        out.write(".")


def _page(body: str | bytes, json_: bool, status: int = 200) -> Page:
    data = body.encode() if isinstance(body, str) else body
    return Page(status, data, PEP691_JSON if json_ else PEP691_HTML, '"' + hashlib.sha256(data).hexdigest()[:32] + '"')


class SimpleIndex:
    def __init__(self, db: Database, stamp: Path):
        self.db = db
        self.stamp = stamp
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
        if json_:
            return _page(json.dumps({"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in names]}), True)
        links = "\n".join(f'<a href="{SIMPLE_PATH}{n}/">{n}</a><br/>' for n in names)
        return _page(f"{_HEAD}<title>Simple index</title></head>\n<body>\n{links}\n</body></html>\n", False)

    def _project(self, name: str, json_: bool, principal: Principal | None) -> Page:
        with self.db.read() as session:
            project = session.scalar(
                select(Project)
                .where(Project.normalized == name)
                .options(selectinload(Project.owner), selectinload(Project.versions).selectinload(Version.files))
            )
            if project is None or not visible(project, principal):
                return _page(
                    json.dumps({"error": {"code": "not_found", "message": f"no project {name}"}})
                    if json_
                    else "Not Found\n",
                    json_,
                    404,
                )
            versions = list(reversed(sorted_versions(project)))
            files = [(v, f) for v in versions for f in v.files]
        if json_:
            body = {
                "meta": {"api-version": "1.1"},
                "name": name,
                "versions": [v.version for v in versions],
                "files": [
                    {
                        "filename": f.filename,
                        "url": f"{FILES_PATH}{f.sha256}/{f.filename}",
                        "hashes": {"sha256": f.sha256},
                        "requires-python": f.requires_python,
                        "yanked": (v.yanked_reason or True) if v.yanked else False,
                        "size": f.size,
                        "upload-time": f.uploaded_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    }
                    for v, f in files
                ],
            }
            return _page(json.dumps(body), True)
        links = []
        for v, f in files:
            attrs = f' data-requires-python="{escape(f.requires_python)}"' if f.requires_python else ""
            if v.yanked:
                attrs += f' data-yanked="{escape(v.yanked_reason)}"'
            href = f"{FILES_PATH}{f.sha256}/{escape(f.filename)}#sha256={f.sha256}"
            links.append(f'<a href="{href}"{attrs}>{escape(f.filename)}</a><br/>')
        body_html = "\n".join(links)
        return _page(
            f"{_HEAD}<title>Links for {name}</title></head>\n<body>\n<h1>Links for {name}</h1>\n"
            f"{body_html}\n</body></html>\n",
            False,
        )


def page_headers(page: Page) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-type", page.content_type.encode()),
        (b"vary", b"Accept"),
        (b"cache-control", b"max-age=0, must-revalidate"),
    ]
    if page.etag:
        headers.append((b"etag", page.etag.encode()))
    if page.location:
        headers.append((b"location", page.location.encode()))
    return headers


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
        accept = if_none_match = ""
        for key, value in scope["headers"]:
            if key == b"authorization":
                await self.app(scope, receive, send)
                return
            if key == b"accept":
                accept = value.decode("latin-1")
            elif key == b"if-none-match":
                if_none_match = value.decode("latin-1")
        json_ = wants_json(accept)
        page = self.index.cached(path, json_)
        if page is None:
            page = await anyio.to_thread.run_sync(self.index.render, path, json_)
        if page.status == 200 and if_none_match and if_none_match == page.etag:
            await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", page.etag.encode())]})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": page.status, "headers": page.raw_headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else page.body})


__all__ = ["Page", "SimpleFastPath", "SimpleIndex", "page_headers", "touch", "wants_json"]
