"""`Hub`: the long-lived objects one server process shares (database, blobs, index cache, workers)."""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections import Counter
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from rlhub.hub.server.config import HubConfig
from rlhub.hub.server.coremeta import CoreMetadata
from rlhub.hub.server.db import Database
from rlhub.hub.server.framework import Framework
from rlhub.hub.server.models import IndexState, Project
from rlhub.hub.server.simple import SimpleIndex, touch
from rlhub.hub.server.storage import LocalBlobStore

if TYPE_CHECKING:
    from rlhub.hub.server.services.checks import CheckWorker


class DownloadCounter:
    """Counts downloads in memory and adds them to the database in one write every few seconds,
    so a burst of installs does not become a burst of write transactions."""

    def __init__(self, db: Database):
        self.db = db
        self._pending: Counter[int] = Counter()
        self._lock = threading.Lock()

    def add(self, project_id: int) -> None:
        with self._lock:
            self._pending[project_id] += 1

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, Counter()
        if not pending:
            return
        with self.db.write() as session:
            for project_id, n in pending.items():
                session.execute(update(Project).where(Project.id == project_id).values(downloads=Project.downloads + n))


class Hub:
    def __init__(self, config: HubConfig):
        self.config = config
        config.home.mkdir(parents=True, exist_ok=True)
        self.db = Database(config.url)
        self.store = LocalBlobStore(config.blob_dir)
        self.core_metadata = CoreMetadata(self.store, config.home / "core-metadata")
        self.framework = Framework(self.store, config.home / "framework")
        self.index = SimpleIndex(self.db, config.stamp_path, self.core_metadata, self.framework)
        self.downloads = DownloadCounter(self.db)
        self.session_secret = (config.session_secret or self._session_secret()).encode()
        self.stop_event = threading.Event()
        self._threads: list[threading.Thread] = []
        self.checker: CheckWorker | None = None

    def _session_secret(self) -> str:
        """One secret shared by every worker: written to a temp file and linked into place, so of
        workers starting together exactly one creates it and all read the same complete value."""
        path = self.config.home / "session.key"
        if not path.exists():
            tmp = path.with_name(f".session.key.{os.getpid()}")
            tmp.write_text(secrets.token_hex(32))
            tmp.chmod(0o600)
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
            tmp.unlink()
        return path.read_text().strip()

    def changed(self) -> None:
        """The simple index must be re-rendered (publish, yank, visibility): tell this host's workers
        through the stamp file at once, and other hosts through the database generation."""
        touch(self.config.stamp_path)
        with self.db.write() as session:
            session.execute(update(IndexState).where(IndexState.id == 1).values(generation=IndexState.generation + 1))

    def _poll_generation(self) -> None:
        with self.db.read() as session:
            self.index.generation = session.scalar(select(IndexState.generation).where(IndexState.id == 1)) or 0

    def start(self) -> None:
        thread = threading.Thread(target=self._housekeeping, name="rlhub-housekeeping", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _housekeeping(self) -> None:
        """Every second: pick up index changes made by other hosts; every few: write download counts."""
        ticks = 0
        while not self.stop_event.wait(1.0):
            self._poll_generation()
            ticks += 1
            if ticks % 3 == 0:
                self.downloads.flush()

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self.downloads.flush()
        self.db.dispose()


__all__ = ["DownloadCounter", "Hub"]
