"""`MCPTools` against real MCP servers: `mcp-server-time` from the package index, and a small server of
our own (tests/core/mcp_servers/misbehaving.py) that sleeps, floods, crashes and spawns children."""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

import rlhub
from rlhub.core.env import Episode
from rlhub.core.errors import ModelError
from rlhub.core.mcp import MCPServerError, MCPTools, serving
from rlhub.core.model import PolicyClient

TIME_SERVER = [sys.executable, "-m", "mcp_server_time", "--local-timezone", "UTC"]
MISBEHAVING = str(Path(__file__).parent / "mcp_servers" / "misbehaving.py")


class Clock(rlhub.ToolEnv):
    """Convert a UTC time to a zone without daylight saving, through the time server's tools."""

    id = "test/clock"
    rubric = rlhub.Rubric(correct=lambda response, answer: response.strip() == answer)

    def make_task(self, rng: random.Random) -> rlhub.Task:
        return rlhub.Task(prompt="What time is it in Tokyo at 12:00 UTC?", answer="21:00")

    def mcp_servers(self, state: rlhub.State) -> list[MCPTools]:
        return [MCPTools(command=TIME_SERVER, timeout_s=10)]


def call(name: str, **arguments: object) -> rlhub.Message:
    return rlhub.Message.assistant(tool_calls=(rlhub.ToolCall(id=name, name=name, arguments=json.dumps(arguments)),))


def scripted(*messages: rlhub.Message) -> PolicyClient:
    replies = iter(messages)
    return PolicyClient(lambda _: next(replies))


def tool_replies(episode: Episode) -> list[str]:
    return [m.content for m in episode.messages if m.role == "tool"]


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for a reaper counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def all_dead(pids: list[int]) -> bool:
    """Whether every pid has died, allowing a SIGKILL a moment to land."""
    deadline = time.monotonic() + 2
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not any(alive(p) for p in pids)


def misbehaving(tmp_path: Path, **options: object) -> tuple[MCPTools, Path]:
    pidfile = tmp_path / "pids"
    return MCPTools(command=[sys.executable, MISBEHAVING, str(pidfile)], **options), pidfile  # type: ignore[arg-type]


def pids(pidfile: Path) -> list[int]:
    return [int(line) for line in pidfile.read_text().split()] if pidfile.exists() else []


def test_time_server_tools_reach_the_model_with_their_schemas() -> None:
    env = Clock()
    task = env.task(0)
    model = scripted(
        call("convert_time", source_timezone="UTC", time="12:00", target_timezone="Asia/Tokyo"),
        rlhub.Message.assistant("21:00"),
    )
    episode = asyncio.run(env.rollout(task, model))
    names = [t.name for t in model.tools]
    assert names == ["get_current_time", "convert_time"]
    convert = model.tools[1].parameters
    assert convert["required"] == ["source_timezone", "time", "target_timezone"]
    assert "24-hour" in convert["properties"]["time"]["description"]
    (reply,) = tool_replies(episode)
    assert json.loads(reply)["target"]["datetime"].endswith("T21:00:00+09:00")
    assert env.score(task, episode.messages).value == 1.0


def test_a_failing_call_is_a_tool_error_and_the_episode_goes_on() -> None:
    env = Clock()
    model = scripted(
        call("convert_time", source_timezone="Mars/Olympus", time="12:00", target_timezone="UTC"),
        call("convert_time"),
        call("no_such_tool"),
        call("get_current_time", timezone="UTC"),
        rlhub.Message.assistant("21:00"),
    )
    episode = asyncio.run(env.rollout(env.task(0), model))
    bad_zone, missing, unknown, fine = tool_replies(episode)
    assert bad_zone.startswith("error:") and "Mars/Olympus" in bad_zone
    assert missing.startswith("error:") and "source_timezone" in missing
    assert unknown.startswith("error: unknown tool 'no_such_tool'")
    assert json.loads(fine)["timezone"] == "UTC"
    assert episode.turns == 5


