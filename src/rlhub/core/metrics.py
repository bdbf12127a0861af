"""Run metrics computed from rollouts alone, so a log's footer can always be recomputed.

- `mean`: mean reward over all rollouts (failed rollouts count as reward 0).
- `stderr`: standard error of that mean, clustered by task (the r samples of one task are not
  independent): std of the per-task means / sqrt(tasks). With one sample per task it is the usual one.
- `pass_at_k`: the unbiased estimator of Chen et al. (2021), 1 - C(n-c, k) / C(n, k) per task, averaged
  over tasks with at least k samples; a sample passes when its score status is `correct`.
- `accuracy`: pass@1, the share of correct samples (averaged per task): the one accuracy that
  evaluations, training logs and the pipeline report.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from rlhub.core.types import Frozen, Rollout, ScoreStatus


class GroupMetrics(Frozen):
    count: int
    mean: float
    stderr: float


class Metrics(Frozen):
    count: int
    tasks: int
    mean: float
    stderr: float
    pass_at_k: dict[str, float]
    by_tag: dict[str, GroupMetrics]
    score_status: dict[str, int]
    rollout_status: dict[str, int]
    prompt_tokens: int
    completion_tokens: int

    @property
    def accuracy(self) -> float:
        """pass@1: the chance that one sample of a task is correct (0 for an empty run)."""
        return self.pass_at_k.get("pass@1", 0.0)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn without replacement from n (c correct) is correct."""
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def ks_for(r: int) -> list[int]:
    """The k reported for r samples per task: powers of two up to r, and r itself."""
    ks = {r} | {2**i for i in range(r.bit_length()) if 2**i <= r}
    return sorted(ks)


def _mean_stderr(values: Sequence[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(variance / len(values))


def _clustered(rollouts: Sequence[Rollout]) -> GroupMetrics:
    by_task: dict[str, list[float]] = defaultdict(list)
    for r in rollouts:
        by_task[r.task.id].append(r.reward)
    task_means = [sum(v) / len(v) for v in by_task.values()]
    _, stderr = _mean_stderr(task_means)
    mean = sum(r.reward for r in rollouts) / len(rollouts) if rollouts else 0.0
    return GroupMetrics(count=len(rollouts), mean=mean, stderr=stderr)


def compute_metrics(rollouts: Iterable[Rollout]) -> Metrics:
    """Metrics of a run; the same, to the last bit, for any order of the same rollouts."""
    rollouts = sorted(rollouts, key=lambda r: r.key)  # float sums depend on order: a log read back must agree
    overall = _clustered(rollouts)
    samples: dict[str, list[bool]] = defaultdict(list)
    tagged: dict[str, list[Rollout]] = defaultdict(list)
    for r in rollouts:
        samples[r.task.id].append(r.score is not None and r.score.status == ScoreStatus.correct)
        for tag in r.task.tags:
            tagged[tag].append(r)
    most = max((len(s) for s in samples.values()), default=0)
    passes = {}
    for k in ks_for(most) if most else []:
        eligible = [s for s in samples.values() if len(s) >= k]
        passes[f"pass@{k}"] = sum(pass_at_k(len(s), sum(s), k) for s in eligible) / len(eligible)
    return Metrics(
        count=overall.count,
        tasks=len(samples),
        mean=overall.mean,
        stderr=overall.stderr,
        pass_at_k=passes,
        by_tag={tag: _clustered(rs) for tag, rs in sorted(tagged.items())},
        score_status=dict(Counter(r.score.status.value for r in rollouts if r.score is not None)),
        rollout_status=dict(Counter(r.status for r in rollouts)),
        prompt_tokens=sum(r.usage.prompt_tokens for r in rollouts),
        completion_tokens=sum(r.usage.completion_tokens for r in rollouts),
    )


__all__ = ["GroupMetrics", "Metrics", "compute_metrics", "ks_for", "pass_at_k"]
