"""The rlhub framework's own wheel, served by the hub next to the environments that need it.

Environments require `rlhub`, which may be on no index a user's pip can reach (and a same-named package
elsewhere must never stand in for it). So the server packs the rlhub it runs into a wheel at startup
and lists it as the project `rlhub` in its simple index. The wheel is built from the installed package
files and its installed METADATA, deterministically (sorted members, fixed timestamps and modes), so
the same source always gives the same bytes. A version, once recorded in `framework/rlhub-V.json`,
keeps its bytes forever: if the source changed without a version bump, the hub keeps serving the
first wheel and warns, rather than giving two users of `rlhub==V` different files.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.metadata
import io
import json
import logging
import os
import zipfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from packaging.version import Version

import rlhub
from rlhub.hub.server.storage import BlobStore

NAME = "rlhub"
_EPOCH = (1980, 1, 1, 0, 0, 0)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
"""PEP 700 `upload-time`: RFC 3339 in UTC."""
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrameworkFile:
    filename: str
    version: str
    sha256: str
    size: int
    requires_python: str | None
    uploaded_at: str
    """`TIME_FORMAT`."""


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel() -> tuple[str, bytes, str | None]:
    """(filename, bytes, Requires-Python) of a `py3-none-any` wheel of the installed rlhub."""
    dist = importlib.metadata.distribution(NAME)
    version = dist.version
    package = Path(rlhub.__file__).parent
    members: dict[str, bytes] = {}
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            members[f"{NAME}/{path.relative_to(package).as_posix()}"] = path.read_bytes()
    dist_info = f"{NAME}-{version}.dist-info"
    metadata = (dist.read_text("METADATA") or "").encode()
    members[f"{dist_info}/METADATA"] = metadata
    members[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: rlhub-hub\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    entry_points = dist.read_text("entry_points.txt")
    if entry_points:
        members[f"{dist_info}/entry_points.txt"] = entry_points.encode()
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in members.items())
    members[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data, compresslevel=6)
    requires_python = dist.metadata["Requires-Python"]
    return f"{NAME}-{version}-py3-none-any.whl", buffer.getvalue(), requires_python


class Framework:
    """The rlhub wheels this hub serves, one manifest per version under `directory`."""

    def __init__(self, store: BlobStore, directory: Path):
        self.store = store
        self.directory = directory
        self._published = False

    def publish(self) -> FrameworkFile:
        """Build the running rlhub's wheel and record it, unless its version is recorded already."""
        filename, data, requires_python = build_wheel()
        version = filename.split("-")[1]
        manifest = self.directory / f"{NAME}-{Version(version)}.json"
        existing = self._read(manifest)
        digest = hashlib.sha256(data).hexdigest()
        if existing is not None:
            if existing.sha256 != digest:
                log.warning(
                    "rlhub %s changed without a version bump; the hub keeps serving the wheel it recorded first "
                    "(sha256 %s). Bump rlhub's version to serve the new code.",
                    version,
                    existing.sha256,
                )
            return existing
        self.store.put(data)
        entry = FrameworkFile(
            filename, version, digest, len(data), requires_python, datetime.now(UTC).strftime(TIME_FORMAT)
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = manifest.with_name(f".{manifest.name}.{os.getpid()}")
        tmp.write_text(json.dumps(asdict(entry)))
        with contextlib.suppress(FileExistsError):
            os.link(tmp, manifest)  # of workers starting together, exactly one records the version
        tmp.unlink()
        return self._read(manifest) or entry

    def files(self) -> list[FrameworkFile]:
        """Every recorded wheel, newest version first; the running rlhub's is recorded on first use."""
        if not self._published:
            self.publish()
            self._published = True
        entries = [e for p in self.directory.glob(f"{NAME}-*.json") if (e := self._read(p)) is not None]
        return sorted(entries, key=lambda e: Version(e.version), reverse=True)

    def find(self, sha256: str, filename: str) -> FrameworkFile | None:
        return next((f for f in self.files() if f.sha256 == sha256 and f.filename == filename), None)

    @staticmethod
    def _read(path: Path) -> FrameworkFile | None:
        try:
            return FrameworkFile(**json.loads(path.read_text()))
        except FileNotFoundError:
            return None


__all__ = ["NAME", "TIME_FORMAT", "Framework", "FrameworkFile", "build_wheel"]
