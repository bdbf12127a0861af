"""Fixtures: a hub app on SQLite and on PostgreSQL (RLHUB_TEST_POSTGRES_URL; reported as skipped, never
re-pointed to SQLite, where it is unset), an in-process client, users with tokens, and a real uvicorn
server on a free loopback port."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.hub.server.wheels import make_wheel, upload_form

from rlhub.hub.schema import TokenScope
from rlhub.hub.server.app import create_app
from rlhub.hub.server.config import HubConfig
from rlhub.hub.server.hub import Hub

POSTGRES_URL = os.environ.get("RLHUB_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str | None]:
    """One private PostgreSQL schema per test session (xdist workers never share one)."""
    if not POSTGRES_URL:
        yield None
        return
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        tables = [
            r[0] for r in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
        ]
        if tables:
            conn.execute(text("DROP TABLE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def config(request: pytest.FixtureRequest, tmp_path: Path, pg_schema_url: str | None) -> HubConfig:
    url = None
    if request.param == "postgres":
        if pg_schema_url is None:
            pytest.skip("no PostgreSQL server: set RLHUB_TEST_POSTGRES_URL (.ci/run does)")
        _reset_postgres(pg_schema_url)
        url = pg_schema_url
    return HubConfig(home=tmp_path / "hub", database_url=url, run_checks=False, session_secret="test-secret")


@dataclass
class HubFixture:
    client: TestClient
    hub: Hub

    def user(self, name: str, password: str | None = None, scope: TokenScope = TokenScope.publish) -> str:
        """Create a user; returns a publish token."""
        from rlhub.hub.server.services.accounts import create_token, create_user

        with self.hub.db.write() as session:
            user = create_user(session, name, password)
            return create_token(session, user, "test", scope).token

    def token(self, user: str, scope: TokenScope = TokenScope.publish, owners: tuple[str, ...] = ()) -> str:
        from rlhub.hub.server.services.accounts import create_token, get_owner

        with self.hub.db.write() as session:
            return create_token(session, get_owner(session, user), "test", scope, owners).token

    def upload(
        self, token: str, filename: str, data: bytes, owner: str, name: str, version: str = "0.1.0", **fields: str
    ) -> httpx.Response:
        form, files = upload_form(filename, data, owner, name, version, **fields)
        return self.client.post("/legacy/", data=form, files=files, auth=("__token__", token))

    def publish(self, token: str, owner: str, name: str, version: str = "0.1.0", **kw: Any) -> httpx.Response:
        filename, data = make_wheel(owner, name, version, **kw)
        response = self.upload(token, filename, data, owner, name, version)
        assert response.status_code == 200, response.text
        return response


@pytest.fixture
def hub(config: HubConfig) -> Iterator[HubFixture]:
    app = create_app(config)
    with TestClient(app) as client:
        yield HubFixture(client=client, hub=app.app.state.hub)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def uvicorn_thread(app: Any, **config: Any) -> Iterator[int]:
    """Serve the ASGI `app` with uvicorn on a free loopback port in a thread; yields the port once it
    accepts connections and stops the server on exit. `config`: more `uvicorn.Config` arguments."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class LiveHub:
    url: str
    hub: Hub
    fixture: HubFixture


@pytest.fixture
def live_hub(config: HubConfig) -> Iterator[LiveHub]:
    """A real uvicorn server on 127.0.0.1 in a thread, sharing the database with an in-process client."""
    app = create_app(config)
    with uvicorn_thread(app, lifespan="on") as port, TestClient(app.app, base_url=f"http://127.0.0.1:{port}") as client:
        url = f"http://127.0.0.1:{port}"
        yield LiveHub(url=url, hub=app.app.state.hub, fixture=HubFixture(client=client, hub=app.app.state.hub))
