"""Scoring off the event loop: a process pool that holds the environment, fed in small batches.

Verifiers can be CPU-heavy (symbolic math, running code); scored on the event loop they would stall
every request in flight. Workers are forked once with the environment instance (it is never pickled);
each job carries only (task, messages, info). Episodes that finish in the same loop iteration travel
as one batch, which keeps the per-rollout cost on the loop small at thousands of rollouts per second.
If a worker dies, the pool is rebuilt and the affected rollouts get an `error` score.
"""

from __future__ import annotations

import asyncio
import ctypes
import multiprocessing
import signal
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from rlhub.core.env import Environment
from rlhub.core.types import Message, Score, ScoreStatus, Task

_MAX_BATCH = 32
_PR_SET_PDEATHSIG = 1
_env: Environment | None = None

Job = tuple[Task, Sequence[Message], dict[str, Any]]


def _init(env: Environment) -> None:
    global _env
    _env = env
    if sys.platform == "linux":  # die with the runner, even when it is SIGKILLed
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _score_batch(jobs: list[Job]) -> list[Score]:
    assert _env is not None
    return [_env.score(task, messages, info) for task, messages, info in jobs]


def _warm() -> None:
    """Nothing: submitted once so the workers fork before the event loop starts its threads."""


class ScorePool:
    """`await pool.score(task, messages, info)` runs `env.score` in a worker process."""

    def __init__(self, env: Environment, workers: int = 2):
        self.env = env
        self.workers = workers
        self._executor = self._start()
        self._pending: list[tuple[Job, asyncio.Future[Score]]] = []

    def _start(self) -> ProcessPoolExecutor:
        method = "fork" if sys.platform == "linux" else "spawn"
        executor = ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context(method), initializer=_init, initargs=(self.env,)
        )
        for _ in range(self.workers):
            executor.submit(_warm).result()
        return executor

    def score(self, task: Task, messages: Sequence[Message], info: dict[str, Any]) -> asyncio.Future[Score]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Score] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append(((task, messages, info), future))
        if len(self._pending) >= _MAX_BATCH:
            self._flush()
        return future

    def _flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        loop = asyncio.get_running_loop()
        executor = self._executor
        done = loop.run_in_executor(executor, _score_batch, [job for job, _ in batch])
        done.add_done_callback(lambda f: self._deliver(f, batch, executor))

    def _deliver(
        self, done: asyncio.Future[list[Score]], batch: list[tuple[Job, asyncio.Future[Score]]], executor: Any
    ) -> None:
        exc = None if done.cancelled() else done.exception()
        if exc is None and not done.cancelled():
            scores = done.result()
        else:
            if isinstance(exc, BrokenProcessPool) and executor is self._executor:
                executor.shutdown(wait=False, cancel_futures=True)
                self._executor = self._start()
            detail = f"scoring failed: {type(exc).__name__}: {exc}" if exc else "scoring cancelled"
            scores = [Score(value=0.0, status=ScoreStatus.error, detail=detail)] * len(batch)
        for (_, future), score in zip(batch, scores, strict=True):
            if not future.done():
                future.set_result(score)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


__all__ = ["ScorePool"]
