"""Publishing one file: every check first, then the blob, then one database transaction.

Order matters for crash safety: the blob is written (atomically, content-addressed) before the
transaction that makes it visible, so a crash leaves at worst an unreferenced blob, never a version
row pointing at nothing. Uniqueness (one file per filename, one version per canonical version, one
project per name and per confusable skeleton) is the database's job: of two racing publishes exactly
one commits and the other gets a 409 that says what already exists.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    canonicalize_version,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from rlhub.core.errors import InvalidId
from rlhub.core.ids import EnvId
from rlhub.hub.schema import FILES_PATH, CheckStatus, ErrorCode, UploadResponse
from rlhub.hub.server.archive import Metadata, TooLarge, UnsafeArchive, inspect
from rlhub.hub.server.config import Limits
from rlhub.hub.server.db import Database
from rlhub.hub.server.errors import HubError
from rlhub.hub.server.models import File, FileTag, Owner, Project, utcnow
from rlhub.hub.server.models import Version as VersionRow
from rlhub.hub.server.names import normalize, skeleton, split_distribution
from rlhub.hub.server.services.accounts import Principal
from rlhub.hub.server.services.catalog import version_sort_key
from rlhub.hub.server.storage import BlobStore

FILETYPES = ("bdist_wheel", "sdist")
SDIST_TAG = "sdist"
"""The identity of a source distribution: one per version, whatever its name or extension."""


@dataclass(frozen=True)
class Upload:
    """The fields of a PyPI-protocol upload form that the hub uses."""

    name: str
    version: str
    filetype: str
    filename: str
    content: bytes
    sha256_digest: str | None = None
    private: bool = False


def _parse_version(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        raise HubError(ErrorCode.bad_metadata, f"{text!r} is not a valid version (PEP 440)") from None


def check_filename(upload: Upload, normalized: str, version: Version) -> frozenset[str]:
    """Check the filename names this project and version; returns the install identity it claims within
    the version: its wheel tags (`py3-none-any`, ...) or `sdist`. The build tag is not part of it, so a
    rebuilt wheel cannot replace what `name==version` installs."""
    try:
        if upload.filetype == "bdist_wheel":
            if not upload.filename.endswith(".whl"):
                raise InvalidWheelFilename(upload.filename)
            file_name, file_version, _build, tags = parse_wheel_filename(upload.filename)
            identity = frozenset(str(tag) for tag in tags)
        else:
            file_name, file_version = parse_sdist_filename(upload.filename)
            identity = frozenset({SDIST_TAG})
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        raise HubError(ErrorCode.invalid, f"{upload.filename!r} is not a valid {upload.filetype} filename") from None
    if canonicalize_name(file_name) != normalized or file_version != version:
        raise HubError(ErrorCode.invalid, f"{upload.filename!r} does not belong to {normalized} {version}")
    return identity


def _fits(what: str, value: str | None, column: InstrumentedAttribute[Any], code: ErrorCode) -> None:
    """A value longer than its column is refused here (PostgreSQL would fail the insert; SQLite would
    store it whole), with the column's own limit."""
    limit = column.property.columns[0].type.length
    if value is not None and len(value) > limit:
        raise HubError(code, f"{what} is {len(value)} characters long (limit {limit})")


def _check_dist_info(directory: str, normalized: str, version: Version) -> None:
    """Installers refuse a wheel whose `.dist-info` names another project or version; so does the hub."""
    name, _, text = directory.removesuffix(".dist-info").rpartition("-")
    try:
        matches = canonicalize_name(name) == normalized and Version(text) == version
    except InvalidVersion:
        matches = False
    if not matches:
        raise HubError(
            ErrorCode.bad_metadata,
            f"the wheel's {directory} does not name {normalized} {version} (<name>-<version>.dist-info)",
        )


def env_ids(metadata: Metadata) -> list[str]:
    """`owner/name` ids named by the wheel's `rlhub.environments` entry points (keys are distributions)."""
    out = []
    for key in metadata.entry_points:
        try:
            out.append(split_distribution(key).base)
        except InvalidId:
            continue
    return sorted(set(out))


