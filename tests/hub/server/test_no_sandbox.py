"""Fail closed: a hub without bubblewrap runs no uploaded code unless its operator says so.

The sandbox is made unavailable the way a server without the package sees it: `bwrap` is not on
PATH (which holds only `prlimit`). The uploaded package writes a marker file when imported, so a test
can see whether its code ran at all."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.hub.server.conftest import HubFixture
from tests.hub.server.test_checks_and_results import make_log, run_checks
from tests.hub.server.wheels import ENV_SOURCE

from rlhub.hub.schema import CheckStatus, ResultInfo
from rlhub.hub.server.app import create_app
from rlhub.hub.server.config import HubConfig
from rlhub.hub.server.services.checks import CheckWorker


@pytest.fixture
def no_bwrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    prlimit = shutil.which("prlimit")
    assert prlimit is not None
    (bin_dir / "prlimit").symlink_to(prlimit)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert shutil.which("bwrap") is None


def publish_marker_env(hub: HubFixture, marker: Path) -> str:
    token = hub.user("evalco")
    source = f"open({str(marker)!r}, 'a').write('imported\\n')\n"
    hub.publish(
        token, "evalco", "adder", source=source + ENV_SOURCE.format(owner="evalco", name="adder", version="0.1.0")
    )
    return token


def push(hub: HubFixture, token: str, log: Path) -> ResultInfo:
    pushed = hub.client.post(
        "/api/v1/results", json={"log": log.read_text()}, headers={"Authorization": f"Bearer {token}"}
    )
    assert pushed.status_code == 201, pushed.text
    return ResultInfo.model_validate(pushed.json())


@pytest.fixture
def hub_with_config(config: HubConfig, request: pytest.FixtureRequest) -> Iterator[HubFixture]:
    app = create_app(dataclasses.replace(config, **request.param))
    with TestClient(app) as client:
        yield HubFixture(client=client, hub=app.app.state.hub)


@pytest.mark.usefixtures("no_bwrap")
def test_without_a_sandbox_no_uploaded_code_runs(hub: HubFixture, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    log = make_log(tmp_path, "evalco", "adder")  # the honest log, made here before the hub sees anything
    token = publish_marker_env(hub, marker)
    run_checks(hub)
    check = hub.client.get("/api/v1/envs/evalco/adder/versions/0.1.0").json()["check"]
    assert check["status"] == CheckStatus.not_checked.value
    assert check["report"].startswith("not checked: no sandbox on this server") and "bubblewrap" in check["report"]
    assert "--allow-unsandboxed" in check["report"]
    assert 'class="check-not_checked">not checked: no sandbox' in hub.client.get("/evalco/adder").text

    result = push(hub, token, log)
    assert not result.verified and result.note.startswith("not verified: no sandbox on this server")
    assert (result.n, result.score) == (8, pytest.approx(0.5))  # the log's own claim, labelled as such
    assert hub.client.get(f"/api/v1/results/{result.id}").json()["verified"] is False
    assert hub.client.get("/api/v1/envs/evalco/adder/leaderboard").json()["entries"] == []
    assert not marker.exists(), "uploaded code ran without a sandbox"


@pytest.mark.usefixtures("no_bwrap")
@pytest.mark.parametrize("hub_with_config", [{"allow_unsandboxed": True}], indirect=True)
def test_the_operator_can_allow_unsandboxed_runs(hub_with_config: HubFixture, tmp_path: Path) -> None:
    hub = hub_with_config
    marker = tmp_path / "ran"
    log = make_log(tmp_path, "evalco", "adder")
    token = publish_marker_env(hub, marker)
    run_checks(hub)
    check = hub.client.get("/api/v1/envs/evalco/adder/versions/0.1.0").json()["check"]
    assert check["status"] == CheckStatus.passed.value, check["report"]
    assert "WITHOUT a sandbox" in check["report"]
    imports = marker.read_text().count("imported")
    assert imports >= 1
    assert push(hub, token, log).verified
    assert marker.read_text().count("imported") > imports


def test_allow_unsandboxed_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not HubConfig.from_env().allow_unsandboxed
    monkeypatch.setenv("RLHUB_ALLOW_UNSANDBOXED", "1")
    assert HubConfig.from_env().allow_unsandboxed


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap: apt-get install bubblewrap")
def test_versions_left_unchecked_are_checked_once_a_sandbox_exists(
    hub: HubFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = os.environ["PATH"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    hub.publish(hub.user("acme"), "acme", "later")
    run_checks(hub)
    url = "/api/v1/envs/acme/later/versions/0.1.0"
    assert hub.client.get(url).json()["check"]["status"] == CheckStatus.not_checked.value

    monkeypatch.setenv("PATH", path)
    CheckWorker(hub.hub.config, hub.hub.db, hub.hub.store, hub.hub.stop_event).start()
    deadline = time.monotonic() + 120
    while (check := hub.client.get(url).json()["check"])["status"] != CheckStatus.passed.value:
        assert check["status"] in ("pending", "running"), check["report"]
        assert time.monotonic() < deadline, "the requeued check never finished"
        time.sleep(0.2)
    assert "bubblewrap sandbox" in check["report"]
