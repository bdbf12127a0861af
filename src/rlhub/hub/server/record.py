"""A wheel's RECORD must list every file it ships, each with a hash and size that match.

Installers write RECORD into the environment and trust it later (uninstall, integrity checks), so a
RECORD that disagrees with the archive is refused at upload: every member except RECORD itself (and
its optional signatures) must be listed once, with a `sha256` (or stronger) hash and its exact size,
and every listed path must be in the archive.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import PurePosixPath

ALGORITHMS = ("sha256", "sha384", "sha512")
"""Hashes a RECORD may use (the wheel spec forbids md5 and sha1)."""


class BadRecord(ValueError):
    """RECORD is missing, malformed or disagrees with the archive; the message names the member."""


@dataclass(frozen=True)
class Member:
    size: int
    digests: dict[str, str]
    """Algorithm -> urlsafe base64 digest without padding, as RECORD writes it."""


def member(content: bytes) -> Member:
    return Member(
        size=len(content),
        digests={
            alg: base64.urlsafe_b64encode(hashlib.new(alg, content).digest()).rstrip(b"=").decode()
            for alg in ALGORITHMS
        },
    )


def _unlisted_ok(path: str, record_path: str) -> bool:
    return path == record_path or path in (f"{record_path}.jws", f"{record_path}.p7s")


def verify_record(record_path: str, record: bytes, members: dict[str, Member]) -> None:
    """Raise `BadRecord` unless RECORD (at `record_path`) lists exactly the archive's files, correctly."""
    try:
        rows = list(csv.reader(io.StringIO(record.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BadRecord(f"{record_path} is not a valid CSV file: {exc}") from None
    listed: set[str] = set()
    for number, row in enumerate(rows, 1):
        if not row:
            continue
        if len(row) != 3:
            raise BadRecord(f"{record_path} line {number} has {len(row)} fields, expected path,hash,size")
        path, hashed, size = row
        path = str(PurePosixPath(path))
        if path in listed:
            raise BadRecord(f"{record_path} lists {path!r} twice")
        listed.add(path)
        if _unlisted_ok(path, record_path):
            continue
        found = members.get(path)
        if found is None:
            raise BadRecord(f"{record_path} lists {path!r}, which the wheel does not contain")
        algorithm, _, digest = hashed.partition("=")
        if algorithm not in ALGORITHMS or not digest:
            raise BadRecord(
                f"{record_path} gives {path!r} the hash {hashed!r}; expected one of {', '.join(ALGORITHMS)}"
            )
        if found.digests[algorithm] != digest:
            raise BadRecord(f"{path!r} does not match its {algorithm} hash in {record_path}")
        if size != str(found.size):
            raise BadRecord(f"{path!r} is {found.size} bytes, {record_path} says {size or 'nothing'}")
    missing = sorted(p for p in members if p not in listed and not _unlisted_ok(p, record_path))
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise BadRecord(f"{missing[0]!r}{more} is in the wheel but not in {record_path}")


__all__ = ["ALGORITHMS", "BadRecord", "Member", "member", "verify_record"]
