"""`check_env`: the conformance checker run by authors (`rlhub check`), by CI over the catalogue and by
the hub on upload. Each check is small and independent, and a failure says what was seen.

Checks: tasks are deterministic (within a process and across processes, for two seeds), tasks survive
a JSON round trip, the oracle's answers score the maximum, wrong answers score less, every reward lies
in the declared range, train and test never share a task, the module imports quickly, and generating
tasks neither opens network connections nor touches the global `random` state.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rlhub.core.env import Environment
from rlhub.core.exploits import BLANK_ANSWER, TASKS, Exploit, NotApplicable, Turn, battery
from rlhub.core.model import PolicyClient
from rlhub.core.origin import origin
from rlhub.core.types import Completion, Frozen, Message, Sampling, Score, ScoreStatus, Task, ToolSpec

IMPORT_BUDGET_S = 3.0
EXPLOIT_PREFIX = "exploit: "


class CheckResult(Frozen):
    """One check. Exploits also carry their best `score` and the wrong-answer `ceiling` it is held to."""

    name: str
    ok: bool
    detail: str = ""
    score: float | None = None
    ceiling: float | None = None

    @property
    def is_exploit(self) -> bool:
        """A result of the exploit battery (the hub prefixes names with the env id in multi-env wheels)."""
        return EXPLOIT_PREFIX in self.name


class CheckReport(Frozen):
    env: str
    results: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.ok]


def _run_episode(env: Environment, task: Task, policy: Callable[[Sequence[Message]], Message]) -> Score:
    episode = asyncio.run(env.rollout(task, PolicyClient(policy)))
    return env.score(task, episode.messages, episode.info)


@contextmanager
def _sealed() -> Iterator[list[str]]:
    """Forbid network connections and record uses of the global RNG while the block runs."""
    seen: list[str] = []
    original_connect = socket.socket.connect

    def refuse(self: socket.socket, address: Any) -> None:
        seen.append(f"network connection to {address!r}")
        raise OSError("network access is not allowed while generating tasks")

    state = random.getstate()
    socket.socket.connect = refuse  # type: ignore[method-assign,assignment]
    try:
        yield seen
    finally:
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        if random.getstate() != state:
            seen.append("the global `random` state changed (use the rng argument)")
            random.setstate(state)


def _hashes(env: Environment, n: int, seeds: Sequence[int]) -> list[str]:
    return [
        env.task(i, split, seed).model_dump_json() for seed in seeds for split in ("train", "test") for i in range(n)
    ]


def check_env(env: Environment, *, n: int = 50, target: str | None = None) -> CheckReport:
    """Run every check on `env` with `n` tasks per split. `target` says where a child process finds
    it (a source path, an id or `module:Class`); by default the class's own module and name."""
    results: list[CheckResult] = []

    def record(name: str, ok: bool, detail: str = "") -> None:
        results.append(CheckResult(name=name, ok=ok, detail=detail))

    seeds = (0, 1)
    try:
        with _sealed() as violations:
            first = _hashes(env, n, seeds)
    except Exception as exc:
        record("generates tasks", False, origin(exc))
        return CheckReport(env=env.spec, results=tuple(results))
    record("no network or global state while generating", not violations, "; ".join(violations))
    second = _hashes(env, n, seeds)
    same = sum(a == b for a, b in zip(first, second, strict=True))
    record("deterministic within a process", same == len(first), f"{same}/{len(first)} tasks identical")

    target = target or f"{type(env).__module__}:{type(env).__qualname__}"
    child = _child_hashes(target, env.spec, env.config, n, seeds)
    if isinstance(child, str):
        record("deterministic across processes", False, child)
    else:
        theirs, import_s = child
        same = sum(a == b for a, b in zip(first, theirs, strict=False))
        record(
            "deterministic across processes",
            same == len(first) == len(theirs),
            f"{same}/{len(first)} tasks identical, {n} per split, {len(seeds)} seeds",
        )
        record("import time", import_s <= IMPORT_BUDGET_S, f"{import_s * 1000:.0f} ms, budget {IMPORT_BUDGET_S:.0f} s")

    train = env.tasks(n, "train")
    test = env.tasks(n, "test")
    bad_round_trip = [t.id for t in train + test if Task.model_validate_json(t.model_dump_json()) != t]
    record("tasks survive a JSON round trip", not bad_round_trip, ", ".join(bad_round_trip[:5]))
    overlap = {t.content_hash() for t in train} & {t.content_hash() for t in test}
    record("train/test disjoint", not overlap, f"{len(overlap)} shared task(s)" if overlap else f"{n} + {n} tasks")

    low, high = env.reward_range
    gold_scores: list[float] = []
    wrong_scores: list[float] = []
    gold_problems: list[str] = []
    wrong_problems: list[str] = []
    ceilings: dict[str, float] = {}
    for task in test[: min(n, 20)]:
        gold = _score_or_note(env, task, functools.partial(env.oracle, task), gold_problems)
        if gold is not None:
            gold_scores.append(gold.value)
            if not math.isclose(gold.value, high, abs_tol=1e-9):
                why = gold.detail or gold.status.value
                gold_problems.append(f"{task.id}: reference scored {gold.value:.3f}, not {high:.3f} ({why})")
        ceilings[task.id] = low
        unscored, verdicts = [], 0  # a verifier that never gives a verdict (a judge with no server) fails
        for text in env.wrong_responses(task):
            wrong = _score_or_note(env, task, _fixed_reply(text), wrong_problems)
            if wrong is not None:
                wrong_scores.append(wrong.value)
                ceilings[task.id] = max(ceilings[task.id], wrong.value)
                if wrong.status in (ScoreStatus.error, ScoreStatus.timeout):
                    unscored.append(wrong.detail)
                else:
                    verdicts += 1
                if wrong.value >= high - 1e-9:
                    wrong_problems.append(f"{task.id}: wrong answer {text!r} scored the maximum {wrong.value:.3f}")
        if unscored and not verdicts:
            wrong_problems.append(f"{task.id}: no wrong answer could be scored: {unscored[0]}")
    record(
        "reference answers score the maximum",
        not gold_problems and bool(gold_scores),
        "; ".join(gold_problems[:3]) or f"{min(gold_scores, default=0):.3f} on {len(gold_scores)} tasks",
    )
    record(
        "wrong answers score less",
        not wrong_problems and bool(wrong_scores),
        "; ".join(wrong_problems[:3]) or f"{min(wrong_scores, default=0):.3f}-{max(wrong_scores, default=0):.3f}",
    )
    outside = [s for s in gold_scores + wrong_scores if not low - 1e-9 <= s <= high + 1e-9]
    record(
        "rewards in range",
        not outside,
        f"{len(outside)} reward(s) outside [{low}, {high}], e.g. {outside[0]}" if outside else f"[{low}, {high}]",
    )
    battery_tasks = [t for t in test if t.id in ceilings][:TASKS]
    results.extend(_play_battery(env, battery_tasks, ceilings))
    return CheckReport(env=env.spec, results=tuple(results))


