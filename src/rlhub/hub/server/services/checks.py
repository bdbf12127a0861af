"""The background check: `check_env` on every new version's wheel, result stored on the version.

A `CheckWorker` thread runs in each server process. It claims one pending version at a time with a
conditional UPDATE (pending -> running), so several worker processes never check the same version,
and wakes up when its own process publishes or, at the latest, every few seconds.

Without a sandbox (and without the operator's `allow_unsandboxed`) no uploaded code runs: versions
are recorded as `not_checked` with the reason, and queued again when a server starts with a sandbox.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlalchemy import select, update

from rlhub.hub.schema import CheckStatus
from rlhub.hub.server.config import HubConfig
from rlhub.hub.server.db import Database
from rlhub.hub.server.models import File, Version, utcnow
from rlhub.hub.server.runner import CheckAnswer
from rlhub.hub.server.services.untrusted import NoSandbox, no_sandbox_reason, run_untrusted
from rlhub.hub.server.storage import BlobStore

log = logging.getLogger(__name__)


def claim(db: Database) -> tuple[int, str, str] | None:
    """Take the oldest pending version that has a wheel; returns (version id, wheel sha256, filename)."""
    with db.write() as session:
        row = session.execute(
            select(Version.id, File.sha256, File.filename)
            .join(File, File.version_id == Version.id)
            .where(Version.check_status == CheckStatus.pending.value, File.filetype == "bdist_wheel")
            .order_by(Version.id)
            .limit(1)
        ).first()
        if row is None:
            return None
        taken = session.execute(
            update(Version)
            .where(Version.id == row[0], Version.check_status == CheckStatus.pending.value)
            .values(check_status=CheckStatus.running.value)
        )
        return (row[0], row[1], row[2]) if taken.rowcount else None  # type: ignore[attr-defined]


def run_check(
    config: HubConfig, store: BlobStore, sha256: str, filename: str
) -> tuple[CheckStatus, list[dict[str, object]], str]:
    with store.open(sha256) as blob:
        wheel = blob.read()
    try:
        result = run_untrusted(
            wheel, filename, config, "check", str(config.check_tasks), config.check_timeout_s, CheckAnswer
        )
    except NoSandbox as exc:
        return CheckStatus.not_checked, [], f"not checked: {exc}"
    where = (
        "in the bubblewrap sandbox"
        if result.sandboxed
        else "WITHOUT a sandbox (bubblewrap not found; the operator allowed unsandboxed runs)"
    )
    if result.answer is None:
        return CheckStatus.error, [], f"the check could not run ({where}): {result.log}"
    answer = result.answer
    if answer.error:
        return CheckStatus.failed, [], f"{answer.error} (ran {where})"
    results: list[dict[str, object]] = []
    lines = [f"ran {where}"]
    for report in answer.reports:
        for item in report.results:
            name = f"{report.env}: {item.name}" if len(answer.reports) > 1 else item.name
            results.append({**item.model_dump(mode="json"), "name": name})
            lines.append(
                f"{'✔' if item.ok else '✘'} {report.env}: {item.name}" + (f" — {item.detail}" if item.detail else "")
            )
    ok = bool(results) and all(bool(r["ok"]) for r in results)
    return (CheckStatus.passed if ok else CheckStatus.failed), results, "\n".join(lines)


def record(
    db: Database,
    version_id: int,
    status: CheckStatus,
    results: list[dict[str, object]],
    report: str,
    when: datetime | None = None,
) -> None:
    with db.write() as session:
        session.execute(
            update(Version)
            .where(Version.id == version_id)
            .values(
                check_status=status.value,
                check_results=results,
                check_report=report,
                check_finished_at=when or utcnow(),
            )
        )


def requeue_not_checked(db: Database) -> int:
    """Versions left unchecked for want of a sandbox become pending again; returns how many."""
    with db.write() as session:
        done = session.execute(
            update(Version)
            .where(Version.check_status == CheckStatus.not_checked.value)
            .values(check_status=CheckStatus.pending.value)
        )
        return int(done.rowcount)  # type: ignore[attr-defined]


def reset_running(db: Database) -> None:
    """After a crash or restart, checks left running are pending again."""
    with db.write() as session:
        session.execute(
            update(Version)
            .where(Version.check_status == CheckStatus.running.value)
            .values(check_status=CheckStatus.pending.value)
        )


class CheckWorker:
    def __init__(self, config: HubConfig, db: Database, store: BlobStore, stop: threading.Event):
        self.config = config
        self.db = db
        self.store = store
        self.stop = stop
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="rlhub-checks", daemon=True)

    def start(self) -> None:
        if self.config.allow_unsandboxed or not no_sandbox_reason():
            requeue_not_checked(self.db)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stop.is_set():
            if not self.step():
                self.wake.wait(5.0)
                self.wake.clear()

    def step(self) -> bool:
        """Check one pending version; False when there was none."""
        job = claim(self.db)
        if job is None:
            return False
        version_id, sha256, filename = job
        try:
            status, results, report = run_check(self.config, self.store, sha256, filename)
        except Exception as exc:
            log.exception("check of version %s failed", version_id)
            status, results, report = CheckStatus.error, [], f"internal error: {type(exc).__name__}: {exc}"
        record(self.db, version_id, status, results, report)
        return True


__all__ = ["CheckWorker", "claim", "record", "requeue_not_checked", "reset_running", "run_check"]
