import asyncio
import json
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from tests.rollout.envs import Add, Mul, SlowVerifier

from rlhub.core.errors import LogError, ModelError, RetryableModelError
from rlhub.core.types import SCHEMA_VERSION, Completion, Message, Sampling, ToolSpec
from rlhub.rollout import MockClient, OpenAIClient, RunConfig, ScriptedClient, compute_metrics, read_log, rescore, run
from rlhub.rollout.stub_server import StubPolicy, serve_stub


def config(**overrides: object) -> RunConfig:
    base: dict[str, object] = {"n": 10, "r": 2, "concurrency": 4, "progress": False, "backoff_s": 0.001}
    return RunConfig(**{**base, **overrides})  # type: ignore[arg-type]


async def test_run_writes_a_versioned_log(tmp_path: Path) -> None:
    env = Add()
    cfg = config(n=20, r=3, seed=7)
    client = MockClient(env, env.tasks(20, "test", 7), 0.5)
    log = await run(env, client, cfg, tmp_path / "run.jsonl")
    lines = [json.loads(x) for x in (tmp_path / "run.jsonl").read_text().splitlines()]
    header, records, footer = lines[0], lines[1:-1], lines[-1]
    assert header["type"] == "header" and header["schema_version"] == SCHEMA_VERSION
    assert header["env"] == "rollouttests/add@1.0.0" and header["env_config"] == {"digits": 2}
    assert (header["model"], header["n"], header["r"], header["seed"], header["split"]) == ("mock", 20, 3, 7, "test")
    assert len(header["env_hash"]) == 16 and header["rlhub_version"]
    assert len(records) == 60 and {r["type"] for r in records} == {"rollout"}
    assert sorted((r["task"]["id"], r["sample"]) for r in records) == sorted(
        (f"test-7-{i}", s) for i in range(20) for s in range(3)
    )
    assert footer["type"] == "footer"
    assert footer["metrics"]["mean"] == pytest.approx(0.5, abs=0.1)
    read = read_log(tmp_path / "run.jsonl")
    assert len(read.rollouts) == 60 and read.footer == log.footer
    assert read.footer is not None and read.footer.metrics == compute_metrics(read.rollouts)
    assert set(read.footer.metrics.by_tag) <= {"big", "small"}


async def test_tool_episodes_against_a_real_server(tmp_path: Path) -> None:
    async with serve_stub(StubPolicy(fail_first=3)) as url, OpenAIClient("stub", url) as client:
        log = await run(Mul(), client, config(concurrency=1), tmp_path / "run.jsonl")
    assert log.footer is not None and log.footer.metrics.mean == 1.0
    assert all(r.turns == 2 and r.status == "ok" for r in log.rollouts)
    assert sum(r.attempts - 1 for r in log.rollouts) == 3  # the three 503s were retried


class Failing:
    name = "failing"

    def __init__(self, error: Exception):
        self.error = error

    async def complete(
        self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] = (), sampling: Sampling = Sampling()
    ) -> list[Completion]:
        raise self.error


class Hanging:
    name = "hanging"

    async def complete(self, *args: object, **kwargs: object) -> list[Completion]:
        await asyncio.sleep(60)
        raise AssertionError


async def test_failed_rollouts_are_recorded_not_lost(tmp_path: Path) -> None:
    env = Add()
    log = await run(env, Failing(RetryableModelError("busy")), config(retries=2), tmp_path / "a.jsonl")
    assert len(log.rollouts) == 20
    assert all(r.status == "error" and r.attempts == 3 and r.reward == 0 and r.error == "busy" for r in log.rollouts)
    log = await run(env, Failing(ModelError("bad request")), config(retries=2), tmp_path / "b.jsonl")
    assert all(r.status == "error" and r.attempts == 1 for r in log.rollouts)
    log = await run(env, Hanging(), config(timeout_s=0.05, concurrency=20), tmp_path / "c.jsonl")
    assert all(r.status == "timeout" for r in log.rollouts) and len(log.rollouts) == 20
    assert log.footer is not None and log.footer.metrics.rollout_status == {"timeout": 20}
    broken = ScriptedClient(lambda messages: 1 / 0)  # type: ignore[arg-type, return-value]
    log = await run(env, broken, config(), tmp_path / "d.jsonl")
    assert all(r.status == "error" and "ZeroDivisionError" in (r.error or "") for r in log.rollouts)


async def test_slow_verifier_does_not_stall_generation(tmp_path: Path) -> None:
    env = SlowVerifier()
    tasks = env.tasks(12, "test")
    mock = MockClient(env, tasks, 1.0, delay_s=0.02)
    last_call = 0.0

    async def complete(*args: object, **kwargs: object) -> list[Completion]:
        nonlocal last_call
        out = await mock.complete(*args, **kwargs)  # type: ignore[arg-type]
        last_call = time.perf_counter()
        return out

    mock_client = ScriptedClient([])
    mock_client.complete = complete  # type: ignore[method-assign]
    lag = 0.0

    async def heartbeat() -> None:
        nonlocal lag
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lag = max(lag, time.perf_counter() - before - 0.01)

    beat = asyncio.create_task(heartbeat())
    start = time.perf_counter()
    log = await run(env, mock_client, config(n=12, r=1, concurrency=4, score_workers=2), tmp_path / "s.jsonl")
    total = time.perf_counter() - start
    beat.cancel()
    assert log.footer is not None and log.footer.metrics.mean == 1.0
    assert total >= 12 * 0.2 / 2  # scoring really took its time, in two processes
    assert last_call - start < total / 2  # generation finished long before scoring did
    assert lag < 0.19  # and the event loop stayed responsive (one score on the loop would block it 0.2 s)