class _ExploitClient:
    """Plays one exploit as the model; remembers whether it ever said something the oracle would not."""

    name = "exploit"

    def __init__(self, env: Environment, task: Task, exploit: Exploit):
        self.env, self.task, self.exploit = env, task, exploit
        self.deviated = False

    async def complete(
        self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] = (), sampling: Sampling = Sampling()
    ) -> list[Completion]:
        turn = Turn(self.task, messages, tools, lambda: self.env.oracle(self.task, messages))
        message = self.exploit.play(turn)
        self.deviated = self.deviated or not turn.is_oracle(message)
        return [Completion(message=message)]


def _play_battery(env: Environment, tasks: Sequence[Task], ceilings: dict[str, float]) -> list[CheckResult]:
    """Play every exploit on `tasks`; one result per exploit, failed when any task scores above its ceiling."""
    seen: dict[str, list[tuple[float, float, str]]] = {}
    skipped: dict[str, str] = {}
    crashed: dict[str, str] = {}
    for task in tasks:
        blank: list[float] = []
        try:
            planned = battery(env, task)
        except ValueError as exc:
            seen.setdefault("battery", [])
            crashed.setdefault("battery", f"{task.id}: {exc}")
            continue
        for exploit in planned:
            runs = seen.setdefault(exploit.name, [])
            try:
                ceiling = ceilings[task.id]
                if exploit.rewrites_answer:
                    blank = blank or [_play(env, task, BLANK_ANSWER)]
                    ceiling = max(ceiling, blank[0])
                runs.append((_play(env, task, exploit), ceiling, task.id))
            except NotApplicable as why:
                skipped.setdefault(exploit.name, str(why))
            except Exception as exc:
                crashed.setdefault(exploit.name, f"{task.id}: the episode raised {type(exc).__name__}: {exc}")
    return [_exploit_result(name, runs, skipped.get(name), crashed.get(name)) for name, runs in seen.items()]


