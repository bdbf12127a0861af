"""A uvicorn HTTP protocol that answers cached simple-index pages without entering ASGI.

pip's index requests are the hub's hot path. For an anonymous `GET /simple/...` whose page is already
rendered, this writes the cached bytes straight to the socket: no task, no ASGI cycle, no header
re-validation. When the request arrives whole in one read with only plain headers (the usual
keep-alive case) it is answered before httptools even sees it; anything unusual (partial, pipelined,
a body, credentials, conditional, `Connection`) goes through the parser, and every other request (and
every cache miss) takes uvicorn's normal path through `SimpleFastPath` and FastAPI, so behaviour is
identical, only cheaper. Used by `rlhub serve`; it relies on uvicorn's httptools protocol internals,
which the serve tests exercise.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from rlhub.hub.schema import SIMPLE_PATH
from rlhub.hub.server.simple import Page, SimpleFastPath, accepts_gzip, negotiate

_SIMPLE = SIMPLE_PATH.encode()
_SLOW_HEADERS = frozenset(
    (b"authorization", b"if-none-match", b"expect", b"content-length", b"transfer-encoding", b"connection", b"upgrade")
)


class _Answered:
    """Stands in for uvicorn's request cycle once a request has been answered here."""

    response_complete = True
    keep_alive = True

    def __init__(self) -> None:
        self.message_event = asyncio.Event()


_ANSWERED = _Answered()


class FastSimpleProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        app = self.app
        self._fast = app if isinstance(app, SimpleFastPath) else None

    def data_received(self, data: bytes) -> None:
        """The common case, one plain keep-alive `GET /simple/...` in one packet, skips the parser too."""
        if data.startswith(b"GET /simple/") and self._answer_raw(data):
            return
        super().data_received(data)

    def _answer_raw(self, data: bytes) -> bool:
        if self._fast is None or (self.cycle is not None and not self.cycle.response_complete):
            return False
        end = data.find(b"\r\n\r\n")
        if end != len(data) - 4:
            return False  # partial, pipelined or with a body: let httptools handle it
        lines = data[:end].split(b"\r\n")
        _, _, rest = lines[0].partition(b" ")
        target, _, version = rest.partition(b" ")
        if version != b"HTTP/1.1" or b"%" in target or b"?" in target:
            return False
        accept = encoding = ""
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon:
                return False
            name = name.strip().lower()
            if name in _SLOW_HEADERS:
                return False
            if name == b"accept":
                accept = value.strip().decode("latin-1")
            elif name == b"accept-encoding":
                encoding = value.strip().decode("latin-1")
        json_ = negotiate(accept)
        page = None if json_ is None else self._fast.index.cached(target.decode("latin-1"), json_)
        if page is None or page.status != 200:
            return False
        self._unset_keepalive_if_required()
        self._write(page, accepts_gzip(encoding), keep_alive=True)
        return True

    def _write(self, page: Page, use_gzip: bool, keep_alive: bool) -> None:
        content = [STATUS_LINE[200]]
        for name, value in self.server_state.default_headers:
            content += [name, b": ", value, b"\r\n"]
        for name, value in page.raw_headers_gzip if use_gzip else page.raw_headers:
            content += [name, b": ", value, b"\r\n"]
        if not keep_alive:
            content.append(b"connection: close\r\n")
        content += [b"\r\n", page.encode(use_gzip)[0]]
        self.transport.write(b"".join(content))
        self.cycle = _ANSWERED  # type: ignore[assignment]
        if keep_alive:
            self.on_response_complete()
        else:
            self.transport.close()

    def on_headers_complete(self) -> None:
        found = self._cached_page()
        if found is None:
            super().on_headers_complete()
            return
        page, use_gzip = found
        keep_alive = self.parser.get_http_version() == "1.1" and self.parser.should_keep_alive()
        self._write(page, use_gzip, keep_alive=keep_alive)

    def _cached_page(self) -> tuple[Page, bool] | None:
        if self._fast is None or not self.url.startswith(_SIMPLE) or self.parser.get_method() != b"GET":
            return None
        if self.cycle is not None and not self.cycle.response_complete:
            return None  # a pipelined request behind one still running: keep uvicorn's ordering
        accept = encoding = ""
        for name, value in self.headers:
            if name in _SLOW_HEADERS:
                return None
            if name == b"accept":
                accept = value.decode("latin-1")
            elif name == b"accept-encoding":
                encoding = value.decode("latin-1")
        path = httptools.parse_url(self.url).path.decode("latin-1")
        json_ = negotiate(accept)
        if "%" in path or json_ is None:
            return None
        page = self._fast.index.cached(path, json_)
        return (page, accepts_gzip(encoding)) if page is not None and page.status == 200 else None


__all__ = ["FastSimpleProtocol"]
