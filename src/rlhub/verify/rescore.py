"""The re-score contract: one set of rules and one typed report, for `rlhub view --rescore` and the hub.

A log is trusted only as far as the environment installed here reproduces it:

1. its content hash (`env_hash`: id, version, config, module source) equals the one in the log header;
2. every logged task equals the task this environment generates from its (split, seed, index);
3. every finished rollout, scored again with this environment's rubric, gets the logged reward and status;
4. the log has rollouts, and a footer (when there is one) claims the mean of the re-scored rollouts.

Every rule is checked; the first one broken is the report's `reason`, and a report with a reason is a
refusal. The report is frozen, versioned pydantic because the hub computes it in a sandboxed
subprocess and reads it back from that process's output.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Sequence
from pathlib import Path

from rlhub.core.env import Environment
from rlhub.core.metrics import Metrics, compute_metrics
from rlhub.core.types import Frozen, Rollout, Score

REPORT_VERSION = 1
"""Bumped whenever a field of `RescoreReport` changes meaning."""


def env_hash(env: Environment) -> str:
    """Fingerprint of an environment: id, version, config and its module's source (when available)."""
    digest = hashlib.sha256(f"{env.spec}\n{sorted(env.config.items())!r}\n".encode())
    try:
        source = inspect.getsourcefile(type(env))
    except TypeError:
        source = None
    if source and Path(source).is_file():
        digest.update(Path(source).read_bytes())
    return digest.hexdigest()[:16]


class Rescored(Frozen):
    """One finished rollout scored again: the log's score beside this environment's."""

    task: str
    sample: int
    logged: Score
    score: Score

    @property
    def matches(self) -> bool:
        return abs(self.logged.value - self.score.value) < 1e-9 and self.logged.status == self.score.status


class RescoreReport(Frozen):
    """What re-scoring a log found. `metrics` are the log's rollouts with this environment's scores."""

    version: int = REPORT_VERSION
    env: str
    env_hash: str
    logged_env_hash: str
    altered_tasks: tuple[str, ...]
    results: tuple[Rescored, ...]
    metrics: Metrics
    reason: str = ""
    """The first rule the log breaks; empty when it is reproduced."""

    @property
    def ok(self) -> bool:
        return not self.reason

    @property
    def mismatches(self) -> list[Rescored]:
        return [r for r in self.results if not r.matches]


def rescore(
    env: Environment, rollouts: Sequence[Rollout], logged_env_hash: str, claimed_mean: float | None = None
) -> RescoreReport:
    """Apply the rules above to a log's rollouts (`claimed_mean`: its footer's mean, if it has a footer)."""
    problems: list[str] = []
    ours = env_hash(env)
    if ours != logged_env_hash:
        problems.append(
            f"the log was written with {env.spec} of content hash {logged_env_hash}; the installed one hashes "
            f"to {ours} (another version, config or source)"
        )
    altered: list[str] = []
    results: list[Rescored] = []
    rescored: list[Rollout] = []
    for rollout in rollouts:
        task = env.task(rollout.task.index, rollout.task.split, rollout.task.seed)
        if task != rollout.task:
            altered.append(rollout.task.id)
            problems.append(f"task {rollout.task.id} differs from the one {env.spec} generates")
        if rollout.status != "ok" or rollout.score is None:  # no model answer: nothing to score
            rescored.append(rollout.model_copy(update={"score": None}))
            continue
        item = Rescored(
            task=rollout.task.id,
            sample=rollout.sample,
            logged=rollout.score,
            score=env.score(task, rollout.messages, rollout.info),
        )
        if not item.matches:
            problems.append(
                f"rollout {item.task} sample {item.sample} claims reward {rollout.score.value:g} "
                f"({rollout.score.status.value}); the verifier gives {item.score.value:g} ({item.score.status.value})"
            )
        results.append(item)
        rescored.append(rollout.model_copy(update={"score": item.score}))
    metrics = compute_metrics(rescored)
    if not rescored:
        problems.append("the log has no rollouts")
    elif claimed_mean is not None and abs(claimed_mean - metrics.mean) > 1e-6:
        problems.append(f"footer claims mean {claimed_mean:.6f}, the rollouts give {metrics.mean:.6f}")
    return RescoreReport(
        env=env.spec,
        env_hash=ours,
        logged_env_hash=logged_env_hash,
        altered_tasks=tuple(altered),
        results=tuple(results),
        metrics=metrics,
        reason=problems[0] if problems else "",
    )


__all__ = ["REPORT_VERSION", "RescoreReport", "Rescored", "env_hash", "rescore"]
