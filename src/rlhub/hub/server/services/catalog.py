"""Reading the catalogue: visibility, environment summaries and pages, search, yank, stars."""

from __future__ import annotations

from packaging.version import InvalidVersion, Version
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from rlhub.core.check import CheckResult
from rlhub.hub.schema import (
    FILES_PATH,
    CheckInfo,
    CheckStatus,
    EnvInfo,
    EnvSummary,
    ErrorCode,
    FileInfo,
    SearchResponse,
    SortOrder,
    StarState,
    VersionInfo,
)
from rlhub.hub.server.errors import HubError
from rlhub.hub.server.models import Owner, Project, Star
from rlhub.hub.server.models import Version as VersionRow
from rlhub.hub.server.services.accounts import Principal


def version_sort_key(row: VersionRow) -> Version:
    try:
        return Version(row.version)
    except InvalidVersion:
        return Version("0")


def sorted_versions(project: Project) -> list[VersionRow]:
    """Newest first."""
    return sorted(project.versions, key=version_sort_key, reverse=True)


def latest(project: Project) -> VersionRow | None:
    live = [v for v in sorted_versions(project) if not v.yanked]
    return live[0] if live else None


def visible(project: Project, principal: Principal | None) -> bool:
    return not project.private or (principal is not None and principal.can_read(project.owner.name))


def get_project(session: Session, owner: str, name: str, principal: Principal | None) -> Project:
    query = (
        select(Project)
        .join(Owner)
        .where(Owner.name == owner, Project.name == name)
        .options(selectinload(Project.versions).selectinload(VersionRow.files), selectinload(Project.owner))
    )
    project = session.scalar(query)
    if project is None or not visible(project, principal):
        raise HubError(ErrorCode.not_found, f"no environment {owner}/{name}")
    return project


def get_version(project: Project, version: str) -> VersionRow:
    try:
        wanted = Version(version)
    except InvalidVersion:
        wanted = None
    for row in project.versions:
        if row.version == version or (wanted is not None and version_sort_key(row) == wanted):
            return row
    raise HubError(ErrorCode.not_found, f"{project.owner.name}/{project.name} has no version {version}")


def summary(project: Project) -> EnvSummary:
    versions = sorted_versions(project)
    newest = latest(project) or (versions[0] if versions else None)
    return EnvSummary(
        owner=project.owner.name,
        name=project.name,
        distribution=project.normalized,
        summary=newest.summary if newest else "",
        tags=tuple(newest.tags) if newest else (),
        latest_version=newest.version if newest and not newest.yanked else None,
        downloads=project.downloads,
        stars=project.stars,
        private=project.private,
        updated_at=project.updated_at,
    )


def check_info(row: VersionRow) -> CheckInfo:
    return CheckInfo(
        status=CheckStatus(row.check_status),
        results=tuple(CheckResult.model_validate(r) for r in row.check_results),
        report=row.check_report,
        finished_at=row.check_finished_at,
    )


def version_info(row: VersionRow) -> VersionInfo:
    return VersionInfo(
        version=row.version,
        summary=row.summary,
        license=row.license,
        requires_dist=tuple(row.requires_dist),
        requires_python=row.requires_python,
        tags=tuple(row.tags),
        env_ids=tuple(row.env_ids),
        yanked=row.yanked,
        yanked_reason=row.yanked_reason,
        created_at=row.created_at,
        check=check_info(row),
        files=tuple(
            FileInfo(
                filename=f.filename,
                filetype="bdist_wheel" if f.filetype == "bdist_wheel" else "sdist",
                size=f.size,
                sha256=f.sha256,
                url=f"{FILES_PATH}{f.sha256}/{f.filename}",
                uploaded_at=f.uploaded_at,
                requires_python=f.requires_python,
            )
            for f in row.files
        ),
    )


