"""Who is calling: a token (Bearer, or Basic `__token__:<token>`), a password (Basic, token creation
only) or a signed session cookie (web pages)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from fastapi import Request

from rlhub.hub.schema import TOKEN_USERNAME, ErrorCode, TokenScope
from rlhub.hub.server.errors import HubError
from rlhub.hub.server.hub import Hub
from rlhub.hub.server.models import Owner
from rlhub.hub.server.services.accounts import (
    Principal,
    authenticate_password,
    authenticate_token,
    principal_for_user,
    touch_token,
)

SESSION_COOKIE = "rlhub_session"
SESSION_DAYS = 14


def credentials(request: Request) -> tuple[str, str] | None:
    """("token", secret) or ("password", "user:password") from the Authorization header."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return "token", value.strip()
    if scheme.lower() == "basic":
        try:
            user, _, secret = base64.b64decode(value.strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise HubError(ErrorCode.unauthorized, "malformed Basic credentials") from None
        if user == TOKEN_USERNAME:
            return "token", secret
        return "password", f"{user}:{secret}"
    return None


def sign_session(hub: Hub, user_id: int) -> str:
    payload = f"{user_id}:{int(time.time()) + SESSION_DAYS * 86400}"
    mac = hmac.new(hub.session_secret, payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}:{mac}"


def session_user(hub: Hub, cookie: str | None) -> int | None:
    if not cookie:
        return None
    payload, _, mac = cookie.rpartition(":")
    expected = hmac.new(hub.session_secret, payload.encode(), hashlib.sha256).hexdigest()
    user_id, _, expires = payload.partition(":")
    if not hmac.compare_digest(mac, expected) or not expires.isdigit() or int(expires) < time.time():
        return None
    return int(user_id)


def principal(request: Request, *, allow_password: bool = False, allow_session: bool = False) -> Principal | None:
    hub: Hub = request.app.state.hub
    found = credentials(request)
    with hub.db.read() as session:
        if found is not None:
            kind, secret = found
            if kind == "token":
                found_principal, stale = authenticate_token(session, secret)
                if stale and found_principal.token_id is not None:
                    with hub.db.write() as writer:
                        touch_token(writer, found_principal.token_id)
                return found_principal
            if not allow_password:
                raise HubError(
                    ErrorCode.unauthorized, f"use an API token: Basic {TOKEN_USERNAME}:<token> or Bearer <token>"
                )
            username, _, password = secret.partition(":")
            owner = authenticate_password(session, username, password)
            return principal_for_user(session, owner, TokenScope.publish)
        if allow_session:
            user_id = session_user(hub, request.cookies.get(SESSION_COOKIE))
            user = session.get(Owner, user_id) if user_id is not None else None
            if user is not None:
                return principal_for_user(session, user, TokenScope.publish)
    return None


def optional(request: Request) -> Principal | None:
    return principal(request)


def required(request: Request) -> Principal:
    found = principal(request)
    if found is None:
        raise HubError(ErrorCode.unauthorized, "this needs an API token (Authorization: Bearer <token>)")
    return found


__all__ = ["SESSION_COOKIE", "credentials", "optional", "principal", "required", "session_user", "sign_session"]
