"""Scoring off the event loop: worker processes that hold the environment, fed in batches over sockets.

Verifiers can be CPU-heavy (symbolic math, running code); scored on the event loop they would stall
every request in flight. Workers are forked once with the environment instance (it is never pickled).
A job is a rollout's JSON without its score (the bytes its log line is made of) and the answer is the
score's JSON, so nothing is serialised twice, and pydantic's JSON is far cheaper than pickled models.
Jobs that arrive in the same loop iteration travel as one length-prefixed batch over a socket pair
that the event loop reads and writes without blocking. There are no helper threads in the runner's
process (a `ProcessPoolExecutor`'s feeder and manager threads cost the loop GIL hand-offs per batch).

A worker that dies is replaced; its unfinished jobs are retried one per batch, so only the job that
kills a worker gets an `error` score. An empty batch tells a worker to stop (forked siblings hold
copies of each other's sockets, so end-of-file alone cannot), and workers die with the runner even
when it is SIGKILLed.
"""

from __future__ import annotations

import asyncio
import ctypes
import multiprocessing
import pickle
import signal
import socket
import sys
from collections import deque
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from rlhub.core.env import Environment
from rlhub.core.types import Rollout, Score, ScoreStatus

_MAX_BATCH = 64
_PR_SET_PDEATHSIG = 1
_HEAD = 4


def _score_one(env: Environment, job: bytes) -> bytes:
    try:
        rollout = Rollout.model_validate_json(job)
        score = env.score(rollout.task, rollout.messages, rollout.info)
    except Exception as exc:  # a verifier crash is the rollout's error, not the worker's death
        score = Score(value=0.0, status=ScoreStatus.error, detail=f"{type(exc).__name__}: {exc}")
    return score.model_dump_json().encode()


def error_score(detail: str) -> bytes:
    return Score(value=0.0, status=ScoreStatus.error, detail=detail).model_dump_json().encode()


def _worker_main(env: Environment, sock: socket.socket, siblings: list[socket.socket]) -> None:
    for other in siblings:  # forked copies of the runner's ends: holding them would hide the runner's EOF
        other.close()
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the runner, which then closes us
    reader, writer = sock.makefile("rb"), sock.makefile("wb")
    while (head := reader.read(_HEAD)) and (size := int.from_bytes(head, "big")):
        jobs = pickle.loads(reader.read(size))
        data = pickle.dumps([_score_one(env, job) for job in jobs], pickle.HIGHEST_PROTOCOL)
        writer.write(len(data).to_bytes(_HEAD, "big") + data)
        writer.flush()


@dataclass
class _Worker:
    process: Any
    sock: socket.socket
    writer: asyncio.StreamWriter
    reading: asyncio.Task[None] | None = None
    batches: deque[list[tuple[bytes, asyncio.Future[bytes]]]] = field(default_factory=deque)
    load: int = 0


class ScorePool:
    """`await pool.score(rollout.model_dump_json(exclude={"score"}).encode())` is the score's JSON.

    Create it inside the running event loop (`await ScorePool.start(env)`), before other threads.
    """

    def __init__(self, env: Environment, workers: int):
        self.env = env
        self._size = workers
        self._workers: list[_Worker] = []
        self._pending: list[tuple[bytes, asyncio.Future[bytes]]] = []
        self._sockets: list[socket.socket] = []
        self._closed = False

    @classmethod
    async def start(cls, env: Environment, workers: int = 2) -> ScorePool:
        pool = cls(env, workers)
        try:
            for _ in range(workers):
                pool._workers.append(await pool._spawn())
        except BaseException:  # cancelled while starting: stop the workers already there
            await pool.close()
            raise
        return pool

    async def _spawn(self) -> _Worker:
        ours, theirs = socket.socketpair()
        method = "fork" if sys.platform == "linux" else "spawn"
        siblings = [ours, *self._sockets]
        process = multiprocessing.get_context(method).Process(  # type: ignore[attr-defined]
            target=_worker_main, args=(self.env, theirs, siblings), daemon=True
        )
        process.start()
        theirs.close()
        ours.setblocking(False)
        self._sockets.append(ours)
        reader, writer = await asyncio.open_unix_connection(sock=ours, limit=2**26)
        worker = _Worker(process, ours, writer)
        worker.reading = asyncio.create_task(self._read(worker, reader))
        return worker

    def score(self, job: bytes) -> asyncio.Future[bytes]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((job, future))
        if len(self._pending) >= _MAX_BATCH:
            self._flush()
        return future

    def _flush(self) -> None:
        if self._pending:
            batch, self._pending = self._pending, []
            self._send(batch)

    def _send(self, batch: list[tuple[bytes, asyncio.Future[bytes]]]) -> None:
        worker = min(self._workers, key=lambda w: w.load)
        data = pickle.dumps([job for job, _ in batch], pickle.HIGHEST_PROTOCOL)
        worker.writer.write(len(data).to_bytes(_HEAD, "big") + data)
        worker.batches.append(batch)
        worker.load += len(batch)

    async def _read(self, worker: _Worker, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                head = await reader.readexactly(_HEAD)
                scores = pickle.loads(await reader.readexactly(int.from_bytes(head, "big")))
                batch = worker.batches.popleft()
                worker.load -= len(batch)
                for (_, future), score in zip(batch, scores, strict=True):
                    if not future.done():
                        future.set_result(score)
        except (asyncio.IncompleteReadError, ConnectionError):
            if not self._closed:
                await self._replace(worker)

    async def _replace(self, worker: _Worker) -> None:
        worker.writer.close()
        worker.sock.close()
        self._sockets.remove(worker.sock)
        worker.process.join(timeout=1)
        detail = f"scoring worker died (exit code {worker.process.exitcode})"
        self._workers[self._workers.index(worker)] = await self._spawn()
        if not worker.batches:
            return
        culprits, *untouched = worker.batches  # a worker scores its batches in order: the first killed it
        if len(culprits) == 1:
            _, future = culprits[0]
            if not future.done():
                future.set_result(error_score(detail))
        else:  # one of them did: retry each alone, so only that one fails
            for item in culprits:
                self._send([item])
        for batch in untouched:
            self._send(batch)

    async def close(self) -> None:
        self._closed = True
        for worker in self._workers:
            worker.writer.write(bytes(_HEAD))  # an empty batch: stop
            with suppress(ConnectionError):
                await worker.writer.drain()
            worker.writer.close()
            worker.sock.close()
            if worker.reading is not None:
                worker.reading.cancel()
        for worker in self._workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()


__all__ = ["ScorePool"]
