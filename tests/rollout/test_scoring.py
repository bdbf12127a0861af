import os
from pathlib import Path

from tests.rollout.envs import Add

from rlhub import Message, Rubric
from rlhub.core.types import Rollout, Score, ScoreStatus
from rlhub.rollout import RolloutConfig, ScriptedClient, run
from rlhub.rollout.scoring import ScorePool


def dies_on_zero(response: str, reference: object) -> bool:
    if response == "0":
        os._exit(3)  # a verifier that takes its process down
    return response == str(reference)


class Fragile(Add):
    rubric = Rubric(correct=dies_on_zero)


async def test_scores_come_back_in_order_from_several_workers() -> None:
    env = Add()
    tasks = env.tasks(200, "test")
    pool = await ScorePool.start(env, 3)
    try:
        replies = [str(t.answer) if i % 3 else "wrong" for i, t in enumerate(tasks)]
        jobs = [
            Rollout(task=t, messages=(Message.assistant(r),)).model_dump_json().encode()
            for t, r in zip(tasks, replies, strict=True)
        ]
        scores = [Score.model_validate_json(await f) for f in [pool.score(job) for job in jobs]]
    finally:
        await pool.close()
    assert [s.value for s in scores] == [0.0 if i % 3 == 0 else 1.0 for i in range(200)]
    assert all(not w.process.is_alive() and w.process.exitcode == 0 for w in pool._workers)


async def test_a_dead_worker_is_replaced_and_its_rollouts_marked(tmp_path: Path) -> None:
    env = Fragile()
    tasks = env.tasks(12, "test")
    crash = {tasks[5].prompt[-1].content}
    client = ScriptedClient(lambda m: "0" if m[-1].content in crash else "1", name="s")
    log = await run(
        env, client, RolloutConfig(n=12, concurrency=1, score_workers=1, progress=False), tmp_path / "x.jsonl"
    )
    statuses = {r.task.id: r.score.status for r in log.rollouts if r.score}
    assert statuses[tasks[5].id] == ScoreStatus.error and len(statuses) == 12
    assert sum(s == ScoreStatus.error for s in statuses.values()) == 1  # the others were scored by the new worker
