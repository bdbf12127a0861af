"""A real uvicorn server on loopback, driven by stock tools: twine uploads, pip installs."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.hub.server.conftest import HubFixture, LiveHub
from tests.hub.server.wheels import make_sdist, make_wheel

from rlhub.hub.schema import PEP691_JSON
from rlhub.hub.server.app import create_app
from rlhub.hub.server.config import HubConfig


@pytest.mark.slow
def test_twine_upload_then_pip_install(live_hub: LiveHub, tmp_path: Path) -> None:
    token = live_hub.fixture.user("acme")
    dist = tmp_path / "dist"
    dist.mkdir()
    for filename, data in (make_wheel("acme", "invoice-math"), make_sdist("acme", "invoice-math")):
        (dist / filename).write_bytes(data)
    twine = subprocess.run(
        [sys.executable, "-m", "twine", "upload", "--non-interactive", "--disable-progress-bar",
         "--repository-url", f"{live_hub.url}/legacy/", "-u", "__token__", "-p", token,
         *map(str, sorted(dist.iterdir()))],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert twine.returncode == 0, twine.stdout + twine.stderr
    again = subprocess.run(
        [sys.executable, "-m", "twine", "upload", "--non-interactive", "--disable-progress-bar",
         "--repository-url", f"{live_hub.url}/legacy/", "-u", "__token__", "-p", token, str(next(dist.glob("*.whl")))],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert again.returncode != 0 and "409" in again.stdout + again.stderr

    target = tmp_path / "site"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check", "--no-cache-dir",
         "--target", str(target), "--index-url", f"{live_hub.url}/simple/", "acme-invoice-math"],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert pip.returncode == 0, pip.stdout + pip.stderr
    assert (target / "acme_invoice_math" / "env.py").exists(), pip.stdout


@pytest.mark.slow
def test_uv_publish_then_uv_resolves(live_hub: LiveHub, tmp_path: Path) -> None:
    token = live_hub.fixture.user("acme")
    uv = str(Path(sys.executable).with_name("uv"))
    for filename, data in (make_wheel("acme", "uvdemo"), make_sdist("acme", "uvdemo")):
        (tmp_path / filename).write_bytes(data)
    files = sorted(str(p) for p in tmp_path.iterdir())
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "UV_NO_CONFIG": "1",
        "UV_CACHE_DIR": str(tmp_path / "cache"),
    }
    publish = subprocess.run(
        [uv, "publish", "--publish-url", f"{live_hub.url}/legacy/", "--token", token, *files],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip
    assert publish.returncode == 0, publish.stderr
    resolve = subprocess.run(
        [uv, "pip", "install", "--dry-run", "--no-deps", "--python", sys.executable,
         "--index-url", f"{live_hub.url}/simple/", "acme-uvdemo"],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip
    assert resolve.returncode == 0 and "acme-uvdemo==0.1.0" in resolve.stderr, resolve.stderr


def test_simple_index_html_and_json(live_hub: LiveHub) -> None:
    token = live_hub.fixture.user("acme")
    live_hub.fixture.publish(token, "acme", "demo")
    with httpx.Client(base_url=live_hub.url) as client:
        root = client.get("/simple/")
        assert root.headers["content-type"].startswith("application/vnd.pypi.simple.v1+html")
        assert '<a href="/simple/acme-demo/">acme-demo</a>' in root.text
        page = client.get("/simple/acme-demo/", headers={"Accept": PEP691_JSON})
        data = page.json()
        assert page.headers["content-type"] == PEP691_JSON and data["meta"]["api-version"] == "1.1"
        file = data["files"][0]
        body = client.get(file["url"]).content
        assert hashlib.sha256(body).hexdigest() == file["hashes"]["sha256"]
        assert client.get("/simple/Acme_Demo/", follow_redirects=False).headers["location"] == "/simple/acme-demo/"
        cached = client.get(
            "/simple/acme-demo/", headers={"If-None-Match": page.headers["etag"], "Accept": PEP691_JSON}
        )
        assert cached.status_code == 304
        # A publish is visible on the very next request (the cache is dropped).
        live_hub.fixture.publish(token, "acme", "demo", "0.2.0")
        assert "0.2.0" in client.get("/simple/acme-demo/", headers={"Accept": PEP691_JSON}).json()["versions"]
        assert client.get("/simple/nothing/").status_code == 404


def test_concurrent_publishes_of_one_file_exactly_one_wins(live_hub: LiveHub) -> None:
    token = live_hub.fixture.user("acme")
    filename, data = make_wheel("acme", "race")
    files = {"content": (filename, data, "application/octet-stream")}
    form = {":action": "file_upload", "name": "acme-race", "version": "0.1.0", "filetype": "bdist_wheel"}

    def push(_: int) -> tuple[int, str]:
        with httpx.Client(base_url=live_hub.url, timeout=60) as client:
            response = client.post("/legacy/", data=form, files=files, auth=("__token__", token))
            return response.status_code, response.text

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(push, range(8)))
    assert sorted(code for code, _ in answers) == [200] + [409] * 7, answers
    info = live_hub.fixture.client.get("/api/v1/envs/acme/race").json()
    assert len(info["versions"]) == 1 and len(info["versions"][0]["files"]) == 1


def test_wheel_and_sdist_racing_for_a_new_version_both_land(live_hub: LiveHub) -> None:
    token = live_hub.fixture.user("acme")
    uploads = [make_wheel("acme", "pair", "1.0"), make_sdist("acme", "pair", "1.0")]

    def push(item: tuple[str, bytes]) -> int:
        filename, data = item
        filetype = "bdist_wheel" if filename.endswith(".whl") else "sdist"
        form = {":action": "file_upload", "name": "acme-pair", "version": "1.0", "filetype": filetype}
        with httpx.Client(base_url=live_hub.url, timeout=60) as client:
            files = {"content": (filename, data, "application/octet-stream")}
            return client.post("/legacy/", data=form, files=files, auth=("__token__", token)).status_code

    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(push, uploads)) == [200, 200]
    versions = live_hub.fixture.client.get("/api/v1/envs/acme/pair").json()["versions"]
    assert len(versions) == 1 and len(versions[0]["files"]) == 2


def test_hosts_sharing_a_database_see_each_others_publishes(config: HubConfig, tmp_path: Path) -> None:
    """Two hubs with their own data dirs (no shared stamp file) on one database: the generation poll
    makes a publish on one visible in the other's cached index within about a second."""
    url = config.database_url or f"sqlite:///{tmp_path / 'shared.db'}"
    one = create_app(dataclasses.replace(config, home=tmp_path / "one", database_url=url))
    two = create_app(dataclasses.replace(config, home=tmp_path / "two", database_url=url), migrate=False)
    with TestClient(one) as first, TestClient(two) as second:
        hub_one = HubFixture(client=first, hub=one.app.state.hub)
        token = hub_one.user("acme")
        hub_one.publish(token, "acme", "demo")
        assert "acme-demo" in second.get("/simple/").text  # the first render reads the database
        hub_one.publish(token, "acme", "other")
        deadline = time.monotonic() + 10
        while "acme-other" not in second.get("/simple/").text:
            assert time.monotonic() < deadline, "the second host never saw the publish"
            time.sleep(0.1)
