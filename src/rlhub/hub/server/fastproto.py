"""A uvicorn HTTP protocol that answers cached simple-index pages without entering ASGI.

pip's index requests are the hub's hot path. For an anonymous `GET /simple/...` whose page is already
rendered, this writes the cached bytes straight to the socket from the parser callback: no task, no
ASGI cycle, no header re-validation. Every other request (and every cache miss) takes uvicorn's normal
path through `SimpleFastPath` and FastAPI, so behaviour is identical, only cheaper. Used by
`rlhub serve`; it relies on uvicorn's httptools protocol internals, which the serve tests exercise.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from rlhub.hub.schema import SIMPLE_PATH
from rlhub.hub.server.simple import SimpleFastPath, wants_json

_SIMPLE = SIMPLE_PATH.encode()


class _Answered:
    """Stands in for uvicorn's request cycle once a request has been answered here."""

    response_complete = True
    keep_alive = True

    def __init__(self) -> None:
        self.message_event = asyncio.Event()


class FastSimpleProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        app = self.app
        self._fast = app if isinstance(app, SimpleFastPath) else None

    def on_headers_complete(self) -> None:
        page = self._cached_page()
        if page is None:
            super().on_headers_complete()
            return
        keep_alive = self.parser.get_http_version() == "1.1" and self.parser.should_keep_alive()
        content = [STATUS_LINE[200]]
        for name, value in self.server_state.default_headers:
            content += [name, b": ", value, b"\r\n"]
        for name, value in page.raw_headers:
            content += [name, b": ", value, b"\r\n"]
        if not keep_alive:
            content.append(b"connection: close\r\n")
        content += [b"\r\n", page.body]
        self.transport.write(b"".join(content))
        self.cycle = _Answered()  # type: ignore[assignment]
        if keep_alive:
            self.on_response_complete()
        else:
            self.transport.close()

    def _cached_page(self) -> Any:
        if self._fast is None or not self.url.startswith(_SIMPLE) or self.parser.get_method() != b"GET":
            return None
        if self.cycle is not None and not self.cycle.response_complete:
            return None  # a pipelined request behind one still running: keep uvicorn's ordering
        accept = ""
        for name, value in self.headers:
            if name in (b"authorization", b"if-none-match", b"expect"):
                return None
            if name == b"accept":
                accept = value.decode("latin-1")
        path = httptools.parse_url(self.url).path.decode("latin-1")
        if "%" in path:
            return None
        page = self._fast.index.cached(path, wants_json(accept))
        return page if page is not None and page.status == 200 else None


__all__ = ["FastSimpleProtocol"]