def env_info(project: Project) -> EnvInfo:
    versions = sorted_versions(project)
    newest = latest(project) or (versions[0] if versions else None)
    return EnvInfo(
        summary=summary(project),
        readme=newest.readme if newest else "",
        readme_content_type=newest.readme_content_type if newest else "text/markdown",
        versions=tuple(version_info(v) for v in versions),
    )


def search(
    session: Session,
    principal: Principal | None,
    q: str = "",
    tag: str | None = None,
    sort: SortOrder = SortOrder.relevance,
    limit: int = 20,
    offset: int = 0,
) -> SearchResponse:
    """Every query term must appear in the name, summary, tags or README; ranked by where it matched."""
    terms = [t for t in q.lower().split() if t]
    query = select(Project).options(selectinload(Project.owner), selectinload(Project.versions))
    for term in terms:
        query = query.where(Project.search_text.contains(term, autoescape=True))
    if tag:
        query = query.where(Project.search_text.contains(tag.lower(), autoescape=True))
    readable = list(principal.owners) if principal else []
    query = query.where(or_(Project.private.is_(False), Project.owner.has(Owner.name.in_(readable))))
    found = [summary(p) for p in session.scalars(query)]
    if tag:
        found = [s for s in found if tag.lower() in s.tags]
    if sort is SortOrder.downloads:
        found.sort(key=lambda s: (-s.downloads, s.distribution))
    elif sort is SortOrder.stars:
        found.sort(key=lambda s: (-s.stars, s.distribution))
    elif sort is SortOrder.recent:
        found.sort(key=lambda s: s.updated_at, reverse=True)
    else:
        found.sort(key=lambda s: (-_relevance(s, terms), -s.downloads, s.distribution))
    return SearchResponse(query=q, tag=tag, sort=sort, total=len(found), results=tuple(found[offset : offset + limit]))


def _relevance(env: EnvSummary, terms: list[str]) -> int:
    score = 0
    for term in terms:
        score += 10 * (term in env.distribution) + 5 * (term in env.tags) + 3 * (term in env.summary.lower()) + 1
    return score


def set_yanked(
    session: Session, principal: Principal, owner: str, name: str, version: str, yanked: bool, reason: str = ""
) -> VersionInfo:
    project = get_project(session, owner, name, principal)
    principal.require_publish(owner)
    row = get_version(project, version)
    row.yanked = yanked
    row.yanked_reason = reason[:512] if yanked else ""
    session.flush()
    return version_info(row)


def set_private(session: Session, principal: Principal, owner: str, name: str, private: bool) -> EnvInfo:
    project = get_project(session, owner, name, principal)
    principal.require_publish(owner)
    project.private = private
    session.flush()
    return env_info(project)


def set_star(session: Session, principal: Principal, owner: str, name: str, starred: bool) -> StarState:
    project = get_project(session, owner, name, principal)
    if principal.scope.value != "publish":
        raise HubError(ErrorCode.forbidden, "starring needs a publish token, not a read-only one")
    existing = session.get(Star, (principal.user_id, project.id))
    if starred and existing is None:
        session.add(Star(user_id=principal.user_id, project_id=project.id))
    elif not starred and existing is not None:
        session.delete(existing)
    session.flush()
    project.stars = session.scalar(select(func.count()).select_from(Star).where(Star.project_id == project.id)) or 0
    return StarState(starred=starred, stars=project.stars)


def owner_projects(session: Session, owner: Owner, principal: Principal | None) -> list[EnvSummary]:
    query = (
        select(Project)
        .where(Project.owner_id == owner.id)
        .options(selectinload(Project.owner), selectinload(Project.versions))
        .order_by(Project.name)
    )
    return [summary(p) for p in session.scalars(query) if visible(p, principal)]


__all__ = [
    "env_info",
    "get_project",
    "get_version",
    "latest",
    "owner_projects",
    "search",
    "set_private",
    "set_star",
    "set_yanked",
    "sorted_versions",
    "summary",
    "version_info",
    "visible",
]
