"""Hub operator commands: `serve` (run a hub) and `admin create-user` (talks to the database directly)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

admin = typer.Typer(help="Hub administration on this machine (direct database access).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(admin, name="admin")


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8787,
    workers: Annotated[int, typer.Option(help="Server processes.")] = 1,
    checks: Annotated[bool, typer.Option(help="Run check_env on uploaded wheels in the background.")] = True,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
    proxy_headers: Annotated[bool, typer.Option(help="Trust X-Forwarded-* from 127.0.0.1 (behind a proxy).")] = False,
    allow_unsandboxed: Annotated[
        bool,
        typer.Option(
            "--allow-unsandboxed",
            help="Without bubblewrap, run uploaded code (checks, result re-scoring) as plain subprocesses "
            "with the server's privileges. Only for a hub whose every publisher is trusted "
            "(also RLHUB_ALLOW_UNSANDBOXED=1).",
        ),
    ] = False,
) -> None:
    """Run a hub: SQLite and blobs under $RLHUB_HOME/hub (default ~/.rlhub), or $RLHUB_DATABASE_URL."""
    from rlhub.hub.server.config import HubConfig
    from rlhub.hub.server.db import Database
    from rlhub.hub.server.services.checks import reset_running
    from rlhub.hub.server.services.untrusted import no_sandbox_reason
    from rlhub.hub.server.serving import ServeOptions
    from rlhub.hub.server.serving import serve as serve_hub

    os.environ["RLHUB_HUB_CHECKS"] = "1" if checks else "0"
    if allow_unsandboxed:
        os.environ["RLHUB_ALLOW_UNSANDBOXED"] = "1"
    config = HubConfig.from_env()
    config.home.mkdir(parents=True, exist_ok=True)
    db = Database(config.url)
    db.migrate()
    reset_running(db)
    db.dispose()
    if reason := no_sandbox_reason():
        consequence = (
            "uploaded code WILL run unsandboxed (--allow-unsandboxed)"
            if config.allow_unsandboxed
            else "uploads stay 'not checked' and results 'not verified'"
        )
        typer.echo(f"warning: {reason.split(';')[0]}: {consequence}", err=True)
    typer.echo(f"rlhub hub on http://{host}:{port} · data in {config.home} · database {config.url.split('@')[-1]}")
    serve_hub(ServeOptions(host, port, workers, access_log, proxy_headers))


@admin.command("create-user")
def create_user(
    name: Annotated[str, typer.Argument(help="User name: 1-39 lowercase letters or digits.")],
    password: Annotated[str | None, typer.Option(help="Password for web login (optional).")] = None,
) -> None:
    """Create a user and print a new publish token for it (the last line of output)."""
    from rlhub.core.errors import RlhubError
    from rlhub.hub.schema import TokenScope
    from rlhub.hub.server.config import HubConfig
    from rlhub.hub.server.db import Database
    from rlhub.hub.server.errors import HubError
    from rlhub.hub.server.services.accounts import create_token
    from rlhub.hub.server.services.accounts import create_user as make_user

    config = HubConfig.from_env()
    config.home.mkdir(parents=True, exist_ok=True)
    db = Database(config.url)
    db.migrate()
    try:
        with db.write() as session:
            user = make_user(session, name, password)
            created = create_token(session, user, "admin-created", TokenScope.publish)
    except HubError as exc:
        raise RlhubError(exc.message) from None
    finally:
        db.dispose()
    typer.echo(f"created user {name}; publish token:")
    typer.echo(created.token)


__all__ = ["register"]
