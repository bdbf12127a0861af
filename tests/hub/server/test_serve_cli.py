"""The operator commands as users run them: `rlhub admin create-user`, then `rlhub serve` in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.hub.server.conftest import free_port
from tests.hub.server.wheels import make_wheel, upload_form

from rlhub.hub.schema import PEP691_JSON


@pytest.mark.slow
def test_create_user_then_serve_two_workers_and_publish(tmp_path: Path) -> None:
    env = {**os.environ, "RLHUB_HOME": str(tmp_path / "home")}
    env.pop("RLHUB_DATABASE_URL", None)
    created = subprocess.run(
        [sys.executable, "-m", "rlhub", "admin", "create-user", "acme"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("rlhub_")
    again = subprocess.run(
        [sys.executable, "-m", "rlhub", "admin", "create-user", "acme"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert again.returncode == 1 and "taken" in again.stderr

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "rlhub", "serve", "--port", str(port), "--workers", "2", "--no-checks"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "rlhub serve did not start"
            time.sleep(0.2)
        filename, data = make_wheel("acme", "demo")
        form, files = upload_form(filename, data, "acme", "demo")
        assert httpx.post(url + "/legacy/", data=form, files=files, auth=("__token__", token)).status_code == 200
        with httpx.Client(base_url=url) as client:  # keep-alive: later answers come from the fast protocol
            first = client.get("/simple/acme-demo/")
            for _ in range(3):
                again = client.get("/simple/acme-demo/")
                assert (again.status_code, again.content, again.headers["etag"]) == (
                    200,
                    first.content,
                    first.headers["etag"],
                )
            as_json = [client.get("/simple/acme-demo/", headers={"Accept": PEP691_JSON}) for _ in range(2)]
            assert as_json[1].json()["name"] == "acme-demo" and as_json[1].headers["content-type"] == PEP691_JSON
            assert client.get("/simple/acme-demo/", headers={"If-None-Match": first.headers["etag"]}).status_code == 304
            assert "acme-demo" in client.get("/simple/").text
            assert client.get("/api/v1/health").json()["status"] == "ok"
        # Two pipelined requests in one packet take the parser path and are both answered, in order.
        request = f"GET /simple/acme-demo/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            raw.sendall(request * 2)
            received = b""
            while received.count(b"</html>") < 2:
                chunk = raw.recv(65536)
                assert chunk, received
                received += chunk
        assert received.count(b"HTTP/1.1 200 OK") == 2
        # Two worker processes, one cache each: a publish through one is seen by both on their next request.
        filename, data = make_wheel("acme", "demo", "0.2.0")
        form, files = upload_form(filename, data, "acme", "demo", "0.2.0")
        assert httpx.post(url + "/legacy/", data=form, files=files, auth=("__token__", token)).status_code == 200
        for _ in range(12):  # fresh connections land on either worker
            page = httpx.get(url + "/simple/acme-demo/", headers={"Accept": PEP691_JSON}).json()
            assert page["versions"] == ["0.1.0", "0.2.0"]
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert (tmp_path / "home" / "hub" / "hub.db").exists()
    assert any((tmp_path / "home" / "hub" / "blobs").rglob("*"))
