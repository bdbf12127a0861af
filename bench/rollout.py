"""Rollout throughput: rlhub's runner vs the AsyncOpenAI + asyncio.Semaphore pattern, on one local stub.

All sides run the same environments and tasks against the same stub server (bench/_stub_server.py, its
own process; its CPU share is reported to show it is not the bottleneck), which answers every request
with a fixed-length completion after `--delay` seconds. Sides:

- `rlhub`: `rlhub.rollout.run` with `OpenAIClient` (aiohttp, uvloop when installed, process-pool scoring)
- `sdk`: the `openai` AsyncOpenAI client behind an asyncio.Semaphore, scoring inline: the pattern
  verifiers and most eval scripts use (default httpx transport, default asyncio loop)
- `sdk-aiohttp`: the same, with the SDK's aiohttp transport (`openai.DefaultAioHttpClient`)

Episodes: `single` (one model call) and `tool` (4 model calls: 3 tool calls, then an answer).
Each scenario runs in a fresh process with a wall-clock budget; throughput = rollouts finished /
elapsed. Latency overhead = rollout time minus the stub's delay per model call. CPU per rollout counts
the whole client process and its children (rlhub's scoring workers).

    python bench/rollout.py --quick      # under a minute
    python bench/rollout.py              # 64 / 1,024 / 8,192 in flight x both episodes x all sides

Last line: JSON with rollouts_per_s (rlhub, 1,024 in flight, single turn), peer_rollouts_per_s (the sdk
pattern, same), ratio, failed (failed rlhub rollouts over all scenarios), and the rest of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


# --- the measured side, in its own process -----------------------------------------------------------


def _envs() -> dict[str, Any]:
    import random

    import rlhub
    from rlhub import Message, MultiTurnEnv, Rubric, SingleTurnEnv, State, Task, ToolSpec
    from rlhub.core.tools import parse_tool_calls

    def right(response: str, reference: object) -> bool:
        return response.startswith(str(reference))

    @rlhub.environment("bench/single", version="1.0.0")
    class Single(SingleTurnEnv):
        rubric = Rubric(correct=right)

        def make_task(self, rng: random.Random) -> Task:
            return Task(prompt=f"Say ok. ({rng.random():.12f})", answer="ok")

    lookup = ToolSpec(name="lookup", parameters={"type": "object", "properties": {"key": {"type": "string"}}})

    @rlhub.environment("bench/tool", version="1.0.0")
    class Tool(MultiTurnEnv):
        max_turns = 4
        rubric = Rubric(correct=right)

        def make_task(self, rng: random.Random) -> Task:
            return Task(prompt=f"Look it up. ({rng.random():.12f})", answer="ok")

        def tool_specs(self, state: State) -> list[ToolSpec]:
            return [lookup]

        def is_done(self, state: State, message: Message) -> bool:
            return not message.tool_calls

        async def env_response(self, state: State, message: Message) -> list[Message]:
            calls, _ = parse_tool_calls(message)
            return [Message.tool("value", c.id, c.name) for c in calls]

    return {"single": Single(), "tool": Tool()}


class SDKModel:
    """The AsyncOpenAI client as a ModelClient, the way an eval script wraps it."""

    name = "stub"

    def __init__(self, client: Any):
        self.client = client

    async def complete(self, messages: Sequence[Any], *, tools: Sequence[Any] = (), sampling: Any = None) -> list[Any]:
        from rlhub import Completion, Message, ToolCall

        extra = {"tools": [t.to_openai() for t in tools]} if tools else {}
        response = await self.client.chat.completions.create(
            model="stub", messages=[m.to_openai() for m in messages], temperature=1.0, **extra
        )
        out = []
        for choice in response.choices:
            calls = tuple(
                ToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments)
                for c in choice.message.tool_calls or ()
            )
            out.append(Completion(message=Message.assistant(choice.message.content or "", calls)))
        return out


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


async def _peer(env: Any, n: int, c: int, budget: float, url: str, aiohttp: bool) -> dict[str, Any]:
    import openai

    http = openai.DefaultAioHttpClient() if aiohttp else None
    client = openai.AsyncOpenAI(base_url=url, api_key="bench", http_client=http)
    model = SDKModel(client)
    started, cpu = time.perf_counter(), _cpu()
    tasks = env.tasks(n, "train")  # inside the timed part, as in rlhub's run
    semaphore = asyncio.Semaphore(c)
    latencies: list[tuple[float, int]] = []
    failures: list[str] = []

    async def one(task: Any) -> None:
        async with semaphore:
            began = time.perf_counter()
            try:
                episode = await env.rollout(task, model)
                env.score(task, episode.messages, episode.info)
                latencies.append((time.perf_counter() - began, episode.turns))
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}"[:200])

    pending = [asyncio.create_task(one(t)) for t in tasks]
    _, unfinished = await asyncio.wait(pending, timeout=budget)
    elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
    for task in unfinished:
        task.cancel()
    with suppress(TimeoutError):  # a collapsed pool can take minutes to unwind; the figures are in
        await asyncio.wait_for(asyncio.gather(*unfinished, return_exceptions=True), 5)
        await asyncio.wait_for(client.close(), 5)
    return {"elapsed": elapsed, "cpu": cpu, "latencies": latencies, "failed": len(failures), "errors": failures[:3]}


async def _rlhub(env: Any, n: int, c: int, budget: float, url: str) -> dict[str, Any]:
    from rlhub.rollout import OpenAIClient, RolloutConfig, read_log, run

    config = RolloutConfig(n=n, r=1, concurrency=c, split="train", progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.jsonl"
        async with OpenAIClient("stub", url, max_connections=c) as client:
            started, cpu = time.perf_counter(), _cpu()
            with suppress(TimeoutError):
                await asyncio.wait_for(run(env, client, config, out), budget)
            elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
        rollouts = read_log(out).rollouts
    ok = [r for r in rollouts if r.status == "ok"]
    errors = [r.error or r.status for r in rollouts if r.status != "ok"]
    return {
        "elapsed": elapsed,
        "cpu": cpu,
        "latencies": [(r.duration_s, r.turns) for r in ok],
        "failed": len(errors),
        "errors": errors[:3],
    }


def scenario(spec: dict[str, Any]) -> dict[str, Any]:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    env = _envs()[spec["episode"]]
    n, c, budget, url = spec["n"], spec["c"], spec["budget"], spec["url"]
    if spec["impl"] == "rlhub":
        from rlhub.rollout import run_sync

        result = run_sync(_rlhub(env, n, c, budget, url))
    else:
        result = asyncio.run(_peer(env, n, c, budget, url, aiohttp=spec["impl"] == "sdk-aiohttp"))
    cpu = result.pop("cpu")
    latencies = result.pop("latencies")
    done = len(latencies)
    overheads = sorted(max(0.0, t - turns * spec["delay"]) * 1000 for t, turns in latencies) or [0.0]
    return {
        **spec,
        **result,
        "done": done,
        "rollouts_per_s": done / result["elapsed"],
        "p50_overhead_ms": statistics.median(overheads),
        "p99_overhead_ms": overheads[min(len(overheads) - 1, int(0.99 * len(overheads)))],
        "cpu_ms_per_rollout": 1000 * cpu / done if done else None,
    }


# --- the driver -----------------------------------------------------------------------------------


def _proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the headline scenarios only, under a minute")
    parser.add_argument("--delay", type=float, default=0.05, help="stub latency per model call, seconds")
    parser.add_argument("--tokens", type=int, default=32, help="completion length")
    parser.add_argument("--budget", type=float, default=None, help="seconds per scenario (default 5 quick, 15 full)")
    parser.add_argument("--only", help="run one scenario, e.g. sdk:64:single")
    parser.add_argument("--scenario", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scenario:
        print(json.dumps(scenario(json.loads(args.scenario))), flush=True)
        os._exit(0)  # skip interpreter teardown: a collapsed client may still hold thousands of sockets
    budget = args.budget or (7.0 if args.quick else 20.0)
    sides = ("rlhub", "sdk", "sdk-aiohttp")
    if args.only:
        side, c, episode = args.only.split(":")
        plan = [(side, int(c), episode)]
    elif args.quick:
        plan = [(side, 1024, "single") for side in sides] + [("rlhub", 8192, "single")]
    else:
        plan = [(side, c, e) for e in ("single", "tool") for c in (64, 1024, 8192) for side in sides]
    stub = subprocess.Popen(
        [sys.executable, str(HERE / "_stub_server.py"), "--delay", str(args.delay), "--tokens", str(args.tokens)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert stub.stdout is not None
    url = stub.stdout.readline().split()[-1]
    results = []
    try:
        for impl, c, episode in plan:
            n = c if c > 1024 else max(2 * c, 1024)  # at 8,192 one wave: all in flight at once
            spec = {"impl": impl, "c": c, "episode": episode, "n": n, "budget": budget, "url": url, "delay": args.delay}
            server_cpu, began = _proc_cpu(stub.pid), time.perf_counter()
            proc = subprocess.run(
                [sys.executable, __file__, "--scenario", json.dumps(spec)],
                capture_output=True,
                text=True,
                timeout=budget + 120,
            )
            wall = time.perf_counter() - began
            if proc.returncode:
                print(proc.stderr[-2000:], file=sys.stderr)
                raise SystemExit(f"scenario {impl}/{c}/{episode} crashed")
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            result["server_cpu_share"] = (_proc_cpu(stub.pid) - server_cpu) / wall
            results.append(result)
            cpu = result["cpu_ms_per_rollout"]
            print(
                f"{impl:>11} c={c:<5} {episode:<6} {result['rollouts_per_s']:8.0f} rollouts/s  "
                f"done {result['done']:>6}/{n:<6} failed {result['failed']:<5} "
                f"overhead p50 {result['p50_overhead_ms']:7.1f} ms p99 {result['p99_overhead_ms']:7.1f} ms  "
                f"cpu/rollout {'-' if cpu is None else f'{cpu:.2f}'} ms  stub cpu {result['server_cpu_share']:.0%}",
                flush=True,
            )
            for error in result["errors"]:
                print(f"{'':>13}e.g. {error}", flush=True)
    finally:
        stub.terminate()
        stub.wait(5)

    def rate(impl: str, c: int = 1024, episode: str = "single") -> float:
        found = [r["rollouts_per_s"] for r in results if (r["impl"], r["c"], r["episode"]) == (impl, c, episode)]
        return found[0] if found else 0.0

    ours, peer, peer_aiohttp = rate("rlhub"), rate("sdk"), rate("sdk-aiohttp")
    headline = next((r for r in results if (r["impl"], r["c"], r["episode"]) == ("rlhub", 1024, "single")), results[0])
    summary = {
        "rollouts_per_s": round(ours, 1),
        "peer_rollouts_per_s": round(peer, 1),
        "ratio": round(ours / peer, 2) if peer else None,
        "failed": sum(r["failed"] for r in results if r["impl"] == "rlhub"),
        "aiohttp_sdk_rollouts_per_s": round(peer_aiohttp, 1),
        "ratio_vs_aiohttp_sdk": round(ours / peer_aiohttp, 2) if peer_aiohttp else None,
        "rlhub_cpu_ms_per_rollout": round(headline["cpu_ms_per_rollout"] or 0, 3),
        "rlhub_8192_rollouts_per_s": round(rate("rlhub", 8192), 1),
        "rlhub_tool_rollouts_per_s": round(rate("rlhub", 1024, "tool"), 1),
        "max_stub_cpu_share": round(max(r["server_cpu_share"] for r in results), 2),
        "delay_s": args.delay,
        "quick": args.quick,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