def _play(env: Environment, task: Task, exploit: Exploit) -> float:
    client = _ExploitClient(env, task, exploit)
    episode = asyncio.run(env.rollout(task, client))
    if not client.deviated:
        raise NotApplicable("it never differed from the oracle")
    return env.score(task, episode.messages, episode.info).value


def _exploit_result(
    name: str, runs: list[tuple[float, float, str]], skipped: str | None, crashed: str | None
) -> CheckResult:
    title = EXPLOIT_PREFIX + name
    if crashed:
        return CheckResult(name=title, ok=False, detail=crashed)
    if not runs:
        return CheckResult(name=title, ok=True, detail=f"not applicable: {skipped}")
    score, ceiling, task_id = max(runs, key=lambda run: (run[0] - run[1], run[0]))
    ok = score <= ceiling + 1e-9
    verdict = "≤" if ok else f"on {task_id}, above its"
    detail = f"{score:.2f} {verdict} wrong-answer ceiling {ceiling:.2f}, {len(runs)} task(s)"
    return CheckResult(name=title, ok=ok, detail=detail, score=score, ceiling=ceiling)


def _fixed_reply(text: str) -> Callable[[Sequence[Message]], Message]:
    return lambda messages: Message.assistant(text)


def _score_or_note(
    env: Environment, task: Task, policy: Callable[[Sequence[Message]], Message], problems: list[str]
) -> Score | None:
    try:
        return _run_episode(env, task, policy)
    except Exception as exc:
        problems.append(f"{task.id}: episode raised {type(exc).__name__}: {exc}")
        return None


def _child_hashes(
    target: str, spec: str, config: dict[str, Any], n: int, seeds: Sequence[int]
) -> tuple[list[str], float] | str:
    command = [sys.executable, "-m", "rlhub.core.check", target, spec, json.dumps(config), str(n), *map(str, seeds)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p), "PYTHONHASHSEED": "random"}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, check=False)
    except subprocess.TimeoutExpired:
        return "the child process took over 300 s"
    if done.returncode != 0:
        return f"the child process failed: {done.stderr.strip().splitlines()[-1:] or done.returncode}"
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return data["tasks"], data["import_s"]


def _child_main(argv: list[str]) -> None:
    from rlhub.core.registry import env_class, load_path, load_ref

    target, spec, config, n, *seeds = argv
    start = time.perf_counter()
    if os.path.exists(target):
        load_path(target)
        cls = env_class(spec)
    elif ":" in target:
        cls = load_ref(target)
    else:
        cls = env_class(spec)
    env = cls(**json.loads(config))
    import_s = time.perf_counter() - start
    print(json.dumps({"tasks": _hashes(env, int(n), [int(s) for s in seeds]), "import_s": import_s}))


if __name__ == "__main__":
    _child_main(sys.argv[1:])


__all__ = ["EXPLOIT_PREFIX", "CheckReport", "CheckResult", "check_env"]
