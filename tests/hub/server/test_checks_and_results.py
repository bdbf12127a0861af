"""The background check (check_env in the sandbox) and results re-scored by the hub."""

from __future__ import annotations

import dataclasses
import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.hub.server.conftest import HubFixture
from tests.hub.server.wheels import ENV_SOURCE

from rlhub.core.registry import load
from rlhub.hub.schema import CheckStatus, Leaderboard, ResultInfo
from rlhub.hub.server.app import create_app
from rlhub.hub.server.config import HubConfig
from rlhub.hub.server.services.checks import CheckWorker
from rlhub.rollout import MockClient, RolloutConfig, rescore, run_sync
from rlhub.rollout import run as run_eval


def run_checks(hub: HubFixture) -> None:
    worker = CheckWorker(hub.hub.config, hub.hub.db, hub.hub.store, hub.hub.stop_event)
    while worker.step():
        pass


def test_check_runs_on_upload_and_is_shown(hub: HubFixture) -> None:
    token = hub.user("acme")
    hub.publish(token, "acme", "good")
    broken = ENV_SOURCE.format(owner="acme", name="broken", version="0.1.0").replace(
        "float(response.strip() == str(answer))", "1.0"
    )
    hub.publish(token, "acme", "broken", source=broken)
    run_checks(hub)
    good = hub.client.get("/api/v1/envs/acme/good/versions/0.1.0").json()["check"]
    assert good["status"] == CheckStatus.passed.value, good["report"]
    assert "sandbox" in good["report"]
    bad = hub.client.get("/api/v1/envs/acme/broken/versions/0.1.0").json()["check"]
    assert bad["status"] == CheckStatus.failed.value
    assert any(not r["ok"] and "wrong answers" in r["name"] for r in bad["results"])
    assert "checked: passed" in hub.client.get("/acme/good").text


def test_the_background_worker_checks_new_uploads(config: HubConfig) -> None:
    app = create_app(dataclasses.replace(config, run_checks=True))
    with TestClient(app) as client:
        hub = HubFixture(client=client, hub=app.app.state.hub)
        hub.publish(hub.user("acme"), "acme", "auto")
        deadline = time.monotonic() + 120
        while (status := client.get("/api/v1/envs/acme/auto/versions/0.1.0").json()["check"]["status"]) in (
            "pending",
            "running",
        ):
            assert time.monotonic() < deadline, "the check never finished"
            time.sleep(0.2)
        assert status == CheckStatus.passed.value


