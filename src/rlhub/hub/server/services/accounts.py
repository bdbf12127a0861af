"""Users, organisations and scoped tokens, and who a request is (`Principal`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from rlhub.core.ids import OWNER_RE
from rlhub.hub.schema import ErrorCode, OwnerInfo, TokenCreated, TokenInfo, TokenScope
from rlhub.hub.server.errors import HubError
from rlhub.hub.server.models import Membership, Owner, Token, utcnow
from rlhub.hub.server.security import check_password, hash_password, new_token, token_hash

LAST_USED_RESOLUTION = timedelta(minutes=10)
"""`last_used_at` is refreshed at most this often, so authenticated reads stay reads."""


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a user acting through a token (or a password/session login)."""

    user_id: int
    username: str
    scope: TokenScope
    owners: frozenset[str]
    token_id: int | None = None

    def can_publish(self, owner: str) -> bool:
        return self.scope is TokenScope.publish and owner in self.owners

    def can_read(self, owner: str) -> bool:
        return owner in self.owners

    def require_publish(self, owner: str) -> None:
        if not self.can_publish(owner):
            what = "a read-only token" if self.scope is TokenScope.read else f"a token scoped to {sorted(self.owners)}"
            raise HubError(ErrorCode.forbidden, f"{self.username} cannot publish to {owner!r} with {what}")


def _check_owner_name(session: Session, name: str) -> None:
    if not OWNER_RE.match(name):
        raise HubError(ErrorCode.bad_name, f"owner {name!r} must be 1-39 lowercase letters or digits")
    if session.scalar(select(Owner.id).where(Owner.name == name)) is not None:
        raise HubError(ErrorCode.conflict, f"the name {name!r} is taken")


def create_user(session: Session, name: str, password: str | None = None) -> Owner:
    _check_owner_name(session, name)
    user = Owner(name=name, kind="user", password_hash=hash_password(password) if password else None)
    session.add(user)
    session.flush()
    return user


def member_orgs(session: Session, user_id: int) -> list[str]:
    query = select(Owner.name).join(Membership, Membership.org_id == Owner.id).where(Membership.user_id == user_id)
    return list(session.scalars(query))


def user_owners(session: Session, user: Owner) -> list[str]:
    return [user.name, *member_orgs(session, user.id)]


def create_token(
    session: Session, user: Owner, name: str, scope: TokenScope = TokenScope.publish, owners: tuple[str, ...] = ()
) -> TokenCreated:
    allowed = set(user_owners(session, user))
    outside = sorted(set(owners) - allowed)
    if outside:
        raise HubError(ErrorCode.forbidden, f"{user.name} is not a member of {', '.join(outside)}")
    secret = new_token()
    token = Token(
        user_id=user.id,
        name=name,
        scope=scope.value,
        owners=list(owners),
        token_hash=token_hash(secret),
        prefix=secret[:10],
    )
    session.add(token)
    session.flush()
    return TokenCreated(info=token_info(token), token=secret)


def token_info(token: Token) -> TokenInfo:
    return TokenInfo(
        id=token.id,
        name=token.name,
        scope=TokenScope(token.scope),
        owners=tuple(token.owners),
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        prefix=token.prefix,
    )


def list_tokens(session: Session, user_id: int) -> list[TokenInfo]:
    return [token_info(t) for t in session.scalars(select(Token).where(Token.user_id == user_id).order_by(Token.id))]


def revoke_token(session: Session, user_id: int, token_id: int) -> None:
    done = session.execute(delete(Token).where(Token.id == token_id, Token.user_id == user_id))
    if not done.rowcount:  # type: ignore[attr-defined]
        raise HubError(ErrorCode.not_found, f"no token {token_id} of yours")


def principal_for_user(
    session: Session, user: Owner, scope: TokenScope, owners: tuple[str, ...] = (), token_id: int | None = None
) -> Principal:
    effective = set(user_owners(session, user))
    if owners:
        effective &= set(owners)
    return Principal(user.id, user.name, scope, frozenset(effective), token_id)


def authenticate_token(session: Session, secret: str) -> tuple[Principal, bool]:
    """The token's principal, and whether its `last_used_at` is stale enough to be worth a write."""
    token = session.scalar(select(Token).where(Token.token_hash == token_hash(secret)))
    if token is None:
        raise HubError(ErrorCode.unauthorized, "unknown or revoked token")
    last = token.last_used_at
    stale = last is None or utcnow() - (last if last.tzinfo else last.replace(tzinfo=UTC)) > LAST_USED_RESOLUTION
    return principal_for_user(session, token.user, TokenScope(token.scope), tuple(token.owners), token.id), stale


def authenticate_password(session: Session, username: str, password: str) -> Owner:
    user = session.scalar(select(Owner).where(Owner.name == username, Owner.kind == "user"))
    if user is None or not check_password(user.password_hash, password):
        raise HubError(ErrorCode.unauthorized, "wrong username or password")
    return user


def touch_token(session: Session, token_id: int) -> None:
    session.execute(update(Token).where(Token.id == token_id).values(last_used_at=utcnow()))


def get_owner(session: Session, name: str) -> Owner:
    owner = session.scalar(select(Owner).where(Owner.name == name))
    if owner is None:
        raise HubError(ErrorCode.not_found, f"no user or organisation named {name!r}")
    return owner


def create_org(session: Session, creator: Principal, name: str) -> Owner:
    _check_owner_name(session, name)
    org = Owner(name=name, kind="org")
    session.add(org)
    session.flush()
    session.add(Membership(org_id=org.id, user_id=creator.user_id))
    session.flush()
    return org


def set_member(session: Session, caller: Principal, org_name: str, username: str, member: bool) -> Owner:
    org = get_owner(session, org_name)
    if org.kind != "org":
        raise HubError(ErrorCode.not_found, f"no organisation {org_name!r} ({org_name!r} is a user)")
    if caller.scope is not TokenScope.publish or org_name not in set(member_orgs(session, caller.user_id)):
        raise HubError(ErrorCode.forbidden, f"only members of {org_name!r} can change its members")
    user = get_owner(session, username)
    if user.kind != "user":
        raise HubError(ErrorCode.not_found, f"no user {username!r} ({username!r} is an organisation)")
    existing = session.get(Membership, (org.id, user.id))
    if member and existing is None:
        session.add(Membership(org_id=org.id, user_id=user.id))
    elif not member and existing is not None:
        session.delete(existing)
    session.flush()
    return org


def members(session: Session, org: Owner) -> tuple[str, ...]:
    query = select(Owner.name).join(Membership, Membership.user_id == Owner.id).where(Membership.org_id == org.id)
    return tuple(sorted(session.scalars(query)))


def owner_info(session: Session, owner: Owner) -> OwnerInfo:
    return OwnerInfo(
        name=owner.name,
        kind="org" if owner.kind == "org" else "user",
        members=members(session, owner) if owner.kind == "org" else (),
    )


__all__ = [
    "Principal",
    "authenticate_password",
    "authenticate_token",
    "create_org",
    "create_token",
    "create_user",
    "get_owner",
    "list_tokens",
    "member_orgs",
    "owner_info",
    "principal_for_user",
    "revoke_token",
    "set_member",
    "touch_token",
    "user_owners",
]
