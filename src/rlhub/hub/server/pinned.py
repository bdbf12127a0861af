"""`/install/<owner>/<name>[/<version>]`: a requirements file that makes stock pip install an environment
from this hub and nothing that shares a name with it from anywhere else.

`pip install -r HUB/install/acme/invoice-math` in a fresh venv. Every project this hub owns that the
environment needs (the environment, the hub environments it depends on, and `rlhub` itself, served by
the hub) is written as a direct reference, `name @ HUB/files/<sha256>/<file>#sha256=<sha256>`. pip
never looks such a name up on any index: a same-named, higher version on PyPI or another configured
index cannot be chosen (dependency confusion), and pip checks the file's sha256. Only the other,
third-party requirements (numpy, pydantic, ...) are left to pip and the user's index configuration.

Resolution is greedy, as in `rlhub install`: the newest non-yanked version with a pure-Python wheel
that matches the first requirement met (yanked versions only when pinned with `==`). Markers are not
evaluated (the server does not know the client's platform): every hub dependency is pinned, which can
install one more than needed but never leaves a hub name to another index. A requirement this cannot
pin safely is refused (409) rather than left to pip: no matching version on the hub, a private project
the caller cannot see, or a name in a hub owner's namespace (`acme-...`) that this hub does not have.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import parse_wheel_filename
from packaging.version import InvalidVersion, Version
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from rlhub.hub.schema import FILES_PATH, ErrorCode
from rlhub.hub.server import auth
from rlhub.hub.server.errors import HubError
from rlhub.hub.server.framework import NAME as FRAMEWORK_NAME
from rlhub.hub.server.hub import Hub
from rlhub.hub.server.models import Owner, Project
from rlhub.hub.server.models import Version as VersionRow
from rlhub.hub.server.names import normalize
from rlhub.hub.server.services.accounts import Principal
from rlhub.hub.server.services.catalog import sorted_versions, visible

router = APIRouter()
INSTALL_PATH = "/install/"


@dataclass
class _Pin:
    version: Version
    filename: str
    sha256: str
    requires: list[str]
    extras: set[str] = field(default_factory=set)


def _pure_wheel(filename: str) -> bool:
    if not filename.endswith(".whl"):
        return False
    try:
        tags = parse_wheel_filename(filename)[3]
    except (InvalidVersion, ValueError):
        return False
    return all(t.abi == "none" and t.platform == "any" and t.interpreter.startswith("py3") for t in tags)


_Candidate = tuple[Version, bool, str, str, list[str]]
"""(version, yanked, wheel filename, sha256, Requires-Dist)"""


def _candidates(
    hub: Hub, session: Session, name: str, principal: Principal | None, who: str
) -> list[_Candidate] | None:
    """The pure wheels of a hub project, newest first; None when the hub does not have the project."""
    if name == FRAMEWORK_NAME:
        # The framework's own requirements are third-party by construction: pip resolves them.
        return [(Version(f.version), False, f.filename, f.sha256, []) for f in hub.framework.files()]
    project = session.scalar(
        select(Project)
        .where(Project.normalized == name)
        .options(selectinload(Project.owner), selectinload(Project.versions).selectinload(VersionRow.files))
    )
    if project is None:
        return None
    if not visible(project, principal):
        if who == "you":
            raise HubError(ErrorCode.not_found, f"no environment {name} on this hub")
        raise HubError(ErrorCode.conflict, f"{who} needs {name}, a private project: use `rlhub install` with a token")
    found = []
    for row in sorted_versions(project):
        wheel = next((f for f in row.files if _pure_wheel(f.filename)), None)
        if wheel is not None:
            found.append((Version(row.version), row.yanked, wheel.filename, wheel.sha256, list(row.requires_dist)))
    return found


def resolve(hub: Hub, session: Session, root: Requirement, principal: Principal | None) -> dict[str, _Pin]:
    """Every hub project `root` needs, pinned to one wheel; third-party requirements are skipped."""
    pins: dict[str, _Pin] = {}
    queue: list[tuple[Requirement, str]] = [(root, "")]
    while queue:
        req, needed_by = queue.pop(0)
        name = normalize(req.name)
        who = needed_by or "you"
        if name in pins:
            pin = pins[name]
            if not req.specifier.contains(pin.version, prereleases=True):
                raise HubError(ErrorCode.conflict, f"{who} needs {req}, but {name} {pin.version} is needed by another")
            pin.extras |= req.extras
            continue
        candidates = _candidates(hub, session, name, principal, who)
        if candidates is None:
            owner = name.partition("-")[0]
            if not needed_by:
                raise HubError(ErrorCode.not_found, f"no environment {name} on this hub")
            if "-" in name and session.scalar(select(Owner.id).where(Owner.name == owner)) is not None:
                raise HubError(
                    ErrorCode.conflict,
                    f"{who} needs {req}: {name} is in the namespace of the hub owner {owner} but not on this hub, "
                    "and no other index may stand in for it",
                )
            continue  # third-party: pip and the user's index configuration
        try:
            pin = _choose(name, req.specifier, candidates, who)
        except HubError as exc:
            if needed_by:
                raise
            raise HubError(ErrorCode.not_found, exc.message) from None
        pin.extras |= req.extras
        pins[name] = pin
        for text in pin.requires:
            try:
                queue.append((Requirement(text), f"{name} {pin.version}"))
            except InvalidRequirement as exc:
                raise HubError(
                    ErrorCode.conflict, f"{name} {pin.version} has an invalid requirement {text!r}: {exc}"
                ) from None
    return pins


def _choose(name: str, spec: SpecifierSet, candidates: list[_Candidate], who: str) -> _Pin:
    pinned = {Version(s.version) for s in spec if s.operator in ("==", "===") and "*" not in s.version}
    for version, yanked, filename, sha256, requires in candidates:
        if yanked and version not in pinned:
            continue
        if spec.contains(version, prereleases=True if pinned else None):
            return _Pin(version, filename, sha256, requires)
    raise HubError(
        ErrorCode.conflict,
        f"{who} needs {name}{spec or ''}, and this hub has no pure-Python wheel of it that matches "
        "(yanked versions only when pinned with ==); no other index may stand in for it",
    )


def requirements_file(base_url: str, env: str, pins: dict[str, _Pin]) -> str:
    lines = [
        f"# {env} from {base_url}: every project of this hub pinned to its file and sha256 (direct references,",
        "# never looked up on an index); other requirements come from your own pip index configuration.",
    ]
    for name, pin in pins.items():
        extras = f"[{','.join(sorted(pin.extras))}]" if pin.extras else ""
        url = f"{base_url}{FILES_PATH}{pin.sha256}/{pin.filename}#sha256={pin.sha256}"
        lines.append(f"{name}{extras} @ {url}")
    return "\n".join(lines) + "\n"


@router.get(INSTALL_PATH + "{owner}/{name}", response_class=PlainTextResponse, include_in_schema=False)
@router.get(INSTALL_PATH + "{owner}/{name}/{version}", response_class=PlainTextResponse, include_in_schema=False)
def install_requirements(request: Request, owner: str, name: str, version: str | None = None) -> PlainTextResponse:
    """The requirements file for `pip install -r` (see the module docstring)."""
    hub: Hub = request.app.state.hub
    dist = normalize(f"{owner}-{name}")
    try:
        root = Requirement(f"{dist}=={version}" if version else dist)
    except InvalidRequirement:
        raise HubError(ErrorCode.invalid, f"{version!r} is not a version") from None
    with hub.db.read() as session:
        pins = resolve(hub, session, root, auth.optional(request))
    base_url = str(request.base_url).rstrip("/")
    env = f"{owner}/{name}@{pins[dist].version}"
    return PlainTextResponse(requirements_file(base_url, env, pins), headers={"cache-control": "no-cache"})


__all__ = ["INSTALL_PATH", "requirements_file", "resolve", "router"]