def test_check_has_no_network(hub: HubFixture) -> None:
    """The uploaded code runs sandboxed: a connection to a listening loopback port fails there."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        source = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n"
        source += ENV_SOURCE.format(owner="acme", name="phone", version="0.1.0")
        token = hub.user("acme")
        hub.publish(token, "acme", "phone", source=source)
        run_checks(hub)
    check = hub.client.get("/api/v1/envs/acme/phone/versions/0.1.0").json()["check"]
    assert check["status"] == CheckStatus.error.value
    assert "Network is unreachable" in check["report"] or "Connection refused" in check["report"], check["report"]


def test_check_memory_is_bounded(hub: HubFixture) -> None:
    source = "hog = bytearray(6 << 30)\n" + ENV_SOURCE.format(owner="acme", name="hog", version="0.1.0")
    hub.publish(hub.user("acme"), "acme", "hog", source=source)
    run_checks(hub)
    check = hub.client.get("/api/v1/envs/acme/hog/versions/0.1.0").json()["check"]
    assert check["status"] == CheckStatus.error.value and "MemoryError" in check["report"], check["report"]


def make_log(tmp_path: Path, owner: str, name: str, n: int = 8, source: str | None = None) -> Path:
    """A log of the environment whose module is `source` (the hub's default wheel's when None)."""
    module = tmp_path / f"{owner}_{name}_env.py"
    module.write_text(source or ENV_SOURCE.format(owner=owner, name=name, version="0.1.0"))
    env = load(str(module))
    tasks = env.tasks(n, "test")
    out = tmp_path / "run.jsonl"
    config = RolloutConfig(n=n, score_workers=1, progress=False)
    run_sync(run_eval(env, MockClient(env, tasks, accuracy=0.5), config, out))
    return out


def test_results_are_rescored_and_ranked(hub: HubFixture, tmp_path: Path) -> None:
    token = hub.user("evalco")
    hub.publish(token, "evalco", "adder")
    log = make_log(tmp_path, "evalco", "adder")
    auth = {"Authorization": f"Bearer {token}"}
    pushed = hub.client.post("/api/v1/results", json={"log": log.read_text(), "model": "mock-50"}, headers=auth)
    assert pushed.status_code == 201, pushed.text
    result = ResultInfo.model_validate(pushed.json())
    assert (result.model, result.n, result.version) == ("mock-50", 8, "0.1.0")
    assert result.score == pytest.approx(0.5)
    board = Leaderboard.model_validate(hub.client.get("/api/v1/envs/evalco/adder/leaderboard").json())
    assert [e.result.id for e in board.entries] == [result.id]
    page = hub.client.get("/evalco/adder").text
    assert "mock-50" in page and "<svg" in page


def test_tampered_logs_are_rejected_with_a_reason(hub: HubFixture, tmp_path: Path) -> None:
    token = hub.user("evalco")
    hub.publish(token, "evalco", "adder")
    lines = make_log(tmp_path, "evalco", "adder").read_text().splitlines()
    auth = {"Authorization": f"Bearer {token}"}

    def push(records: list[str]) -> dict[str, str]:
        response = hub.client.post("/api/v1/results", json={"log": "\n".join(records) + "\n"}, headers=auth)
        assert response.status_code == 422, response.text
        return response.json()["error"]

    wrong = next(i for i, line in enumerate(lines) if '"rollout"' in line and '"value":0.0' in line)
    inflated = lines.copy()
    inflated[wrong] = (
        lines[wrong].replace('"value":0.0', '"value":1.0').replace('"status":"incorrect"', '"status":"correct"')
    )
    error = push(inflated)
    assert error["code"] == "tampered" and "claims reward 1" in error["message"]

    record = json.loads(lines[wrong])
    record["task"]["answer"] = record["messages"][-1]["content"]  # make the wrong answer "right"
    record["score"] = {**record["score"], "value": 1.0, "status": "correct"}
    forged = lines.copy()
    forged[wrong] = json.dumps(record)
    assert "differs" in push(forged)["message"]

    unknown = [lines[0].replace("evalco/adder@0.1.0", "evalco/adder@9.9.9"), *lines[1:]]
    assert push(unknown)["code"] == "unknown_version"


def test_the_hub_and_view_rescore_refuse_altered_tasks_and_other_hashes_with_one_reason(
    hub: HubFixture, tmp_path: Path
) -> None:
    """One contract (`rlhub.verify.rescore`): the hub's sandboxed re-score and `rlhub view --rescore`
    (`rlhub.rollout.rescore`) refuse the same logs with the same first reason."""
    token = hub.user("evalco")
    hub.publish(token, "evalco", "adder")
    log = make_log(tmp_path, "evalco", "adder")
    lines = log.read_text().splitlines()
    wrong = next(i for i, line in enumerate(lines) if '"rollout"' in line and '"value":0.0' in line)

    def altered(index: int, change: Callable[[dict[str, Any]], None]) -> Path:
        record = json.loads(lines[index])
        change(record)
        path = tmp_path / f"altered-{len(list(tmp_path.glob('altered-*')))}.jsonl"
        path.write_text("\n".join([*lines[:index], json.dumps(record), *lines[index + 1 :]]) + "\n")
        return path

    def answer(record: dict[str, Any]) -> None:
        record["task"]["answer"] = record["messages"][-1]["content"]  # the wrong answer made "right"

    def prompt(record: dict[str, Any]) -> None:
        record["task"]["prompt"][-1]["content"] = "What is 1 + 1?"

    def env_hash(header: dict[str, Any]) -> None:
        header["env_hash"] = "0123456789abcdef"

    task = json.loads(lines[wrong])["task"]["id"]
    cases = [(altered(wrong, answer), "task"), (altered(wrong, prompt), "task"), (altered(0, env_hash), "hash")]
    for path, rule in cases:
        local = rescore(path)
        assert not local.ok
        assert local.reason.startswith(
            f"task {task} differs" if rule == "task" else "the log was written with evalco/adder@0.1.0 of content hash"
        )
        pushed = hub.client.post(
            "/api/v1/results", json={"log": path.read_text()}, headers={"Authorization": f"Bearer {token}"}
        )
        assert pushed.status_code == 422, pushed.text
        assert pushed.json()["error"] == {"code": "tampered", "message": f"rejected: {local.reason}"}
    assert rescore(log).ok


def test_a_malformed_record_is_invalid_and_named(hub: HubFixture, tmp_path: Path) -> None:
    """The hub reads only the header itself; the records are parsed in the sandbox, which names the bad line."""
    token = hub.user("evalco")
    hub.publish(token, "evalco", "adder")
    lines = make_log(tmp_path, "evalco", "adder").read_text().splitlines()
    log = "\n".join([lines[0], lines[1], "[1]", *lines[2:]]) + "\n"
    pushed = hub.client.post("/api/v1/results", json={"log": log}, headers={"Authorization": f"Bearer {token}"})
    assert pushed.status_code == 400, pushed.text
    assert pushed.json()["error"]["code"] == "invalid" and "run.jsonl:3: not a valid rollout log line" in pushed.text


def test_the_exploit_battery_runs_on_upload_and_the_version_page_shows_it(hub: HubFixture) -> None:
    token = hub.user("acme")
    hub.publish(token, "acme", "sound")
    hackable = ENV_SOURCE.format(owner="acme", name="hackable", version="0.1.0").replace(
        "float(response.strip() == str(answer))", "float(str(answer) in response.replace(',', ' ').split())"
    )
    hub.publish(token, "acme", "hackable", source=hackable)
    run_checks(hub)
    sound = hub.client.get("/api/v1/envs/acme/sound/versions/0.1.0").json()["check"]
    exploits = {r["name"]: r for r in sound["results"] if r["name"].startswith("exploit: ")}
    assert exploits["exploit: number spam"] == {
        "name": "exploit: number spam",
        "ok": True,
        "detail": "0.00 ≤ wrong-answer ceiling 0.00, 5 task(s)",
        "score": 0.0,
        "ceiling": 0.0,
    }
    assert "✔ acme/sound@0.1.0: exploit: hedge (number) — 0.00 ≤ wrong-answer ceiling 0.00" in sound["report"]
    bad = hub.client.get("/api/v1/envs/acme/hackable/versions/0.1.0").json()["check"]
    assert bad["status"] == CheckStatus.failed.value
    caught = {r["name"] for r in bad["results"] if not r["ok"]}
    assert {"exploit: number spam", "exploit: hedge (number)", "exploit: unclosed <think>"} <= caught
    page = hub.client.get("/acme/hackable").text
    assert 'id="exploits-0.1.0"' in page and "exploits held" in page
    assert "<td>✘ number spam</td>" in page and "<td>✔ prompt echo</td>" in page
    assert "<td>1.00</td><td>0.00</td>" in page
