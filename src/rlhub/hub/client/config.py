"""Where the client finds its hub and its token.

Hub URL: an explicit `--hub`, else `RLHUB_HUB_URL`, else `http://127.0.0.1:8787`.
Token: an explicit `--token`, else `RLHUB_TOKEN`, else the one `rlhub login` saved for that hub in
`$RLHUB_HOME/credentials.json` (RLHUB_HOME defaults to `~/.rlhub`; the file is private to the user, 0600).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from rlhub.core.errors import ConfigError
from rlhub.hub.schema import DEFAULT_HUB_URL, rlhub_home


def credentials_path() -> Path:
    return rlhub_home() / "credentials.json"


def hub_url(url: str | None = None) -> str:
    """The hub's base URL without a trailing slash."""
    return (url or os.environ.get("RLHUB_HUB_URL") or DEFAULT_HUB_URL).rstrip("/")


def _load() -> dict[str, dict[str, str]]:
    path = credentials_path()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not readable JSON ({exc}); delete it and run `rlhub login` again") from None
    return dict(data.get("hubs", {}))


def saved_token(url: str) -> str | None:
    return _load().get(hub_url(url), {}).get("token")


def resolve_token(url: str, token: str | None = None) -> str | None:
    """An explicit token wins; `""` means explicitly anonymous; None falls back to the env, then the file."""
    if token is not None:
        return token or None
    return os.environ.get("RLHUB_TOKEN") or saved_token(url)


def save_token(url: str, token: str, username: str = "") -> Path:
    """Store the token for `url`, creating the file with mode 0600 before any secret is written to it."""
    hubs = _load()
    hubs[hub_url(url)] = {"token": token, "username": username}
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"hubs": hubs}, out, indent=2)
    return path


def forget_token(url: str) -> bool:
    """Remove the saved token for `url`; False when there was none."""
    hubs = _load()
    if hubs.pop(hub_url(url), None) is None:
        return False
    path = credentials_path()
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(fd, "w") as out:
        json.dump({"hubs": hubs}, out, indent=2)
    return True


__all__ = ["credentials_path", "forget_token", "hub_url", "resolve_token", "rlhub_home", "save_token", "saved_token"]
