"""Fixtures for the client: the hub app in-process (ASGITransport), a real uvicorn server on loopback,
tiny environment packages (a real source tree built with `python -m build`, and wheels written
directly), a throwaway target venv, and a hostile second index for dependency-confusion tests."""

from __future__ import annotations

import base64
import hashlib
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from rlhub.hub.client import HubClient
from rlhub.hub.schema import TokenScope
from rlhub.hub.server.app import create_app
from rlhub.hub.server.config import HubConfig
from rlhub.hub.server.hub import Hub

ENV_SOURCE = '''"""{owner}/{name}: say a number back."""

import rlhub

MARK = "{mark}"


def exact(response, answer):
    return float(response.strip() == str(answer))


@rlhub.environment("{owner}/{name}", version="{version}")
class Echo(rlhub.SingleTurnEnv):
    """Repeat a number."""

    rubric = rlhub.Rubric(correct=exact)

    def make_task(self, rng):
        n = rng.randint(0, 999)
        return rlhub.Task(prompt=f"Say {{n}}.", answer=str(n))
'''


def env_project(root: Path, owner: str, name: str, version: str = "0.1.0", requires: tuple[str, ...] = ()) -> Path:
    """An environment package source tree like `rlhub init` makes (pyproject, src/, README)."""
    package = f"{owner}_{name.replace('-', '_')}"
    project = root / f"{owner}-{name}-{version}"
    (project / "src" / package).mkdir(parents=True)
    deps = ", ".join(f'"{r}"' for r in ("rlhub>=0.1", *requires))
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{owner}-{name}"\nversion = "{version}"\ndescription = "Echo numbers ({name})"\n'
        f'readme = "README.md"\nrequires-python = ">=3.11"\nkeywords = ["echo", "test"]\ndependencies = [{deps}]\n\n'
        f'[project.entry-points."rlhub.environments"]\n{owner}-{name} = "{package}"\n'
    )
    (project / "README.md").write_text(f"# {owner}/{name}\n\nSay the number back.\n")
    (project / "src" / package / "__init__.py").write_text(
        ENV_SOURCE.format(owner=owner, name=name, version=version, mark="hub")
    )
    return project


def write_wheel(
    out: Path, owner: str, name: str, version: str, requires: tuple[str, ...] = (), mark: str = "hub"
) -> Path:
    """A valid pure-Python wheel of environment `owner/name`, written directly (milliseconds, no build)."""
    package = f"{owner}_{name.replace('-', '_')}"
    info = f"{package}-{version}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {owner}-{name}\nVersion: {version}\nSummary: {name}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = {
        f"{package}/__init__.py": ENV_SOURCE.format(owner=owner, name=name, version=version, mark=mark).encode(),
        f"{info}/METADATA": meta.encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: rlhub-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/entry_points.txt": f"[rlhub.environments]\n{owner}-{name} = {package}\n".encode(),
    }
    record = "".join(
        f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}\n"
        for p, d in files.items()
    )
    path = out / f"{package}-{version}-py3-none-any.whl"
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in [*files.items(), (f"{info}/RECORD", (record + f"{info}/RECORD,,\n").encode())]:
            entry = zipfile.ZipInfo(member, (2026, 1, 1, 0, 0, 0))
            entry.external_attr = 0o100644 << 16
            zf.writestr(entry, data, zipfile.ZIP_DEFLATED)
    return path


@dataclass
class InProcessHub:
    app: Any
    hub: Hub
    url: str = "http://hub.test"

    def user(self, name: str, scope: TokenScope = TokenScope.publish) -> str:
        from rlhub.hub.server.services.accounts import create_token, create_user

        with self.hub.db.write() as session:
            return create_token(session, create_user(session, name, "pw-" + name), "test", scope).token

    def client(self, token: str | None = "") -> HubClient:
        return HubClient(self.url, token, transport=httpx.ASGITransport(app=self.app))


@pytest.fixture
def hub_config(tmp_path: Path) -> HubConfig:
    return HubConfig(home=tmp_path / "hub", run_checks=False, session_secret="test-secret")


@pytest.fixture
def inproc(hub_config: HubConfig) -> InProcessHub:
    app = create_app(hub_config, workers=False)
    return InProcessHub(app, app.app.state.hub)


@pytest.fixture
async def acme(inproc: InProcessHub) -> AsyncIterator[HubClient]:
    """A client in-process, logged in as `acme` with a publish token."""
    async with inproc.client(inproc.user("acme")) as client:
        yield client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveHub(InProcessHub):
    def client(self, token: str | None = "") -> HubClient:
        return HubClient(self.url, token)


@pytest.fixture
def live(hub_config: HubConfig) -> Iterator[LiveHub]:
    """`rlhub serve`'s app under a real uvicorn on a free loopback port, in a thread."""
    import uvicorn

    app = create_app(hub_config)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield LiveHub(app, app.app.state.hub, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def target_venv(tmp_path: Path) -> Path:
    """A fresh venv (no pip: rlhub drives it with `pip --python`) that also sees this venv's packages,
    so `rlhub` and its dependencies count as already installed there. Returns its python."""
    venv = tmp_path / "target"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    code = "import site; print(site.getsitepackages()[0])"
    site = subprocess.run([python, "-c", code], capture_output=True, text=True)
    import site as here

    parent = here.getsitepackages()[0]
    Path(site.stdout.strip(), "_parent.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    return python


def installed(python: Path, dist: str) -> str | None:
    """The version of `dist` installed in the target venv's own site-packages (not inherited), or None."""
    code = (
        "import importlib.metadata as m, site\n"
        f"found = [d.version for d in m.distributions(path=site.getsitepackages()) if d.metadata['Name'] == {dist!r}]\n"
        "print(found[0] if found else '')\n"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    return out or None


@dataclass
class EvilIndex:
    """A second PEP 503 index on loopback offering same-named packages with higher versions."""

    url: str
    root: Path

    def offer(self, owner: str, name: str, version: str, requires: tuple[str, ...] = ()) -> Path:
        wheel = write_wheel(self.root / "files", owner, name, version, requires, mark="evil")
        page = self.root / "simple" / f"{owner}-{name}"
        page.mkdir(parents=True, exist_ok=True)
        (page / "index.html").write_text(f'<html><body><a href="/files/{wheel.name}">{wheel.name}</a></body></html>')
        return wheel


@pytest.fixture
def evil_index(tmp_path: Path) -> Iterator[EvilIndex]:
    root = tmp_path / "evil"
    (root / "simple").mkdir(parents=True)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield EvilIndex(f"http://127.0.0.1:{server.server_address[1]}", root)
    finally:
        server.shutdown()
        server.server_close()
