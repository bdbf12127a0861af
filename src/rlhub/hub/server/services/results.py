"""Evaluation results: a pushed rollout log is re-scored with the published version's own verifier.

The client's rewards are never trusted: in the sandbox, the hub applies the re-score contract
(`rlhub.verify.rescore`, the rules of `rlhub view --rescore`) with the version's own code: same
content hash, every task regenerated, every rollout scored again. A log that breaks a rule is rejected
with the first disagreement as the reason. Only the hub's numbers reach the leaderboard. This process
reads only the log's header (to find the version); the records are parsed once, in the sandbox.

A hub without a sandbox runs no uploaded verifier: the result is kept as "not verified" (the log's
own mean, with the reason) and stays off the leaderboard.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from sqlalchemy import select

from rlhub.core.errors import InvalidId, LogError
from rlhub.core.ids import EnvId
from rlhub.hub.schema import ErrorCode, Leaderboard, LeaderboardEntry, ResultInfo, ResultUpload
from rlhub.hub.server.config import HubConfig
from rlhub.hub.server.db import Database
from rlhub.hub.server.errors import HubError
from rlhub.hub.server.models import Result
from rlhub.hub.server.services.accounts import Principal
from rlhub.hub.server.services.catalog import get_project, get_version
from rlhub.hub.server.services.untrusted import NoSandbox, run_untrusted
from rlhub.hub.server.storage import BlobStore
from rlhub.verify.rescore import RescoreReport


def result_info(result: Result) -> ResultInfo:
    project = result.version.project
    return ResultInfo(
        id=result.id,
        owner=project.owner.name,
        name=project.name,
        version=result.version.version,
        model=result.model,
        score=result.score,
        stderr=result.stderr,
        n=result.n,
        submitter=result.submitter.name,
        created_at=result.created_at,
        verified=result.verified,
        note=result.note,
    )


def submit(db: Database, store: BlobStore, config: HubConfig, principal: Principal, upload: ResultUpload) -> ResultInfo:
    from rlhub.rollout.log import read_header

    if principal.scope.value != "publish":
        raise HubError(ErrorCode.forbidden, "pushing results needs a publish token, not a read-only one")
    data = upload.log.encode()
    if len(data) > config.limits.max_log_bytes:
        raise HubError(ErrorCode.too_large, f"the log is {len(data)} bytes (limit {config.limits.max_log_bytes})")
    with tempfile.TemporaryDirectory(prefix="rlhub-log-") as tmp:
        path = Path(tmp) / "run.jsonl"
        path.write_bytes(data if data.endswith(b"\n") else data + b"\n")
        header = read_header(path)  # the records are read once, by the re-score in the sandbox
        if header is None:
            raise HubError(ErrorCode.invalid, "not a valid rollout log: its first line is no rlhub log header")
        try:
            env = EnvId.parse(header.env)
        except InvalidId as exc:
            raise HubError(ErrorCode.invalid, f"not a valid rollout log: {exc}") from None
        if env.version is None:
            raise HubError(ErrorCode.unknown_version, f"the log names {header.env} without a version")
        with db.read() as session:
            project = get_project(session, env.owner, env.name, principal)
            try:
                version = get_version(project, env.version)
            except HubError:
                raise HubError(
                    ErrorCode.unknown_version, f"{env.base} has no published version {env.version}"
                ) from None
            wheel = next((f for f in version.files if f.filetype == "bdist_wheel"), None)
            project_id, version_id = project.id, version.id
        if wheel is None:
            raise HubError(ErrorCode.unknown_version, f"{env} has no wheel on the hub to re-score with")
        with store.open(wheel.sha256) as blob:
            package = blob.read()
        try:
            outcome = run_untrusted(
                package,
                wheel.filename,
                config,
                "rescore",
                str(path),
                config.rescore_timeout_s,
                RescoreReport,
                extra=(Path(tmp),),
            )
        except NoSandbox as exc:
            return _store_unverified(db, project_id, version_id, principal, upload, path, data, f"not verified: {exc}")
    if outcome.answer is None:
        raise HubError(ErrorCode.invalid, f"the hub could not re-score this log: {outcome.log}")
    report = outcome.answer
    if not report.ok:
        raise HubError(ErrorCode.tampered, f"rejected: {report.reason}")
    with db.write() as session:
        result = Result(
            project_id=project_id,
            version_id=version_id,
            submitter_id=principal.user_id,
            model=(upload.model or header.model)[:200],
            score=report.metrics.mean,
            stderr=report.metrics.stderr,
            n=report.metrics.count,
            log_sha256=hashlib.sha256(data).hexdigest(),
        )
        session.add(result)
        session.flush()
        return result_info(result)


def _store_unverified(
    db: Database,
    project_id: int,
    version_id: int,
    principal: Principal,
    upload: ResultUpload,
    path: Path,
    data: bytes,
    note: str,
) -> ResultInfo:
    """Keep a result the hub could not re-score, with the mean its own records claim."""
    from rlhub.core.metrics import compute_metrics
    from rlhub.rollout.log import read_log

    try:
        log = read_log(path)
    except LogError as exc:
        raise HubError(ErrorCode.invalid, f"not a valid rollout log: {exc}") from None
    if not log.rollouts:
        raise HubError(ErrorCode.invalid, "the log has no rollouts")
    claimed = compute_metrics(log.rollouts)
    with db.write() as session:
        result = Result(
            project_id=project_id,
            version_id=version_id,
            submitter_id=principal.user_id,
            model=(upload.model or log.header.model)[:200],
            score=float(claimed.mean),
            stderr=float(claimed.stderr),
            n=int(claimed.count),
            log_sha256=hashlib.sha256(data).hexdigest(),
            verified=False,
            note=note,
        )
        session.add(result)
        session.flush()
        return result_info(result)


def get_result(db: Database, result_id: int, principal: Principal | None) -> ResultInfo:
    with db.read() as session:
        result = session.get(Result, result_id)
        if result is None:
            raise HubError(ErrorCode.not_found, f"no result {result_id}")
        project = result.version.project
        get_project(session, project.owner.name, project.name, principal)  # visibility
        return result_info(result)


def leaderboard(
    db: Database, owner: str, name: str, principal: Principal | None, version: str | None = None
) -> Leaderboard:
    with db.read() as session:
        project = get_project(session, owner, name, principal)
        query = select(Result).where(Result.project_id == project.id, Result.verified.is_(True))
        if version is not None:
            query = query.where(Result.version_id == get_version(project, version).id)
        rows = sorted(session.scalars(query), key=lambda r: (-r.score, r.created_at))
        entries = tuple(LeaderboardEntry(rank=i + 1, result=result_info(r)) for i, r in enumerate(rows))
    return Leaderboard(owner=owner, name=name, version=version, entries=entries)


__all__ = ["get_result", "leaderboard", "result_info", "submit"]
