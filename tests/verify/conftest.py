"""A package index on loopback serving wheels repacked from this virtualenv's installed distributions.

Runtimes are built with pip from an index; tests must not reach the internet, so the index is a local
`http.server` whose wheels are made here from what is already installed (files as installed, RECORD
rewritten with fresh hashes). pip resolves, downloads and hash-checks them exactly as it would from PyPI.
"""

from __future__ import annotations

import base64
import hashlib
import html
import http.server
import importlib.metadata
import os
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def repack(name: str, dest: Path) -> Path:
    """A wheel of the installed distribution `name`, written to `dest`."""
    dist = importlib.metadata.distribution(name)
    tag = next(
        line.split(":", 1)[1].strip()
        for line in (dist.read_text("WHEEL") or "").splitlines()
        if line.startswith("Tag:")
    )
    project = canonicalize_name(dist.metadata["Name"]).replace("-", "_")
    wheel = dest / f"{project}-{dist.version}-{tag}.whl"
    root = Path(str(dist.locate_file("")))
    record = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as archive:
        for file in dist.files or ():
            skip = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
            if ".." in file.parts or "__pycache__" in file.parts or (file.name in skip and ".dist-info" in str(file)):
                continue
            data = (root / file).read_bytes()
            archive.writestr(str(file), data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{file},sha256={digest},{len(data)}")
        info = next(str(f.parent) for f in dist.files or () if f.name == "METADATA")
        record.append(f"{info}/RECORD,,")
        archive.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel


def closure(names: list[str]) -> set[str]:
    """The installed distributions `names` need, themselves included (markers evaluated, extras ignored)."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        for text in importlib.metadata.requires(name) or ():
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def serve_index(names: list[str], root: Path) -> Iterator[str]:
    """Serve a PEP 503 index of `names` and their dependencies under `root`; yields its URL."""
    files = root / "files"
    files.mkdir(parents=True)
    for name in sorted(closure(names)):
        wheel = repack(name, files)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        page = root / "simple" / name
        page.mkdir(parents=True)
        link = f'<a href="../../files/{html.escape(wheel.name)}#sha256={digest}">{html.escape(wheel.name)}</a>'
        (page / "index.html").write_text(f"<!DOCTYPE html><html><body>{link}</body></html>")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: _Quiet(*a, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def loopback_pytest_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A loopback index holding pytest and its dependencies."""
    yield from serve_index(["pytest"], tmp_path_factory.mktemp("index-pytest"))


@pytest.fixture
def use_index(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """`use_index(url)`: pip looks at `url` only, for this test."""
    return lambda url: only_index(monkeypatch, url)


@pytest.fixture
def loopback_index(tmp_path: Path, use_index: Callable[[str], None]) -> Iterator[Callable[[list[str]], str]]:
    """`loopback_index(names)`: serve those installed distributions on loopback and make pip use only it."""
    servers: list[Iterator[str]] = []

    def start(names: list[str]) -> str:
        servers.append(serve_index(names, tmp_path / f"index-{len(servers)}"))
        url = next(servers[-1])
        use_index(url)
        return url

    yield start
    for server in servers:
        server.close()


@pytest.fixture(scope="session")
def shared_runtimes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An RLHUB_HOME shared by the tests that opt in, so a runtime is built once per test session."""
    return tmp_path_factory.mktemp("rlhub-home-shared")


@pytest.fixture
def runtime_home(shared_runtimes: Path, loopback_pytest_index: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """RLHUB_HOME where `Runtime(["pytest"])` is (or will be) built from the loopback index."""
    monkeypatch.setenv("RLHUB_HOME", str(shared_runtimes))
    only_index(monkeypatch, loopback_pytest_index)
    return shared_runtimes


def only_index(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Make `url` the one place pip looks: no config files, no find-links, no extra indexes."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIP_INDEX_URL", url)
