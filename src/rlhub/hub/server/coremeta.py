"""PEP 658/714 core metadata: a wheel's METADATA, served beside it as `FILE.metadata`.

pip and uv read it to resolve dependencies without downloading whole wheels. It is extracted from the
stored wheel the first time it is needed and cached on disk under the wheel's own sha256: a published
wheel never changes, so its cached metadata can never go stale. The metadata's own sha256 is what the
index advertises (`data-core-metadata`, `core-metadata`), and clients check it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import zipfile
from pathlib import Path

from rlhub.hub.server.storage import BlobStore

MAX_METADATA_BYTES = 16 * 1024 * 1024
"""METADATA holds the README, so it may be large; anything beyond this is not served as metadata."""


def read_wheel_metadata(path: Path) -> bytes | None:
    """The METADATA of the wheel's one top-level `.dist-info` directory, or None if it has not exactly one."""
    with zipfile.ZipFile(path) as zf:
        names = [
            info
            for info in zf.infolist()
            if info.filename.count("/") == 1 and info.filename.endswith(".dist-info/METADATA")
        ]
        if len(names) != 1 or names[0].file_size > MAX_METADATA_BYTES:
            return None
        return zf.read(names[0])


class CoreMetadata:
    def __init__(self, store: BlobStore, cache_dir: Path):
        self.store = store
        self.cache_dir = cache_dir
        self._digests: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def get(self, wheel_sha256: str) -> bytes | None:
        """The METADATA bytes of the stored wheel `wheel_sha256`; None when it has none to serve."""
        cached = self.cache_dir / f"{wheel_sha256}.metadata"
        missing = self.cache_dir / f"{wheel_sha256}.none"
        if cached.exists():
            return cached.read_bytes()
        if missing.exists():
            return None
        path = self.store.path(wheel_sha256)
        if path is None:
            return None
        try:
            data = read_wheel_metadata(path)
        except (zipfile.BadZipFile, OSError):
            data = None
        self._write(missing if data is None else cached, data or b"")
        return data

    def digest(self, wheel_sha256: str) -> str | None:
        """sha256 of the wheel's METADATA (what the index advertises), memoised per process."""
        with self._lock:
            if wheel_sha256 in self._digests:
                return self._digests[wheel_sha256]
        data = self.get(wheel_sha256)
        digest = None if data is None else hashlib.sha256(data).hexdigest()
        with self._lock:
            self._digests[wheel_sha256] = digest
        return digest

    def _write(self, target: Path, data: bytes) -> None:
        """Atomic, so concurrent workers extracting the same wheel never see a partial file."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.cache_dir, prefix=".tmp-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)


__all__ = ["MAX_METADATA_BYTES", "CoreMetadata", "read_wheel_metadata"]
