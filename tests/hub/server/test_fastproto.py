"""`fastproto.FastSimpleProtocol` against the plain ASGI path, byte for byte, on a real uvicorn server.

The protocol subclasses uvicorn internals (pinned in pyproject.toml; docs/hub.md says why it is kept).
Each cached simple page is requested three ways on one keep-alive connection: whole in one packet
(answered before the parser), in two packets (answered from the parser callback) and with a
`Connection` header (uvicorn and `SimpleFastPath`, ASGI). All three answers must be equal but for
`date`, and the first two must really have been written by the protocol.
"""

from __future__ import annotations

import gzip
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.hub.server.conftest import HubFixture, uvicorn_thread

from rlhub.hub.schema import PEP691_JSON
from rlhub.hub.server.app import create_app
from rlhub.hub.server.config import HubConfig
from rlhub.hub.server.fastproto import FastSimpleProtocol
from rlhub.hub.server.serving import PROTOCOL


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, list[int]]]:
    """(port, fast answers so far) of a uvicorn server with `rlhub serve`'s protocol and one published project."""

    answered: list[int] = []
    write = FastSimpleProtocol._write

    def counted(self: FastSimpleProtocol, *args: object, **kwargs: object) -> None:
        answered.append(1)
        write(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(FastSimpleProtocol, "_write", counted)
    app = create_app(HubConfig(home=tmp_path / "hub", run_checks=False, session_secret="test-secret"))
    with TestClient(app.app) as client:
        fixture = HubFixture(client=client, hub=app.app.state.hub)
        assert fixture.publish(fixture.user("acme"), "acme", "demo").status_code == 200
    # proxy_headers off as in `rlhub serve`: the protocol sees the app itself
    with uvicorn_thread(app, http=PROTOCOL, proxy_headers=False) as port:
        yield port, answered


def read_response(sock: socket.socket) -> tuple[bytes, dict[bytes, bytes], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines)}
    while len(body) < int(headers[b"content-length"]):
        body += sock.recv(65536)
    return status, headers, body


@pytest.mark.parametrize(
    "path, accept, encoding",
    [
        ("/simple/acme-demo/", "text/html", ""),
        ("/simple/acme-demo/", PEP691_JSON, "gzip"),
        ("/simple/", "", "gzip, deflate"),
        ("/simple/", PEP691_JSON, ""),
    ],
)
def test_the_protocol_answers_as_the_asgi_app_does(
    served: tuple[int, list[int]], path: str, accept: str, encoding: str
) -> None:
    port, answered = served
    headers = f"Host: 127.0.0.1\r\nAccept: {accept}\r\n" + (f"Accept-Encoding: {encoding}\r\n" if encoding else "")
    request = f"GET {path} HTTP/1.1\r\n{headers}".encode()
    answers = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for variant in ("asgi", "raw", "parser"):  # the first request also fills the page cache
            before = len(answered)
            if variant == "asgi":
                sock.sendall(request + b"Connection: keep-alive\r\n\r\n")
            elif variant == "raw":
                sock.sendall(request + b"\r\n")
            else:
                sock.sendall(request)
                time.sleep(0.05)
                sock.sendall(b"\r\n")
            status, got, body = read_response(sock)
            assert len(answered) - before == (variant != "asgi"), variant
            got.pop(b"date")
            answers.append((status, got, body))
    assert answers[0] == answers[1] == answers[2]
    status, got, body = answers[0]
    assert status == b"HTTP/1.1 200 OK" and got[b"etag"]
    text = gzip.decompress(body) if encoding else body
    assert (got.get(b"content-encoding") == b"gzip") == bool(encoding)
    if accept == PEP691_JSON:
        assert json.loads(text)["meta"]["api-version"]
    else:
        assert b"acme-demo" in text