@dataclass(frozen=True)
class Checked:
    """An upload that passed every check that needs no database."""

    env: EnvId
    version: Version
    identity: frozenset[str]
    """Wheel tags or `sdist`: unique within a version."""
    metadata: Metadata
    sha256: str


def validate(upload: Upload, limits: Limits) -> Checked:
    """Every check that needs no database."""
    if upload.filetype not in FILETYPES:
        raise HubError(
            ErrorCode.invalid, f"filetype {upload.filetype!r} not accepted; expected one of {', '.join(FILETYPES)}"
        )
    if len(upload.content) > limits.max_upload_bytes:
        raise HubError(
            ErrorCode.too_large, f"{upload.filename} is {len(upload.content)} bytes (limit {limits.max_upload_bytes})"
        )
    try:
        env = split_distribution(upload.name)
    except InvalidId as exc:
        raise HubError(ErrorCode.bad_name, str(exc)) from None
    _fits("the project name", env.name, Project.name, ErrorCode.bad_name)
    version = _parse_version(upload.version)
    _fits("the version", str(version), VersionRow.version, ErrorCode.bad_metadata)
    _fits("the filename", upload.filename, File.filename, ErrorCode.invalid)
    identity = check_filename(upload, env.distribution, version)
    digest = hashlib.sha256(upload.content).hexdigest()
    if upload.sha256_digest and upload.sha256_digest.lower() != digest:
        raise HubError(ErrorCode.invalid, f"sha256_digest does not match the uploaded content (got {digest})")
    try:
        metadata = inspect(upload.filename, upload.content, limits)
    except UnsafeArchive as exc:
        raise HubError(ErrorCode.unsafe_archive, f"{upload.filename}: {exc}") from None
    except TooLarge as exc:
        raise HubError(ErrorCode.too_large, f"{upload.filename}: {exc}") from None
    if normalize(metadata.name) != env.distribution:
        raise HubError(ErrorCode.bad_metadata, f"metadata names {metadata.name!r}, the upload says {upload.name!r}")
    if _parse_version(metadata.version) != version:
        raise HubError(ErrorCode.bad_metadata, f"metadata version {metadata.version!r} differs from {upload.version!r}")
    if upload.filetype == "bdist_wheel":
        _check_dist_info(metadata.dist_info, env.distribution, version)
    _fits("Requires-Python", metadata.requires_python, VersionRow.requires_python, ErrorCode.bad_metadata)
    _fits(
        "Description-Content-Type",
        metadata.description_content_type,
        VersionRow.readme_content_type,
        ErrorCode.bad_metadata,
    )
    return Checked(env, version, identity, metadata, digest)


def publish(db: Database, store: BlobStore, principal: Principal, upload: Upload, limits: Limits) -> UploadResponse:
    checked = validate(upload, limits)
    principal.require_publish(checked.env.owner)
    store.put(upload.content)
    for attempt in range(3):
        try:
            with db.write() as session:
                return _record(session, checked, upload, limits)
        except IntegrityError:
            if attempt == 2:
                raise HubError(ErrorCode.conflict, f"{upload.filename} lost a concurrent publish; try again") from None
    raise AssertionError("unreachable")


