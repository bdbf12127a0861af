"""The README's install command in a fresh venv that has only pip: `pip install -r HUB/install/OWNER/NAME`.

rlhub itself comes from the hub; third-party requirements from pip's own index configuration. A hostile
second index on loopback offers a higher `rlhub` and a higher `acme-pkg`, and is configured for pip; the
hub's versions must still be the ones installed (dependency confusion)."""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.hub.server.conftest import HubFixture, LiveHub
from tests.hub.server.test_simple_fidelity import plain_wheel

from rlhub.hub.schema import PEP691_JSON
from rlhub.hub.server.framework import build_wheel

EVIL = "9.9.9"


class HostileIndex:
    """A static PEP 503 index on loopback serving impostors, recording every path asked for."""

    def __init__(self, root: Path):
        self.root = root
        self.paths: list[str] = []
        seen = self.paths

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                seen.append(self.path)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, project: str, package: str) -> None:
        import base64
        import hashlib
        import io
        import zipfile

        dist_info = f"{package}-{EVIL}.dist-info"
        files = {
            f"{package}/__init__.py": b"IMPOSTOR = True\n",
            f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {project}\nVersion: {EVIL}\n".encode(),
            f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: x\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        }
        buffer = io.BytesIO()
        record = []
        with zipfile.ZipFile(buffer, "w") as zf:
            for path, data in files.items():
                zf.writestr(path, data)
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                record.append(f"{path},sha256={digest},{len(data)}")
            zf.writestr(f"{dist_info}/RECORD", "\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n")
        filename = f"{package}-{EVIL}-py3-none-any.whl"
        directory = self.root / "simple" / project
        directory.mkdir(parents=True)
        (directory / filename).write_bytes(buffer.getvalue())
        (directory / "index.html").write_text(
            f'<!DOCTYPE html><html><body><a href="{filename}">{filename}</a></body></html>'
        )

    def asked(self, project: str) -> bool:
        return any(p.startswith(f"/simple/{project}/") for p in self.paths)

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[HostileIndex]:
    index = HostileIndex(tmp_path / "hostile")
    index.add("rlhub", "rlhub")
    index.add("acme-pkg", "acme_pkg")
    yield index
    index.close()


def _pip_extra_index(python: Path, first: str) -> str:
    """`first` plus whatever extra indexes pip is already configured with (machine-local mirrors)."""
    configured = subprocess.run(
        [str(python), "-m", "pip", "config", "get", "global.extra-index-url"],
        capture_output=True,
        text=True,
        check=False,
    )
    return " ".join([first, *(configured.stdout.split() if configured.returncode == 0 else [])])


@pytest.mark.slow
@pytest.mark.parametrize("config", ["sqlite"], indirect=True)  # about pip, not the database: once is enough
def test_fresh_venv_installs_the_hubs_versions_by_the_documented_command(
    live_hub: LiveHub, hostile: HostileIndex, tmp_path: Path
) -> None:
    token = live_hub.fixture.user("acme")
    live_hub.fixture.publish(token, "acme", "pkg", "1.0")  # its env module imports rlhub; requires rlhub>=0.1

    # Control: the naive two-index command takes the impostors (that is the hole being closed).
    control = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--isolated", "--no-deps", "--disable-pip-version-check",
         "--index-url", f"{live_hub.url}/simple/", "--extra-index-url", hostile.url,
         "-d", str(tmp_path / "control"), "rlhub", "acme-pkg"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert control.returncode == 0, control.stderr
    assert sorted(p.name for p in (tmp_path / "control").iterdir()) == [
        f"acme_pkg-{EVIL}-py3-none-any.whl",
        f"rlhub-{EVIL}-py3-none-any.whl",
    ]
    hostile.paths.clear()

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    assert "rlhub" not in subprocess.run([str(python), "-m", "pip", "list"], capture_output=True, text=True).stdout
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(Path.home())}
    env["PIP_EXTRA_INDEX_URL"] = _pip_extra_index(python, hostile.url)

    # The README's command.
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-r", f"{live_hub.url}/install/acme/pkg"],
        capture_output=True, text=True, timeout=900, check=False, env=env,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]

    check = subprocess.run(
        [str(python), "-c",
         "import importlib.metadata as m, rlhub, acme_pkg.env\n"
         "assert not hasattr(rlhub, 'IMPOSTOR')\n"
         "print(m.version('rlhub'), m.version('acme-pkg'), rlhub.__version__)"],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    hub_rlhub = build_wheel()[0].split("-")[1]
    assert check.stdout.split() == [hub_rlhub, "1.0", hub_rlhub]
    # pip consulted the hostile index (for third-party names) but never for the hub's names.
    assert hostile.paths, "the hostile index was not configured for pip"
    assert not hostile.asked("rlhub") and not hostile.asked("acme-pkg"), hostile.paths


def test_install_requirements_pin_every_hub_project_by_url_and_hash(hub: HubFixture) -> None:
    token = hub.user("acme")
    for filename, data, name, version in (
        (*plain_wheel("acme", "base", "0.1.0"), "base", "0.1.0"),
        (*plain_wheel("acme", "base", "0.2.0"), "base", "0.2.0"),
        (*plain_wheel("acme", "top", "1.0", requires=("acme-base<0.2", "rlhub>=0.1", "numpy>=1")), "top", "1.0"),
    ):
        assert hub.upload(token, filename, data, "acme", name, version).status_code == 200
    text = hub.client.get("/install/acme/top").text
    files = {
        f["filename"]: f["hashes"]["sha256"]
        for project in ("acme-base", "acme-top", "rlhub")
        for f in hub.client.get(f"/simple/{project}/", headers={"Accept": PEP691_JSON}).json()["files"]
    }
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    expected = {
        "acme-top": "acme_top-1.0-py3-none-any.whl",
        "acme-base": "acme_base-0.1.0-py3-none-any.whl",
        "rlhub": build_wheel()[0],
    }
    assert len(lines) == 3
    for line in lines:
        name, _, url = line.partition(" @ ")
        sha = files[expected[name]]
        assert url == f"{hub.client.base_url}/files/{sha}/{expected[name]}#sha256={sha}"
    assert "numpy" not in text  # third-party: left to pip's own index configuration
    assert "acme-top==1.0" not in text and hub.client.get("/install/acme/top/1.0").text == text


def test_install_requirements_refuse_what_they_cannot_pin(hub: HubFixture) -> None:
    token = hub.user("acme")
    for filename, data, name in (
        (*plain_wheel("acme", "needs-ghost", requires=("acme-ghost>=1",)), "needs-ghost"),
        (*plain_wheel("acme", "needs-newer", requires=("rlhub>=99",)), "needs-newer"),
    ):
        assert hub.upload(token, filename, data, "acme", name).status_code == 200
    ghost = hub.client.get("/install/acme/needs-ghost")
    assert ghost.status_code == 409 and "namespace of the hub owner acme" in ghost.json()["error"]["message"]
    newer = hub.client.get("/install/acme/needs-newer")
    message = newer.json()["error"]["message"]
    assert newer.status_code == 409 and "needs rlhub>=99" in message and "no pure-Python wheel" in message
    assert hub.client.get("/install/acme/nothing").status_code == 404
    assert hub.client.get("/install/acme/needs-newer/7.0").status_code == 404  # no such version
