import itertools
import math

import pytest

from rlhub.core.metrics import compute_metrics, ks_for, pass_at_k
from rlhub.core.types import Rollout, Score, ScoreStatus, Task


def brute_pass_at_k(n: int, c: int, k: int) -> float:
    outcomes = [True] * c + [False] * (n - c)
    draws = list(itertools.combinations(range(n), k))
    return sum(any(outcomes[i] for i in d) for d in draws) / len(draws)


@pytest.mark.parametrize(("n", "c", "k"), [(1, 0, 1), (1, 1, 1), (4, 1, 1), (4, 1, 2), (5, 2, 3), (8, 3, 4), (6, 0, 6)])
def test_pass_at_k_matches_enumeration(n: int, c: int, k: int) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(brute_pass_at_k(n, c, k))


def test_ks_are_powers_of_two_and_r() -> None:
    assert ks_for(1) == [1]
    assert ks_for(4) == [1, 2, 4]
    assert ks_for(6) == [1, 2, 4, 6]


def rollout(task_id: str, sample: int, value: float, tags: tuple[str, ...] = (), status: str = "ok") -> Rollout:
    task = Task(prompt="q", answer="a", id=task_id, tags=tags)
    if status != "ok":
        return Rollout(task=task, sample=sample, status=status, error="boom")  # type: ignore[arg-type]
    score = Score(value=value, status=ScoreStatus.correct if value == 1 else ScoreStatus.incorrect)
    return Rollout(task=task, sample=sample, score=score)


def test_metrics_by_hand() -> None:
    rollouts = [
        rollout("t1", 0, 1.0, ("easy",)),
        rollout("t1", 1, 0.0, ("easy",)),
        rollout("t2", 0, 0.0, ("hard",)),
        rollout("t2", 1, 0.0, ("hard",), status="timeout"),
    ]
    m = compute_metrics(rollouts)
    assert m.count == 4 and m.tasks == 2
    assert m.mean == pytest.approx(0.25)
    # clustered by task: task means 0.5 and 0.0 -> std 0.3536, / sqrt(2)
    assert m.stderr == pytest.approx(math.sqrt(0.125) / math.sqrt(2))
    assert m.pass_at_k == {"pass@1": pytest.approx(0.25), "pass@2": pytest.approx(0.5)}
    assert m.accuracy == m.pass_at_k["pass@1"]  # one correct of four: the accuracy every report shows
    assert m.by_tag["easy"].mean == pytest.approx(0.5) and m.by_tag["hard"].count == 2
    assert m.score_status == {"correct": 1, "incorrect": 2}
    assert m.rollout_status == {"ok": 3, "timeout": 1}


def test_metrics_of_nothing() -> None:
    m = compute_metrics([])
    assert m.count == 0 and m.mean == 0.0 and m.pass_at_k == {} and m.accuracy == 0.0
