"""Server configuration: where data lives and the limits uploads must respect."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from rlhub.hub.schema import rlhub_home


@dataclass(frozen=True)
class Limits:
    max_upload_bytes: int = 50 * 1024 * 1024
    max_unpacked_bytes: int = 200 * 1024 * 1024
    """Total decompressed size of an archive: the decompression-bomb budget."""
    max_members: int = 10_000
    max_ratio: int = 200
    """Largest compression ratio a zip member may declare (bombs declare thousands)."""
    max_log_bytes: int = 20 * 1024 * 1024
    max_readme_chars: int = 500_000


@dataclass(frozen=True)
class HubConfig:
    home: Path = field(default_factory=lambda: rlhub_home() / "hub")
    database_url: str | None = None
    """SQLAlchemy URL; None means SQLite at `home/hub.db`."""
    limits: Limits = Limits()
    run_checks: bool = True
    """Run `check_env` on uploaded wheels in a background worker."""
    check_tasks: int = 20
    check_timeout_s: float = 300.0
    rescore_timeout_s: float = 300.0
    allow_unsandboxed: bool = False
    """Run uploaded code (checks, re-scoring) as a plain subprocess where bubblewrap is missing. Off by
    default: without a sandbox nothing uploaded runs, versions are "not checked" and results "not
    verified". Only for a hub whose every publisher is trusted."""
    session_secret: str | None = None
    """Signs login cookies; None means a random secret kept in `home/session.key`."""

    @classmethod
    def from_env(cls) -> HubConfig:
        """`RLHUB_DATABASE_URL`, `RLHUB_HOME`, `RLHUB_HUB_CHECKS=0` to skip upload checks, and
        `RLHUB_ALLOW_UNSANDBOXED=1` to run uploaded code without a sandbox."""
        return cls(
            database_url=os.environ.get("RLHUB_DATABASE_URL") or None,
            run_checks=os.environ.get("RLHUB_HUB_CHECKS", "1") != "0",
            allow_unsandboxed=os.environ.get("RLHUB_ALLOW_UNSANDBOXED", "0") == "1",
        )

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'hub.db'}"

    @property
    def blob_dir(self) -> Path:
        return self.home / "blobs"

    @property
    def stamp_path(self) -> Path:
        """Touched on every change that alters the simple index, so every worker drops its cache."""
        return self.home / "index.stamp"


__all__ = ["HubConfig", "Limits", "rlhub_home"]
