"""Environment ids: `owner/name@version`.

Owner is lowercase alphanumeric (no separators), name is `[a-z0-9][a-z0-9-]*`. The distribution is
`owner-name`, the import package `owner_name`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rlhub.core.errors import InvalidId

OWNER_RE = re.compile(r"^[a-z0-9]{1,39}$")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
VERSION_RE = re.compile(r"^[0-9]+(\.[0-9]+)*([a-z0-9.+-]*)$")


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
        if at and not VERSION_RE.match(version):
            raise InvalidId(f"version {version!r} is not a version number")
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


def version_key(version: str) -> tuple[tuple[int, ...], str]:
    """Sort key for versions: numeric release parts first, then any suffix."""
    match = re.match(r"^([0-9]+(?:\.[0-9]+)*)(.*)$", version)
    if not match:
        return ((), version)
    numbers = tuple(int(p) for p in match.group(1).split("."))
    # A release without suffix sorts after its pre-releases ("1.0" > "1.0rc1").
    return (numbers, match.group(2) or "~")


__all__ = ["EnvId", "version_key"]
