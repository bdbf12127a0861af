"""Fail closed: a hub without bubblewrap runs no uploaded code unless its operator says so.

The sandbox is made unavailable the way a server without the package sees it: `bwrap` is not on
PATH (which holds only `prlimit`). The uploaded package writes a marker file when imported, so a test
can see whether its code ran at all."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.hub.server.conftest import HubFixture, LiveHub, free_port
from tests.hub.server.test_checks_and_results import make_log, run_checks
from tests.hub.server.wheels import ENV_SOURCE, make_wheel, upload_form

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


def marker_source(marker: Path) -> str:
    """The test environment, plus a line that appends to `marker` whenever it is imported."""
    source = f"open({str(marker)!r}, 'a').write('imported\\n')\n"
    return source + ENV_SOURCE.format(owner="evalco", name="adder", version="0.1.0")


def publish_marker_env(hub: HubFixture, marker: Path) -> str:
    token = hub.user("evalco")
    hub.publish(token, "evalco", "adder", source=marker_source(marker))
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
    log = make_log(tmp_path, "evalco", "adder", source=marker_source(marker))  # the published code: hashes agree
    here = marker.read_text().count("imported")
    token = publish_marker_env(hub, marker)
    run_checks(hub)
    check = hub.client.get("/api/v1/envs/evalco/adder/versions/0.1.0").json()["check"]
    assert check["status"] == CheckStatus.passed.value, check["report"]
    assert "WITHOUT a sandbox" in check["report"]
    imports = marker.read_text().count("imported")
    assert imports > here
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


@pytest.mark.slow
@pytest.mark.usefixtures("no_bwrap")
@pytest.mark.parametrize("allow", [False, True])
def test_rlhub_serve_fails_closed_unless_told(tmp_path: Path, allow: bool) -> None:
    """`rlhub serve` as an operator runs it, `bwrap` off PATH: a warning at start, then the upload's
    code runs only with `--allow-unsandboxed`."""
    env = {**os.environ, "RLHUB_HOME": str(tmp_path / "home")}
    env.pop("RLHUB_DATABASE_URL", None)
    env.pop("RLHUB_ALLOW_UNSANDBOXED", None)
    rlhub = [sys.executable, "-m", "rlhub"]
    created = subprocess.run(
        [*rlhub, "admin", "create-user", "evalco"], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    token = created.stdout.strip().splitlines()[-1]
    port = free_port()
    flags = ["--allow-unsandboxed"] if allow else []
    server = subprocess.Popen(
        [*rlhub, "serve", "--port", str(port), *flags], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        assert server.stdout is not None
        started = [server.stdout.readline().decode() for _ in range(2)]
        expected = "uploaded code WILL run unsandboxed" if allow else "uploads stay 'not checked'"
        assert started[0].startswith("warning: no sandbox on this server") and expected in started[0], started
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while not _answers(url):
            assert time.monotonic() < deadline and server.poll() is None, "rlhub serve did not start"
            time.sleep(0.2)
        marker = tmp_path / "ran"
        source = f"open({str(marker)!r}, 'a').write('imported\\n')\n"
        filename, data = make_wheel(
            "evalco", "adder", source=source + ENV_SOURCE.format(owner="evalco", name="adder", version="0.1.0")
        )
        form, files = upload_form(filename, data, "evalco", "adder")
        assert httpx.post(url + "/legacy/", data=form, files=files, auth=("__token__", token)).status_code == 200
        deadline = time.monotonic() + 120
        while (check := httpx.get(url + "/api/v1/envs/evalco/adder/versions/0.1.0").json()["check"])["status"] in (
            "pending",
            "running",
        ):
            assert time.monotonic() < deadline, "the check never finished"
            time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=20)
    if allow:
        assert check["status"] == CheckStatus.passed.value and "WITHOUT a sandbox" in check["report"], check
        assert marker.exists()
    else:
        assert check["status"] == CheckStatus.not_checked.value, check
        assert not marker.exists()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/api/v1/health").status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.usefixtures("no_bwrap")
def test_push_results_says_not_verified(
    live_hub: LiveHub, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.console import Console

    from rlhub.cli import hub as hub_cli
    from rlhub.cli.main import main

    monkeypatch.setattr(hub_cli, "console", Console(width=300))
    log = make_log(tmp_path, "evalco", "adder")
    token = publish_marker_env(live_hub.fixture, tmp_path / "ran")
    with pytest.raises(SystemExit) as done:
        main(["push-results", str(log), "--hub", live_hub.url, "--token", token])
    out = capsys.readouterr().out
    assert done.value.code == 0, out
    assert "claims 0.500" in out and "; not verified: no sandbox on this server" in out, out
    assert "re-scored" not in out and "leaderboard:" not in out
