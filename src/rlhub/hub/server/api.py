"""`/api/v1`: thin JSON views over the services; bodies are `rlhub.hub.schema` models."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

import rlhub
from rlhub.hub.schema import (
    API_PREFIX,
    EnvInfo,
    EnvUpdate,
    ErrorCode,
    Health,
    Leaderboard,
    OrgCreate,
    OwnerInfo,
    ResultInfo,
    ResultUpload,
    SearchResponse,
    SortOrder,
    StarState,
    TokenCreate,
    TokenCreated,
    TokenList,
    VersionInfo,
    WhoAmI,
    YankRequest,
)
from rlhub.hub.server import auth
from rlhub.hub.server.errors import HubError
from rlhub.hub.server.hub import Hub
from rlhub.hub.server.openapi import OPTIONAL_AUTH, Authenticated, errors
from rlhub.hub.server.services import accounts, catalog, results
from rlhub.hub.server.services.accounts import Principal

router = APIRouter(prefix=API_PREFIX)
Optional = Annotated[Principal | None, Depends(auth.optional)]
Required = Annotated[Principal, Depends(auth.required)]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
"""Database ids are 32-bit on PostgreSQL; larger numbers are a 422, not an overflow."""


def hub_of(request: Request) -> Hub:
    return request.app.state.hub


HubDep = Annotated[Hub, Depends(hub_of)]


@router.get("/health")
def health() -> Health:
    return Health(version=rlhub.__version__)


@router.get("/whoami", dependencies=Authenticated, responses=errors(401))
def whoami(who: Required) -> WhoAmI:
    return WhoAmI(username=who.username, scope=who.scope, owners=tuple(sorted(who.owners)))


@router.get("/envs", dependencies=Authenticated, openapi_extra=OPTIONAL_AUTH, responses=errors(401, 422))
def search(
    hub: HubDep,
    who: Optional,
    q: str = "",
    tag: str | None = None,
    sort: SortOrder = SortOrder.relevance,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> SearchResponse:
    with hub.db.read() as session:
        return catalog.search(session, who, q, tag, sort, limit, offset)


@router.get(
    "/envs/{owner}/{name}", dependencies=Authenticated, openapi_extra=OPTIONAL_AUTH, responses=errors(401, 404, 422)
)
def env(hub: HubDep, who: Optional, owner: str, name: str) -> EnvInfo:
    with hub.db.read() as session:
        return catalog.env_info(catalog.get_project(session, owner, name, who))


@router.patch("/envs/{owner}/{name}", dependencies=Authenticated, responses=errors(400, 401, 403, 404, 422))
def update_env(hub: HubDep, who: Required, owner: str, name: str, body: EnvUpdate) -> EnvInfo:
    with hub.db.write() as session:
        if body.private is None:
            return catalog.env_info(catalog.get_project(session, owner, name, who))
        info = catalog.set_private(session, who, owner, name, body.private)
    hub.changed()
    return info


@router.get(
    "/envs/{owner}/{name}/versions/{version}",
    dependencies=Authenticated,
    openapi_extra=OPTIONAL_AUTH,
    responses=errors(401, 404, 422),
)
def version(hub: HubDep, who: Optional, owner: str, name: str, version: str) -> VersionInfo:
    with hub.db.read() as session:
        return catalog.version_info(catalog.get_version(catalog.get_project(session, owner, name, who), version))


@router.post(
    "/envs/{owner}/{name}/versions/{version}/yank",
    dependencies=Authenticated,
    responses=errors(400, 401, 403, 404, 422),
)
def yank(
    hub: HubDep, who: Required, owner: str, name: str, version: str, body: YankRequest | None = None
) -> VersionInfo:
    with hub.db.write() as session:
        info = catalog.set_yanked(session, who, owner, name, version, True, body.reason if body else "")
    hub.changed()
    return info


@router.post(
    "/envs/{owner}/{name}/versions/{version}/unyank", dependencies=Authenticated, responses=errors(401, 403, 404, 422)
)
def unyank(hub: HubDep, who: Required, owner: str, name: str, version: str) -> VersionInfo:
    with hub.db.write() as session:
        info = catalog.set_yanked(session, who, owner, name, version, False)
    hub.changed()
    return info


@router.put("/envs/{owner}/{name}/star", dependencies=Authenticated, responses=errors(401, 403, 404, 422))
def star(hub: HubDep, who: Required, owner: str, name: str) -> StarState:
    with hub.db.write() as session:
        return catalog.set_star(session, who, owner, name, True)


@router.delete("/envs/{owner}/{name}/star", dependencies=Authenticated, responses=errors(401, 403, 404, 422))
def unstar(hub: HubDep, who: Required, owner: str, name: str) -> StarState:
    with hub.db.write() as session:
        return catalog.set_star(session, who, owner, name, False)


@router.get(
    "/envs/{owner}/{name}/leaderboard",
    dependencies=Authenticated,
    openapi_extra=OPTIONAL_AUTH,
    responses=errors(401, 404, 422),
)
def leaderboard(hub: HubDep, who: Optional, owner: str, name: str, version: str | None = None) -> Leaderboard:
    return results.leaderboard(hub.db, owner, name, who, version)


@router.post("/results", status_code=201, dependencies=Authenticated, responses=errors(400, 401, 403, 404, 413, 422))
def push_result(hub: HubDep, who: Required, body: ResultUpload) -> ResultInfo:
    return results.submit(hub.db, hub.store, hub.config, who, body)


@router.get(
    "/results/{result_id}", dependencies=Authenticated, openapi_extra=OPTIONAL_AUTH, responses=errors(401, 404, 422)
)
def get_result(hub: HubDep, who: Optional, result_id: RowId) -> ResultInfo:
    return results.get_result(hub.db, result_id, who)


@router.get("/tokens", dependencies=Authenticated, responses=errors(401))
def tokens(hub: HubDep, who: Required) -> TokenList:
    with hub.db.read() as session:
        return TokenList(tokens=tuple(accounts.list_tokens(session, who.user_id)))


@router.post("/tokens", status_code=201, dependencies=Authenticated, responses=errors(400, 401, 403, 404, 422))
def create_token(request: Request, hub: HubDep, body: TokenCreate) -> TokenCreated:
    who = auth.principal(request, allow_password=True)
    if who is None:
        raise HubError(ErrorCode.unauthorized, "log in with Basic <username>:<password> or an API token")
    if who.scope.value != "publish":
        raise HubError(ErrorCode.forbidden, "a read-only token cannot create tokens")
    with hub.db.write() as session:
        user = accounts.get_owner(session, who.username)
        return accounts.create_token(session, user, body.name, body.scope, body.owners)


@router.delete("/tokens/{token_id}", status_code=204, dependencies=Authenticated, responses=errors(401, 404, 422))
def revoke_token(hub: HubDep, who: Required, token_id: RowId) -> Response:
    with hub.db.write() as session:
        accounts.revoke_token(session, who.user_id, token_id)
    return Response(status_code=204)


@router.get("/owners/{owner}", dependencies=Authenticated, openapi_extra=OPTIONAL_AUTH, responses=errors(401, 404, 422))
def owner(hub: HubDep, who: Optional, owner: str) -> OwnerInfo:
    with hub.db.read() as session:
        row = accounts.get_owner(session, owner)
        info = accounts.owner_info(session, row)
        return info.model_copy(update={"envs": tuple(catalog.owner_projects(session, row, who))})


@router.post("/orgs", status_code=201, dependencies=Authenticated, responses=errors(400, 401, 403, 409, 422))
def create_org(hub: HubDep, who: Required, body: OrgCreate) -> OwnerInfo:
    with hub.db.write() as session:
        return accounts.owner_info(session, accounts.create_org(session, who, body.name))


@router.put("/orgs/{org}/members/{user}", dependencies=Authenticated, responses=errors(401, 403, 404, 422))
def add_member(hub: HubDep, who: Required, org: str, user: str) -> OwnerInfo:
    with hub.db.write() as session:
        return accounts.owner_info(session, accounts.set_member(session, who, org, user, True))


@router.delete("/orgs/{org}/members/{user}", dependencies=Authenticated, responses=errors(401, 403, 404, 422))
def remove_member(hub: HubDep, who: Required, org: str, user: str) -> OwnerInfo:
    with hub.db.write() as session:
        return accounts.owner_info(session, accounts.set_member(session, who, org, user, False))


__all__ = ["router"]