def test_a_slow_call_is_abandoned_at_its_time_limit(tmp_path: Path) -> None:
    config, _ = misbehaving(tmp_path, timeout_s=1.0)

    async def run() -> tuple[str, float, str]:
        async with serving([config]) as tools:
            sleep = next(t for t in tools if t.spec.name == "sleep")
            start = time.perf_counter()
            slow = await sleep.run({"seconds": 30})
            took = time.perf_counter() - start
            return slow, took, await sleep.run({"seconds": 0})

    slow, took, after = asyncio.run(run())
    assert slow == "error: sleep took longer than 1 s and was abandoned"
    assert took < 5
    assert after == "awake"


def test_output_is_cut_at_the_limit_and_says_so(tmp_path: Path) -> None:
    config, _ = misbehaving(tmp_path, max_output_chars=1000)

    async def run() -> str:
        async with serving([config]) as tools:
            return await next(t for t in tools if t.spec.name == "big").run({"chars": 500_000})

    text = asyncio.run(run())
    assert text.startswith("x" * 1000) and "x" * 1001 not in text
    assert text.endswith("[output cut: 1000 of 500000 characters shown]")


def test_a_crashed_server_answers_every_later_call_with_an_error(tmp_path: Path) -> None:
    config, pidfile = misbehaving(tmp_path)

    class Crashy(Clock):
        def mcp_servers(self, state: rlhub.State) -> list[MCPTools]:
            return [config]

    env = Crashy()
    model = scripted(call("crash"), call("big", chars=3), rlhub.Message.assistant("done"))
    episode = asyncio.run(env.rollout(env.task(0), model))
    crashed, later = tool_replies(episode)
    assert crashed.startswith("error: crash failed") and later.startswith("error: big failed")
    assert episode.turns == 3
    assert all_dead(pids(pidfile))


@pytest.mark.parametrize("ending", ["answer", "model error"])
def test_no_process_outlives_its_episode(tmp_path: Path, ending: str) -> None:
    config, pidfile = misbehaving(tmp_path)

    class Spawning(Clock):
        def mcp_servers(self, state: rlhub.State) -> list[MCPTools]:
            return [config]

    running: list[bool] = []

    def policy(messages: Sequence[rlhub.Message]) -> rlhub.Message:
        if not any(m.role == "tool" for m in messages):
            return call("spawn")
        running.extend(alive(p) for p in pids(pidfile))  # the server and its child, during the episode
        if ending == "model error":
            raise ModelError("the model server went away")
        return rlhub.Message.assistant("done")

    env = Spawning()
    if ending == "model error":
        with pytest.raises(ModelError, match="went away"):
            asyncio.run(env.rollout(env.task(0), PolicyClient(policy)))
    else:
        asyncio.run(env.rollout(env.task(0), PolicyClient(policy)))
    assert running == [True, True]
    assert all_dead(pids(pidfile))


def test_later_episodes_start_their_server_only_when_they_call_a_tool(tmp_path: Path) -> None:
    config, pidfile = misbehaving(tmp_path)

    async def episode(calls: bool) -> None:
        async with serving([config]) as tools:
            assert [t.spec.name for t in tools] == ["sleep", "big", "crash", "spawn"]
            if calls:
                assert await tools[0].run({"seconds": 0}) == "awake"

    asyncio.run(episode(calls=True))  # the first one reads the tool list
    asyncio.run(episode(calls=False))
    assert len(pids(pidfile)) == 1
    asyncio.run(episode(calls=True))
    assert len(pids(pidfile)) == 2


def test_include_selects_tools_and_names_missing_ones(tmp_path: Path) -> None:
    config, _ = misbehaving(tmp_path, include=["big", "sleep"])

    async def names(config: MCPTools) -> list[str]:
        async with serving([config]) as tools:
            return [t.spec.name for t in tools]

    assert asyncio.run(names(config)) == ["big", "sleep"]
    (tmp_path / "other").mkdir()
    bad, _ = misbehaving(tmp_path / "other", include=["big", "rm_rf"])
    with pytest.raises(MCPServerError, match=r"no tool\(s\) rm_rf; it has big, crash, sleep, spawn"):
        asyncio.run(names(bad))


def test_a_server_that_cannot_start_is_a_loud_error_with_its_stderr() -> None:
    broken = MCPTools(command=[sys.executable, "-c", "import sys; sys.exit('no such repository: /nowhere')"])

    async def run() -> None:
        async with serving([broken]):
            pass

    with pytest.raises(MCPServerError, match=r"did not start: .*its stderr ends: no such repository: /nowhere"):
        asyncio.run(run())
