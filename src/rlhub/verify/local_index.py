"""A package index on loopback, for tests that build runtimes or fetch sdists without the internet.

    wheels = wheelhouse(["pytest"], tmp / "wheels")  # repacked from what this virtualenv has installed
    with LocalIndex(wheels, Path("tests/sdists")) as url:
        env = pip_environment(url)  # set these (None: unset): pip looks at `url` only
        ...  # Runtime(["pytest"]).build() resolves from loopback

`LocalIndex` serves PEP 503 pages with `#sha256=` fragments, so pip resolves, downloads and hash-checks
exactly as it would from PyPI; `repack` rebuilds a wheel from an installed distribution's files (RECORD
hashed afresh). Standard library and `packaging` only, so an environment package's tests can use it.
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
from pathlib import Path
from types import TracebackType

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

_NOT_REPACKED = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}  # written by the installer, not the wheel


def repack(name: str, dest: Path) -> Path:
    """A wheel of the installed distribution `name`, written to `dest`; returns its path."""
    dist = importlib.metadata.distribution(name)
    tag = next(
        line.split(":", 1)[1].strip()
        for line in (dist.read_text("WHEEL") or "").splitlines()
        if line.startswith("Tag:")
    )
    project = canonicalize_name(dist.metadata["Name"]).replace("-", "_")
    wheel = dest / f"{project}-{dist.version}-{tag}.whl"
    root = Path(str(dist.locate_file("")))
    info = next(str(f.parent) for f in dist.files or () if f.name == "METADATA")
    record = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as archive:
        for file in dist.files or ():
            if (
                ".." in file.parts
                or "__pycache__" in file.parts
                or (str(file.parent) == info and file.name in _NOT_REPACKED)
            ):
                continue
            data = (root / file).read_bytes()
            archive.writestr(str(file), data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{file},sha256={digest},{len(data)}")
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


def wheelhouse(names: list[str], dest: Path) -> Path:
    """`dest` (created), holding wheels repacked from the installed `names` and everything they need."""
    dest.mkdir(parents=True)
    for name in sorted(closure(names)):
        repack(name, dest)
    return dest


def pip_environment(url: str) -> dict[str, str | None]:
    """Environment variables (None: unset) that make `url` the one place pip looks: no config file,
    no find-links, no extra index, no constraints."""
    return {
        "PIP_INDEX_URL": url,
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_FIND_LINKS": None,
        "PIP_EXTRA_INDEX_URL": None,
        "PIP_CONSTRAINT": None,
    }


def _project(filename: str) -> str:
    if filename.endswith(".whl"):
        return parse_wheel_filename(filename)[0]
    if filename.endswith((".tar.gz", ".zip")):
        return parse_sdist_filename(filename)[0]
    raise ValueError(f"{filename} is neither a wheel nor an sdist (.tar.gz, .zip)")


class _Server(http.server.ThreadingHTTPServer):
    pages: dict[str, bytes]  # "/simple/<project>/" -> HTML
    files: dict[str, Path]  # "/files/<filename>" -> path on disk


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path.startswith("/simple/") and not path.endswith("/"):
            path += "/"
        if path.startswith("/simple/") and path != "/simple/":
            path = f"/simple/{canonicalize_name(path.removeprefix('/simple/').rstrip('/'))}/"
        if path in self.server.pages:
            body, kind = self.server.pages[path], "text/html; charset=utf-8"
        elif path in self.server.files:
            body, kind = self.server.files[path].read_bytes(), "application/octet-stream"
        else:
            self.send_error(404, f"not on this index: {path}")
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class LocalIndex:
    """Serve the wheels and sdists in `dirs` as a PEP 503 simple index on 127.0.0.1 (a free port);
    entering yields the index URL (`http://127.0.0.1:<port>/simple/`). Files are listed and hashed on
    entry; a file that is neither a wheel nor an sdist, or a filename found twice, is an error."""

    def __init__(self, *dirs: Path):
        self.dirs = dirs
        self._server: _Server | None = None

    def __enter__(self) -> str:
        files: dict[str, Path] = {}
        links: dict[str, list[str]] = {}
        for directory in self.dirs:
            for path in sorted(p for p in directory.iterdir() if p.is_file()):
                if f"/files/{path.name}" in files:
                    raise ValueError(f"{path.name} is in more than one of {[str(d) for d in self.dirs]}")
                files[f"/files/{path.name}"] = path
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                name = html.escape(path.name)
                links.setdefault(_project(path.name), []).append(
                    f'<a href="../../files/{name}#sha256={digest}">{name}</a>'
                )
        page = "<!DOCTYPE html><html><body>{}</body></html>"
        pages = {f"/simple/{p}/": page.format("\n".join(a)).encode() for p, a in links.items()}
        pages["/simple/"] = page.format("\n".join(f'<a href="{p}/">{p}</a>' for p in sorted(links))).encode()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.pages, server.files = pages, files
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server
        return f"http://127.0.0.1:{server.server_address[1]}/simple/"

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
