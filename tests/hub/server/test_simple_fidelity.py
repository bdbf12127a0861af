"""The simple index as pip, uv and pypi-simple see it: PEP 658/714 core metadata, conditional requests,
HEAD, gzip, PEP 691 negotiation, and the framework's own wheel. The real clients run against a real
uvicorn server on loopback whose requests are counted, to show what they fetch."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import os
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypi_simple import ACCEPT_HTML_ONLY, ACCEPT_JSON_ONLY, PyPISimple
from tests.hub.server.conftest import HubFixture, uvicorn_thread
from tests.hub.server.wheels import make_sdist, make_wheel

from rlhub.hub.schema import PEP691_HTML, PEP691_JSON
from rlhub.hub.server.app import create_app
from rlhub.hub.server.config import HubConfig
from rlhub.hub.server.framework import Framework, FrameworkFile, build_wheel

LATEST_JSON = "application/vnd.pypi.simple.latest+json"
LATEST_HTML = "application/vnd.pypi.simple.latest+html"


def plain_wheel(owner: str, name: str, version: str = "0.1.0", requires: tuple[str, ...] = ()) -> tuple[str, bytes]:
    """A wheel whose METADATA requires only `requires` (no rlhub), so resolvers stay on the hub."""
    package = f"{owner}_{name.replace('-', '_')}"
    lines = [f"Metadata-Version: 2.1\nName: {owner}-{name}\nVersion: {version}\nSummary: plain\n"]
    lines += [f"Requires-Dist: {r}\n" for r in requires]
    meta = ("".join(lines) + "\nplain\n").encode()
    return make_wheel(owner, name, version, extra={f"{package}-{version}.dist-info/METADATA": meta})


def wheel_metadata(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read(next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA")))


def test_wheel_links_advertise_core_metadata_and_serve_it(hub: HubFixture) -> None:
    token = hub.user("acme")
    filename, data = make_wheel("acme", "demo")
    assert hub.upload(token, filename, data, "acme", "demo").status_code == 200
    sdist, sdist_data = make_sdist("acme", "demo")
    assert hub.upload(token, sdist, sdist_data, "acme", "demo").status_code == 200
    expected = hashlib.sha256(wheel_metadata(data)).hexdigest()

    html = hub.client.get("/simple/acme-demo/").text
    wheel_link = next(line for line in html.splitlines() if f">{filename}<" in line)
    assert f'data-core-metadata="sha256={expected}"' in wheel_link
    assert f'data-dist-info-metadata="sha256={expected}"' in wheel_link
    sdist_link = next(line for line in html.splitlines() if f">{sdist}<" in line)
    assert "metadata" not in sdist_link  # an sdist has no core metadata to offer

    files = {
        f["filename"]: f for f in hub.client.get("/simple/acme-demo/", headers={"Accept": PEP691_JSON}).json()["files"]
    }
    assert files[filename]["core-metadata"] == {"sha256": expected} == files[filename]["dist-info-metadata"]
    assert "core-metadata" not in files[sdist]

    served = hub.client.get(files[filename]["url"] + ".metadata")
    assert served.status_code == 200 and served.content == wheel_metadata(data)
    assert hashlib.sha256(served.content).hexdigest() == expected
    assert hub.client.get(files[sdist]["url"] + ".metadata").status_code == 404


def test_files_answer_304_to_strong_and_weak_etags_and_head(hub: HubFixture) -> None:
    token = hub.user("acme")
    hub.publish(token, "acme", "demo")
    file = hub.client.get("/simple/acme-demo/", headers={"Accept": PEP691_JSON}).json()["files"][0]
    sha = file["hashes"]["sha256"]
    full = hub.client.get(file["url"])
    assert full.status_code == 200 and full.headers["etag"] == f'"{sha}"'
    for tag in (f'"{sha}"', f'W/"{sha}"', f'"other", W/"{sha}"', "*"):
        answer = hub.client.get(file["url"], headers={"If-None-Match": tag})
        assert (answer.status_code, answer.content, answer.headers["etag"]) == (304, b"", f'"{sha}"'), tag
    assert hub.client.get(file["url"], headers={"If-None-Match": '"other"'}).status_code == 200
    head = hub.client.head(file["url"])
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) == file["size"]
    meta = hub.client.get(file["url"] + ".metadata")
    assert (
        hub.client.get(file["url"] + ".metadata", headers={"If-None-Match": "W/" + meta.headers["etag"]}).status_code
        == 304
    )
    assert hub.client.head(file["url"] + ".metadata").status_code == 200


@pytest.mark.parametrize("authenticated", [False, True], ids=["anonymous", "token"])
def test_index_pages_head_gzip_latest_alias_and_406(hub: HubFixture, authenticated: bool) -> None:
    token = hub.user("acme")
    hub.publish(token, "acme", "demo")
    auth = ("__token__", token) if authenticated else None
    for path in ("/simple/", "/simple/acme-demo/"):
        plain = hub.client.get(path, auth=auth, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and "Accept-Encoding" in plain.headers["vary"]
        head = hub.client.head(path, auth=auth)
        assert head.status_code == 200 and head.content == b"" and head.headers["etag"]
        with hub.client.stream("GET", path, auth=auth, headers={"Accept-Encoding": "gzip"}) as raw:
            assert raw.headers["content-encoding"] == "gzip"
            body = b"".join(raw.iter_raw())
        assert gzip.decompress(body) == plain.content
        zipped = hub.client.get(path, auth=auth, headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["etag"] != plain.headers["etag"]  # each representation has its own strong ETag
        for etag, encoding in ((zipped.headers["etag"], "gzip"), (plain.headers["etag"], "identity")):
            again = hub.client.get(path, auth=auth, headers={"If-None-Match": f"W/{etag}", "Accept-Encoding": encoding})
            assert again.status_code == 304, (path, encoding)

        latest = hub.client.get(path, auth=auth, headers={"Accept": LATEST_JSON})
        assert latest.headers["content-type"] == PEP691_JSON and latest.json()["meta"]["api-version"] == "1.1"
        assert hub.client.get(path, auth=auth, headers={"Accept": LATEST_HTML}).headers["content-type"] == PEP691_HTML
        for accept in ("application/xml", f"{PEP691_JSON};q=0", "application/vnd.pypi.simple.v2+json"):
            refused = hub.client.get(path, auth=auth, headers={"Accept": accept})
            assert refused.status_code == 406 and PEP691_JSON in refused.text, accept


def test_the_framework_wheel_is_listed_served_and_never_changes(
    hub: HubFixture, caplog: pytest.LogCaptureFixture
) -> None:
    root = hub.client.get("/simple/", headers={"Accept": PEP691_JSON}).json()
    assert {"name": "rlhub"} in root["projects"]
    page = hub.client.get("/simple/rlhub/", headers={"Accept": PEP691_JSON}).json()
    filename, data, _ = build_wheel()
    (file,) = page["files"]
    assert file["filename"] == filename and file["hashes"]["sha256"] == hashlib.sha256(data).hexdigest()
    served = hub.client.get(file["url"]).content
    assert served == data  # deterministic: the same source packs to the same bytes
    with zipfile.ZipFile(io.BytesIO(served)) as zf:
        names = zf.namelist()
        assert "rlhub/__init__.py" in names and "rlhub/hub/server/templates/env.html" in names
        assert not any("__pycache__" in n for n in names)
    meta = hub.client.get(file["url"] + ".metadata").content
    assert hashlib.sha256(meta).hexdigest() == file["core-metadata"]["sha256"] and b"Name: rlhub" in meta

    # A recorded version keeps its bytes even when the source it was built from changes.
    framework = Framework(hub.hub.store, hub.hub.config.home / "other-framework")
    framework.publish()
    (manifest,) = framework.directory.glob("rlhub-*.json")
    stale = FrameworkFile(**{**json.loads(manifest.read_text()), "sha256": "0" * 64})
    manifest.write_text(json.dumps(stale.__dict__))
    with caplog.at_level(logging.WARNING):
        assert framework.publish().sha256 == "0" * 64
    assert "without a version bump" in caplog.text


# --- real clients on a real server ---------------------------------------------------------------


class Counting:
    """ASGI wrapper that records (method, path, status) of every request the server answers."""

    def __init__(self, app: Any):
        self.app = app
        self.seen: list[tuple[str, str, int]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def record(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.seen.append((scope["method"], scope["path"], message["status"]))
            await send(message)

        await self.app(scope, receive, record)

    def files(self, suffix: str) -> Counter[str]:
        return Counter(p.rsplit("/", 1)[-1] for m, p, s in self.seen if m == "GET" and s == 200 and p.endswith(suffix))


@dataclass
class CountedHub:
    url: str
    fixture: HubFixture
    counter: Counting


@pytest.fixture
def counted_hub(config: HubConfig) -> Iterator[CountedHub]:
    app = create_app(config)
    counter = Counting(app)
    with uvicorn_thread(counter, lifespan="on") as port, TestClient(app.app) as client:
        yield CountedHub(f"http://127.0.0.1:{port}", HubFixture(client=client, hub=app.app.state.hub), counter)


def _publish_pair(live: CountedHub) -> dict[str, bytes]:
    """acme-top requires acme-base; neither requires anything else."""
    token = live.fixture.user("acme")
    wheels = dict([plain_wheel("acme", "base"), plain_wheel("acme", "top", requires=("acme-base>=0.1",))])
    for filename, data in wheels.items():
        name = filename.split("-")[0].removeprefix("acme_")
        assert live.fixture.upload(token, filename, data, "acme", name).status_code == 200
    return wheels


def test_pypi_simple_parses_both_formats_and_verifies_metadata(counted_hub: CountedHub, tmp_path: Path) -> None:
    wheels = _publish_pair(counted_hub)
    for accept in (ACCEPT_HTML_ONLY, ACCEPT_JSON_ONLY):
        with PyPISimple(endpoint=f"{counted_hub.url}/simple/", accept=accept) as client:
            assert {"acme-base", "acme-top", "rlhub"} <= set(client.get_index_page().projects)
            (pkg,) = client.get_project_page("acme-top").packages
            assert pkg.version == "0.1.0" and pkg.has_metadata and pkg.digests["sha256"]
            assert "Requires-Dist: acme-base>=0.1" in client.get_package_metadata(pkg)  # digest verified
            target = tmp_path / accept.replace("/", "_") / pkg.filename
            client.download_package(pkg, target)  # sha256 verified
            assert target.read_bytes() == wheels[pkg.filename]


@pytest.mark.slow
def test_uv_and_pip_resolve_from_core_metadata_without_downloading_wheels(
    counted_hub: CountedHub, tmp_path: Path
) -> None:
    _publish_pair(counted_hub)
    index = f"{counted_hub.url}/simple/"
    bindir = Path(sys.executable).parent
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "UV_NO_CONFIG": "1",
        "UV_CACHE_DIR": str(tmp_path / "uvc"),
    }

    def run(*cmd: str) -> str:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout + proc.stderr

    counter = counted_hub.counter
    # uv: resolving fetches the two .metadata files, no wheel.
    compiled = subprocess.run(
        [str(bindir / "uv"), "pip", "compile", "-", "--python", sys.executable, "--index-url", index],
        input="acme-top\n", capture_output=True, text=True, timeout=180, env=env, check=False,
    )  # fmt: skip
    assert compiled.returncode == 0 and "acme-base==0.1.0" in compiled.stdout, compiled.stderr
    assert counter.files(".metadata") == {
        "acme_base-0.1.0-py3-none-any.whl.metadata": 1,
        "acme_top-0.1.0-py3-none-any.whl.metadata": 1,
    }
    assert counter.files(".whl") == {}

    # uv install into a fresh venv: each wheel downloaded exactly once (metadata came from the cache).
    run(str(bindir / "uv"), "venv", str(tmp_path / "uvenv"))
    run(
        str(bindir / "uv"),
        "pip",
        "install",
        "--python",
        str(tmp_path / "uvenv/bin/python"),
        "--index-url",
        index,
        "acme-top",
    )
    assert counter.files(".whl") == {"acme_base-0.1.0-py3-none-any.whl": 1, "acme_top-0.1.0-py3-none-any.whl": 1}

    # pip: a dry-run resolve reads .metadata only; `pip download` then fetches each wheel once.
    counter.seen.clear()
    pip = (sys.executable, "-m", "pip", "--isolated", "--disable-pip-version-check", "--no-cache-dir")
    report = tmp_path / "report.json"
    run(*pip, "install", "--dry-run", "--ignore-installed", "--report", str(report), "--index-url", index, "acme-top")
    assert {i["metadata"]["name"] for i in json.loads(report.read_text())["install"]} == {"acme-top", "acme-base"}
    assert counter.files(".metadata") == {
        "acme_base-0.1.0-py3-none-any.whl.metadata": 1,
        "acme_top-0.1.0-py3-none-any.whl.metadata": 1,
    }
    assert counter.files(".whl") == {}
    run(*pip, "download", "--index-url", index, "-d", str(tmp_path / "dl"), "acme-top")
    assert counter.files(".whl") == {"acme_base-0.1.0-py3-none-any.whl": 1, "acme_top-0.1.0-py3-none-any.whl": 1}
    assert sorted(p.name for p in (tmp_path / "dl").iterdir()) == sorted(counter.files(".whl"))
