"""Database tables. Uniqueness the hub promises is enforced here, not in Python: one owner per name,
one project per normalised name *and per confusable skeleton*, one version per canonical version
string, one file per filename and one file per install identity (wheel tag or `sdist`) within a
version — so of two concurrent publishes exactly one commit succeeds.

Timestamps are `UTCDateTime`: stored in UTC and always read back timezone-aware (SQLite keeps no
offset), so every API answer carries RFC 3339 times with `Z`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime in, an aware UTC datetime out, on every backend (naive values are UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Owner(Base):
    """A user or an organisation: the namespace environments are published under."""

    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(39), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # "user" | "org"
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Membership(Base):
    __tablename__ = "memberships"
    org_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), primary_key=True)


class Token(Base):
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(16))
    owners: Mapped[list[str]] = mapped_column(JSON, default=list)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[Owner] = relationship()


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    normalized: Mapped[str] = mapped_column(String(110), unique=True)
    skeleton: Mapped[str] = mapped_column(String(110), unique=True)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    stars: Mapped[int] = mapped_column(Integer, default=0)
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    owner: Mapped[Owner] = relationship()
    versions: Mapped[list[Version]] = relationship(back_populates="project", order_by="Version.id")


class Version(Base):
    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("project_id", "canonical"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    canonical: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(String(512), default="")
    license: Mapped[str | None] = mapped_column(String(512))
    requires_dist: Mapped[list[str]] = mapped_column(JSON, default=list)
    requires_python: Mapped[str | None] = mapped_column(String(128))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    env_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    readme: Mapped[str] = mapped_column(Text, default="")
    readme_content_type: Mapped[str] = mapped_column(String(128), default="text/markdown")
    yanked: Mapped[bool] = mapped_column(Boolean, default=False)
    yanked_reason: Mapped[str] = mapped_column(String(512), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    check_status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    check_report: Mapped[str] = mapped_column(Text, default="")
    check_results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    check_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    project: Mapped[Project] = relationship(back_populates="versions")
    files: Mapped[list[File]] = relationship(back_populates="version", order_by="File.id")


class File(Base):
    __tablename__ = "files"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255), unique=True)
    filetype: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    requires_python: Mapped[str | None] = mapped_column(String(128))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[Version] = relationship(back_populates="files")


class FileTag(Base):
    """What a file answers to within its version: each wheel tag (`py3-none-any`) or `sdist`. The key
    (version, tag) makes a second file for the same install impossible, however its name is spelled."""

    __tablename__ = "file_tags"
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(255), primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"), index=True)


class Star(Base):
    __tablename__ = "stars"
    user_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)


class Result(Base):
    __tablename__ = "results"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    submitter_id: Mapped[int] = mapped_column(ForeignKey("owners.id"))
    model: Mapped[str] = mapped_column(String(200))
    score: Mapped[float] = mapped_column(Float)
    stderr: Mapped[float] = mapped_column(Float)
    n: Mapped[int] = mapped_column(Integer)
    log_sha256: Mapped[str] = mapped_column(String(64))
    verified: Mapped[bool] = mapped_column(Boolean, default=True)
    """False when the hub could not re-score the log (no sandbox): `score` is then what the log claims."""
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[Version] = relationship()
    submitter: Mapped[Owner] = relationship()


class IndexState(Base):
    """One row: a counter bumped on every change to the simple index, so hosts sharing this database
    (each with its own in-memory index cache) notice changes made elsewhere."""

    __tablename__ = "index_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger)


__all__ = [
    "Base",
    "File",
    "FileTag",
    "IndexState",
    "Membership",
    "Owner",
    "Project",
    "Result",
    "Star",
    "Token",
    "UTCDateTime",
    "Version",
    "utcnow",
]
