"""Server-rendered pages (Jinja2, no build step): home with search, owner, environment, login, tokens.

Logins set a signed, HttpOnly, SameSite=Lax session cookie; Lax keeps other sites from posting our
forms with it. READMEs are sanitised by `render.readme_html` before they reach a template.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from rlhub.hub.schema import SortOrder, TokenScope
from rlhub.hub.server import auth
from rlhub.hub.server.errors import HubError
from rlhub.hub.server.hub import Hub
from rlhub.hub.server.render import readme_html, score_chart
from rlhub.hub.server.services import accounts, catalog, results
from rlhub.hub.server.services.accounts import Principal

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)


def hub_of(request: Request) -> Hub:
    return request.app.state.hub


def viewer(request: Request) -> Principal | None:
    try:
        return auth.principal(request, allow_session=True)
    except HubError:
        return None


HubDep = Annotated[Hub, Depends(hub_of)]
Viewer = Annotated[Principal | None, Depends(viewer)]


def page(request: Request, template: str, who: Principal | None, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, {"who": who, **context}, status_code=status)


def not_found(request: Request, who: Principal | None, message: str) -> HTMLResponse:
    return page(request, "error.html", who, status=404, message=message)


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    hub: HubDep,
    who: Viewer,
    q: str = "",
    tag: str | None = None,
    sort: SortOrder = SortOrder.relevance,
) -> HTMLResponse:
    listing = SortOrder.recent if sort is SortOrder.relevance and not (q or tag) else sort
    with hub.db.read() as session:
        found = catalog.search(session, who, q, tag or None, listing, 50)
    return page(request, "home.html", who, q=q, tag=tag or "", sort=sort.value, found=found)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, who: Viewer) -> HTMLResponse:
    return page(request, "login.html", who, error="")


@router.post("/login", response_model=None)
def login(
    request: Request, hub: HubDep, username: Annotated[str, Form()], password: Annotated[str, Form()]
) -> Response:
    try:
        with hub.db.read() as session:
            user = accounts.authenticate_password(session, username.strip(), password)
    except HubError as exc:
        return page(request, "login.html", None, status=401, error=exc.message)
    response = RedirectResponse("/account/tokens", status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE,
        auth.sign_session(hub, user.id),
        httponly=True,
        samesite="lax",
        max_age=auth.SESSION_DAYS * 86400,
    )
    return response


@router.post("/logout")
def logout() -> RedirectResponse:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE)
    return response


@router.get("/account/tokens", response_model=None)
def tokens_page(request: Request, hub: HubDep, who: Viewer) -> Response:
    if who is None:
        return RedirectResponse("/login", status_code=303)
    with hub.db.read() as session:
        tokens = accounts.list_tokens(session, who.user_id)
    return page(request, "tokens.html", who, tokens=tokens, created=None, error="")


@router.post("/account/tokens", response_model=None)
def create_token(
    request: Request,
    hub: HubDep,
    who: Viewer,
    name: Annotated[str, Form()],
    scope: Annotated[TokenScope, Form()] = TokenScope.publish,
    owner: Annotated[str, Form()] = "",
) -> Response:
    if who is None:
        return RedirectResponse("/login", status_code=303)
    created, error = None, ""
    try:
        with hub.db.write() as session:
            user = accounts.get_owner(session, who.username)
            created = accounts.create_token(session, user, name.strip() or "token", scope, (owner,) if owner else ())
    except HubError as exc:
        error = exc.message
    with hub.db.read() as session:
        tokens = accounts.list_tokens(session, who.user_id)
    return page(request, "tokens.html", who, tokens=tokens, created=created, error=error)


@router.post("/account/tokens/{token_id}/revoke", response_model=None)
def revoke_token(hub: HubDep, who: Viewer, token_id: int) -> Response:
    if who is not None:
        with hub.db.write() as session:
            accounts.revoke_token(session, who.user_id, token_id)
    return RedirectResponse("/account/tokens", status_code=303)


@router.get("/{owner}", response_class=HTMLResponse)
def owner_page(request: Request, hub: HubDep, who: Viewer, owner: str) -> HTMLResponse:
    with hub.db.read() as session:
        try:
            row = accounts.get_owner(session, owner)
        except HubError as exc:
            return not_found(request, who, exc.message)
        info = accounts.owner_info(session, row)
        envs = catalog.owner_projects(session, row, who)
    return page(request, "owner.html", who, owner=info, envs=envs)


@router.get("/{owner}/{name}", response_class=HTMLResponse)
def env_page(request: Request, hub: HubDep, who: Viewer, owner: str, name: str) -> HTMLResponse:
    with hub.db.read() as session:
        try:
            info = catalog.env_info(catalog.get_project(session, owner, name, who))
        except HubError as exc:
            return not_found(request, who, exc.message)
    board = results.leaderboard(hub.db, owner, name, who)
    base = str(request.base_url).rstrip("/")
    return page(
        request,
        "env.html",
        who,
        env=info,
        readme=readme_html(info.readme, info.readme_content_type),
        board=board,
        chart=score_chart(board.entries),
        index_url=f"{base}/simple/",
    )


__all__ = ["mount_static", "router"]
