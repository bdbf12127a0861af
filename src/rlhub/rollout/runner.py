"""The async runner: n tasks x r samples through an environment and a model, logged as they finish.

`concurrency` worker coroutines pull (task, sample) jobs from one queue, so at most that many episodes
are in flight; they start 512 at a time, `ramp_pause_s` (50 ms) apart, so that thousands of new
connections do not overflow the server's listen backlog at once (a dropped SYN costs a second or more).

Model requests that fail with a `RetryableModelError` are retried with exponential backoff and
jitter; an episode that still fails, or runs past `timeout_s`, is recorded with status `error` /
`timeout` (reward 0), never dropped. Finished episodes go to scoring worker processes and the worker
coroutine moves straight on, so slow verifiers never hold a generation slot. Every rollout is
appended to the log when scored. Running the same run (equal header identity) on the same log
resumes it: pairs already `ok` are skipped, failed ones retried, and when the run finishes the log is
compacted to one record per pair, so a finished log holds every (task, sample) exactly once.

Training runs the same engine without a log: a `Collector` returns the rollouts with their model
calls' token ids and logprobs, and keeps one event loop and one scoring pool for all a trainer's steps.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import resource
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from rlhub.core.env import Environment
from rlhub.core.errors import LogError, ModelError, RetryableModelError, RlhubError
from rlhub.core.metrics import compute_metrics
from rlhub.core.model import ModelClient
from rlhub.core.types import Completion, Message, Rollout, RolloutStatus, Sampling, Score, Task, ToolSpec
from rlhub.rollout.log import LogFooter, LogHeader, LogWriter, RunLog, read_log
from rlhub.rollout.progress import RunProgress
from rlhub.rollout.scoring import ScorePool
from rlhub.verify.rescore import env_hash

T = TypeVar("T")
_RAMP_STEP = 512


@dataclass(frozen=True)
class RolloutConfig:
    """How the rollout engine runs a batch of tasks (an evaluation, or a training step's groups).
    `r` is the number of samples (rollouts) per task."""

    n: int = 10
    r: int = 1
    start: int = 0
    """Index of the first task: the run covers tasks start .. start + n - 1."""
    concurrency: int = 64
    split: str = "test"
    seed: int = 0
    sampling: Sampling = field(default_factory=Sampling)
    retries: int = 5
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    timeout_s: float | None = 600.0
    score_workers: int = 2
    ramp_pause_s: float = 0.05
    """Pause after each 512 episodes started; 0 for an in-process model, which batches them all at once."""
    progress: bool | None = None
    """Show the progress bar: None means when stderr is a terminal."""

    def __post_init__(self) -> None:
        if self.n < 1 or self.r < 1 or self.concurrency < 1 or self.score_workers < 1:
            raise ValueError("n, r, concurrency and score_workers must be at least 1")
        if self.start < 0:
            raise ValueError("start must be at least 0")


class _Retrying:
    """Wraps a client for one episode: retries retryable failures, counts the extra attempts."""

    def __init__(self, client: ModelClient, config: RolloutConfig):
        self.name = client.name
        self._client = client
        self._config = config
        self.retries = 0

    async def complete(
        self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] = (), sampling: Sampling = Sampling()
    ) -> list[Completion]:
        config = self._config
        attempt = 0
        while True:
            try:
                return await self._client.complete(messages, tools=tools, sampling=sampling)
            except RetryableModelError:
                if attempt == config.retries:
                    raise
            delay = min(config.max_backoff_s, config.backoff_s * 2**attempt)
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            attempt += 1
            self.retries += 1


def _for_sample(sampling: Sampling, sample: int) -> Sampling:
    """A sampling seed, when set, is offset by the sample number: r seeded samples must differ."""
    return sampling if sampling.seed is None else sampling.model_copy(update={"seed": sampling.seed + sample})


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def make_header(
    env: Environment,
    client: ModelClient,
    config: RolloutConfig,
    *,
    env_source: str | None = None,
    base_url: str | None = None,
) -> LogHeader:
    """The header of a run. A client's optional `settings` dict (e.g. the mock's accuracy) is part of
    the run's identity, like its name."""
    import rlhub

    run = {k: v for k, v in asdict(config).items() if k in {"concurrency", "retries", "timeout_s", "score_workers"}}
    return LogHeader(
        rlhub_version=rlhub.__version__,
        env=env.spec,
        env_config=env.config,
        env_hash=env_hash(env),
        env_source=env_source,
        model=client.name,
        model_settings=getattr(client, "settings", {}),
        base_url=base_url,
        sampling=config.sampling,
        split=config.split,
        seed=config.seed,
        start=config.start,
        n=config.n,
        r=config.r,
        started_at=_now(),
        run=run,
    )


