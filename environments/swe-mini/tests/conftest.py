"""A package index on loopback for swe-mini's tests: the libraries' pinned sdists (shipped in `sdists/`)
and wheels of pytest and its dependencies repacked from this virtualenv, so the sandbox runtime and the
workspaces are built exactly as from PyPI, with no traffic off the machine."""

from __future__ import annotations

import base64
import hashlib
import html
import http.server
import importlib.metadata
import os
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

SDISTS = Path(__file__).parent / "sdists"
RUNTIME_DISTS = ("pytest", "iniconfig", "packaging", "pluggy", "pygments")


def wheel_of(name: str, dest: Path) -> Path:
    """A wheel of the installed distribution `name` (its files as installed, RECORD hashed afresh)."""
    dist = importlib.metadata.distribution(name)
    wheel_meta = dist.read_text("WHEEL") or ""
    tag = next(line.split(":", 1)[1].strip() for line in wheel_meta.splitlines() if line.startswith("Tag:"))
    stem = dist.metadata["Name"].lower().replace("-", "_")
    path = dest / f"{stem}-{dist.version}-{tag}.whl"
    base = Path(str(dist.locate_file("")))
    rows = []
    with zipfile.ZipFile(path, "w") as archive:
        for file in dist.files or ():
            if "__pycache__" in file.parts or ".." in file.parts:
                continue
            if ".dist-info" in str(file) and file.name in {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}:
                continue
            data = (base / file).read_bytes()
            archive.writestr(str(file), data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            rows.append(f"{file},sha256={digest},{len(data)}")
        record = f"{stem}-{dist.version}.dist-info/RECORD"
        archive.writestr(record, "\n".join([*rows, f"{record},,"]) + "\n")
    return path


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session", autouse=True)
def loopback_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the index, make it the only one pip and swe-mini use, and give the session its own RLHUB_HOME."""
    root = tmp_path_factory.mktemp("index")
    files = root / "files"
    files.mkdir()
    projects: dict[str, list[Path]] = {}
    for name in RUNTIME_DISTS:
        projects.setdefault(name, []).append(wheel_of(name, files))
    for sdist in SDISTS.glob("*.tar.gz"):
        target = files / sdist.name
        target.write_bytes(sdist.read_bytes())
        projects.setdefault(sdist.name.rsplit("-", 1)[0].lower(), []).append(target)
    for project, paths in projects.items():
        links = "".join(
            f'<a href="../../files/{html.escape(p.name)}#sha256={hashlib.sha256(p.read_bytes()).hexdigest()}">'
            f"{html.escape(p.name)}</a>"
            for p in paths
        )
        (root / "simple" / project).mkdir(parents=True)
        (root / "simple" / project / "index.html").write_text(f"<html><body>{links}</body></html>")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: _Quiet(*a, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/simple/"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RLHUB_HOME", str(tmp_path_factory.mktemp("rlhub-home")))
        patch.setenv("PIP_CONFIG_FILE", os.devnull)
        for name in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT", "RLHUB_SWE_MINI_INDEX"):
            patch.delenv(name, raising=False)
        patch.setenv("PIP_INDEX_URL", url)
        yield url
    server.shutdown()
    server.server_close()
