"""Run episodes of any environment against a local model and score them, for training and evaluation.

Every episode is an asyncio task (so the client batches their model calls) that records its model
calls in tokens; finished episodes are scored in a thread pool (in batches) while the others still
generate, so verification stays off the generation path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from rlhub.core.env import Environment
from rlhub.core.types import Message, Sampling, Score, ScoreStatus, Task
from rlhub.train.client import LocalModelClient, Turn, record


@dataclass
class Scored:
    """One scored episode: its task, sample number, the model's calls in tokens, messages and score."""

    task: Task
    sample: int
    turns: list[Turn]
    messages: list[Message]
    score: Score


class _Scorer:
    """Scores finished episodes in a worker thread, in batches: episodes that finish in the same
    event-loop turn (a whole single-turn batch) cost one thread hand-off, not one each."""

    def __init__(self, env: Environment, pool: ThreadPoolExecutor):
        self.env, self.pool = env, pool
        self.pending: list[tuple[Task, list[Message], dict[str, Any], asyncio.Future[Score]]] = []

    def score(self, task: Task, messages: list[Message], info: dict[str, Any]) -> asyncio.Future[Score]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Score] = loop.create_future()
        if not self.pending:
            loop.call_soon(self._flush)
        self.pending.append((task, messages, info, future))
        return future

    def _flush(self) -> None:
        batch, self.pending = self.pending, []
        done = asyncio.get_running_loop().run_in_executor(
            self.pool, lambda: [self.env.score(t, m, i) for t, m, i, _ in batch]
        )
        done.add_done_callback(lambda f: self._deliver(f, [fut for *_, fut in batch]))

    @staticmethod
    def _deliver(done: asyncio.Future[list[Score]], futures: list[asyncio.Future[Score]]) -> None:
        error = done.exception()
        for n, future in enumerate(futures):
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(done.result()[n])


async def _episode(
    env: Environment, client: LocalModelClient, task: Task, n: int, sampling: Sampling, scorer: _Scorer
) -> Scored:
    turns = record()
    episode = await env.rollout(task, client, sampling)
    score = await scorer.score(task, episode.messages, episode.info)
    return Scored(task, n, turns, episode.messages, score)


async def run_episodes(
    env: Environment,
    client: LocalModelClient,
    tasks: Sequence[Task],
    samples: int,
    sampling: Sampling,
    workers: int = 2,
) -> list[Scored]:
    """`samples` episodes per task, ordered task by task."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        scorer = _Scorer(env, pool)
        jobs = [_episode(env, client, task, n, sampling, scorer) for task in tasks for n in range(samples)]
        return list(await asyncio.gather(*jobs))


@dataclass
class EvalResult:
    tasks: int
    mean_reward: float
    accuracy: float
    """Share of episodes whose score status is `correct`."""


def evaluate(
    env: Environment, client: LocalModelClient, split: str = "test", n: int = 500, seed: int = 0
) -> EvalResult:
    """Greedy decoding on tasks 0..n-1 of `split` under `seed`."""
    tasks = [env.task(i, split, seed) for i in range(n)]
    scored = asyncio.run(run_episodes(env, client, tasks, 1, Sampling(temperature=0.0)))
    rewards = [s.score.value for s in scored]
    correct = [s.score.status == ScoreStatus.correct for s in scored]
    return EvalResult(n, sum(rewards) / n, sum(correct) / n)


__all__ = ["EvalResult", "Scored", "evaluate", "run_episodes"]
