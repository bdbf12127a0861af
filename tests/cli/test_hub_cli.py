"""The hub commands end to end against a real hub on loopback: in-process through `rlhub.cli.main.main`
(subprocess startup is slow on a busy 2-core box), and once as a real `rlhub` subprocess."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.hub.client import conftest as client_fixtures
from tests.hub.client.conftest import ENV_SOURCE, LiveHub, env_project, free_port, installed, write_wheel

hub_config = client_fixtures.hub_config
live = client_fixtures.live
target_venv = client_fixtures.target_venv

Run = Callable[..., tuple[str, str]]


@pytest.fixture
def rlhub(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[str, str]]:
    """Run `rlhub ARGS` in-process; returns (stdout, stderr) and checks the exit status."""
    from rich.console import Console

    from rlhub.cli import hub as hub_cli
    from rlhub.cli import main as cli_main

    monkeypatch.setattr(hub_cli, "console", Console(width=200))
    monkeypatch.setattr(cli_main, "err", Console(stderr=True, width=200))
    monkeypatch.delenv("RLHUB_TOKEN", raising=False)

    def run(*args: str, ok: bool = True) -> tuple[str, str]:
        try:
            cli_main.main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        assert (code == 0) == ok, out + err
        return out, err

    return run


@pytest.mark.slow
def test_author_and_user_session(
    live: LiveHub, tmp_path: Path, target_venv: Path, rlhub: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = live.user("acme")
    hub = ("--hub", live.url)
    project = env_project(tmp_path, "acme", "demo")

    pushed = rlhub("push", str(project), *hub, "--token", token)[0]
    assert "published acme/demo@0.1.0 (wheel " in pushed and " kB, sdist " in pushed and "· check queued" in pushed
    same_version = write_wheel(tmp_path / "again", "acme", "demo", "0.1.0")
    again = rlhub("push", str(same_version), *hub, "--token", token, ok=False)[1]
    assert "409" in again and "bump the version" in again

    monkeypatch.setattr("getpass.getpass", lambda prompt="": "pw-acme")
    assert "logged in to" in rlhub("login", *hub, "-u", "acme")[0]  # password -> a new token
    login = rlhub("login", *hub, "--token", token)[0]
    assert "logged in to" in login and "as acme" in login
    credentials = Path(os.environ["RLHUB_HOME"]) / "credentials.json"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600 and token in credentials.read_text()

    found = rlhub("search", "echo", *hub)[0]
    assert "acme/demo" in found and "0.1.0" in found
    info = rlhub("info", "acme/demo", *hub)[0]
    assert "rlhub install acme/demo" in info and "acme_demo-0.1.0-py3-none-any.whl" in info

    done = rlhub("install", "acme/demo", *hub, "--python", str(target_venv))[0]
    assert "installed acme-demo 0.1.0 sha256:" in done
    assert installed(target_venv, "acme-demo") == "0.1.0"

    assert "acme/demo@0.1.0: yanked" in rlhub("yank", "acme/demo@0.1.0", "--reason", "bad", *hub)[0]  # saved token
    assert "not yanked" in rlhub("yank", "acme/demo@0.1.0", "--undo", *hub)[0]
    assert "no results for acme/demo yet" in rlhub("leaderboard", "acme/demo", *hub)[0]
    assert "logged out of" in rlhub("logout", *hub)[0] and token not in credentials.read_text()
    assert "401" in rlhub("yank", "acme/demo@0.1.0", *hub, ok=False)[1]  # no saved token any more


@pytest.mark.slow
def test_push_results_lands_on_the_leaderboard(live: LiveHub, tmp_path: Path, rlhub: Run) -> None:
    from rlhub.core.registry import load
    from rlhub.rollout.mock import MockClient
    from rlhub.rollout.runner import RolloutConfig, run, run_sync

    token = live.user("evalco")
    wheel = write_wheel(tmp_path / "dist", "evalco", "echo", "0.1.0", ("rlhub>=0.1",))
    rlhub("push", str(wheel), "--hub", live.url, "--token", token)
    module = tmp_path / "evalco_echo_env.py"
    module.write_text(ENV_SOURCE.format(owner="evalco", name="echo", version="0.1.0", mark="hub"))
    env = load(str(module))
    log = tmp_path / "run.jsonl"
    config = RolloutConfig(n=6, score_workers=1, progress=False)
    run_sync(run(env, MockClient(env, env.tasks(6, "test"), accuracy=0.5), config, log))

    pushed = rlhub("push-results", str(log), "--model", "mock-half", "--hub", live.url, "--token", token)[0]
    assert "mock-half on evalco/echo@0.1.0 scored 0.500" in pushed and "re-scored by the hub" in pushed
    board = rlhub("leaderboard", "evalco/echo", "--hub", live.url)[0]
    assert "mock-half" in board and "0.500" in board


@pytest.mark.slow
def test_eval_push_uploads_the_finished_log(live: LiveHub, tmp_path: Path, rlhub: Run) -> None:
    token = live.user("pushco")
    rlhub("push", str(write_wheel(tmp_path / "dist", "pushco", "echo", "0.1.0", ("rlhub>=0.1",))), "--hub", live.url,
          "--token", token)  # fmt: skip
    module = tmp_path / "pushco_echo_env.py"
    module.write_text(ENV_SOURCE.format(owner="pushco", name="echo", version="0.1.0", mark="hub"))
    out = rlhub("eval", str(module), "--model", "mock", "-n", "6", "--mock-accuracy", "0.5", "--out", str(tmp_path),
                "-q", "--score-workers", "1", "--push", "--hub", live.url, "--token", token)[0]  # fmt: skip
    assert "mock on pushco/echo@0.1.0 scored 0.500" in out and "re-scored by the hub" in out


def test_server_down_is_one_clear_line(tmp_path: Path, rlhub: Run) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    proc = subprocess.run(
        [sys.executable, "-m", "rlhub", "search", "--hub", url], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"cannot reach hub at {url}" in proc.stderr and "rlhub serve" in proc.stderr
    wheel = write_wheel(tmp_path, "acme", "demo", "0.1.0")
    assert "needs a token" in rlhub("push", str(wheel), "--hub", url, ok=False)[1]
    assert "is not a wheel" in rlhub("push", str(Path(__file__)), "--hub", url, ok=False)[1]
