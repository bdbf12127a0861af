"""Inspect uploaded wheels and sdists without trusting them.

Members are walked one by one: names must be relative, free of `..`, backslashes and drive letters;
links, devices and other special members are refused; decompressed bytes are counted against a budget
while streaming (declared sizes can lie), so a decompression bomb stops at the budget rather than
filling memory or disk. Nothing is ever extracted by `tarfile`/`zipfile` helpers.
"""

from __future__ import annotations

import dataclasses
import gzip
import importlib.metadata
import io
import os
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from packaging.metadata import parse_email

from rlhub.core.registry import ENTRY_POINT_GROUP
from rlhub.hub.server.config import Limits
from rlhub.hub.server.record import BadRecord, Member, member, verify_record

_META_LIMIT = 2 * 1024 * 1024


class UnsafeArchive(ValueError):
    """The archive breaks a safety rule; the message names the member and the rule."""


class TooLarge(ValueError):
    pass


@dataclass(frozen=True)
class Metadata:
    name: str
    version: str
    summary: str = ""
    license: str | None = None
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    keywords: tuple[str, ...] = ()
    description: str = ""
    description_content_type: str = "text/markdown"
    entry_points: dict[str, str] = field(default_factory=dict)
    """`rlhub.environments` entry points (wheels only): name -> target."""
    dist_info: str = ""
    """The wheel's `{name}-{version}.dist-info` directory (wheels only)."""


def check_member_name(name: str) -> None:
    if not name or "\x00" in name:
        raise UnsafeArchive(f"member with an empty or NUL-containing name: {name!r}")
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchive(f"member {name!r} has an absolute or Windows path")
    if ".." in PurePosixPath(name).parts:
        raise UnsafeArchive(f"member {name!r} escapes the archive (path traversal)")