def _previous(out: Path, header: LogHeader) -> RunLog | None:
    """The log already at `out` when resuming, after checking that it is the same run."""
    if not out.stat().st_size:
        return None
    existing = read_log(out)
    if existing.header.identity() != header.identity():
        theirs, ours = existing.header.identity(), header.identity()
        details = ", ".join(f"{k}: log has {theirs[k]!r}, this run {ours[k]!r}" for k in ours if theirs[k] != ours[k])
        names = header.differences(existing.header)
        verb = "differs" if len(names) == 1 else "differ"
        raise LogError(
            f"cannot resume {out}: it is a different run ({', '.join(names)} {verb}: {details}); choose another path"
        )
    return existing


def _raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard) if hard > 0 else wanted, hard))


async def run(
    env: Environment,
    client: ModelClient,
    config: RolloutConfig,
    out: str | Path,
    *,
    env_source: str | None = None,
    base_url: str | None = None,
    announce: Callable[[str], None] | None = None,
) -> RunLog:
    """Run (or resume) an evaluation into the log at `out`; returns the whole log, footer included.

    `announce` is called once, before any rollout, with "new log OUT" or "resumed K of N rollouts
    from OUT". A log at `out` from a different run (see `LogHeader.identity`) raises `LogError`.
    """
    out = Path(out)
    tasks = env.tasks(config.n, config.split, config.seed, config.start)
    header = make_header(env, client, config, env_source=env_source, base_url=base_url)
    with LogWriter(out) as writer:  # locked before it is read: no other process appends meanwhile
        existing = _previous(out, header)
        previous = {r.key: r for r in existing.rollouts} if existing else {}
        jobs = [
            (t, s) for t in tasks for s in range(config.r) if getattr(previous.get((t.id, s)), "status", "") != "ok"
        ]
        if announce is not None:
            done = sum(r.status == "ok" for r in previous.values())
            total = config.n * config.r
            announce(f"resumed {done} of {total} rollouts from {out}" if existing else f"new log {out}")
        if existing is None:
            writer.header(header)
        elif existing.footer and not jobs:
            return existing
        else:
            header = existing.header
        results, elapsed = await _generate(env, client, config, writer, previous, jobs)
        rollouts = list(results.values())
        footer = LogFooter(
            finished_at=_now(),
            duration_s=elapsed,
            rollouts_per_s=len(jobs) / elapsed if elapsed > 0 else 0.0,
            metrics=compute_metrics(rollouts),
        )
        if existing:  # retried rollouts replace their failed records, an older footer goes
            writer.compact(footer)
        else:
            writer.footer(footer)
    return RunLog(path=out, header=header, rollouts=rollouts, footer=footer)


