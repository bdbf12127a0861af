import asyncio
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from tests.rollout.envs import Add, Mul, SlowVerifier

from rlhub.core.errors import LogError, ModelError, RetryableModelError, RlhubError
from rlhub.core.types import SCHEMA_VERSION, Completion, Message, Sampling, ToolSpec
from rlhub.rollout import (
    MockClient,
    OpenAIClient,
    RolloutConfig,
    ScriptedClient,
    compute_metrics,
    read_log,
    rescore,
    run,
)
from rlhub.rollout.log import LogHeader, LogWriter
from rlhub.rollout.runner import Collector, make_header
from rlhub.rollout.stub_server import FAULTS, StubPolicy, serve_stub, solve


def config(**overrides: object) -> RolloutConfig:
    base: dict[str, object] = {"n": 10, "r": 2, "concurrency": 4, "progress": False, "backoff_s": 0.001}
    return RolloutConfig(**{**base, **overrides})  # type: ignore[arg-type]


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


def records(path: Path) -> list[dict[str, Any]]:
    """Every line of a log, as written (not deduplicated the way `read_log` does)."""
    return [json.loads(x) for x in path.read_text().splitlines()]


def assert_exactly_once(path: Path, keys: set[tuple[str, int]]) -> None:
    lines = records(path)
    written = [(r["task"]["id"], r["sample"]) for r in lines if r["type"] == "rollout"]
    assert len(written) == len(set(written)) and set(written) == keys  # each pair once, none missing or extra
    assert [r["type"] for r in lines].count("footer") == 1 and lines[-1]["type"] == "footer"
    log = read_log(path)
    assert log.footer is not None and log.footer.metrics == compute_metrics(log.rollouts)


async def test_resume_skips_done_pairs(tmp_path: Path) -> None:
    env = Add()
    path = tmp_path / "run.jsonl"
    said: list[str] = []
    await run(env, MockClient(env, env.tasks(10, "test"), 0.5), config(n=10), path, announce=said.append)
    again = MockClient(env, env.tasks(10, "test"), 0.5)
    again.complete = None  # type: ignore[assignment, method-assign]  # a finished run asks nothing
    await run(env, again, config(n=10), path, announce=said.append)
    assert said == [f"new log {path}", f"resumed 20 of 20 rollouts from {path}"]


async def test_resume_retries_failed_rollouts_and_replaces_their_records(tmp_path: Path) -> None:
    env = Add()
    path = tmp_path / "run.jsonl"
    flaky = iter([ModelError("down")] * 7)
    client = ScriptedClient(lambda m: next(flaky, None) or env.oracle(env.tasks(10, "test")[0], m), name="s")
    first = await run(env, client, config(), path)
    assert first.footer is not None and first.footer.metrics.rollout_status == {"error": 7, "ok": 13}
    said: list[str] = []
    oracle = ScriptedClient(lambda m: next(t.answer for t in env.tasks(10, "test") if t.prompt == tuple(m)), name="s")
    log = await run(env, oracle, config(), path, announce=said.append)
    assert said == [f"resumed 13 of 20 rollouts from {path}"] and len(oracle.calls) == 7
    assert [r.status for r in log.rollouts] == ["ok"] * 20
    assert_exactly_once(path, {(t.id, s) for t in env.tasks(10, "test") for s in range(2)})
    assert [r.status for r in read_log(path).rollouts] == ["ok"] * 20


async def test_resume_refuses_a_different_run_naming_the_setting(tmp_path: Path) -> None:
    env = Add()
    path = tmp_path / "run.jsonl"
    tasks = env.tasks(4, "test")
    await run(env, MockClient(env, tasks, 0.5), config(n=2), path)
    different = [
        (env, MockClient(env, tasks, 0.5), config(n=3), "n"),
        (env, MockClient(env, tasks, 0.5), config(n=2, r=1), "r"),
        (env, MockClient(env, tasks, 0.5), config(n=2, start=2), "start"),
        (env, MockClient(env, tasks, 0.5), config(n=2, seed=1), "seed"),
        (env, MockClient(env, tasks, 0.5), config(n=2, split="train"), "split"),
        (env, MockClient(env, tasks, 0.9), config(n=2), "mock_accuracy"),
        (env, MockClient(env, tasks, 0.5), config(n=2, sampling=Sampling(temperature=0.2)), "temperature"),
        (env, MockClient(env, tasks, 0.5), config(n=2, sampling=Sampling(seed=3)), "sampling_seed"),
        (env, ScriptedClient(lambda m: "1", name="other"), config(n=2), "model"),
        (Add(digits=3), MockClient(Add(digits=3), tasks, 0.5), config(n=2), "config.digits"),
    ]
    for other_env, client, cfg, setting in different:
        with pytest.raises(LogError, match=rf"different run \([^)]*\b{setting}\b[^)]*differ"):
            await run(other_env, client, cfg, path)
    assert len(read_log(path).rollouts) == 4  # untouched


async def test_header_identity_differences() -> None:
    env = Add()
    mock = MockClient(env, env.tasks(2, "test"), 0.6)
    ours = make_header(env, mock, config(n=50, r=2))
    other = make_header(env, MockClient(env, env.tasks(2, "test"), 0.9), config(n=100, r=1))
    assert ours.differences(other) == ["mock_accuracy", "n", "r"]
    later = make_header(env, mock, config(n=50, r=2, concurrency=99, retries=0))  # how, not what: same run
    assert ours.differences(later) == [] and ours.identity() == later.identity()
    served = OpenAIClient("m", "http://127.0.0.1:1/v1", extra_body={"stop_token_ids": (1, 2)})
    written = make_header(env, served, config(sampling=Sampling(stop=("\n",))))
    read_back = LogHeader.model_validate_json(written.model_dump_json())  # tuples come back as lists
    assert read_back.identity() == written.identity()
    assert read_back.differences(make_header(env, served, config())) == ["stop"]