class _Budget:
    """Counts decompressed bytes across all members."""

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0

    def take(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise TooLarge(f"archive decompresses to more than {self.limit} bytes (decompression bomb?)")


class _CountingReader(io.RawIOBase):
    """A readable stream that charges every byte it yields to a budget."""

    def __init__(self, inner: io.BufferedIOBase | gzip.GzipFile, budget: _Budget):
        self.inner = inner
        self.budget = budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        self.budget.take(len(data))
        buffer[: len(data)] = data
        return len(data)


def walk_zip(data: bytes, limits: Limits) -> Iterator[tuple[str, bytes]]:
    """Yield (name, content) of every regular file after checking the whole listing."""
    budget = _Budget(limits.max_unpacked_bytes)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise UnsafeArchive(f"not a valid zip archive: {exc}") from None
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise TooLarge(f"archive has {len(infos)} members (limit {limits.max_members})")
    seen: set[str] = set()
    declared = 0
    for info in infos:
        check_member_name(info.filename)
        kind = stat.S_IFMT(info.external_attr >> 16)  # 0: no Unix type recorded, a plain file
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise UnsafeArchive(f"member {info.filename!r} is a link or special file")
        if info.filename in seen:
            raise UnsafeArchive(f"member {info.filename!r} appears twice")
        seen.add(info.filename)
        if info.file_size > 1024 * 1024 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise TooLarge(f"member {info.filename!r} has a compression ratio over {limits.max_ratio} (bomb?)")
        declared += info.file_size
    if declared > limits.max_unpacked_bytes:
        raise TooLarge(f"archive declares {declared} unpacked bytes (limit {limits.max_unpacked_bytes})")
    for info in infos:
        if info.is_dir():
            continue
        with zf.open(info) as member:
            content = member.read(limits.max_unpacked_bytes - budget.used + 1)
        budget.take(len(content))
        yield info.filename, content


def walk_tar_gz(data: bytes, limits: Limits) -> Iterator[tuple[str, bytes]]:
    """Stream a .tar.gz, refusing links and special members, with a decompressed-byte budget."""
    budget = _Budget(limits.max_unpacked_bytes)
    raw = _CountingReader(gzip.GzipFile(fileobj=io.BytesIO(data)), budget)
    count = 0
    try:
        with tarfile.open(fileobj=io.BufferedReader(raw), mode="r|") as tar:
            for member in tar:
                count += 1
                if count > limits.max_members:
                    raise TooLarge(f"archive has more than {limits.max_members} members")
                check_member_name(member.name)
                if member.isdir():
                    continue
                if not member.isreg():
                    raise UnsafeArchive(f"member {member.name!r} is a link or special file (type {member.type!r})")
                extracted = tar.extractfile(member)
                yield member.name, extracted.read() if extracted else b""
    except (tarfile.TarError, gzip.BadGzipFile, EOFError, OSError) as exc:
        raise UnsafeArchive(f"not a valid .tar.gz archive: {exc}") from None


def walk(filename: str, data: bytes, limits: Limits) -> Iterator[tuple[str, bytes]]:
    if filename.endswith((".whl", ".zip")):
        return walk_zip(data, limits)
    if filename.endswith(".tar.gz"):
        return walk_tar_gz(data, limits)
    raise UnsafeArchive(f"{filename}: only .whl, .tar.gz and .zip files are accepted")


def inspect(filename: str, data: bytes, limits: Limits) -> Metadata:
    """Check every member and return the package metadata (METADATA for wheels, PKG-INFO for sdists).
    A wheel must have one `.dist-info` directory whose RECORD matches every file (`record.py`)."""
    wheel = filename.endswith(".whl")
    metadata: bytes | None = None
    entry_points: bytes | None = None
    record: bytes | None = None
    members: dict[str, Member] = {}
    dist_infos: set[str] = set()
    for name, content in walk(filename, data, limits):
        parts = PurePosixPath(name).parts
        if wheel:
            key = str(PurePosixPath(name))
            if key in members:  # `a//b` and `a/b` would unpack to one file with two contents
                raise UnsafeArchive(f"member {name!r} appears twice (as {key!r})")
            members[key] = member(content)
            if parts[0].endswith(".dist-info"):
                dist_infos.add(parts[0])
        if wheel and len(parts) == 2 and parts[0].endswith(".dist-info"):
            if parts[1] == "METADATA":
                metadata = content[:_META_LIMIT]
            elif parts[1] == "entry_points.txt":
                entry_points = content[:_META_LIMIT]
            elif parts[1] == "RECORD":
                record = content
        elif not wheel and len(parts) == 2 and parts[1] == "PKG-INFO":
            metadata = content[:_META_LIMIT]
    if len(dist_infos) > 1:
        raise UnsafeArchive(f"{filename} has {len(dist_infos)} .dist-info directories: {', '.join(sorted(dist_infos))}")
    if metadata is None:
        raise UnsafeArchive(f"{filename} has no {'*.dist-info/METADATA' if wheel else 'top-level PKG-INFO'}")
    parsed = parse_metadata(metadata, entry_points)
    if not wheel:
        return parsed
    dist_info = next(iter(dist_infos))
    if record is None:
        raise UnsafeArchive(f"{filename} has no {dist_info}/RECORD")
    try:
        verify_record(f"{dist_info}/RECORD", record, members)
    except BadRecord as exc:
        raise UnsafeArchive(f"RECORD check failed: {exc}") from None
    return dataclasses.replace(parsed, dist_info=dist_info)


def parse_metadata(raw: bytes, entry_points: bytes | None = None) -> Metadata:
    """Core metadata as `packaging` reads it (leniently: a field it cannot parse is left out)."""
    fields, _ = parse_email(raw)
    keywords = fields.get("keywords", [])
    if len(keywords) == 1:  # old style: separated by spaces
        keywords = keywords[0].split()
    return Metadata(
        name=fields.get("name", ""),
        version=fields.get("version", ""),
        summary=fields.get("summary", ""),
        license=fields.get("license_expression") or fields.get("license"),
        requires_dist=tuple(fields.get("requires_dist", ())),
        requires_python=fields.get("requires_python"),
        keywords=tuple(dict.fromkeys(k.strip().lower() for k in keywords if k.strip())),
        description=fields.get("description", ""),
        description_content_type=fields.get("description_content_type", "text/markdown"),
        entry_points=_entry_points(entry_points),
    )


class _EntryPointsFile(importlib.metadata.Distribution):
    """Just an `entry_points.txt`, so `importlib.metadata` parses it without unpacking the wheel."""

    def __init__(self, text: str):
        self.text = text

    def read_text(self, filename: str) -> str | None:
        return self.text if filename == "entry_points.txt" else None

    def locate_file(self, path: str | os.PathLike[str]) -> Path:
        raise NotImplementedError("an uploaded wheel is never imported from here")


def _entry_points(raw: bytes | None) -> dict[str, str]:
    if not raw:
        return {}
    try:
        found = _EntryPointsFile(raw.decode("utf-8", "replace")).entry_points.select(group=ENTRY_POINT_GROUP)
    except (TypeError, ValueError) as exc:  # a line without `=`
        raise UnsafeArchive(f"entry_points.txt is not valid: {exc}") from None
    return {ep.name: ep.value for ep in found}


def extract(filename: str, data: bytes, limits: Limits, target: Path) -> None:
    """Write the archive's regular files under `target` (after the same checks as `inspect`)."""
    root = target.resolve()
    for name, content in walk(filename, data, limits):
        path = (root / name).resolve()
        if root not in path.parents:
            raise UnsafeArchive(f"member {name!r} escapes the target directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


__all__ = ["Metadata", "TooLarge", "UnsafeArchive", "check_member_name", "extract", "inspect", "parse_metadata", "walk"]
