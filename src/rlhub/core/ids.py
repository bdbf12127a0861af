"""Environment ids: `owner/name@version`.

Owner is lowercase alphanumeric (no separators), name is `[a-z0-9][a-z0-9-]*`. The distribution is
`owner-name`, the import package `owner_name`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from rlhub.core.errors import InvalidId

OWNER_RE = re.compile(r"^[a-z0-9]{1,39}$")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass(frozen=True)
class EnvId:
    owner: str
    name: str
    version: str | None = None

    @classmethod
    def parse(cls, text: str) -> EnvId:
        base, at, version = text.strip().partition("@")
        owner, slash, name = base.partition("/")
        if not slash:
            raise InvalidId(f"{text!r} is not an environment id: expected owner/name[@version]")
        if not OWNER_RE.match(owner):
            raise InvalidId(f"owner {owner!r} must be 1-39 lowercase letters or digits, no separators")
        if not NAME_RE.match(name) or name.endswith("-"):
            raise InvalidId(f"name {name!r} must match [a-z0-9][a-z0-9-]* and not end with '-'")
        if at and not _is_version(version):
            raise InvalidId(f"version {version!r} is not a PEP 440 version number")
        return cls(owner, name, version or None)

    @property
    def base(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def distribution(self) -> str:
        return f"{self.owner}-{self.name}"

    @property
    def package(self) -> str:
        return f"{self.owner}_{self.name.replace('-', '_')}"

    def __str__(self) -> str:
        return f"{self.base}@{self.version}" if self.version else self.base


def _is_version(text: str) -> bool:
    """PEP 440, written from its first digit (no `v` prefix: ids spell versions as the hub lists them)."""
    try:
        Version(text)
    except InvalidVersion:
        return False
    return text[:1].isdigit()


def version_key(version: str) -> Version:
    """Sort key for versions, ordered as PEP 440 says (the hub and pip order them the same way)."""
    return Version(version)


__all__ = ["EnvId", "version_key"]