async def test_resume_skips_done_pairs_and_extends(tmp_path: Path) -> None:
    env = Add()
    path = tmp_path / "run.jsonl"
    await run(env, MockClient(env, env.tasks(10, "test"), 0.5), config(n=10), path)
    calls = ScriptedClient(lambda messages: "0", name="mock")
    log = await run(env, calls, config(n=15), path)
    assert len(calls.calls) == 10  # only the 5 new tasks x 2 samples
    records = [json.loads(x) for x in path.read_text().splitlines() if '"type":"rollout"' in x]
    keys = [(r["task"]["id"], r["sample"]) for r in records]
    assert len(keys) == len(set(keys)) == 30 == len(log.rollouts)
    again = ScriptedClient([], name="mock")
    await run(env, again, config(n=15), path)
    assert again.calls == []


async def test_resume_retries_failed_rollouts(tmp_path: Path) -> None:
    env = Add()
    path = tmp_path / "run.jsonl"
    down = Failing(ModelError("down"))
    down.name = "mock"
    await run(env, down, config(), path)
    log = await run(env, MockClient(env, env.tasks(10, "test"), 1.0, seed=0), config(), path)
    assert [r.status for r in log.rollouts] == ["ok"] * 20
    assert [r.status for r in read_log(path).rollouts] == ["ok"] * 20


async def test_resume_refuses_a_different_run(tmp_path: Path) -> None:
    env = Add()
    path = tmp_path / "run.jsonl"
    await run(env, ScriptedClient(lambda m: "1"), config(n=2), path)
    with pytest.raises(LogError, match=r"different run.*model"):
        await run(env, MockClient(env, env.tasks(2, "test"), 1.0), config(n=2), path)
    with pytest.raises(LogError, match="env_config"):
        await run(Add(digits=3), ScriptedClient(lambda m: "1"), config(n=2), path)


async def test_truncated_last_line_is_tolerated_and_cut(tmp_path: Path) -> None:
    env = Add()
    path = tmp_path / "run.jsonl"
    await run(env, ScriptedClient(lambda m: "1"), config(n=3, r=1), path)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-2]) + lines[-2][:40])  # lost the footer, last rollout half written
    partial = read_log(path)
    assert partial.truncated and partial.footer is None and len(partial.rollouts) == 2
    log = await run(env, ScriptedClient(lambda m: "1"), config(n=3, r=1), path)
    assert len(log.rollouts) == 3 and not read_log(path).truncated
    path.write_text(path.read_text().replace('"type":"rollout"', '"type":"oops"', 1))
    with pytest.raises(LogError, match=r"run.jsonl:2: .*oops"):
        read_log(path)


async def test_rescore_reproduces_logged_rewards(tmp_path: Path) -> None:
    env = Mul()
    path = tmp_path / "run.jsonl"
    await run(env, MockClient(env, env.tasks(10, "test"), 0.5), config(), path)
    report = rescore(path)
    assert report.env_hash_matches and len(report.results) == 20 and not report.mismatches
    assert sorted(r.score.value for r in report.results) == sorted(r.reward for r in read_log(path).rollouts)
    text = path.read_text()
    path.write_text(text.replace('"score":{"value":0.0', '"score":{"value":1.0', 1))
    assert len(rescore(path).mismatches) == 1


async def test_seeded_sampling_differs_per_sample(tmp_path: Path) -> None:
    seen: list[int | None] = []

    class Recording:
        name = "rec"

        async def complete(
            self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] = (), sampling: Sampling = Sampling()
        ) -> list[Completion]:
            seen.append(sampling.seed)
            return [Completion(message=Message.assistant("1"))]

    await run(Add(), Recording(), config(n=2, r=3, sampling=Sampling(seed=10)), tmp_path / "x.jsonl")
    assert sorted(seen) == [10, 10, 11, 11, 12, 12]
    seen.clear()
    await run(Add(), Recording(), config(n=1, r=2), tmp_path / "y.jsonl")
    assert seen == [None, None]


async def test_cancelling_a_run_stops_generation(tmp_path: Path) -> None:
    env = Add(digits=4)
    calls = 0
    many = config(n=50, r=1000, concurrency=1200)  # 50,000 quick calls: far more than fit in the window

    class Slow:
        name = "slow"

        async def complete(self, *args: object, **kwargs: object) -> list[Completion]:
            nonlocal calls
            calls += 1
            await asyncio.sleep(0.01)
            return [Completion(message=Message.assistant("1"))]

    path = tmp_path / "x.jsonl"
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(run(env, Slow(), many, path), 0.5)
    after_cancel = calls
    await asyncio.sleep(0.2)
    assert calls == after_cancel  # nothing runs on after the cancel
    assert len(read_log(path).rollouts) < 50_000
    resumed = config(n=50, r=20, concurrency=64)
    log = await run(env, ScriptedClient(lambda m: "1", name="slow"), resumed, path)
    ok = {r.key for r in log.rollouts if r.status == "ok"}
    assert {(t.id, s) for t in env.tasks(50, "test") for s in range(20)} <= ok
