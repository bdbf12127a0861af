"""Content-addressed blob storage. A blob's key is its sha256; writing one is atomic (temp file then
rename), so a crash never leaves a partial blob under a real key, and writing twice is harmless."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol


class BlobStore(Protocol):
    def put(self, data: bytes) -> str:
        """Store `data`; returns its sha256 hex digest."""
        ...

    def path(self, sha256: str) -> Path | None:
        """A local file holding the blob, or None when absent."""
        ...

    def open(self, sha256: str) -> BinaryIO: ...


class LocalBlobStore:
    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self._path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def path(self, sha256: str) -> Path | None:
        target = self._path(sha256)
        return target if target.exists() else None

    def open(self, sha256: str) -> BinaryIO:
        return self._path(sha256).open("rb")


__all__ = ["BlobStore", "LocalBlobStore"]