async def test_a_second_writer_of_one_log_is_refused(tmp_path: Path) -> None:
    env = Add()
    path = tmp_path / "run.jsonl"
    with LogWriter(path), pytest.raises(LogError, match="being written by another process"):
        await run(env, ScriptedClient(lambda m: "1"), config(), path)
    await run(env, ScriptedClient(lambda m: "1"), config(), path)
    assert len(read_log(path).rollouts) == 20


async def test_a_footer_followed_by_rollouts_is_stale(tmp_path: Path) -> None:
    env = Add()
    path = tmp_path / "run.jsonl"
    await run(env, ScriptedClient(lambda m: "1"), config(n=2, r=1), path)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines) + lines[1].replace('"attempts":1', '"attempts":2'))  # a later session's retry
    log = read_log(path)
    assert log.footer is None and len(log.rollouts) == 2 and log.rollouts[-1].attempts == 2


async def test_faulty_server_every_rollout_exactly_once_and_only_valid_answers_ok(tmp_path: Path) -> None:
    env = Add()
    policy = StubPolicy(fault_pct=20, hang_s=2.0)
    path = tmp_path / "run.jsonl"
    async with serve_stub(policy) as url, OpenAIClient("stub", url, request_timeout_s=0.5) as client:
        log = await run(env, client, config(n=100, r=2, concurrency=16, retries=10), path)
    assert set(policy.faults) == set(FAULTS) and sum(policy.faults.values()) > 20
    assert [r.status for r in log.rollouts] == ["ok"] * 200, {r.error for r in log.rollouts}
    assert policy.answered == 200  # one valid answer per ok rollout: no fault was taken for an answer
    assert all(r.response == solve(r.task.prompt[-1].content) and r.reward == 1.0 for r in log.rollouts)
    assert_exactly_once(path, {(t.id, s) for t in env.tasks(100, "test") for s in range(2)})


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
    assert report.ok and report.env_hash == report.logged_env_hash and len(report.results) == 20
    assert sorted(r.score.value for r in report.results) == sorted(r.reward for r in read_log(path).rollouts)
    text = path.read_text()
    path.write_text(text.replace('"score":{"value":0.0', '"score":{"value":1.0', 1))
    report = rescore(path)
    assert len(report.mismatches) == 1 and not report.ok and "claims reward 1" in report.reason


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
    many = config(n=50, r=40, concurrency=100)  # 2,000 calls, 100 at a time for 50 ms: about 1 s

    class Slow:
        name = "slow"

        async def complete(self, *args: object, **kwargs: object) -> list[Completion]:
            nonlocal calls
            calls += 1
            await asyncio.sleep(0.05)
            return [Completion(message=Message.assistant("1"))]

    path = tmp_path / "x.jsonl"
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(run(env, Slow(), many, path), 0.5)
    after_cancel = calls
    await asyncio.sleep(0.2)
    assert calls == after_cancel  # nothing runs on after the cancel
    assert len(read_log(path).rollouts) < 2_000
    resumed = config(n=50, r=40, concurrency=64)  # the same run: concurrency is how, not what
    log = await run(env, ScriptedClient(lambda m: "1", name="slow"), resumed, path)
    keys = {(t.id, s) for t in env.tasks(50, "test") for s in range(40)}
    assert {r.key for r in log.rollouts if r.status == "ok"} == keys
    assert_exactly_once(path, keys)


async def test_a_cancelled_run_writes_nothing_after_it_stops(tmp_path: Path) -> None:
    """Scores that arrive while a cancelled run shuts down are dropped (their rollouts run again on
    resume), never written to a closed log from a callback."""
    env = Add()
    problems: list[str] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(
        lambda loop, context: problems.append(
            f"{context['message']} {context.get('task') or context.get('exception')!r:.300}"
        )
    )
    client = MockClient(env, env.tasks(2000, "test"), delay_s=0.02)  # 2,000 x 20 ms / 64 at a time: >= 0.6 s
    for i, window in enumerate([0.2, 0.3, 0.4, 0.5, 0.6]):
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(
                run(env, client, config(n=2000, r=1, concurrency=64), tmp_path / f"{i}.jsonl"), window
            )
        await asyncio.sleep(0.05)
    loop.set_exception_handler(None)
    assert problems == []


def test_collector_returns_rollouts_in_task_order_with_their_model_calls_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Training's use of the engine: no log, task-major order (a GRPO group is r neighbours), and
    each rollout keeps its completions (token ids when the client gives them) though logs do not."""
    monkeypatch.chdir(tmp_path)
    env = Add()
    tokens = Completion(message=Message.assistant("7"), token_ids=(7,), logprobs=(-0.5,), prompt_token_ids=(1, 2))
    with Collector(env, ScriptedClient(lambda messages: tokens), config(n=5, r=3, split="train")) as collect:
        rollouts = collect(4)
    assert [(r.task.index, r.sample) for r in rollouts] == [(i, s) for i in range(4, 9) for s in range(3)]
    assert all(r.completions == (tokens,) and r.score is not None for r in rollouts)
    assert "completions" not in rollouts[0].model_dump_json() and not list(tmp_path.iterdir())


def test_a_failed_rollout_stops_a_collector_loudly() -> None:
    """A failed rollout has no tokens and reward 0: a trainer learning from it would be silently wrong."""
    replies: list[str | Exception] = ["7"] * 5 + [ModelError("the server broke")]
    collect = Collector(Add(), ScriptedClient(replies), config(n=3, r=2, retries=0))
    with collect, pytest.raises(RlhubError, match=r"1 of 6 rollouts failed; .*the server broke"):
        collect(0)