class Collector:
    """The runner for a trainer, step after step, without a log: one event loop and one scoring pool for
    the whole run (starting scoring processes costs a tenth of a second or more, a step may take less).

    Training learns from every rollout, so one that failed (a model or environment error, a timeout)
    raises instead of entering the batch with reward 0.
    """

    def __init__(self, env: Environment, client: ModelClient, config: RolloutConfig):
        self.env = env
        self.client = client
        self.config = config
        self._loop = asyncio.Runner(loop_factory=_loop_factory())
        self._scorer = self._loop.run(ScorePool.start(env, config.score_workers))

    def __call__(self, start: int) -> list[Rollout]:
        """Rollouts of tasks `start` .. `start + n - 1`, task by task and sample by sample (a GRPO group
        is `r` neighbours), each with its model calls (`Rollout.completions`: token ids and logprobs
        when the client gives them)."""
        config = dataclasses.replace(self.config, start=start)
        tasks = self.env.tasks(config.n, config.split, config.seed, start)
        jobs = [(t, s) for t in tasks for s in range(config.r)]
        results, _ = self._loop.run(_generate(self.env, self.client, config, None, {}, jobs, self._scorer))
        rollouts = [results[t.id, s] for t, s in jobs]
        failed = [r for r in rollouts if r.status != "ok"]
        if failed:
            first = failed[0]
            raise RlhubError(f"{len(failed)} of {len(rollouts)} rollouts failed; {first.task.id}: {first.error}")
        return rollouts

    def close(self) -> None:
        self._loop.run(self._scorer.close())
        self._loop.close()

    def __enter__(self) -> Collector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _generate(
    env: Environment,
    client: ModelClient,
    config: RolloutConfig,
    writer: LogWriter | None,
    previous: dict[tuple[str, int], Rollout],
    jobs: list[tuple[Task, int]],
    pool: ScorePool | None = None,
) -> tuple[dict[tuple[str, int], Rollout], float]:
    """Run `jobs`, appending each rollout to the log when there is one; the run's rollouts (`previous`
    updated) and the seconds they took. Scoring uses `pool` when given, else a pool of its own."""
    started = time.perf_counter()
    results: dict[tuple[str, int], Rollout] = dict(previous)
    finished = [r for r in previous.values() if r.status == "ok"]
    progress = RunProgress(
        len(finished) + len(jobs), len(finished), sum(r.reward for r in finished), enabled=config.progress
    )
    _raise_fd_limit(2 * config.concurrency + 256)
    scorer = pool or await ScorePool.start(env, config.score_workers)
    scoring: set[asyncio.Future[bytes]] = set()

    def record(rollout: Rollout) -> None:
        if writer is not None:
            writer.rollout(rollout)
        results[rollout.key] = rollout
        progress.advance(rollout.reward)

    def scored(rollout: Rollout, job: bytes, future: asyncio.Future[bytes]) -> None:
        scoring.discard(future)
        if stopped:  # cancelled: the log may be closed by now; the rollout runs again on resume
            return
        score = future.result()
        if writer is not None:
            writer.line(b'{"type":"rollout",' + job[1:-1] + b',"score":' + score + b"}")
        rollout = rollout.model_copy(update={"score": Score.model_validate_json(score)})
        results[rollout.key] = rollout
        progress.advance(rollout.reward)

    queue = iter(jobs)

    async def worker() -> None:
        for task, sample in queue:
            began = time.perf_counter()
            model = _Retrying(client, config)
            status: RolloutStatus
            try:
                async with asyncio.timeout(config.timeout_s):
                    episode = await env.rollout(task, model, _for_sample(config.sampling, sample))
            except TimeoutError:
                status, error = "timeout", f"rollout took longer than {config.timeout_s}s"
            except ModelError as exc:
                status, error = "error", str(exc)
            except Exception as exc:  # an environment bug fails its rollout, not the run
                status, error = "error", f"{type(exc).__name__}: {exc}"
            else:
                rollout = Rollout(
                    task=task,
                    sample=sample,
                    messages=tuple(episode.messages),
                    info=episode.info,
                    turns=episode.turns,
                    usage=episode.usage,
                    duration_s=time.perf_counter() - began,
                    attempts=model.retries + 1,
                    completions=tuple(episode.completions),
                )
                job = rollout.model_dump_json(exclude={"score"}).encode()
                future = scorer.score(job)
                future.add_done_callback(partial(scored, rollout, job))
                scoring.add(future)
                continue
            took = time.perf_counter() - began
            record(
                Rollout(
                    task=task, sample=sample, status=status, error=error, duration_s=took, attempts=model.retries + 1
                )
            )

    workers: list[asyncio.Task[None]] = []
    stopped = False
    try:
        with progress:
            for i in range(min(config.concurrency, len(jobs))):
                if i and i % _RAMP_STEP == 0 and config.ramp_pause_s:
                    await asyncio.sleep(config.ramp_pause_s)  # connection bursts stay within servers' listen backlogs
                workers.append(asyncio.create_task(worker()))
            await asyncio.gather(*workers)
            if scoring:
                await asyncio.wait(scoring)
        elapsed = time.perf_counter() - started
    finally:
        stopped = True
        for task in workers:  # when cancelled mid-run (Ctrl-C, a caller's timeout), stop generating
            task.cancel()
        if pool is None:
            await scorer.close()
    return results, elapsed


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when installed (less CPU per request), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a fresh event loop."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(coro)


__all__ = ["Collector", "RolloutConfig", "make_header", "run", "run_sync"]