def _record(session: Session, checked: Checked, upload: Upload, limits: Limits) -> UploadResponse:
    env, version, metadata, digest = checked.env, checked.version, checked.metadata, checked.sha256
    # One query by skeleton finds both this project and any look-alike (a name's skeleton is fixed).
    project = session.scalar(select(Project).where(Project.skeleton == skeleton(env.distribution)))
    if project is not None and project.normalized != env.distribution:
        raise HubError(
            ErrorCode.confusable_name, f"{env.distribution!r} is too similar to the existing {project.normalized!r}"
        )
    if project is None:
        project = _new_project(session, env, upload.private)
    existing = session.scalar(select(File).where(File.filename == upload.filename))
    if existing is not None:
        same = "with identical content" if existing.sha256 == digest else "with different content"
        raise HubError(
            ErrorCode.conflict,
            f"{upload.filename} already exists {same}; published files never change (bump the version)",
        )
    canonical = canonicalize_version(version)
    row = session.scalar(
        select(VersionRow).where(VersionRow.project_id == project.id, VersionRow.canonical == canonical)
    )
    new_version = row is None
    if row is None:
        row = VersionRow(
            project_id=project.id,
            version=str(version),
            canonical=canonical,
            summary=metadata.summary[:512],
            license=(metadata.license or None) and metadata.license[:512],
            requires_dist=list(metadata.requires_dist),
            requires_python=metadata.requires_python,
            tags=list(metadata.keywords),
            env_ids=env_ids(metadata),
            readme=metadata.description[: limits.max_readme_chars],
            readme_content_type=metadata.description_content_type,
            check_status=CheckStatus.pending.value,
        )
        session.add(row)
        session.flush()
    else:
        _refuse_same_install(session, row, checked.identity, upload.filename)
        if not row.env_ids and metadata.entry_points:
            row.env_ids = env_ids(metadata)  # an sdist came first; the wheel adds what only it knows
    file = File(
        version_id=row.id,
        filename=upload.filename,
        filetype=upload.filetype,
        sha256=digest,
        size=len(upload.content),
        requires_python=metadata.requires_python,
    )
    session.add(file)
    session.flush()
    session.add_all(FileTag(version_id=row.id, tag=tag, file_id=file.id) for tag in sorted(checked.identity))
    project.updated_at = utcnow()
    session.flush()
    live = session.scalars(select(VersionRow).where(VersionRow.project_id == project.id, VersionRow.yanked.is_(False)))
    project.search_text = search_text(env, max(live, key=version_sort_key, default=row))
    return UploadResponse(
        owner=env.owner,
        name=env.name,
        version=row.version,
        filename=upload.filename,
        sha256=digest,
        size=len(upload.content),
        url=f"{FILES_PATH}{digest}/{upload.filename}",
        new_version=new_version,
        check=CheckStatus(row.check_status),
    )


def _refuse_same_install(session: Session, version: VersionRow, identity: frozenset[str], filename: str) -> None:
    """409 when a file of this version already answers one of `identity`'s tags (the database's key
    on (version, tag) is what holds under a race; this names the file that is in the way)."""
    taken = session.execute(
        select(File.filename, FileTag.tag)
        .join(FileTag, FileTag.file_id == File.id)
        .where(FileTag.version_id == version.id, FileTag.tag.in_(identity))
        .order_by(FileTag.tag)
    ).first()
    if taken is not None:
        what = "the sdist" if taken.tag == SDIST_TAG else f"the wheel for {taken.tag}"
        raise HubError(
            ErrorCode.conflict,
            f"{filename} would be a second file for {version.project.normalized} {version.version}: "
            f"{taken.filename} is already {what}; published files never change (bump the version)",
        )


def _new_project(session: Session, env: EnvId, private: bool) -> Project:
    owner = session.scalar(select(Owner).where(Owner.name == env.owner))
    if owner is None:
        raise HubError(ErrorCode.forbidden, f"no user or organisation {env.owner!r} exists to own {env.distribution}")
    project = Project(
        owner_id=owner.id,
        name=env.name,
        normalized=env.distribution,
        skeleton=skeleton(env.distribution),
        private=private,
    )
    session.add(project)
    session.flush()
    return project


def search_text(env: EnvId, version: VersionRow) -> str:
    parts = [env.owner, env.name, env.base, version.summary, " ".join(version.tags), version.readme[:20_000]]
    return "\n".join(parts).lower()


__all__ = [
    "FILETYPES",
    "SDIST_TAG",
    "Checked",
    "Upload",
    "check_filename",
    "env_ids",
    "publish",
    "search_text",
    "validate",
]
